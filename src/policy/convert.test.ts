// The conversion layer against the worked translations of calico-semantics.md §9-§11,
// and the ordering functions of §6.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSelector } from '../selector/index.js';
import {
  type BackendPolicy,
  type BackendTier,
  buildSnapshot,
  convertK8sNamespace,
  convertK8sNetworkPolicy,
  convertK8sServiceAccount,
  convertPolicy,
  convertProfile,
  convertRule,
  convertWorkloadEndpoint,
  effectiveLabels,
  expandEntityRule,
  k8sPodSelectorToCalico,
  PolicyError,
  parsePorts,
  parseProtocol,
  policiesForEndpoint,
  simplifyK8sPorts,
  sortPolicies,
  sortTiers,
} from './index.js';
import { gnp, np, wep } from './testkit.js';

const canon = (s: string) => parseSelector(s).canonical;

test('§10: NP policy selector is ANDed with its namespace', () => {
  const p = convertPolicy(np('prod', 'x', { selector: "app == 'web'" }));
  assert.equal(
    p.selector.canonical,
    canon("(app == 'web') && projectcalico.org/namespace == 'prod'"),
  );
  const empty = convertPolicy(np('prod', 'x', {}));
  assert.equal(empty.selector.canonical, canon("projectcalico.org/namespace == 'prod'"));
});

test('§10: rule selector expansion table', () => {
  const ns = { namespace: 'prod' };
  const sel = (er: object, ctx: { namespace?: string } = ns) =>
    expandEntityRule(er, ctx).selector?.canonical;
  assert.equal(
    sel({ selector: "role == 'fe'" }),
    canon("(projectcalico.org/namespace == 'prod') && (role == 'fe')"),
  );
  assert.equal(
    sel({ namespaceSelector: "team == 'a'", selector: "role == 'fe'" }),
    canon('(pcns.team == "a") && (role == \'fe\')'),
  );
  assert.equal(sel({ namespaceSelector: 'global()' }), canon('!has(projectcalico.org/namespace)'));
  assert.equal(sel({ namespaceSelector: 'all()' }, {}), canon('has(projectcalico.org/namespace)'));
  assert.equal(
    sel({ serviceAccounts: { names: ['a', 'b'] } }),
    canon(
      '(projectcalico.org/namespace == \'prod\') && (projectcalico.org/serviceaccount in {"a", "b"})',
    ),
  );
  assert.equal(
    sel({ serviceAccounts: { selector: "tier == 'gold'" } }, {}),
    canon('pcsa.tier == "gold"'),
  );
  assert.equal(
    sel({ serviceAccounts: { names: ['a'], selector: "tier == 'gold'" } }, {}),
    canon('projectcalico.org/serviceaccount in {"a"} && pcsa.tier == "gold"'),
  );
  // Only nets or ports: no namespace part at all.
  assert.equal(sel({ nets: ['10.0.0.0/8'], ports: [80] }), undefined);
  // notSelector alone: positive part is the namespace, negative kept verbatim.
  const onlyNot = expandEntityRule({ notSelector: 'has(x)' }, ns);
  assert.equal(onlyNot.selector?.canonical, canon("projectcalico.org/namespace == 'prod'"));
  assert.equal(onlyNot.notSelector?.canonical, canon('has(x)'));
  // GNP rule without namespaceSelector: no restriction added.
  assert.equal(sel({ selector: "app == 'y'" }, {}), canon("app == 'y'"));
});

test('§10: GNP namespaceSelector and serviceAccountSelector on the policy', () => {
  const g = convertPolicy(gnp('g', { selector: "app == 'y'", namespaceSelector: "env == 'x'" }));
  assert.equal(g.selector.canonical, canon('(app == \'y\') && pcns.env == "x"'));
  const all = convertPolicy(gnp('g', { namespaceSelector: 'all()' }));
  assert.equal(all.selector.canonical, canon('has(projectcalico.org/namespace)'));
  const sa = convertPolicy(np('prod', 'n', { serviceAccountSelector: "tier == 'gold'" }));
  assert.equal(
    sa.selector.canonical,
    canon("projectcalico.org/namespace == 'prod' && pcsa.tier == 'gold'"),
  );
});

test('global() is rejected outside a whole rule namespaceSelector', () => {
  assert.throws(() => convertPolicy(gnp('g', { selector: 'global()' })), {
    code: 'INVALID_SELECTOR',
  });
  assert.throws(() => expandEntityRule({ selector: 'global()' }, {}), { code: 'INVALID_SELECTOR' });
  assert.throws(() => expandEntityRule({ namespaceSelector: 'global() && all()' }, {}), {
    code: 'INVALID_SELECTOR',
  });
  assert.doesNotThrow(() => expandEntityRule({ namespaceSelector: '  global()  ' }, {}));
});

