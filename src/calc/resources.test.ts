// The reduced conversion of other hosts' workload endpoints (deriveResource with a
// local node) must accept, reject and derive exactly what the full conversion does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { formatIpv4 } from '../net/index.js';
import type { ResourceLike } from '../policy/index.js';
import { classHash, sameViewLabels, sameViewProfiles } from './class-key.js';
import { applyDesiredStateUpdate, type DesiredState, emptyDesiredState } from './desired-state.js';
import { sameLabels } from './endpoints.js';
import { CalcGraph } from './graph.js';
import { computeFromScratch } from './oracle.js';

import {
  deriveResource,
  keyOfResource,
  type RemoteEndpointInput,
  remoteLabelsAndProfiles,
} from './resources.js';

const V3 = 'projectcalico.org/v3';

const addressTexts = [
  '10.0.0.1/32',
  '10.0.0.1',
  '0.0.0.0/32',
  '255.255.255.255/32',
  '10.0.0.256/32',
  '010.0.0.1/32',
  '10.0.0.01',
  '10.0.0.1/31',
  '10.0.0.0/24',
  '10.0.0.1/032',
  '10.0.0.1/3',
  '10.0.0.1/32x',
  '10.0.0.1//32',
  '10.0.0/32',
  '10.0.0.1.2/32',
  ' 10.0.0.1/32',
  '1.2.3.4/',
  '/32',
  '',
  'fd00::1/128',
  'fd00::1',
  'FD00:0::1/128',
  'fd00::/64',
  '::ffff:1.2.3.4/128',
  '1234.0.0.1/32',
];

const arbAddress = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...addressTexts) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(7, null, undefined, ['10.0.0.1/32'], {}) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.nat(300), fc.nat(300), fc.nat(300), fc.nat(300), fc.boolean())
      .map(([a, b, c, d, slash]) => `${a}.${b}.${c}.${d}${slash ? '/32' : ''}`),
  },
);

const arbEndpoint: fc.Arbitrary<ResourceLike> = fc
  .record({
    name: fc.constantFrom<unknown>('w1', '', undefined, 5),
    namespace: fc.constantFrom(undefined, '', 'ns1'),
    labels: fc.constantFrom<unknown>(
      undefined,
      null,
      {},
      { app: 'a' },
      { b: 'x', app: 'a' },
      { app: 'a', 'projectcalico.org/namespace': 'x' },
      { 'projectcalico.org/orchestrator': 'k8s', app: 'a' },
      { 'projectcalico.org/serviceaccount': 'sa1', '7': 'n', app: 'a' },
      { app: 'a', 'projectcalico.org/namespace': 'ns1' },
      { app: 5 },
      Object.assign(Object.create(null), { app: 'a' }),
      'ab',
      ['a'],
    ),
    orchestrator: fc.constantFrom<unknown>(undefined, '', 'k8s', 'cni', 0, 7),
    serviceAccountName: fc.constantFrom<unknown>(undefined, '', 'sa1', 's', 3),
    node: fc.constantFrom(undefined, '', 'h1', 'h2'),
    profiles: fc.constantFrom<unknown>(
      undefined,
      [],
      ['p1'],
      ['p1', 'p2'],
      ['kns.ns1'],
      ['kns.default', 'ksa.default.sa1'],
      [7],
      'kns.x',
      5,
    ),
    ipNetworks: fc.oneof(
      fc.array(arbAddress, { maxLength: 3 }),
      fc.constantFrom<unknown>(undefined, null, '10.0.0.1/32', {}),
    ),
    ports: fc.constantFrom<unknown>(
      undefined,
      [],
      [{ name: 'http', port: 80 }],
      [{ name: 'dns', port: 53, protocol: 'udp' }],
      [{ name: 'x', port: 1, protocol: 'ICMP' }],
      [{ name: 'bad name', port: 80 }],
      [{ name: 'http', port: 0 }],
      [{ name: 'http', port: 70000, protocol: 'TCP' }],
      [{ name: 'n', port: 5, protocol: 'nope' }],
    ),
  })
  .map((f) => {
    const metadata: Record<string, unknown> = {};
    if (f.name !== undefined) metadata.name = f.name;
    if (f.namespace !== undefined) metadata.namespace = f.namespace;
    if (f.labels !== undefined) metadata.labels = f.labels;
    const spec: Record<string, unknown> = {};
    for (const k of [
      'orchestrator',
      'serviceAccountName',
      'node',
      'profiles',
      'ipNetworks',
      'ports',
    ] as const) {
      if (f[k] !== undefined) spec[k] = f[k];
    }
    return { apiVersion: V3, kind: 'WorkloadEndpoint', metadata, spec } as ResourceLike;
  });

