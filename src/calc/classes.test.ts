// The graph matches selectors once per label class (endpoints and network sets with
// the same own labels, profiles and named ports) rather than once per member. These
// tests drive many members through few classes, where sharing matters: moves between
// classes, classes emptied and re-created, profile labels changing under a class, and
// IP sets created while classes exist. After every sequence the incremental state must
// equal a rebuild (a fresh graph fed the final snapshot) and the from-scratch oracle,
// and the class table must hold exactly the classes of live members.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { ResourceLike } from '../policy/index.js';
import { applyDesiredStateUpdate, type DesiredState, emptyDesiredState } from './desired-state.js';
import { CalcGraph } from './graph.js';
import { computeFromScratch } from './oracle.js';
import { keyOfResource } from './resources.js';

const HOST = 'h1';
const V3 = 'projectcalico.org/v3';

function normalise(s: DesiredState): unknown {
  const sorted = <V>(m: Map<string, V>, f: (v: V) => unknown = (v) => v) =>
    [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [k, f(v)]);
  return {
    ipSets: sorted(s.ipSets, (v) => ({ type: v.type, members: [...v.members].sort() })),
    policies: sorted(s.policies),
    profiles: sorted(s.profiles),
    workloadEndpoints: sorted(s.workloadEndpoints),
    routes: sorted(s.routes),
  };
}

const labelSets: Record<string, string>[] = [
  { app: 'a' },
  { app: 'a', role: 'db' },
  { role: 'db', app: 'a' }, // same labels, other insertion order: may be a separate class
  { app: 'b' },
  {},
];
const portSets = [[], [{ name: 'http', port: 80 }], [{ name: 'http', port: 81, protocol: 'UDP' }]];

function wep(i: number, labels: number, ports: number, profile: number, ip: number): ResourceLike {
  return {
    apiVersion: V3,
    kind: 'WorkloadEndpoint',
    metadata: { name: `w${i}`, namespace: 'ns1', labels: labelSets[labels]! },
    spec: {
      node: i % 3 === 0 ? HOST : 'h2',
      orchestrator: 'k8s',
      interfaceName: `caliw${i}`,
      ipNetworks: [`10.0.${ip}.${i + 1}/32`],
      profiles: profile === 0 ? ['p1'] : ['p1', 'p2'],
      ports: portSets[ports]!,
    },
  };
}

function profile(name: string, env: string | undefined): ResourceLike {
  return {
    apiVersion: V3,
    kind: 'Profile',
    metadata: { name },
    spec: { ...(env !== undefined ? { labelsToApply: { env } } : {}), ingress: [] },
  };
}

function policy(name: string, selector: string, peer: string): ResourceLike {
  return {
    apiVersion: V3,
    kind: 'GlobalNetworkPolicy',
    metadata: { name },
    spec: {
      selector,
      ingress: [
        { action: 'Allow', protocol: 'TCP', source: { selector: peer } },
        { action: 'Allow', source: { selector: peer }, destination: { ports: ['http'] } },
      ],
      egress: [{ action: 'Allow', protocol: 'UDP', destination: { ports: ['http'] } }],
    },
  };
}

const selectors = ["app == 'a'", 'has(role)', "env == 'prod'", "env != 'prod'", 'all()'];

type Op =
  | { op: 'wep'; i: number; labels: number; ports: number; profile: number; ip: number }
  | { op: 'delWep'; i: number }
  | { op: 'profile'; name: string; env: string | undefined }
  | { op: 'policy'; name: string; sel: number; peer: number }
  | { op: 'delPolicy'; name: string }
  | { op: 'flush' };

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      op: fc.constant('wep' as const),
      i: fc.nat(11),
      labels: fc.nat(labelSets.length - 1),
      ports: fc.nat(portSets.length - 1),
      profile: fc.nat(1),
      ip: fc.nat(1),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('delWep' as const), i: fc.nat(11) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('profile' as const),
      name: fc.constantFrom('p1', 'p2'),
      env: fc.constantFrom(undefined, 'prod', 'dev'),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('policy' as const),
      name: fc.constantFrom('g0', 'g1', 'g2'),
      sel: fc.nat(selectors.length - 1),
      peer: fc.nat(selectors.length - 1),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('delPolicy' as const),
      name: fc.constantFrom('g0', 'g1', 'g2'),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ op: 'flush' as const }) },
);

