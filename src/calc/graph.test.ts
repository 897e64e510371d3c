import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { ResourceLike } from '../policy/index.js';
import {
  applyDesiredStateUpdate,
  type DesiredState,
  type DesiredStateUpdate,
  emptyDesiredState,
} from './desired-state.js';
import { CalcGraph } from './graph.js';
import { computeFromScratch } from './oracle.js';
import { keyOfResource, type ResourceUpdate } from './resources.js';

const HOST = 'h1';
const V3 = 'projectcalico.org/v3';

// ------------------------------------------------------------------ checking

function normalise(s: DesiredState): unknown {
  const sortMap = <V>(m: Map<string, V>, f: (v: V) => unknown = (v) => v) =>
    [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [k, f(v)]);
  return {
    inSync: s.inSync,
    config: s.config,
    ipSets: sortMap(s.ipSets, (v) => ({ type: v.type, members: [...v.members].sort() })),
    policies: sortMap(s.policies),
    profiles: sortMap(s.profiles),
    workloadEndpoints: sortMap(s.workloadEndpoints),
    hostEndpoints: sortMap(s.hostEndpoints),
    routes: sortMap(s.routes),
    pools: sortMap(s.pools),
  };
}

function referencedIpSets(state: DesiredState): Set<string> {
  const out = new Set<string>();
  const programs = [...state.policies.values(), ...state.profiles.values()];
  for (const p of programs) {
    for (const r of [...p.inbound, ...p.outbound]) {
      for (const m of [r.src, r.dst]) {
        for (const id of [
          ...(m.ipSetIds ?? []),
          ...(m.notIpSetIds ?? []),
          ...(m.namedPortIpSetIds ?? []),
          ...(m.notNamedPortIpSetIds ?? []),
        ]) {
          out.add(id);
        }
      }
    }
  }
  return out;
}

function endpointRefs(state: DesiredState): { policies: Set<string>; profiles: Set<string> } {
  const policies = new Set<string>();
  const profiles = new Set<string>();
  const tiersOf = [
    ...[...state.workloadEndpoints.values()].map((e) => ({ tiers: e.tiers, p: e.profileIds })),
    ...[...state.hostEndpoints.values()].map((e) => ({
      tiers: [...e.tiers, ...e.untrackedTiers, ...e.preDnatTiers, ...e.forwardTiers],
      p: e.profileIds,
    })),
  ];
  for (const e of tiersOf) {
    for (const t of e.tiers)
      for (const id of [...t.ingressPolicies, ...t.egressPolicies]) policies.add(id);
    for (const p of e.p) profiles.add(p);
  }
  return { policies, profiles };
}

/**
 * Folds updates into `state`, asserting after each one that the dataplane never
 * holds a reference to something it has not been given: the emission-order guarantee.
 */
function foldChecked(state: DesiredState, updates: readonly DesiredStateUpdate[]): void {
  for (const u of updates) {
    applyDesiredStateUpdate(state, u);
    const sets = referencedIpSets(state);
    for (const id of sets)
      assert.ok(state.ipSets.has(id), `after ${u.type}: IP set ${id} is referenced but absent`);
    const refs = endpointRefs(state);
    for (const id of refs.policies)
      assert.ok(state.policies.has(id), `after ${u.type}: policy ${id} is referenced but absent`);
    for (const id of refs.profiles)
      assert.ok(state.profiles.has(id), `after ${u.type}: profile ${id} is referenced but absent`);
  }
}

function assertCoalesced(updates: readonly DesiredStateUpdate[]): void {
  const seen = new Set<string>();
  for (const u of updates) {
    let key: string;
    switch (u.type) {
      case 'ipSetUpdate':
      case 'ipSetDelta':
      case 'ipSetRemove':
        key = `ipset|${u.id}`;
        break;
      case 'policyUpdate':
        key = `policy|${u.policy.id}`;
        break;
      case 'policyRemove':
        key = `policy|${u.id}`;
        break;
      case 'profileUpdate':
        key = `profile|${u.profile.id}`;
        break;
      case 'profileRemove':
        key = `profile|${u.id}`;
        break;
      case 'workloadEndpointUpdate':
        key = `wep|${u.endpoint.id}`;
        break;
      case 'workloadEndpointRemove':
        key = `wep|${u.id}`;
        break;
      case 'hostEndpointUpdate':
        key = `hep|${u.endpoint.id}`;
        break;
      case 'hostEndpointRemove':
        key = `hep|${u.id}`;
        break;
      case 'routeUpdate':
        key = `route|${u.route.dst}`;
        break;
      case 'routeRemove':
        key = `route|${u.dst}`;
        break;
      case 'poolUpdate':
        key = `pool|${u.pool.cidr}`;
        break;
      case 'poolRemove':
        key = `pool|${u.cidr}`;
        break;
      default:
        key = u.type;
    }
    assert.ok(!seen.has(key), `${key} appears twice in one flush`);
    seen.add(key);
  }
}