/** A remote endpoint's host CIDRs, its packed lone IPv4 address written out. */
function netsOf(r: RemoteEndpointInput): readonly string[] {
  return r.v4 >= 0 ? [`${formatIpv4(r.v4)}/32`] : r.nets;
}

test('remote endpoints: the reduced conversion agrees with the full one', () => {
  fc.assert(
    fc.property(arbEndpoint, (res) => {
      const full = deriveResource(res);
      const reduced = deriveResource(res, 'h1');
      const node = (res.spec as { node?: string }).node ?? '';
      if (node === 'h1') {
        assert.deepEqual(reduced, full);
        return;
      }
      if (full.kind === 'ignored') {
        assert.equal(reduced.kind, 'ignored');
        return;
      }
      assert.equal(full.kind, 'endpoint');
      assert.equal(reduced.kind, 'remoteEndpoint');
      if (full.kind !== 'endpoint' || reduced.kind !== 'remoteEndpoint') return;
      const b = full.value.backend;
      const built = remoteLabelsAndProfiles(reduced.value);
      assert.deepEqual(built.labels, b.labels);
      assert.deepEqual(Object.keys(built.labels), Object.keys(b.labels));
      assert.deepEqual(built.profiles, b.profiles);
      assert.deepEqual(reduced.value.ports, b.ports);
      assert.deepEqual(netsOf(reduced.value), full.value.nets);
    }),
    { numRuns: 3000 },
  );
});

test('remote endpoints: the class key read in place agrees with the built labels and profiles', () => {
  const remote = (r: ResourceLike) => {
    const d = deriveResource({ ...r, spec: { ...(r.spec as object), node: 'h2' } }, 'h1');
    return d.kind === 'remoteEndpoint' ? d.value : undefined;
  };
  // Few values per field, so that pairs often share or nearly share a class.
  const arbRemote: fc.Arbitrary<ResourceLike> = fc
    .record({
      namespace: fc.constantFrom('ns1', 'ns2', 's'),
      labels: fc.constantFrom<unknown>(
        undefined,
        { app: 'a' },
        { app: 'a', 'projectcalico.org/namespace': 'ns1' },
        { 'projectcalico.org/orchestrator': 'k8s', app: 'a' },
        { 'projectcalico.org/serviceaccount': 's', app: 'a' },
        { app: 'a', 'projectcalico.org/serviceaccount': 's' },
      ),
      orchestrator: fc.constantFrom<unknown>(undefined, 'k8s', 'cni'),
      serviceAccountName: fc.constantFrom<unknown>(undefined, 's', 't', 3),
      profiles: fc.constantFrom<unknown>(
        undefined,
        [],
        ['kns.ns1'],
        ['kns.ns1', 'ksa.ns1.s'],
        ['kns.ns2', 'ksa.ns2.t'],
        ['kns.ns1', 'ksa.ns2.s'],
      ),
    })
    .map(({ namespace, labels, ...spec }) => {
      const metadata: Record<string, unknown> = { name: 'w', namespace };
      if (labels !== undefined) metadata.labels = labels;
      const clean = Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined));
      return {
        apiVersion: V3,
        kind: 'WorkloadEndpoint',
        metadata,
        spec: { ...clean, ipNetworks: ['10.0.0.1/32'] },
      } as ResourceLike;
    });
  fc.assert(
    fc.property(fc.oneof(arbEndpoint, arbRemote), fc.oneof(arbEndpoint, arbRemote), (x, y) => {
      const a = remote(x);
      const b = remote(y);
      if (a === undefined || b === undefined) return;
      const builtA = remoteLabelsAndProfiles(a);
      const builtB = remoteLabelsAndProfiles(b);
      assert.equal(a.hash, classHash(builtA.labels, builtA.profiles, a.ports));
      assert.equal(a.labelCount, Object.keys(builtA.labels).length);
      assert.equal(sameViewLabels(builtA.labels, b), sameLabels(builtA.labels, builtB.labels));
      assert.equal(
        sameViewProfiles(builtA.profiles, b),
        builtA.profiles.length === builtB.profiles.length &&
          builtA.profiles.every((p, i) => p === builtB.profiles[i]),
      );
      assert.ok(sameViewLabels(builtB.labels, b) && sameViewProfiles(builtB.profiles, b));
    }),
    { numRuns: 5000 },
  );
});