test('Pass becomes next-tier; actions, protocols and ports are normalised', () => {
  const r = convertRule(
    { action: 'Pass', protocol: 'udplite', destination: { ports: [53, '8000:8080', 'dns'] } },
    3,
    {},
  );
  assert.equal(r.action, 'next-tier');
  assert.equal(r.protocol, 136);
  assert.equal(r.index, 3);
  assert.deepEqual(r.destination.ports, [
    { min: 53, max: 53 },
    { min: 8000, max: 8080 },
  ]);
  assert.deepEqual(r.destination.namedPorts, ['dns']);
  assert.throws(() => convertRule({ action: 'Reject' }, 0, {}), PolicyError);
});

test('protocol parsing: names case-insensitive, numbers 1-255', () => {
  assert.equal(parseProtocol('TCP'), 6);
  assert.equal(parseProtocol('icmpv6'), 58);
  assert.equal(parseProtocol('SCTP'), 132);
  assert.equal(parseProtocol(255), 255);
  assert.equal(parseProtocol('17'), 17);
  for (const bad of [0, 256, 'tcpfoo', 'footcp', '', 1.5]) {
    assert.throws(() => parseProtocol(bad as never), { code: 'INVALID_PROTOCOL' });
  }
});

test('port parsing rejects bad entries with the field path', () => {
  assert.throws(() => parsePorts(['90:80'], 'x.ports'), /x\.ports\[0\]/);
  assert.throws(() => parsePorts([70000], 'p'), { code: 'INVALID_PORT' });
  assert.throws(() => parsePorts(['a b'], 'p'), { code: 'INVALID_PORT' });
  assert.throws(() => parsePorts(['0:5'], 'p'), { code: 'INVALID_PORT' });
});

test('errors name the resource and field', () => {
  assert.throws(
    () => convertPolicy(np('prod', 'bad', { ingress: [{ action: 'Allow', protocol: 'bogus' }] })),
    (e: unknown) =>
      e instanceof PolicyError &&
      e.message.includes('NetworkPolicy prod/bad') &&
      e.message.includes('ingress[0]'),
  );
  assert.throws(() => convertPolicy(gnp('g', { types: ['Sideways'] })), /Sideways/);
  assert.throws(
    () => convertPolicy(gnp('g', { preDNAT: true, doNotTrack: true })),
    /mutually exclusive/,
  );
});

test('§6: types defaulting follows the rules present', () => {
  const t = (spec: object) => {
    const p = convertPolicy(gnp('g', spec));
    return [p.ingress, p.egress];
  };
  assert.deepEqual(t({}), [true, false]);
  assert.deepEqual(t({ ingress: [{ action: 'Allow' }] }), [true, false]);
  assert.deepEqual(t({ egress: [{ action: 'Allow' }] }), [false, true]);
  assert.deepEqual(t({ ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] }), [
    true,
    true,
  ]);
  assert.deepEqual(t({ types: ['Egress'], ingress: [{ action: 'Allow' }] }), [false, true]);
});

test('namespaced policies cannot be doNotTrack/preDNAT/applyOnForward', () => {
  const p = convertPolicy(
    np('ns', 'n', { doNotTrack: true, preDNAT: false, applyOnForward: true }),
  );
  assert.equal(p.doNotTrack, false);
  assert.equal(p.applyOnForward, false);
});

test('§9 worked example: effective labels of a pod', () => {
  const ns = convertProfile(
    convertK8sNamespace({ metadata: { name: 'prod', labels: { team: 'a' } } }),
  );
  const sa = convertProfile(
    convertK8sServiceAccount({
      metadata: { name: 'api', namespace: 'prod', labels: { tier: 'gold' } },
    }),
  );
  const ep = convertWorkloadEndpoint(
    wep('pod', '10.0.0.1', { app: 'web', team: 'x' }, { ns: 'prod', sa: 'api', profiles: [] }),
  );
  assert.deepEqual(ep.profiles, ['kns.prod', 'ksa.prod.api']);
  assert.deepEqual(effectiveLabels(ep.labels, [ns, sa]), {
    app: 'web',
    team: 'x',
    'projectcalico.org/namespace': 'prod',
    'projectcalico.org/orchestrator': 'k8s',
    'projectcalico.org/serviceaccount': 'api',
    'pcns.team': 'a',
    'pcns.projectcalico.org/name': 'prod',
    'pcsa.tier': 'gold',
    'pcsa.projectcalico.org/name': 'api',
  });
  assert.deepEqual(
    ns.inbound.map((r) => r.action),
    ['allow'],
  );
  assert.deepEqual(sa.inbound, []);
});

