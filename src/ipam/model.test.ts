import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCidr } from '../net/index.js';
import { canTransition, checkTransition, decodeAffinity, encodeAffinity } from './affinity.js';
import { adjustHandle, decodeHandle, handleTotal, newHandle } from './handle.js';
import {
  affinityKey,
  blockKey,
  checkHandleId,
  checkNodeName,
  handleKey,
  parseAffinityKey,
  parseBlockKey,
} from './keys.js';
import {
  decodeConfig,
  decodePool,
  decodeReservation,
  encodeConfig,
  encodePool,
  encodeReservation,
  poolContaining,
  selectPools,
  validateConfig,
} from './pools.js';

describe('keys', () => {
  test('use the Calico etcd layout', () => {
    const c4 = parseCidr('10.244.1.0/26');
    const c6 = parseCidr('fd00:10::40/122');
    assert.equal(blockKey(c4), '/calico/ipam/v2/assignment/ipv4/block/10.244.1.0-26');
    assert.equal(blockKey(c6), '/calico/ipam/v2/assignment/ipv6/block/fd00:10::40-122');
    assert.equal(affinityKey('node-1', c4), '/calico/ipam/v2/host/node-1/ipv4/block/10.244.1.0-26');
    assert.equal(handleKey('k8s-pod-network.abc'), '/calico/ipam/v2/handle/k8s-pod-network.abc');
    assert.deepEqual(parseBlockKey(blockKey(c6)), c6);
    assert.deepEqual(parseAffinityKey(affinityKey('n', c6)), { node: 'n', cidr: c6 });
    assert.equal(parseBlockKey('/calico/ipam/v2/assignment/ipv6/block/10.0.0.0-26'), undefined);
    assert.equal(parseAffinityKey('/calico/ipam/v2/handle/x'), undefined);
  });

  test('reject node names and handle IDs that would alias other keys', () => {
    assert.equal(checkNodeName('worker-1.example'), 'worker-1.example');
    for (const bad of ['', 'a/b', '-x', 'a b', 5]) {
      assert.throws(() => checkNodeName(bad), { code: 'INVALID_ARGUMENT' });
    }
    assert.equal(checkHandleId('k8s-pod-network.0123abc'), 'k8s-pod-network.0123abc');
    for (const bad of ['', 'a/b', 'x y', undefined]) {
      assert.throws(() => checkHandleId(bad), { code: 'INVALID_ARGUMENT' });
    }
  });
});

describe('affinity state machine', () => {
  test('follows absent → pending → confirmed → pendingDeletion → absent', () => {
    assert.ok(canTransition(undefined, 'pending'));
    assert.ok(canTransition('pending', 'confirmed'));
    assert.ok(canTransition('pending', undefined), 'a claim that lost the block race');
    assert.ok(canTransition('confirmed', 'pendingDeletion'));
    assert.ok(canTransition('pendingDeletion', undefined));
    assert.ok(canTransition('pendingDeletion', 'confirmed'), 'release found the block in use');
    assert.equal(canTransition(undefined, 'confirmed'), false);
    assert.equal(canTransition('confirmed', undefined), false);
    assert.equal(canTransition('pending', 'pendingDeletion'), false);
    assert.throws(() => checkTransition(undefined, 'confirmed', 'k'), {
      code: 'INVALID_TRANSITION',
    });
  });

  test('decodes stored affinities, treating a missing state as confirmed', () => {
    assert.deepEqual(decodeAffinity(encodeAffinity('pending'), 'k'), {
      state: 'pending',
      deleted: false,
    });
    assert.equal(decodeAffinity('{}', 'k').state, 'confirmed');
    assert.throws(() => decodeAffinity('{"state":"weird"}', 'k'), { code: 'CORRUPT_DATA' });
  });
});

describe('handles', () => {
  test('count addresses per block and drop empty blocks', () => {
    let h = newHandle('h');
    h = adjustHandle(h, '10.0.0.0/26', 2);
    h = adjustHandle(h, '10.0.0.64/26', 1);
    assert.equal(handleTotal(h), 3);
    h = adjustHandle(h, '10.0.0.0/26', -2);
    assert.deepEqual(h.block, { '10.0.0.64/26': 1 });
    assert.deepEqual(decodeHandle(JSON.stringify(h), 'k'), h);
    assert.throws(() => decodeHandle('{"handleID":"h","block":{"x":-1}}', 'k'), {
      code: 'CORRUPT_DATA',
    });
  });
});

