// Calico's BGP model from datastore resources: mesh and the lexical passive rule, per-node
// AS, route reflectors, BGPPeer kinds, exported blocks and borrowed addresses.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BgpModelInput, bgpConfigForNode, durationSeconds, parseAsNumber } from './model.js';
import { affinity, bgpConfig, block, node, peer, pool } from './model-testkit.js';
import type { PeerConfig } from './types.js';

const peersOf = (input: BgpModelInput, n: string): PeerConfig[] =>
  bgpConfigForNode(n, input)!.speaker.peers;

const threeNodes: BgpModelInput = {
  nodes: [
    node('a', { ipv4Address: '10.0.0.9/24' }),
    node('b', { ipv4Address: '10.0.0.10/24' }),
    node('c', { ipv4Address: '10.0.0.2/24' }),
  ],
};

test('three-node mesh: AS 64512, Mesh_ names, node IP as source, lexical passive rule', () => {
  const a = bgpConfigForNode('a', threeNodes)!;
  assert.equal(a.speaker.routerId, '10.0.0.9');
  assert.equal(a.speaker.asNumber, 64512);
  assert.equal(a.speaker.listenPort, 179);
  assert.deepEqual(a.speaker.peers, [
    {
      address: '10.0.0.10',
      asNumber: 64512,
      name: 'Mesh_10_0_0_10',
      type: 'node-to-node mesh',
      localAddress: '10.0.0.9',
      // "10.0.0.10" < "10.0.0.9" as strings, though 10 > 9 as numbers: a initiates.
      passive: false,
    },
    {
      address: '10.0.0.2',
      asNumber: 64512,
      name: 'Mesh_10_0_0_2',
      type: 'node-to-node mesh',
      localAddress: '10.0.0.9',
      passive: false,
    },
  ]);
  const b = peersOf(threeNodes, 'b');
  assert.equal(b.find((p) => p.address === '10.0.0.9')!.passive, true);
  assert.equal(b.find((p) => p.address === '10.0.0.2')!.passive, true);
  const c = peersOf(threeNodes, 'c');
  assert.equal(c.find((p) => p.address === '10.0.0.9')!.passive, true);
  assert.equal(c.find((p) => p.address === '10.0.0.10')!.passive, false);
  // Exactly one side of every pair is passive.
  for (const [x, y] of [
    ['a', 'b'],
    ['a', 'c'],
    ['b', 'c'],
  ] as const) {
    const ipOf = { a: '10.0.0.9', b: '10.0.0.10', c: '10.0.0.2' };
    const xp = peersOf(threeNodes, x).find((p) => p.address === ipOf[y])!.passive;
    const yp = peersOf(threeNodes, y).find((p) => p.address === ipOf[x])!.passive;
    assert.notEqual(xp, yp, `${x}-${y}`);
  }
});

test('global AS, per-node AS, listen ports and mesh restart time', () => {
  const input: BgpModelInput = {
    nodes: [
      node('a', { ipv4Address: '10.0.0.1/24', asNumber: 65001 }),
      node('b', { ipv4Address: '10.0.0.2/24' }),
    ],
    bgpConfigurations: [
      bgpConfig('default', { asNumber: '1.10', listenPort: 1790, nodeMeshMaxRestartTime: '2m' }),
      bgpConfig('node.b', { listenPort: 1791 }),
    ],
  };
  const a = bgpConfigForNode('a', input)!;
  assert.equal(a.speaker.asNumber, 65001);
  assert.equal(a.speaker.listenPort, 1790);
  assert.deepEqual(a.speaker.peers[0], {
    address: '10.0.0.2',
    asNumber: 65546,
    name: 'Mesh_10_0_0_2',
    type: 'node-to-node mesh',
    localAddress: '10.0.0.1',
    passive: true,
    port: 1791,
    maxRestartTime: 120,
  });
  const b = bgpConfigForNode('b', input)!;
  assert.equal(b.speaker.asNumber, 65546);
  assert.equal(b.speaker.listenPort, 1791);
  assert.equal(b.speaker.peers[0]!.asNumber, 65001);
  assert.equal(b.speaker.peers[0]!.port, 1790);
});

test('mesh disabled: no mesh peers; missing node or node without BGP address: no config', () => {
  const input: BgpModelInput = {
    ...threeNodes,
    bgpConfigurations: [bgpConfig('default', { nodeToNodeMeshEnabled: false })],
  };
  assert.deepEqual(peersOf(input, 'a'), []);
  assert.equal(bgpConfigForNode('zz', input), undefined);
  assert.equal(bgpConfigForNode('x', { nodes: [node('x', undefined)] }), undefined);
});