test('effective labels: own wins, first profile wins, missing profiles skipped', () => {
  const p = (labels: Record<string, string>) => ({
    name: 'x',
    labelsToApply: labels,
    inbound: [],
    outbound: [],
  });
  assert.deepEqual(
    effectiveLabels({ a: '1' }, [p({ a: '2', b: '2' }), undefined, p({ b: '3', c: '3' })]),
    {
      a: '1',
      b: '2',
      c: '3',
    },
  );
});

test('§11: pod selector conversion', () => {
  assert.equal(k8sPodSelectorToCalico({}, 'x'), "projectcalico.org/orchestrator == 'k8s'");
  assert.equal(
    k8sPodSelectorToCalico(
      {
        matchLabels: { z: '1', a: '2' },
        matchExpressions: [
          { key: 'k', operator: 'In', values: ['v1', 'v2'] },
          { key: 'n', operator: 'NotIn', values: ['x'] },
          { key: 'e', operator: 'Exists' },
          { key: 'd', operator: 'DoesNotExist' },
        ],
      },
      'x',
    ),
    "projectcalico.org/orchestrator == 'k8s' && a == '2' && z == '1' && k in { 'v1', 'v2' } && n not in { 'x' } && has(e) && ! has(d)",
  );
  assert.throws(
    () => k8sPodSelectorToCalico({ matchExpressions: [{ key: 'k', operator: 'Gt' }] }, 'x'),
    /Gt/,
  );
});

test('§11: ports are grouped per protocol and merged into minimal ranges', () => {
  assert.deepEqual(
    simplifyK8sPorts([{ port: 80 }, { port: 81 }, { port: 82 }, { port: 9090 }], 'p'),
    [{ protocol: 'TCP', ports: ['80:82', 9090] }],
  );
  assert.deepEqual(
    simplifyK8sPorts(
      [
        { protocol: 'UDP', port: 53 },
        { port: 'http' },
        { port: 1000, endPort: 1010 },
        { port: 1005 },
      ],
      'p',
    ),
    [
      { protocol: 'TCP', ports: ['1000:1010', 'http'] },
      { protocol: 'UDP', ports: [53] },
    ],
  );
  assert.deepEqual(simplifyK8sPorts([{ protocol: 'UDP', port: 53 }, { protocol: 'UDP' }], 'p'), [
    { protocol: 'UDP', ports: undefined },
  ]);
});

test('§11 worked example: db policy becomes four Allow rules', () => {
  const v3 = convertK8sNetworkPolicy({
    metadata: { name: 'db', namespace: 'prod' },
    spec: {
      podSelector: { matchLabels: { app: 'db' } },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { team: 'a' } },
              podSelector: { matchLabels: { role: 'api' } },
            },
            { ipBlock: { cidr: '10.20.0.0/16', except: ['10.20.5.0/24'] } },
          ],
          ports: [{ port: 5432 }, { port: 5433 }, { protocol: 'UDP', port: 53 }],
        },
      ],
    },
  });
  assert.equal(v3.kind, 'NetworkPolicy');
  assert.deepEqual(v3.metadata, { name: 'knp.default.db', namespace: 'prod' });
  const spec = v3.spec as Record<string, unknown>;
  assert.equal(spec.order, 1000);
  assert.equal(spec.tier, 'default');
  assert.equal(spec.selector, "projectcalico.org/orchestrator == 'k8s' && app == 'db'");
  const sel = {
    selector: "projectcalico.org/orchestrator == 'k8s' && role == 'api'",
    namespaceSelector: "team == 'a'",
  };
  const nets = { nets: ['10.20.0.0/16'], notNets: ['10.20.5.0/24'] };
  assert.deepEqual(spec.ingress, [
    { action: 'Allow', protocol: 'TCP', source: sel, destination: { ports: ['5432:5433'] } },
    { action: 'Allow', protocol: 'TCP', source: nets, destination: { ports: ['5432:5433'] } },
    { action: 'Allow', protocol: 'UDP', source: sel, destination: { ports: [53] } },
    { action: 'Allow', protocol: 'UDP', source: nets, destination: { ports: [53] } },
  ]);
  const backend = convertPolicy(v3);
  assert.equal(
    backend.inbound[0]!.source.selector!.canonical,
    canon("(pcns.team == \"a\") && (projectcalico.org/orchestrator == 'k8s' && role == 'api')"),
  );
});

