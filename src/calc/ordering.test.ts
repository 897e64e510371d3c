import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ResourceLike } from '../policy/index.js';
import { parseSelector } from '../selector/index.js';

const selectorId = (text: string) => parseSelector(text).id;

import type { DesiredStateUpdate } from './desired-state.js';
import { CalcGraph } from './graph.js';

const V3 = 'projectcalico.org/v3';

function wep(name: string, labels: Record<string, string>, ip: string, node = 'h1'): ResourceLike {
  return {
    apiVersion: V3,
    kind: 'WorkloadEndpoint',
    metadata: { name, namespace: 'prod', labels },
    spec: {
      node,
      orchestrator: 'k8s',
      interfaceName: `cali${name}`,
      ipNetworks: [`${ip}/32`],
      profiles: ['open'],
      ports: [{ name: 'http', port: 8080 }],
    },
  };
}

const openProfile: ResourceLike = {
  apiVersion: V3,
  kind: 'Profile',
  metadata: { name: 'open' },
  spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] },
};

function gnp(name: string, selector: string, from: string): ResourceLike {
  return {
    apiVersion: V3,
    kind: 'GlobalNetworkPolicy',
    metadata: { name },
    spec: {
      selector,
      ingress: [
        {
          action: 'Allow',
          protocol: 'TCP',
          source: { selector: from },
          destination: { ports: ['http'] },
        },
      ],
    },
  };
}

function set(resource: ResourceLike) {
  return { type: 'set' as const, resource };
}

function types(out: readonly DesiredStateUpdate[]): string[] {
  return out.map((u) => u.type);
}

function indexOf(
  out: readonly DesiredStateUpdate[],
  pred: (u: DesiredStateUpdate) => boolean,
): number {
  const i = out.findIndex(pred);
  assert.ok(i >= 0, 'expected update not found');
  return i;
}

test('nothing is emitted before in-sync, then the full state ends with inSync', () => {
  const g = new CalcGraph({ hostname: 'h1' });
  g.onUpdate(set(openProfile));
  g.onUpdate(set(wep('a', { app: 'web' }, '10.0.0.1')));
  g.onUpdate(set(gnp('p', "app == 'web'", "app == 'db'")));
  assert.deepEqual(g.flush(), []);
  g.onUpdate({ type: 'delete', kind: 'GlobalNetworkPolicy', name: 'p' });
  g.onUpdate(set(gnp('p', "app == 'web'", "app == 'db'")));
  assert.deepEqual(g.flush(), []);
  assert.equal(g.stats().pending, 0, 'a flush before in-sync keeps no dirty marks');
  g.onInSync();
  const out = g.flush();
  assert.equal(out[0]?.type, 'config');
  assert.equal(out.at(-1)?.type, 'inSync');
  assert.equal(out.filter((u) => u.type === 'inSync').length, 1);
  assert.deepEqual(g.flush(), [], 'a flush with no changes is empty');
});

test('adds go IP sets -> policies -> profiles -> endpoints', () => {
  const g = new CalcGraph({ hostname: 'h1' });
  g.onInSync();
  g.onUpdate(set(wep('a', { app: 'web' }, '10.0.0.1')));
  g.onUpdate(set(gnp('p', "app == 'web'", "app == 'db'")));
  g.onUpdate(set(openProfile));
  g.onUpdate(set(wep('b', { app: 'db' }, '10.0.0.2', 'h2')));
  const out = g.flush();
  const firstPolicy = indexOf(out, (u) => u.type === 'policyUpdate');
  const dbSet = selectorId("app == 'db'");
  const setAt = indexOf(out, (u) => u.type === 'ipSetUpdate' && u.id === dbSet);
  assert.ok(setAt < firstPolicy, 'the IP set precedes the policy that references it');
  const profileAt = indexOf(out, (u) => u.type === 'profileUpdate');
  const epAt = indexOf(out, (u) => u.type === 'workloadEndpointUpdate');
  assert.ok(firstPolicy < profileAt && profileAt < epAt);
  const members = out.find((u) => u.type === 'ipSetUpdate' && u.id === dbSet);
  assert.deepEqual(members?.type === 'ipSetUpdate' ? members.members : [], ['10.0.0.2/32']);
  const np = out.find((u) => u.type === 'ipSetUpdate' && u.setType === 'ip-port');
  assert.ok(np?.type === 'ipSetUpdate');
  assert.deepEqual(
    [...np.members].sort(),
    ['10.0.0.1,tcp:8080', '10.0.0.2,tcp:8080'],
    'named port over all endpoints (no destination selector)',
  );
});