test('route reflector cluster: RRs leave the mesh, clients peer by peerSelector', () => {
  const input: BgpModelInput = {
    nodes: [
      node(
        'rr1',
        { ipv4Address: '10.0.0.1/24', routeReflectorClusterID: '224.0.0.1' },
        { rr: 'yes' },
      ),
      node(
        'rr2',
        { ipv4Address: '10.0.0.2/24', routeReflectorClusterID: '224.0.0.1' },
        { rr: 'yes' },
      ),
      node('c1', { ipv4Address: '10.0.0.11/24' }),
      node('c2', { ipv4Address: '10.0.0.12/24' }),
    ],
    bgpPeers: [
      // Calico's documented RR set-up: everyone peers with the RRs, the RRs with each other.
      peer('to-rrs', { nodeSelector: 'all()', peerSelector: "rr == 'yes'" }),
    ],
  };
  const rr1 = bgpConfigForNode('rr1', input)!;
  assert.equal(rr1.speaker.clusterId, '224.0.0.1');
  // Not in the mesh. The other reflector from the BGPPeer itself; every other node by
  // reverse peering (reversePeering Auto: rr1 was picked by the peerSelector), and those
  // outside the cluster are its clients.
  assert.deepEqual(
    rr1.speaker.peers.map((p) => [p.name, p.type, p.routeReflectorClient === true]),
    [
      ['Node_10_0_0_11', 'node specific', true],
      ['Node_10_0_0_12', 'node specific', true],
      // Same cluster: a peer reflector, not a client.
      ['Node_10_0_0_2', 'node specific', false],
    ],
  );
  const c1 = bgpConfigForNode('c1', input)!;
  assert.equal(c1.speaker.clusterId, undefined);
  // c1 and c2 still mesh with each other, never with the reflectors.
  assert.deepEqual(
    c1.speaker.peers.map((p) => [p.name, p.routeReflectorClient]),
    [
      ['Node_10_0_0_1', undefined],
      ['Mesh_10_0_0_12', undefined],
      ['Node_10_0_0_2', undefined],
    ],
  );

  // reversePeering Manual: the reflectors need their own BGPPeer for the clients.
  const manual: BgpModelInput = {
    ...input,
    bgpPeers: [
      peer('to-rrs', {
        nodeSelector: 'all()',
        peerSelector: "rr == 'yes'",
        reversePeering: 'Manual',
      }),
    ],
  };
  assert.deepEqual(
    bgpConfigForNode('rr1', manual)!.speaker.peers.map((p) => p.address),
    ['10.0.0.2'],
  );
  const withClients: BgpModelInput = {
    ...manual,
    bgpPeers: [
      ...manual.bgpPeers!,
      peer('rr-to-clients', { nodeSelector: "rr == 'yes'", peerSelector: '!has(rr)' }),
    ],
  };
  const rr = bgpConfigForNode('rr1', withClients)!.speaker.peers;
  assert.deepEqual(
    rr.map((p) => [p.address, p.routeReflectorClient === true]),
    [
      ['10.0.0.11', true],
      ['10.0.0.12', true],
      ['10.0.0.2', false],
    ],
  );
});