// ------------------------------------------------------------------ generators

const selectorText = fc.constantFrom(
  '',
  'all()',
  "app == 'a'",
  "app == 'b'",
  "app in {'a', 'c'}",
  'has(env)',
  "env != 'prod'",
  '!has(app)',
  "role == 'x'",
  "app == 'a' && env == 'prod'",
  "app == 'c' || role == 'y'",
  "pcns.team == 'a'",
  "app starts with 'b'",
);
const nsSelector = fc.constantFrom(undefined, "team == 'a'", 'all()', 'global()');
const nets = fc.constantFrom(['10.0.0.0/24'], ['10.0.0.3'], ['fd00::/64'], ['192.168.0.0/16']);
const ports = fc.constantFrom<(number | string)[]>([80], ['http'], ['dns'], ['1000:2000', 'http']);

const entity = fc.record(
  {
    selector: selectorText,
    notSelector: selectorText,
    namespaceSelector: nsSelector,
    nets,
    ports,
  },
  { requiredKeys: [] },
);

const rule = fc
  .record({
    // 'Nope' makes the policy invalid (absent), which the graph finds out only when
    // the policy becomes active (rules are converted lazily).
    action: fc.oneof(
      { weight: 16, arbitrary: fc.constantFrom('Allow', 'Deny', 'Pass', 'Log') },
      { weight: 1, arbitrary: fc.constant('Nope') },
    ),
    protocol: fc.constantFrom(undefined, 'TCP', 'UDP', 'ICMP'),
    source: fc.option(entity, { nil: undefined }),
    destination: fc.option(entity, { nil: undefined }),
  })
  .map((r) => {
    const out: Record<string, unknown> = { action: r.action };
    const clean = (e: Record<string, unknown> | undefined, allowPorts: boolean) => {
      if (e === undefined) return undefined;
      const c: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(e))
        if (v !== undefined && (k !== 'ports' || allowPorts)) c[k] = v;
      return c;
    };
    const portProto = r.protocol === 'TCP' || r.protocol === 'UDP';
    if (r.protocol !== undefined) out.protocol = r.protocol;
    if (r.protocol === 'ICMP') out.icmp = { type: 8 };
    const src = clean(r.source as Record<string, unknown> | undefined, portProto);
    const dst = clean(r.destination as Record<string, unknown> | undefined, portProto);
    if (src !== undefined) out.source = src;
    if (dst !== undefined) out.destination = dst;
    return out;
  });

const policySpec = fc.record({
  tier: fc.constantFrom(undefined, 'default', 't1', 't2', 'missing'),
  order: fc.constantFrom(undefined, 1, 2, 2, 100),
  selector: selectorText,
  types: fc.constantFrom(undefined, ['Ingress'], ['Egress'], ['Ingress', 'Egress']),
  ingress: fc.array(rule, { maxLength: 2 }),
  egress: fc.array(rule, { maxLength: 2 }),
  everywhere: fc.boolean(),
  doNotTrack: fc.boolean(),
});

function policyResource(
  kind: string,
  name: string,
  ns: string | undefined,
  s: typeof policySpec extends fc.Arbitrary<infer T> ? T : never,
): ResourceLike {
  const spec: Record<string, unknown> = {
    selector: s.selector,
    ingress: s.ingress,
    egress: s.egress,
  };
  if (s.tier !== undefined) spec.tier = s.tier;
  if (s.order !== undefined) spec.order = s.order;
  if (s.types !== undefined) spec.types = s.types;
  if (s.everywhere) spec.performanceHints = ['AssumeNeededOnEveryNode'];
  if (s.doNotTrack && kind === 'GlobalNetworkPolicy') {
    spec.doNotTrack = true;
    spec.applyOnForward = true;
  }
  return {
    apiVersion: V3,
    kind,
    metadata: ns === undefined ? { name } : { name, namespace: ns },
    spec,
  };
}

