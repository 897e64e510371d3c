// Properties over random scenarios: verdicts do not depend on the order in which
// resources are loaded, and the matrix equals pairwise evaluation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decide, evaluateFlow, type Flow } from './evaluate.js';
import type { ResourceLike, V3Rule } from './input.js';
import { computeMatrix, type MatrixPort } from './matrix.js';
import { buildSnapshot } from './snapshot.js';
import { felix, gnp, hep, namespace, np, profile, tier, wep } from './testkit.js';

const SELECTORS = [
  "app == 'a'",
  "app == 'b'",
  'has(app)',
  '!has(app)',
  'all()',
  "app in {'a', 'c'}",
  "pcns.env == 'prod'",
];
const NAMESPACES = ['n1', 'n2'];

const ruleArb: fc.Arbitrary<V3Rule> = fc
  .record({
    action: fc.constantFrom('Allow', 'Deny', 'Pass', 'Log', 'Allow', 'Deny'),
    protocol: fc.option(fc.constantFrom('TCP', 'UDP'), { nil: undefined }),
    port: fc.option(fc.constantFrom<number | string>(80, 'http', '50:100', 53, 'dns'), {
      nil: undefined,
    }),
    srcSel: fc.option(fc.constantFrom(...SELECTORS), { nil: undefined }),
    srcNot: fc.option(fc.constantFrom(...SELECTORS.slice(0, 3)), { nil: undefined }),
    srcNets: fc.option(fc.constantFrom(['10.0.0.0/30'], ['10.0.0.4/30', '203.0.113.0/24']), {
      nil: undefined,
    }),
    nsSel: fc.option(fc.constantFrom("env == 'prod'", 'all()', 'global()'), { nil: undefined }),
  })
  .map((r) => {
    const rule: V3Rule = { action: r.action };
    if (r.protocol) rule.protocol = r.protocol;
    if (r.port !== undefined && r.protocol) rule.destination = { ports: [r.port] };
    const src: Record<string, unknown> = {};
    if (r.srcSel) src.selector = r.srcSel;
    if (r.srcNot) src.notSelector = r.srcNot;
    if (r.srcNets) src.nets = r.srcNets;
    if (r.nsSel) src.namespaceSelector = r.nsSel;
    if (Object.keys(src).length > 0) rule.source = src;
    return rule;
  });

const policyArb = fc.record({
  namespaced: fc.boolean(),
  ns: fc.constantFrom(...NAMESPACES),
  tier: fc.constantFrom('default', 'default', 't1', 't2'),
  order: fc.option(fc.constantFrom(1, 2, 1000), { nil: undefined }),
  selector: fc.constantFrom(...SELECTORS, 'has(host)'),
  types: fc.constantFrom(['Ingress'], ['Egress'], ['Ingress', 'Egress']),
  ingress: fc.array(ruleArb, { maxLength: 3 }),
  egress: fc.array(ruleArb, { maxLength: 3 }),
  forward: fc.constantFrom('none', 'none', 'applyOnForward', 'preDNAT', 'doNotTrack'),
  staged: fc.boolean(),
});

const endpointArb = fc.record({
  app: fc.option(fc.constantFrom('a', 'b', 'c'), { nil: undefined }),
  ns: fc.constantFrom(...NAMESPACES),
  node: fc.constantFrom('node1', 'node2'),
  profiles: fc.constantFrom<string[] | undefined>(
    undefined,
    ['allow-all'],
    ['deny-in', 'allow-all'],
    ['ghost'],
    [],
  ),
  ports: fc.boolean(),
});