test('BGPPeer: global and node-specific, peerIP with port, timers, next hop, local AS', () => {
  const input: BgpModelInput = {
    nodes: [
      node('a', { ipv4Address: '10.0.0.1/24', ipv6Address: 'fd00::1/64' }, { rack: 'r1' }),
      node('b', { ipv4Address: '10.0.0.2/24' }, { rack: 'r2' }),
    ],
    bgpConfigurations: [bgpConfig('default', { nodeToNodeMeshEnabled: false })],
    bgpPeers: [
      peer('tor-global', { peerIP: '192.0.2.1', asNumber: 65000, keepaliveTime: '10s' }),
      peer('tor-v6', { peerIP: '[fd00::ff]:1179', asNumber: 65000 }),
      peer('for-a', {
        node: 'a',
        peerIP: '192.0.2.2:1790',
        asNumber: '65002',
        maxRestartTime: '3m',
        nextHopMode: 'Self',
        localASNumber: 65100,
        numAllowedLocalASNumbers: 2,
        sourceAddress: 'None',
      }),
      peer('rack-r2', { nodeSelector: "rack == 'r2'", peerIP: '192.0.2.3', asNumber: 65003 }),
      peer('keep', { node: 'a', peerIP: '192.0.2.4', asNumber: 65004, keepOriginalNextHop: true }),
    ],
  };
  const a = bgpConfigForNode('a', input)!;
  assert.deepEqual(a.speaker.peers, [
    {
      address: '192.0.2.1',
      asNumber: 65000,
      name: 'Global_192_0_2_1',
      type: 'global',
      localAddress: '10.0.0.1',
      keepaliveTime: 10,
    },
    {
      address: '192.0.2.2',
      asNumber: 65002,
      name: 'Node_192_0_2_2',
      type: 'node specific',
      port: 1790,
      maxRestartTime: 180,
      nextHopMode: 'self',
      localAsNumber: 65100,
      allowLocalAs: 2,
    },
    {
      address: '192.0.2.4',
      asNumber: 65004,
      name: 'Node_192_0_2_4',
      type: 'node specific',
      localAddress: '10.0.0.1',
      nextHopMode: 'keep',
    },
    {
      address: 'fd00::ff',
      asNumber: 65000,
      name: 'Global_fd00__ff',
      type: 'global',
      localAddress: 'fd00::1',
      port: 1179,
    },
  ]);
  // b has no IPv6 address, so no v6 session; it gets its rack's peer.
  assert.deepEqual(
    peersOf(input, 'b').map((p) => p.name),
    ['Global_192_0_2_1', 'Node_192_0_2_3'],
  );
});

test('peerSelector peers take the selected node AS; a peer entry for the node itself is skipped', () => {
  const input: BgpModelInput = {
    nodes: [
      node('a', { ipv4Address: '10.0.0.1/24', asNumber: 65001 }, { edge: 'true' }),
      node('b', { ipv4Address: '10.0.0.2/24', asNumber: 65002 }, { edge: 'true' }),
      node('c', { ipv4Address: '10.0.0.3/24', asNumber: 65003 }),
    ],
    bgpConfigurations: [bgpConfig('default', { nodeToNodeMeshEnabled: false })],
    bgpPeers: [
      peer('edges', { nodeSelector: "edge == 'true'", peerSelector: "edge == 'true'" }),
      peer('self', { peerIP: '10.0.0.1', asNumber: 65001 }),
    ],
  };
  assert.deepEqual(peersOf(input, 'a'), [
    {
      address: '10.0.0.2',
      asNumber: 65002,
      name: 'Node_10_0_0_2',
      type: 'node specific',
      localAddress: '10.0.0.1',
    },
  ]);
  // c is not an edge: only the global "self" peer, which for c is a real peer (a's IP).
  assert.deepEqual(
    peersOf(input, 'c').map((p) => [p.name, p.asNumber]),
    [['Global_10_0_0_1', 65001]],
  );
});

test('an explicit BGPPeer to a mesh neighbour replaces the mesh session', () => {
  const input: BgpModelInput = {
    ...threeNodes,
    bgpPeers: [
      peer('to-c', { node: 'a', peerIP: '10.0.0.2', asNumber: 64512, keepaliveTime: '5s' }),
    ],
  };
  const a = peersOf(input, 'a');
  assert.deepEqual(
    a.map((p) => p.name),
    ['Mesh_10_0_0_10', 'Node_10_0_0_2'],
  );
});

test('IPv6: dual-stack mesh with v6 names and passive rule; v6-only node gets a hashed router id', () => {
  const input: BgpModelInput = {
    nodes: [
      node('a', { ipv4Address: '10.0.0.1/24', ipv6Address: 'fd00::a/64' }),
      node('b', { ipv4Address: '10.0.0.2/24', ipv6Address: 'fd00::b/64' }),
      node('v6', { ipv6Address: 'fd00:0:0::9/64' }),
    ],
  };
  const a = peersOf(input, 'a');
  assert.deepEqual(
    a.map((p) => [p.name, p.localAddress, p.passive]),
    [
      ['Mesh_10_0_0_2', '10.0.0.1', true],
      ['Mesh_fd00__9', 'fd00::a', false],
      ['Mesh_fd00__b', 'fd00::a', true],
    ],
  );
  const v6 = bgpConfigForNode('v6', input)!;
  assert.match(v6.speaker.routerId, /^\d+\.\d+\.\d+\.\d+$/);
  assert.equal(v6.speaker.routerId, bgpConfigForNode('v6', input)!.speaker.routerId);
  assert.deepEqual(v6.speaker.nextHopSelf, { ipv6: 'fd00::9' });
  assert.deepEqual(
    v6.speaker.peers.map((p) => [p.address, p.passive]),
    [
      ['fd00::a', true],
      ['fd00::b', true],
    ],
  );
});

