// The reduced conversion of other hosts' workload endpoints (deriveResource with a
// local node) must accept, reject and derive exactly what the full conversion does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { ResourceLike } from '../policy/index.js';
import { applyDesiredStateUpdate, type DesiredState, emptyDesiredState } from './desired-state.js';
import { CalcGraph } from './graph.js';
import { computeFromScratch } from './oracle.js';
import { formatV4 } from './packed-members.js';
import { deriveResource, keyOfResource, type RemoteEndpointInput } from './resources.js';

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
      {},
      { app: 'a' },
      { app: 'a', 'projectcalico.org/namespace': 'x' },
    ),
    orchestrator: fc.constantFrom(undefined, '', 'k8s', 'cni'),
    serviceAccountName: fc.constantFrom(undefined, '', 'sa1'),
    node: fc.constantFrom(undefined, '', 'h1', 'h2'),
    profiles: fc.constantFrom<unknown>(undefined, [], ['p1'], ['p1', 'p2'], 'kns.x'),
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
  return r.v4 >= 0 ? [`${formatV4(r.v4)}/32`] : r.nets;
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
      assert.deepEqual(reduced.value.labels, b.labels);
      assert.deepEqual(reduced.value.profiles, b.profiles);
      assert.deepEqual(reduced.value.ports, b.ports);
      assert.deepEqual(netsOf(reduced.value), full.value.nets);
    }),
    { numRuns: 3000 },
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