const scenarioArb = fc.record({
  endpoints: fc.array(endpointArb, { minLength: 1, maxLength: 6 }),
  policies: fc.array(policyArb, { maxLength: 6 }),
  t1Default: fc.constantFrom('Deny', 'Pass'),
  t2Order: fc.option(fc.constantFrom(5, 10), { nil: undefined }),
  heps: fc.boolean(),
  e2h: fc.constantFrom('Drop', 'Accept', 'Return'),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

function build(s: Scenario): ResourceLike[] {
  const out: ResourceLike[] = [
    namespace('n1', { env: 'prod' }),
    namespace('n2', { env: 'dev' }),
    profile('allow-all', { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] }),
    profile('deny-in', { ingress: [{ action: 'Deny', protocol: 'UDP' }] }, { app: 'c' }),
    tier('t1', 10, s.t1Default),
    tier('t2', s.t2Order),
    felix('default', { defaultEndpointToHostAction: s.e2h }),
  ];
  s.endpoints.forEach((e, i) => {
    out.push(
      wep(`w${i}`, `10.0.0.${i + 1}`, e.app ? { app: e.app } : {}, {
        ns: e.ns,
        node: e.node,
        ...(e.profiles !== undefined ? { profiles: e.profiles } : {}),
        ...(e.ports
          ? {
              ports: [
                { name: 'http', protocol: 'TCP', port: 80 },
                { name: 'dns', protocol: 'UDP', port: 53 },
              ],
            }
          : {}),
      }),
    );
  });
  if (s.heps) {
    out.push(hep('h1', 'node1', ['192.168.0.1'], { interfaceName: 'eth0', labels: { host: '1' } }));
    out.push(
      hep('h2', 'node2', ['192.168.0.2'], {
        interfaceName: '*',
        labels: { host: '2' },
        profiles: ['allow-all'],
      }),
    );
  }
  s.policies.forEach((p, i) => {
    const spec: Record<string, unknown> = {
      tier: p.tier,
      selector: p.selector,
      types: p.types,
      ingress: p.ingress,
      egress: p.egress,
    };
    if (p.order !== undefined) spec.order = p.order;
    if (!p.namespaced && p.forward !== 'none') {
      spec.applyOnForward = true;
      if (p.forward === 'preDNAT') {
        spec.preDNAT = true;
        spec.types = ['Ingress'];
        spec.egress = [];
      }
      if (p.forward === 'doNotTrack') spec.doNotTrack = true;
    }
    // Global() is only valid in rules; namespaced policies may use it too.
    const name = `p${i}`;
    if (p.namespaced)
      out.push(np(p.ns, name, spec, p.staged ? 'StagedNetworkPolicy' : 'NetworkPolicy'));
    else out.push(gnp(name, spec, p.staged ? 'StagedGlobalNetworkPolicy' : 'GlobalNetworkPolicy'));
  });
  return out;
}

function flows(s: Scenario): Flow[] {
  const ips = s.endpoints.map((_, i) => `10.0.0.${i + 1}`);
  const all = [...ips, '203.0.113.7', ...(s.heps ? ['192.168.0.1', '192.168.0.2'] : [])];
  const out: Flow[] = [];
  for (const src of all) {
    for (const dst of all) {
      out.push({ srcIp: src, dstIp: dst, protocol: 'TCP', srcPort: 40000, dstPort: 80 });
      out.push({ srcIp: src, dstIp: dst, protocol: 'UDP', srcPort: 40000, dstPort: 53 });
    }
  }
  return out;
}

test('property: verdicts and explanations do not depend on resource load order', () => {
  fc.assert(
    fc.property(
      scenarioArb.chain((s) => {
        const res = build(s);
        return fc.tuple(
          fc.constant(s),
          fc.constant(res),
          fc.shuffledSubarray(res, { minLength: res.length }),
        );
      }),
      ([s, res, shuffled]) => {
        const a = buildSnapshot(res);
        const b = buildSnapshot(shuffled);
        for (const f of flows(s)) assert.deepEqual(evaluateFlow(b, f), evaluateFlow(a, f));
      },
    ),
    { numRuns: 150 },
  );
});

test('property: the matrix equals pairwise evaluation', () => {
  const ports: MatrixPort[] = [
    { protocol: 'TCP', port: 80 },
    { protocol: 'UDP', port: 53 },
    { protocol: 'TCP', port: 60 },
    { protocol: 'ICMP', icmpType: 8 },
  ];
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const snap = buildSnapshot(build(s));
      const m = computeMatrix(snap, undefined, ports, { srcPort: 40000 });
      const n = m.endpoints.length;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const si = snap.endpoint(m.endpoints[i]!)!;
          const sj = snap.endpoint(m.endpoints[j]!)!;
          const srcIp = `${si.addresses[0]!.value >> 24n}.${(si.addresses[0]!.value >> 16n) & 255n}.${(si.addresses[0]!.value >> 8n) & 255n}.${si.addresses[0]!.value & 255n}`;
          const dstIp = `${sj.addresses[0]!.value >> 24n}.${(sj.addresses[0]!.value >> 16n) & 255n}.${(sj.addresses[0]!.value >> 8n) & 255n}.${sj.addresses[0]!.value & 255n}`;
          ports.forEach((p, k) => {
            const v = decide(snap, {
              srcIp,
              dstIp,
              protocol: p.protocol,
              srcPort: 40000,
              ...(p.port !== undefined ? { dstPort: p.port } : {}),
              ...(p.icmpType !== undefined ? { icmpType: p.icmpType } : {}),
            });
            assert.equal(
              m.allowed(i, j, k),
              v === 'Allow',
              `${srcIp} -> ${dstIp} ${JSON.stringify(p)}`,
            );
          });
        }
      }
    }),
    { numRuns: 200 },
  );
});