describe('pools', () => {
  const pool = (o: Parameters<typeof encodePool>[0]) => decodePool(encodePool(o), o.name);

  test('decode applies Calico defaults', () => {
    const raw = JSON.stringify({ metadata: { name: 'p' }, spec: { cidr: 'fd00::/64' } });
    const p = decodePool(raw, 'k');
    assert.equal(p.blockSize, 122);
    assert.equal(p.nodeSelector, 'all()');
    assert.deepEqual(p.allowedUses, ['Workload', 'Tunnel']);
    assert.equal(p.disabled, false);
    assert.equal(
      decodePool(JSON.stringify({ metadata: { name: 'q' }, spec: { cidr: '10.0.0.0/16' } }), 'k')
        .blockSize,
      26,
    );
    assert.throws(
      () =>
        decodePool(
          JSON.stringify({ metadata: { name: 'q' }, spec: { cidr: '10.0.0.0/16', blockSize: 19 } }),
          'k',
        ),
      (e: Error & { code?: string }) => e.code === 'CORRUPT_DATA' && e.message.includes('q'),
    );
  });

  test('selection honours family, disabled, allowedUses, nodeSelector and Manual mode', () => {
    const all = [
      pool({ name: 'b-rack1', cidr: '10.1.0.0/16', nodeSelector: "rack == 'r1'" }),
      pool({ name: 'a-off', cidr: '10.2.0.0/16', disabled: true }),
      pool({ name: 'c-lb', cidr: '10.3.0.0/16', allowedUses: ['LoadBalancer'] }),
      pool({ name: 'd-any', cidr: '10.4.0.0/16' }),
      pool({ name: 'e-manual', cidr: '10.5.0.0/16', assignmentMode: 'Manual' }),
      pool({ name: 'v6', cidr: 'fd00::/64' }),
    ];
    const r1 = selectPools(all, { family: 4, use: 'Workload', nodeLabels: { rack: 'r1' } });
    assert.deepEqual(
      r1.pools.map((p) => p.name),
      ['b-rack1', 'd-any'],
    );
    assert.deepEqual(
      r1.rejected.map((r) => r.pool.split(' ')[0]),
      ['a-off', 'c-lb', 'e-manual'],
    );
    const r2 = selectPools(all, { family: 4, use: 'Workload', nodeLabels: { rack: 'r2' } });
    assert.deepEqual(
      r2.pools.map((p) => p.name),
      ['d-any'],
    );
    assert.match(r2.rejected.find((r) => r.pool.startsWith('b-rack1'))!.reason, /nodeSelector/);
    const lb = selectPools(all, { family: 4, use: 'LoadBalancer', nodeLabels: {} });
    assert.deepEqual(
      lb.pools.map((p) => p.name),
      ['c-lb'],
    );
    const req = selectPools(all, {
      family: 4,
      use: 'Workload',
      nodeLabels: {},
      requested: ['e-manual', '10.4.0.0/16'],
    });
    assert.deepEqual(
      req.pools.map((p) => p.name),
      ['e-manual', 'd-any'],
    );
    assert.throws(
      () => selectPools(all, { family: 4, use: 'Workload', nodeLabels: {}, requested: ['nope'] }),
      {
        code: 'NO_MATCHING_POOL',
      },
    );
    assert.deepEqual(
      selectPools(all, { family: 6, use: 'Workload', nodeLabels: {} }).pools.map((p) => p.name),
      ['v6'],
    );
  });

  test('poolContaining picks the most specific pool', () => {
    const all = [
      pool({ name: 'wide', cidr: '10.0.0.0/8' }),
      pool({ name: 'narrow', cidr: '10.1.0.0/16' }),
    ];
    assert.equal(poolContaining(all, parseCidr('10.1.2.0/26'))?.name, 'narrow');
    assert.equal(poolContaining(all, parseCidr('10.2.2.0/26'))?.name, 'wide');
    assert.equal(poolContaining(all, parseCidr('11.0.0.0/26')), undefined);
  });

  test('reservations accept CIDRs and bare addresses', () => {
    const r = decodeReservation(
      encodeReservation('r', ['10.0.0.0/30', '10.0.0.9', 'fd00::1']),
      'k',
    );
    assert.deepEqual(
      r.map((c) => c.prefixLength),
      [30, 32, 128],
    );
    assert.throws(() => decodeReservation(encodeReservation('r', ['nope']), 'k'), {
      code: 'CORRUPT_DATA',
    });
  });

  test('configuration validation follows IPAMConfiguration rules', () => {
    validateConfig({ strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 3 });
    assert.throws(
      () =>
        validateConfig({ strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 3 }),
      {
        code: 'INVALID_CONFIG',
      },
    );
    assert.throws(
      () =>
        validateConfig({ strictAffinity: false, autoAllocateBlocks: false, maxBlocksPerHost: 0 }),
      {
        code: 'INVALID_CONFIG',
      },
    );
    const c = { strictAffinity: true, autoAllocateBlocks: false, maxBlocksPerHost: 2 };
    assert.deepEqual(decodeConfig(encodeConfig(c)), c);
    assert.equal(JSON.parse(encodeConfig(c)).strict_affinity, true);
  });
});