const labels = fc.record(
  {
    app: fc.constantFrom('a', 'b', 'c'),
    env: fc.constantFrom('prod', 'dev'),
    role: fc.constantFrom('x', 'y'),
  },
  { requiredKeys: [] },
);
const ip4 = fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.65', '10.0.1.7');
const ip6 = fc.constantFrom('fd00::1', 'fd00::2');

const arbAnyResource: fc.Arbitrary<ResourceLike> = fc.oneof(
  fc
    .record({
      n: fc.constantFrom('t1', 't2', 'default'),
      order: fc.constantFrom(undefined, 5, 5, 2_000_000),
      pass: fc.boolean(),
    })
    .map(({ n, order, pass }) => ({
      apiVersion: V3,
      kind: 'Tier',
      metadata: { name: n },
      spec: { ...(order !== undefined ? { order } : {}), defaultAction: pass ? 'Pass' : 'Deny' },
    })),
  fc
    .tuple(fc.constantFrom('g0', 'g1', 'g2'), policySpec)
    .map(([n, s]) => policyResource('GlobalNetworkPolicy', n, undefined, s)),
  fc
    .tuple(fc.constantFrom('n0', 'n1'), fc.constantFrom('ns1', 'ns2'), policySpec)
    .map(([n, ns, s]) => policyResource('NetworkPolicy', n, ns, s)),
  fc
    .tuple(fc.constantFrom('s0'), policySpec)
    .map(([n, s]) => policyResource('StagedGlobalNetworkPolicy', n, undefined, s)),
  fc
    .record({
      ns: fc.constantFrom('ns1', 'ns2'),
      app: fc.constantFrom('a', 'b'),
      from: fc.constantFrom('c', 'b'),
    })
    .map(({ ns, app, from }) => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'k0', namespace: ns },
      spec: {
        podSelector: { matchLabels: { app } },
        ingress: [
          { from: [{ podSelector: { matchLabels: { app: from } } }], ports: [{ port: 'http' }] },
        ],
      },
    })),
  fc
    .record({ ns: fc.constantFrom('ns1', 'ns2'), team: fc.constantFrom('a', 'b') })
    .map(({ ns, team }) => ({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns, labels: { team } },
    })),
  fc
    .record({
      n: fc.constantFrom('p1', 'p2'),
      role: fc.option(fc.constantFrom('x', 'y'), { nil: undefined }),
      rules: fc.array(rule, { maxLength: 1 }),
    })
    .map(({ n, role, rules }) => ({
      apiVersion: V3,
      kind: 'Profile',
      metadata: { name: n },
      spec: {
        ingress: rules,
        egress: [{ action: 'Allow' }],
        ...(role !== undefined ? { labelsToApply: { role } } : {}),
      },
    })),
  fc
    .record({
      n: fc.constantFrom('w0', 'w1', 'w2', 'w3', 'w4'),
      ns: fc.constantFrom('ns1', 'ns2'),
      node: fc.constantFrom(HOST, HOST, 'h2'),
      labels,
      ips: fc.array(fc.oneof(ip4, ip6), { minLength: 0, maxLength: 2 }),
      profiles: fc.constantFrom<string[] | undefined>(undefined, ['p1'], ['p1', 'p2'], ['p3']),
      ports: fc.constantFrom(
        [],
        [{ name: 'http', port: 80 }],
        [
          { name: 'http', port: 8080 },
          { name: 'dns', port: 53, protocol: 'UDP' },
        ],
      ),
    })
    .map(({ n, ns, node, labels, ips, profiles, ports }) => ({
      apiVersion: V3,
      kind: 'WorkloadEndpoint',
      metadata: { name: n, namespace: ns, labels },
      spec: {
        node,
        orchestrator: 'k8s',
        interfaceName: `cali${n}`,
        ipNetworks: [...new Set(ips)].map((i) => (i.includes(':') ? `${i}/128` : `${i}/32`)),
        ...(profiles !== undefined ? { profiles } : {}),
        ports,
      },
    })),
  fc
    .record({
      n: fc.constantFrom('he0', 'he1'),
      node: fc.constantFrom(HOST, 'h2'),
      labels,
      ip: ip4,
    })
    .map(({ n, node, labels, ip }) => ({
      apiVersion: V3,
      kind: 'HostEndpoint',
      metadata: { name: n, labels },
      spec: { node, interfaceName: 'eth0', expectedIPs: [ip], profiles: ['p2'] },
    })),
  fc.record({ n: fc.constantFrom('gs0', 'gs1'), labels, nets }).map(({ n, labels, nets }) => ({
    apiVersion: V3,
    kind: 'GlobalNetworkSet',
    metadata: { name: n, labels },
    spec: { nets },
  })),
  fc.record({ ns: fc.constantFrom('ns1', 'ns2'), labels, nets }).map(({ ns, labels, nets }) => ({
    apiVersion: V3,
    kind: 'NetworkSet',
    metadata: { name: 'set0', namespace: ns, labels },
    spec: { nets },
  })),
  fc.record({ nat: fc.boolean(), v6: fc.boolean() }).map(({ nat, v6 }) => ({
    apiVersion: V3,
    kind: 'IPPool',
    metadata: { name: v6 ? 'pool6' : 'pool4' },
    spec: { cidr: v6 ? 'fd00::/64' : '10.0.0.0/16', natOutgoing: nat },
  })),
  fc
    .record({
      n: fc.constantFrom(HOST, 'h2', 'h3'),
      a: fc.constantFrom('192.168.1.1/24', '192.168.1.2/24', '192.168.1.3'),
    })
    .map(({ n, a }) => ({
      apiVersion: V3,
      kind: 'Node',
      metadata: { name: n },
      spec: { bgp: { ipv4Address: a, ipv6Address: 'fd01::9/64' } },
    })),
  fc
    .record({
      base: fc.constantFrom(0, 64),
      owner: fc.constantFrom(undefined, HOST, 'h2', 'h3'),
      alloc: fc.array(fc.record({ ord: fc.nat(63), node: fc.constantFrom(HOST, 'h2', 'h3') }), {
        maxLength: 3,
      }),
    })
    .map(({ base, owner, alloc }) => {
      const allocations: (number | null)[] = new Array(64).fill(null);
      const attributes: unknown[] = [];
      for (const a of alloc) {
        if (allocations[a.ord] !== null) continue;
        allocations[a.ord] = attributes.length;
        attributes.push({ handle_id: `h${a.ord}`, secondary: { node: a.node } });
      }
      return {
        apiVersion: V3,
        kind: 'IPAMBlock',
        metadata: { name: `10-0-0-${base}-26` },
        spec: {
          cidr: `10.0.0.${base}/26`,
          ...(owner !== undefined ? { affinity: `host:${owner}` } : {}),
          allocations,
          unallocated: [],
          attributes,
        },
      };
    }),
  fc
    .record({
      base: fc.constantFrom(0, 64),
      node: fc.constantFrom(HOST, 'h2'),
      confirmed: fc.boolean(),
    })
    .map(({ base, node, confirmed }) => ({
      apiVersion: V3,
      kind: 'BlockAffinity',
      metadata: { name: `${node}-10-0-0-${base}-26` },
      spec: { node, cidr: `10.0.0.${base}/26`, state: confirmed ? 'confirmed' : 'pending' },
    })),
  fc
    .record({
      n: fc.constantFrom('default', `node.${HOST}`, 'node.h2'),
      v: fc.constantFrom('Drop', 'Accept'),
      mtu: fc.option(fc.constantFrom(1400, 1500), { nil: undefined }),
    })
    .map(({ n, v, mtu }) => ({
      apiVersion: V3,
      kind: 'FelixConfiguration',
      metadata: { name: n },
      spec: { defaultEndpointToHostAction: v, ...(mtu !== undefined ? { vxlanMTU: mtu } : {}) },
    })),
);

