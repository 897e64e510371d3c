import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCidr } from '../net/index.js';
import { encodeAffinity } from './affinity.js';
import { Block } from './block.js';
import { checkConsistency } from './check.js';
import { adjustHandle, newHandle } from './handle.js';
import { affinityKey, blockKey, handleKey } from './keys.js';
import { buildSnapshot } from './snapshot.js';

/** A hand-built store: two blocks, three handles, affinities for n1 and a vanished node. */
function store() {
  const c1 = parseCidr('10.0.0.0/26');
  const c2 = parseCidr('10.0.0.64/26');
  const b1 = Block.create(c1, 'host:n1');
  const b2 = Block.create(c2, 'host:gone');
  b1.allocate(1, 'live', { node: 'n1', pod: 'a' });
  b1.allocate(2, 'leaked', { node: 'n1', pod: 'b' });
  b2.allocate(1, 'live2', { node: 'n1' });
  b2.allocate(1, 'vxlan-tunnel-addr-n1', { node: 'n1', type: 'vxlanTunnelAddress' });
  const h = (id: string, counts: Record<string, number>) => {
    let x = newHandle(id);
    for (const [c, n] of Object.entries(counts)) x = adjustHandle(x, c, n);
    return { key: handleKey(id), value: JSON.stringify(x) };
  };
  const items = [
    { key: blockKey(c1), value: b1.encode() },
    { key: blockKey(c2), value: b2.encode() },
    { key: affinityKey('n1', c1), value: encodeAffinity('confirmed') },
    { key: affinityKey('gone', c2), value: encodeAffinity('confirmed') },
    { key: affinityKey('n1', parseCidr('10.0.0.128/26')), value: encodeAffinity('pending') },
    h('live', { '10.0.0.0/26': 1 }),
    // the handle record claims 3 but the block holds 2
    h('leaked', { '10.0.0.0/26': 3 }),
    h('live2', { '10.0.0.64/26': 1 }),
    h('vxlan-tunnel-addr-n1', { '10.0.0.64/26': 1 }),
  ];
  return buildSnapshot(
    items.map((kv, i) => ({ ...kv, modRevision: String(i + 2), createRevision: String(i + 2) })),
    '20',
  );
}

test('check finds leaks, missing allocations, unknown-node affinities and count mismatches', () => {
  const report = checkConsistency(store(), {
    endpointsByHandle: {
      live: ['10.0.0.0'],
      live2: ['10.0.0.64/32', '10.0.0.5'],
      ghost: ['10.0.0.30'],
    },
    knownNodes: ['n1'],
  });
  assert.equal(report.ok, false);
  assert.deepEqual(
    report.leakedHandles.map((l) => [l.handleId, l.addresses, l.attributes.pod]),
    [['leaked', ['10.0.0.1', '10.0.0.2'], 'b']],
    'the tunnel address of a known node is not a leak',
  );
  assert.deepEqual(report.missingAllocations, [
    { handleId: 'live2', ip: '10.0.0.5', problem: 'not-allocated' },
    { handleId: 'ghost', ip: '10.0.0.30', problem: 'not-allocated' },
  ]);
  assert.deepEqual(
    report.affinityProblems.map((p) => [p.node, p.block, p.problem]),
    [['gone', '10.0.0.64/26', 'unknown-node']],
  );
  assert.deepEqual(report.handleMismatches, [
    { handleId: 'leaked', block: '10.0.0.0/26', handleCount: 3, blockCount: 2 },
  ]);
  assert.deepEqual(report.pendingAffinities, [{ node: 'n1', block: '10.0.0.128/26' }]);
  assert.equal(report.summary.allocatedAddresses, 5);
  assert.equal(report.summary.leakedAddresses, 2);
  // The report goes straight to `calicoctl ipam check -o json`.
  assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
});

test('check without endpoint information does not guess at leaks', () => {
  const report = checkConsistency(store());
  assert.equal(report.leaksChecked, false);
  assert.equal(report.nodesChecked, false);
  assert.equal(report.leakedHandles.length, 0);
  assert.equal(report.handleMismatches.length, 1);
});

test('check reports blocks and affinities that disagree', () => {
  const c = parseCidr('10.9.0.0/26');
  const orphan = Block.create(c, 'host:n2');
  const snap = buildSnapshot(
    [
      { key: blockKey(c), value: orphan.encode(), modRevision: '2', createRevision: '2' },
      {
        key: affinityKey('n3', parseCidr('10.9.0.64/26')),
        value: encodeAffinity('confirmed'),
        modRevision: '3',
        createRevision: '3',
      },
      { key: '/calico/ipam/v2/handle/bad', value: '{', modRevision: '4', createRevision: '4' },
    ],
    '4',
  );
  const report = checkConsistency(snap, { liveHandles: [] });
  assert.deepEqual(
    report.affinityProblems.map((p) => [p.node, p.block, p.problem]),
    [
      ['n3', '10.9.0.64/26', 'affinity-without-block'],
      ['n2', '10.9.0.0/26', 'block-without-affinity'],
    ],
  );
  assert.equal(report.corruptKeys.length, 1);
  assert.equal(report.ok, false);
});