test('§11: empty vs missing rules and namespaceSelector forms', () => {
  const spec = (s: object) =>
    convertK8sNetworkPolicy({ metadata: { name: 'n' }, spec: s }).spec as Record<string, unknown>;
  assert.deepEqual(spec({ ingress: [{}] }).ingress, [{ action: 'Allow' }]);
  assert.deepEqual(spec({ ingress: [] }).ingress, []);
  assert.deepEqual(spec({}).ingress, []);
  assert.deepEqual(spec({}).types, ['Ingress']);
  assert.deepEqual(spec({ egress: [{ to: [{ namespaceSelector: {} }] }] }).egress, [
    {
      action: 'Allow',
      destination: {
        selector: "projectcalico.org/orchestrator == 'k8s'",
        namespaceSelector: 'all()',
      },
    },
  ]);
});

test('§6: sortTiers and sortPolicies (nil = +Inf, ties by name)', () => {
  const t = (name: string, order?: number): BackendTier => ({ name, order, defaultAction: 'Deny' });
  assert.deepEqual(
    sortTiers([t('z'), t('b', 5), t('a', 5), t('default', 1e6), t('y')]).map((x) => x.name),
    ['a', 'b', 'default', 'y', 'z'],
  );
  const p = (name: string, order?: number, namespace = '') =>
    convertPolicy(
      namespace
        ? np(namespace, name, order === undefined ? {} : { order })
        : gnp(name, order === undefined ? {} : { order }),
    );
  const sorted = sortPolicies([
    p('c'),
    p('b', 2),
    p('a', 2),
    p('x', 1.5),
    p('a', 2, 'ns1'),
    p('0'),
  ]);
  assert.deepEqual(
    sorted.map((x) => `${x.key.namespace}/${x.key.name}`),
    ['/x', '/a', 'ns1/a', '/b', '/0', '/c'],
  );
});

test('policiesForEndpoint: only selecting policies of existing tiers that govern the direction', () => {
  const snap = buildSnapshot([
    { kind: 'Tier', metadata: { name: 't1' }, spec: { order: 10 } },
    gnp('in', { tier: 't1', selector: "app == 'a'", ingress: [{ action: 'Allow' }] }),
    gnp('out', { tier: 't1', selector: "app == 'a'", egress: [{ action: 'Allow' }] }),
    gnp('other', { selector: "app == 'b'", ingress: [{ action: 'Allow' }] }),
    gnp('orphan', { tier: 'ghost', selector: 'all()' }),
    gnp('staged', { selector: "app == 'a'" }, 'StagedGlobalNetworkPolicy'),
  ]);
  const groups = policiesForEndpoint(
    snap.tiers,
    snap.policies as BackendPolicy[],
    { app: 'a' },
    'ingress',
  );
  assert.deepEqual(
    groups.map((g) => [
      g.tier.name,
      g.policies.map((p) => p.key.name),
      g.staged.map((p) => p.key.name),
    ]),
    [
      ['t1', ['in'], []],
      ['default', [], ['staged']],
    ],
  );
});

test('snapshot: duplicate resources are refused, unknown kinds reported, Lists flattened', () => {
  assert.throws(() => buildSnapshot([gnp('a', {}), gnp('a', {})]), { code: 'DUPLICATE_RESOURCE' });
  const snap = buildSnapshot([
    {
      kind: 'List',
      items: [
        gnp('a', {}),
        { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p' } },
      ],
    },
  ]);
  assert.equal(snap.policies.length, 1);
  assert.deepEqual(snap.ignored, ['IPPool/p']);
  assert.throws(() => buildSnapshot([42]), { code: 'INVALID_RESOURCE' });
});

test('snapshot: reserved tiers exist and keep their reserved values', () => {
  const snap = buildSnapshot([
    { kind: 'Tier', metadata: { name: 'default' }, spec: { order: 5, defaultAction: 'Pass' } },
  ]);
  assert.deepEqual(snap.tiers.get('default'), {
    name: 'default',
    order: 1_000_000,
    defaultAction: 'Deny',
  });
  assert.equal(snap.tiers.get('kube-admin')!.defaultAction, 'Pass');
  assert.ok(snap.warnings.some((w) => w.includes('reserved')));
});

test('snapshot: an address claimed twice is attributed deterministically with a warning', () => {
  const snap = buildSnapshot([wep('b', '10.0.0.1'), wep('a', '10.0.0.1')]);
  assert.ok(snap.warnings.some((w) => w.includes('10.0.0.1')));
  assert.equal(snap.endpointByAddress({ family: 4, value: 0x0a000001n })!.name, 'a');
});

test('workload networks must be single addresses', () => {
  assert.throws(() => convertWorkloadEndpoint(wep('a', '', {}, { ips: ['10.0.0.0/24'] })), {
    code: 'INVALID_NET',
  });
});