function drive(ops: readonly Op[]): { g: CalcGraph; state: DesiredState; live: ResourceLike[] } {
  const g = new CalcGraph({ hostname: HOST });
  g.onInSync();
  const live = new Map<string, ResourceLike>();
  const state = emptyDesiredState();
  const put = (r: ResourceLike) => {
    live.set(keyOfResource(r), r);
    g.onUpdate({ type: 'set', resource: r });
  };
  const del = (kind: string, name: string, namespace?: string) => {
    const r = [...live.values()].find(
      (x) => x.kind === kind && x.metadata?.name === name && x.metadata?.namespace === namespace,
    );
    if (r !== undefined) live.delete(keyOfResource(r));
    g.onUpdate({ type: 'delete', kind, name, ...(namespace !== undefined ? { namespace } : {}) });
  };
  for (const o of ops) {
    switch (o.op) {
      case 'wep':
        put(wep(o.i, o.labels, o.ports, o.profile, o.ip));
        break;
      case 'delWep':
        del('WorkloadEndpoint', `w${o.i}`, 'ns1');
        break;
      case 'profile':
        put(profile(o.name, o.env));
        break;
      case 'policy':
        put(policy(o.name, selectors[o.sel]!, selectors[o.peer]!));
        break;
      case 'delPolicy':
        del('GlobalNetworkPolicy', o.name);
        break;
      case 'flush':
        for (const u of g.flush()) applyDesiredStateUpdate(state, u);
        break;
    }
  }
  for (const u of g.flush()) applyDesiredStateUpdate(state, u);
  return { g, state, live: [...live.values()] };
}

test('label classes: an update sequence gives the same state as a rebuild', () => {
  fc.assert(
    fc.property(fc.array(arbOp, { minLength: 1, maxLength: 60 }), (ops) => {
      const { g, state, live } = drive(ops);
      const rebuilt = new CalcGraph({ hostname: HOST });
      for (const r of live) rebuilt.onUpdate({ type: 'set', resource: r });
      rebuilt.onInSync();
      const fresh = emptyDesiredState();
      for (const u of rebuilt.flush()) applyDesiredStateUpdate(fresh, u);
      assert.deepEqual(normalise(state), normalise(fresh));
      assert.deepEqual(normalise(state), normalise(computeFromScratch(live, HOST)));
      // Classes are dropped with their last member: the incremental graph holds no
      // more of them than a rebuild does.
      assert.equal(g.stats().labelClasses, rebuilt.stats().labelClasses);
      assert.equal(g.stats().contributors, rebuilt.stats().contributors);
    }),
    { numRuns: 400 },
  );
});

test('label classes: endpoints with the same labels, profiles and ports share one', () => {
  const g = new CalcGraph({ hostname: HOST });
  g.onInSync();
  for (let i = 0; i < 9; i++) {
    g.onUpdate({ type: 'set', resource: wep(i, i % 2, 1, 0, 0) });
  }
  assert.equal(g.stats().contributors, 9);
  assert.equal(g.stats().labelClasses, 2);
  // A different port list is a different class even with the same labels.
  g.onUpdate({ type: 'set', resource: wep(0, 1, 2, 0, 0) });
  assert.equal(g.stats().labelClasses, 3);
  for (let i = 0; i < 9; i++) {
    g.onUpdate({ type: 'delete', kind: 'WorkloadEndpoint', namespace: 'ns1', name: `w${i}` });
  }
  assert.equal(g.stats().labelClasses, 0);
});