test('exported prefixes: confirmed affine blocks and borrowed /32 and /128, per pool rules', () => {
  const input: BgpModelInput = {
    nodes: threeNodes.nodes,
    ipPools: [
      pool('default', '10.244.0.0/16'),
      pool('off', '10.245.0.0/16', { disabled: true }),
      pool('private', '10.246.0.0/16', { disableBGPExport: true }),
      pool('v6', 'fd10::/48'),
    ],
    affinities: [
      affinity('a', '10.244.1.0/26'),
      affinity('a', '10.244.2.0/26', 'pending'),
      affinity('a', '10.244.3.0/26', 'pendingDeletion'),
      affinity('a', '10.245.0.0/26'),
      affinity('a', '10.246.0.0/26'),
      affinity('a', 'fd10::/122'),
      affinity('b', '10.244.9.0/26'),
      // No pool covers it, so it is not exported.
      affinity('a', '10.99.0.0/26'),
    ],
    blocks: [
      block('10.244.1.0/26', 'a', { 0: 'a', 1: 'a' }),
      // b's block with two addresses a borrowed and one of b's own.
      block('10.244.9.0/26', 'b', { 3: 'a', 4: 'b', 63: 'a' }),
      // Borrowed from a block of a disabled pool: not exported.
      block('10.245.9.0/26', 'b', { 5: 'a' }),
      block('10.246.9.0/26', 'b', { 6: 'a' }),
      block('fd10::40/122', 'b', { 2: 'a' }),
      // A block nobody owns any more.
      block('10.244.200.0/26', undefined, { 7: 'a' }),
    ],
  };
  assert.deepEqual(bgpConfigForNode('a', input)!.prefixes, [
    '10.244.1.0/26',
    '10.244.200.7/32',
    '10.244.9.3/32',
    '10.244.9.63/32',
    'fd10::/122',
    'fd10::42/128',
  ]);
  assert.deepEqual(bgpConfigForNode('b', input)!.prefixes, ['10.244.9.0/26']);
  assert.deepEqual(bgpConfigForNode('c', input)!.prefixes, []);

  // Released: the block's affinity goes, the borrowed address is freed.
  const released: BgpModelInput = {
    ...input,
    affinities: input.affinities!.filter((x) => x.spec.cidr !== '10.244.1.0/26'),
    blocks: input.blocks!.map((b) =>
      b.spec.cidr === '10.244.9.0/26' ? block('10.244.9.0/26', 'b', { 4: 'b', 63: 'a' }) : b,
    ),
  };
  assert.deepEqual(bgpConfigForNode('a', released)!.prefixes, [
    '10.244.200.7/32',
    '10.244.9.63/32',
    'fd10::/122',
    'fd10::42/128',
  ]);
});

test('addresses in cooldown (releasedAt) and deleted blocks are not exported', () => {
  const b = block('10.244.9.0/26', 'b', { 3: 'a', 4: 'a' });
  b.spec.attributes[1]!.releasedAt = '2026-01-01T00:00:00Z';
  const gone = block('10.244.10.0/26', 'b', { 3: 'a' });
  gone.spec.deleted = true;
  const input: BgpModelInput = {
    nodes: threeNodes.nodes,
    ipPools: [pool('default', '10.244.0.0/16')],
    blocks: [b, gone],
  };
  assert.deepEqual(bgpConfigForNode('a', input)!.prefixes, ['10.244.9.3/32']);
});

test('AS numbers and durations in Calico notation', () => {
  assert.equal(parseAsNumber('64512'), 64512);
  assert.equal(parseAsNumber('1.10'), 65546);
  assert.equal(parseAsNumber(4200000000), 4200000000);
  assert.throws(() => parseAsNumber('x'), /Cannot parse AS number "x"/);
  assert.equal(durationSeconds('120s'), 120);
  assert.equal(durationSeconds('1h30m'), 5400);
  assert.equal(durationSeconds('1.5m'), 90);
  assert.equal(durationSeconds('500ms'), 1);
  assert.equal(durationSeconds('0'), 0);
  assert.throws(() => durationSeconds('10'), /Cannot parse duration "10"/);
});