test('remote endpoints: every address form gives the full conversion`s host CIDR', () => {
  for (const text of addressTexts) {
    const res: ResourceLike = {
      apiVersion: V3,
      kind: 'WorkloadEndpoint',
      metadata: { name: 'w', namespace: 'ns' },
      spec: { node: 'h2', ipNetworks: [text] },
    };
    const full = deriveResource(res);
    const reduced = deriveResource(res, 'h1');
    if (full.kind === 'ignored') {
      assert.equal(reduced.kind, 'ignored', text);
      continue;
    }
    assert.ok(full.kind === 'endpoint' && reduced.kind === 'remoteEndpoint', text);
    assert.deepEqual(netsOf(reduced.value), full.value.nets, text);
  }
});

// ------------------------------------------------------------ policies' rules, lazily

function normalise(s: DesiredState): unknown {
  const sorted = <V>(m: Map<string, V>) =>
    [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    ipSets: [...s.ipSets.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => [k, v.type, [...v.members].sort()]),
    policies: sorted(s.policies),
    profiles: sorted(s.profiles),
    workloadEndpoints: sorted(s.workloadEndpoints),
  };
}

function gnp(name: string, tier: string, actions: string[], everywhere = false): ResourceLike {
  return {
    apiVersion: V3,
    kind: 'GlobalNetworkPolicy',
    metadata: { name },
    spec: {
      tier,
      selector: "app == 'a'",
      ingress: actions.map((action) => ({ action, source: { selector: "app == 'b'" } })),
      ...(everywhere ? { performanceHints: ['AssumeNeededOnEveryNode'] } : {}),
    },
  };
}

function endpoint(name: string, node: string, app: string, ip: string): ResourceLike {
  return {
    apiVersion: V3,
    kind: 'WorkloadEndpoint',
    metadata: { name, namespace: 'ns', labels: { app } },
    spec: { node, interfaceName: `cali-${name}`, ipNetworks: [ip] },
  };
}

const tier: ResourceLike = { apiVersion: V3, kind: 'Tier', metadata: { name: 't1' }, spec: {} };

test('lazy rules: a policy with an invalid rule is absent once it would be active', () => {
  const steps: ResourceLike[][] = [
    // inactive invalid policy, then a local endpoint it selects
    [gnp('p', 'default', ['Allow', 'Nope']), endpoint('b1', 'h2', 'b', '10.0.0.2/32')],
    [endpoint('a1', 'h1', 'a', '10.0.0.1/32')],
    // a valid version, active
    [gnp('p', 'default', ['Allow'])],
    // an invalid version of the same placement replaces it
    [gnp('p', 'default', ['Nope'])],
    // valid again, in a missing tier; then invalid; then the tier appears
    [gnp('p', 't1', ['Deny'])],
    [gnp('p', 't1', ['Deny', 'Nope'])],
    [tier],
    [gnp('p', 't1', ['Deny'])],
    // everywhere: active without a local endpoint
    [gnp('q', 'default', ['Nope'], true), gnp('r', 'default', ['Allow'], true)],
  ];
  const g = new CalcGraph({ hostname: 'h1' });
  g.onInSync();
  const live = new Map<string, ResourceLike>();
  const state = emptyDesiredState();
  for (const batch of steps) {
    for (const r of batch) {
      live.set(keyOfResource(r), r);
      g.onUpdate({ type: 'set', resource: r });
    }
    for (const u of g.flush()) applyDesiredStateUpdate(state, u);
    assert.deepEqual(normalise(state), normalise(computeFromScratch(live.values(), 'h1')));
  }
  assert.ok(state.policies.has('gnp/r'));
  assert.ok(!state.policies.has('gnp/q'));
});