test('removals go endpoints -> profiles -> policies -> IP sets', () => {
  const g = new CalcGraph({ hostname: 'h1' });
  g.onInSync();
  g.onUpdates([
    set(openProfile),
    set(wep('a', { app: 'web' }, '10.0.0.1')),
    set(gnp('p', "app == 'web'", "app == 'db'")),
    set(wep('b', { app: 'db' }, '10.0.0.2', 'h2')),
  ]);
  g.flush();
  g.onUpdate({ type: 'delete', kind: 'WorkloadEndpoint', namespace: 'prod', name: 'a' });
  const out = g.flush();
  assert.deepEqual(
    types(out).filter((t) => t.endsWith('Remove')),
    [
      'workloadEndpointRemove',
      'profileRemove',
      'policyRemove',
      'ipSetRemove',
      'ipSetRemove',
      'routeRemove',
    ],
  );
  const ep = indexOf(out, (u) => u.type === 'workloadEndpointRemove');
  const prof = indexOf(out, (u) => u.type === 'profileRemove');
  const pol = indexOf(out, (u) => u.type === 'policyRemove');
  const set1 = indexOf(out, (u) => u.type === 'ipSetRemove');
  assert.ok(ep < prof && prof < pol && pol < set1);
});

test('changes to one key between flushes are coalesced; the newest wins', () => {
  const g = new CalcGraph({ hostname: 'h1' });
  g.onInSync();
  g.onUpdates([set(openProfile), set(gnp('p', "app == 'web'", "app == 'db'"))]);
  g.onUpdate(set(wep('a', { app: 'web' }, '10.0.0.1')));
  g.flush();
  for (const ip of ['10.0.0.5', '10.0.0.6', '10.0.0.7'])
    g.onUpdate(set(wep('b', { app: 'db' }, ip, 'h2')));
  g.onUpdate(set(wep('c', { app: 'db' }, '10.0.0.9', 'h2')));
  g.onUpdate({ type: 'delete', kind: 'WorkloadEndpoint', namespace: 'prod', name: 'c' });
  const out = g.flush();
  const deltas = out.filter((u) => u.type === 'ipSetDelta' && u.id === selectorId("app == 'db'"));
  assert.equal(deltas.length, 1);
  assert.deepEqual(deltas[0]?.type === 'ipSetDelta' ? deltas[0].added : [], ['10.0.0.7/32']);
  assert.deepEqual(deltas[0]?.type === 'ipSetDelta' ? deltas[0].removed : [], []);
});

test('an IP leaves a set only when no contributor still supplies it', () => {
  const g = new CalcGraph({ hostname: 'h1' });
  g.onInSync();
  g.onUpdates([set(openProfile), set(gnp('p', "app == 'web'", "app == 'db'"))]);
  g.onUpdate(set(wep('a', { app: 'web' }, '10.0.0.1')));
  g.onUpdate(set(wep('b', { app: 'db' }, '10.0.0.2', 'h2')));
  g.onUpdate(
    set({
      apiVersion: V3,
      kind: 'GlobalNetworkSet',
      metadata: { name: 'n', labels: { app: 'db' } },
      spec: { nets: ['10.0.0.2/32'] },
    }),
  );
  g.flush();
  g.onUpdate({ type: 'delete', kind: 'WorkloadEndpoint', namespace: 'prod', name: 'b' });
  const db = selectorId("app == 'db'");
  assert.ok(
    !g.flush().some((u) => u.type === 'ipSetDelta' && u.id === db),
    'the network set still supplies 10.0.0.2',
  );
  g.onUpdate({ type: 'delete', kind: 'GlobalNetworkSet', name: 'n' });
  const out = g.flush();
  const d = out.find((u) => u.type === 'ipSetDelta' && u.id === db);
  assert.deepEqual(d?.type === 'ipSetDelta' ? d.removed : [], ['10.0.0.2/32']);
});

