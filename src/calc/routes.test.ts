import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ResourceLike } from '../policy/index.js';
import type { RouteState } from './desired-state.js';
import { CalcGraph } from './graph.js';
import { computeFromScratch, mergeConfig } from './oracle.js';

const V3 = 'projectcalico.org/v3';

function block(
  base: string,
  owner: string | undefined,
  allocs: [number, string][] = [],
): ResourceLike {
  const allocations: (number | null)[] = new Array(64).fill(null);
  const attributes: unknown[] = [];
  for (const [ord, node] of allocs) {
    allocations[ord] = attributes.length;
    attributes.push({ handle_id: `h${ord}`, secondary: { node } });
  }
  return {
    apiVersion: V3,
    kind: 'IPAMBlock',
    metadata: { name: `${base.replaceAll('.', '-')}-26` },
    spec: {
      cidr: `${base}/26`,
      ...(owner !== undefined ? { affinity: `host:${owner}` } : {}),
      allocations,
      unallocated: [],
      attributes,
    },
  };
}

function node(name: string, v4: string, v6?: string): ResourceLike {
  return {
    apiVersion: V3,
    kind: 'Node',
    metadata: { name },
    spec: { bgp: { ipv4Address: v4, ...(v6 !== undefined ? { ipv6Address: v6 } : {}) } },
  };
}

const pool: ResourceLike = {
  apiVersion: V3,
  kind: 'IPPool',
  metadata: { name: 'p' },
  spec: { cidr: '10.65.0.0/16', natOutgoing: true },
};

const localWep: ResourceLike = {
  apiVersion: V3,
  kind: 'WorkloadEndpoint',
  metadata: { name: 'w', namespace: 'default' },
  spec: {
    node: 'h1',
    interfaceName: 'cali123',
    ipNetworks: ['10.65.0.5/32', 'fd00::5/128'],
    profiles: [],
  },
};

function routes(resources: ResourceLike[]): Map<string, RouteState> {
  return computeFromScratch(resources, 'h1').routes;
}

test('local workloads route via their interface, /32 and /128', () => {
  const r = routes([pool, localWep]);
  assert.deepEqual(r.get('10.65.0.5/32'), {
    dst: '10.65.0.5/32',
    type: 'local-workload',
    interfaceName: 'cali123',
    poolCidr: '10.65.0.0/16',
    natOutgoing: true,
  });
  assert.deepEqual(r.get('fd00::5/128'), {
    dst: 'fd00::5/128',
    type: 'local-workload',
    interfaceName: 'cali123',
  });
});

test('local affine blocks are blackholes; remote blocks go via the owner, prefix stripped', () => {
  const r = routes([
    pool,
    block('10.65.0.0', 'h1'),
    block('10.65.0.64', 'h2'),
    block('10.65.0.128', 'h3'),
    node('h2', '192.168.0.2/24'),
  ]);
  assert.equal(r.get('10.65.0.0/26')?.type, 'local-block');
  assert.deepEqual(r.get('10.65.0.64/26'), {
    dst: '10.65.0.64/26',
    type: 'remote-block',
    nodeName: 'h2',
    nextHop: '192.168.0.2',
    poolCidr: '10.65.0.0/16',
    natOutgoing: true,
  });
  assert.equal(r.has('10.65.0.128/26'), false, 'h3 has no known address: no route');
});

test('borrowed addresses route to the borrower, more specific than the block', () => {
  const r = routes([
    block('10.65.0.0', 'h1', [
      [3, 'h2'],
      [4, 'h1'],
    ]),
    block('10.65.0.64', 'h2', [[1, 'h3']]),
    node('h2', '192.168.0.2'),
    node('h3', '192.168.0.3'),
  ]);
  assert.equal(r.get('10.65.0.3/32')?.type, 'remote-workload');
  assert.equal(r.get('10.65.0.3/32')?.nextHop, '192.168.0.2');
  assert.equal(r.has('10.65.0.4/32'), false, 'addresses of the block owner need no host route');
  assert.equal(r.get('10.65.0.65/32')?.nextHop, '192.168.0.3');
});

test('a block without affinity takes the owner from a confirmed BlockAffinity', () => {
  const aff = (n: string, state: string): ResourceLike => ({
    apiVersion: V3,
    kind: 'BlockAffinity',
    metadata: { name: `${n}-10-65-0-0-26` },
    spec: { node: n, cidr: '10.65.0.0/26', state },
  });
  assert.equal(routes([block('10.65.0.0', undefined), aff('h1', 'pending')]).size, 0);
  assert.equal(
    routes([block('10.65.0.0', undefined), aff('h1', 'confirmed')]).get('10.65.0.0/26')?.type,
    'local-block',
  );
});

test('the graph re-routes when a node address or pool changes', () => {
  const g = new CalcGraph({ hostname: 'h1' });
  g.onInSync();
  g.onUpdates(
    [pool, block('10.65.0.64', 'h2'), node('h2', '192.168.0.2')].map((resource) => ({
      type: 'set' as const,
      resource,
    })),
  );
  g.flush();
  g.onUpdate({ type: 'set', resource: node('h2', '192.168.0.22/16') });
  let out = g.flush();
  assert.deepEqual(
    out.map((u) => (u.type === 'routeUpdate' ? u.route.nextHop : u.type)),
    ['192.168.0.22'],
  );
  g.onUpdate({ type: 'set', resource: { ...pool, spec: { cidr: '10.65.0.0/16' } } });
  out = g.flush();
  const route = out.find((u) => u.type === 'routeUpdate');
  assert.equal(route?.type === 'routeUpdate' ? route.route.natOutgoing : undefined, false);
  assert.ok(out.some((u) => u.type === 'poolUpdate' && !u.pool.natOutgoing));
  g.onUpdate({ type: 'delete', kind: 'Node', name: 'h2' });
  assert.deepEqual(
    g.flush().map((u) => u.type),
    ['routeRemove'],
  );
});

test('config: FelixConfiguration default, then node.<host> on top', () => {
  assert.deepEqual(
    mergeConfig({ logPrefix: 'a', ipv6Support: false }, { ipv6Support: true, vxlanMTU: 1400 }),
    { logPrefix: 'a', ipv6Support: true, vxlanMTU: 1400 },
  );
  const felix = (name: string, spec: Record<string, unknown>): ResourceLike => ({
    apiVersion: V3,
    kind: 'FelixConfiguration',
    metadata: { name },
    spec,
  });
  const g = new CalcGraph({ hostname: 'h1' });
  g.onUpdate({
    type: 'set',
    resource: felix('default', { defaultEndpointToHostAction: 'Accept', logPrefix: 'x' }),
  });
  g.onUpdate({ type: 'set', resource: felix('node.h1', { logPrefix: 'mine' }) });
  g.onUpdate({ type: 'set', resource: felix('node.h2', { logPrefix: 'theirs' }) });
  g.onInSync();
  const first = g.flush();
  assert.deepEqual(first[0], {
    type: 'config',
    config: { defaultEndpointToHostAction: 'Accept', logPrefix: 'mine' },
  });
  g.onUpdate({ type: 'set', resource: felix('node.h2', { logPrefix: 'other' }) });
  assert.deepEqual(g.flush(), [], 'another node’s config changes nothing here');
  g.onUpdate({ type: 'delete', kind: 'FelixConfiguration', name: 'node.h1' });
  assert.deepEqual(g.flush(), [
    { type: 'config', config: { defaultEndpointToHostAction: 'Accept', logPrefix: 'x' } },
  ]);
});