// Endpoints and policies are where the graph's indexes work hardest: weight them up.
const arbResource: fc.Arbitrary<ResourceLike> = fc.oneof(
  { weight: 4, arbitrary: arbAnyResource },
  { weight: 2, arbitrary: arbAnyResource.filter((r) => r.kind === 'WorkloadEndpoint') },
  { weight: 2, arbitrary: arbAnyResource.filter((r) => r.kind.endsWith('NetworkPolicy')) },
);

type Op =
  | { op: 'set'; res: ResourceLike }
  | { op: 'delete'; pick: number }
  | { op: 'spurious' }
  | { op: 'dup'; pick: number }
  | { op: 'flush' };

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: arbResource.map((res): Op => ({ op: 'set', res })) },
  { weight: 3, arbitrary: fc.nat().map((pick): Op => ({ op: 'delete', pick })) },
  { weight: 1, arbitrary: fc.constant<Op>({ op: 'spurious' }) },
  { weight: 1, arbitrary: fc.nat().map((pick): Op => ({ op: 'dup', pick })) },
  { weight: 2, arbitrary: fc.constant<Op>({ op: 'flush' }) },
);

function deleteOf(res: ResourceLike): ResourceUpdate {
  return {
    type: 'delete',
    kind: res.kind,
    ...(res.apiVersion !== undefined ? { apiVersion: res.apiVersion } : {}),
    ...(res.metadata?.namespace !== undefined ? { namespace: res.metadata.namespace } : {}),
    name: res.metadata?.name ?? '',
  };
}