test('a missing profile fails closed; a missing tier makes its policies inert', () => {
  const g = new CalcGraph({ hostname: 'h1' });
  g.onInSync();
  g.onUpdate(set(wep('a', { app: 'web' }, '10.0.0.1')));
  const pol = gnp('p', "app == 'web'", "app == 'db'");
  g.onUpdate(set({ ...pol, spec: { ...(pol.spec as object), tier: 'later' } }));
  let out = g.flush();
  const prof = out.find((u) => u.type === 'profileUpdate');
  assert.ok(prof?.type === 'profileUpdate');
  assert.deepEqual(
    prof.profile.inbound.map((r) => r.action),
    ['deny'],
  );
  assert.ok(!out.some((u) => u.type === 'policyUpdate'), 'tier "later" does not exist');
  g.onUpdate(
    set({ apiVersion: V3, kind: 'Tier', metadata: { name: 'later' }, spec: { order: 5 } }),
  );
  g.onUpdate(set(openProfile));
  out = g.flush();
  const ep = out.find((u) => u.type === 'workloadEndpointUpdate');
  assert.ok(ep?.type === 'workloadEndpointUpdate');
  assert.deepEqual(ep.endpoint.tiers, [
    { name: 'later', defaultAction: 'Deny', ingressPolicies: ['gnp/p'], egressPolicies: [] },
  ]);
  const p = out.find((u) => u.type === 'profileUpdate');
  assert.ok(p?.type === 'profileUpdate');
  assert.deepEqual(
    p.profile.inbound.map((r) => r.action),
    ['allow'],
  );
});

test('performanceHints AssumeNeededOnEveryNode activates a policy with no local endpoint', () => {
  const g = new CalcGraph({ hostname: 'h1' });
  g.onInSync();
  const pol = gnp('p', "app == 'nothing-here'", "app == 'db'");
  g.onUpdate(set(pol));
  assert.ok(!g.flush().some((u) => u.type === 'policyUpdate'));
  g.onUpdate(
    set({
      ...pol,
      spec: { ...(pol.spec as object), performanceHints: ['AssumeNeededOnEveryNode'] },
    }),
  );
  const out = g.flush();
  assert.ok(out.some((u) => u.type === 'policyUpdate' && u.policy.id === 'gnp/p'));
  assert.ok(out.some((u) => u.type === 'ipSetUpdate' && u.id === selectorId("app == 'db'")));
});

test('rules become programs: protocol numbers, port ranges, ICMP, inline nets, family', () => {
  const g = new CalcGraph({ hostname: 'h1' });
  g.onInSync();
  g.onUpdate(set(wep('a', { app: 'web' }, '10.0.0.1')));
  g.onUpdate(
    set({
      apiVersion: V3,
      kind: 'GlobalNetworkPolicy',
      metadata: { name: 'r' },
      spec: {
        selector: 'all()',
        ingress: [
          { action: 'Allow', protocol: 'UDP', destination: { ports: [53, '1000:2000'] } },
          { action: 'Deny', protocol: 'ICMP', icmp: { type: 8, code: 0 } },
          { action: 'Pass', source: { nets: ['fd00::/64'] } },
          { action: 'Log', ipVersion: 4, source: { notSelector: "app == 'x'" } },
        ],
        egress: [
          { action: 'Allow', destination: { services: { name: 'api', namespace: 'prod' } } },
          { action: 'Deny' },
        ],
      },
    }),
  );
  const out = g.flush();
  const p = out.find((u) => u.type === 'policyUpdate');
  assert.ok(p?.type === 'policyUpdate');
  const [udp, icmp, pass, log] = p.policy.inbound;
  assert.equal(udp?.protocol, 17);
  assert.deepEqual(udp?.dst.ports, [
    { first: 53, last: 53 },
    { first: 1000, last: 2000 },
  ]);
  assert.deepEqual([icmp?.protocol, icmp?.icmp, icmp?.ipVersion], [1, { type: 8, code: 0 }, 4]);
  assert.deepEqual([pass?.action, pass?.src.nets, pass?.ipVersion], ['pass', ['fd00::/64'], 6]);
  assert.deepEqual([log?.action, log?.src.notIpSetIds], ['log', [selectorId("app == 'x'")]]);
  assert.equal(new Set(p.policy.inbound.map((r) => r.id)).size, 4, 'rule ids are distinct');
  assert.deepEqual(
    p.policy.outbound.map((r) => r.action),
    ['deny'],
    'a Service match never matches without EndpointSlices',
  );
});

test('duplicate sets and spurious deletes change nothing', () => {
  const g = new CalcGraph({ hostname: 'h1' });
  g.onInSync();
  g.onUpdates([set(openProfile), set(wep('a', { app: 'web' }, '10.0.0.1'))]);
  g.flush();
  g.onUpdates([
    set(openProfile),
    set(wep('a', { app: 'web' }, '10.0.0.1')),
    { type: 'delete', kind: 'Profile', name: 'ghost' },
    { type: 'delete', kind: 'WorkloadEndpoint', namespace: 'prod', name: 'ghost' },
  ]);
  assert.deepEqual(g.flush(), []);
});