function run(ops: readonly Op[], syncAt: number): void {
  const g = new CalcGraph({ hostname: HOST });
  const live = new Map<string, ResourceLike>();
  const folded = emptyDesiredState();
  let synced = false;
  const flush = () => {
    const out = g.flush();
    if (!synced) {
      assert.deepEqual(out, [], 'nothing may be emitted before in-sync');
      return;
    }
    assertCoalesced(out);
    const wasSynced = folded.inSync;
    foldChecked(folded, out);
    if (!wasSynced) assert.equal(out.at(-1)?.type, 'inSync', 'the first flush ends with inSync');
    else assert.ok(!out.some((u) => u.type === 'inSync'), 'inSync is sent once');
  };
  ops.forEach((o, i) => {
    if (i === syncAt) {
      g.onInSync();
      synced = true;
    }
    switch (o.op) {
      case 'set':
        live.set(keyOfResource(o.res), o.res);
        g.onUpdate({ type: 'set', resource: o.res });
        break;
      case 'delete': {
        const keys = [...live.keys()];
        if (keys.length === 0) break;
        const k = keys[o.pick % keys.length]!;
        g.onUpdate(deleteOf(live.get(k)!));
        live.delete(k);
        break;
      }
      case 'spurious':
        g.onUpdate({ type: 'delete', kind: 'WorkloadEndpoint', namespace: 'ns9', name: 'nope' });
        g.onUpdate({ type: 'delete', kind: 'GlobalNetworkPolicy', name: 'nope' });
        break;
      case 'dup': {
        const vals = [...live.values()];
        if (vals.length === 0) break;
        g.onUpdate({ type: 'set', resource: vals[o.pick % vals.length]! });
        break;
      }
      case 'flush':
        flush();
        break;
    }
  });
  if (!synced) {
    g.onInSync();
    synced = true;
  }
  flush();
  assert.deepEqual(normalise(folded), normalise(computeFromScratch(live.values(), HOST)));
}

test('model: folded incremental output equals the from-scratch state', () => {
  fc.assert(
    fc.property(
      fc.array(arbOp, { minLength: 1, maxLength: 80, size: 'max' }),
      fc.nat(70),
      (ops, syncAt) => {
        run(ops, syncAt);
      },
    ),
    { numRuns: 300 },
  );
});

test('model: after deleting everything, the graph holds nothing', () => {
  fc.assert(
    fc.property(
      fc.array(arbResource, { minLength: 1, maxLength: 40, size: 'max' }),
      (resources) => {
        const g = new CalcGraph({ hostname: HOST });
        g.onInSync();
        for (const r of resources) g.onUpdate({ type: 'set', resource: r });
        g.flush();
        for (const r of resources) g.onUpdate(deleteOf(r));
        const out = g.flush();
        const state = emptyDesiredState();
        state.inSync = true;
        for (const u of out)
          if (u.type !== 'config' && u.type !== 'inSync') assert.match(u.type, /Remove$/);
        const stats = g.stats();
        for (const [k, v] of Object.entries(stats)) assert.equal(v, 0, `${k} still holds ${v}`);
      },
    ),
    { numRuns: 150 },
  );
});
