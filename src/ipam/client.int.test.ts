// IPAM operations against both real stores: etcd on a free loopback port and the
// embedded SQLite file. Each case starts from an empty /calico/ tree.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { formatIp, nthAddress, parseCidr } from '../net/index.js';
import { IpamClient, IpamError, nodeKey } from './index.js';
import { openTestStore, putPool, putReservation, type TestStore } from './testkit.js';

function rejectsWith(code: string, ...mentions: string[]) {
  return (err: unknown) => {
    assert.ok(err instanceof IpamError, `expected an IpamError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    for (const m of mentions)
      assert.ok(err.message.includes(m), `"${err.message}" should mention ${m}`);
    return true;
  };
}

for (const kind of ['embedded', 'etcdv3'] as const) {
  describe(`IPAM on ${kind}`, () => {
    let store: TestStore;
    let ipam: IpamClient;

    before(async () => {
      store = await openTestStore(kind);
    });
    after(async () => {
      await store?.close();
    });
    beforeEach(async () => {
      await store.wipe();
      ipam = new IpamClient({ backend: store.backend });
    });

    test('auto-assign claims a block for the node and records the handle (v4 and v6)', async () => {
      await putPool(store.backend, { name: 'pool4', cidr: '10.10.0.0/24' });
      await putPool(store.backend, { name: 'pool6', cidr: 'fd00:10::/120' });
      const r = await ipam.autoAssign({
        node: 'n1',
        handleId: 'k8s-pod-network.c1',
        num4: 2,
        num6: 1,
        attributes: { pod: 'p1', namespace: 'ns' },
      });
      assert.equal(r.ipv4.length, 2);
      assert.equal(r.ipv6.length, 1);
      const [a, b] = r.ipv4;
      assert.equal(a?.block, b?.block);
      assert.match(a!.cidr, /^10\.10\.0\.\d+\/26$/);
      assert.match(r.ipv6[0]!.cidr, /^fd00:10::[0-9a-f]*\/122$/);
      assert.equal(a?.pool, 'pool4');
      const aff = await store.backend.get(
        `/calico/ipam/v2/host/n1/ipv4/block/${a!.block.replace('/', '-')}`,
      );
      assert.equal(JSON.parse(aff!.value).state, 'confirmed');
      const block = JSON.parse(
        (await store.backend.get(
          `/calico/ipam/v2/assignment/ipv4/block/${a!.block.replace('/', '-')}`,
        ))!.value,
      );
      assert.equal(block.affinity, 'host:n1');
      const handle = JSON.parse(
        (await store.backend.get('/calico/ipam/v2/handle/k8s-pod-network.c1'))!.value,
      );
      assert.equal(
        Object.values(handle.block as Record<string, number>).reduce((x, y) => x + y),
        3,
      );
      const info = await ipam.ipInfo(a!.ip);
      assert.equal(info.allocated, true);
      assert.equal(info.handleId, 'k8s-pod-network.c1');
      assert.deepEqual(info.attributes, { pod: 'p1', namespace: 'ns', node: 'n1' });
      assert.equal(info.borrowed, false);
      assert.deepEqual(
        (await ipam.addressesOf('k8s-pod-network.c1')).sort(),
        [a!.ip, b!.ip, r.ipv6[0]!.ip].sort(),
      );
    });

    test('released addresses are reused last (FIFO) and release is idempotent', async () => {
      await putPool(store.backend, { name: 'p', cidr: '10.11.0.0/28', blockSize: 28 });
      const first = await ipam.autoAssign({ node: 'n1', handleId: 'h0', num4: 1 });
      const ip0 = first.ipv4[0]!.ip;
      assert.deepEqual((await ipam.releaseByHandle('h0')).released, [ip0]);
      assert.deepEqual(await ipam.releaseByHandle('h0'), {
        released: [],
        notAllocated: [],
        stale: [],
      });
      const seen: string[] = [];
      for (let i = 1; i < 16; i++)
        seen.push((await ipam.autoAssign({ node: 'n1', handleId: `h${i}`, num4: 1 })).ipv4[0]!.ip);
      assert.equal(
        seen.includes(ip0),
        false,
        'the released address waits behind every never-used one',
      );
      assert.equal(
        (await ipam.autoAssign({ node: 'n1', handleId: 'h16', num4: 1 })).ipv4[0]!.ip,
        ip0,
      );
      const r = await ipam.releaseIps([seen[0]!, seen[0]!, '10.11.0.200']);
      assert.deepEqual(r.released, [seen[0]]);
      assert.deepEqual(r.notAllocated.sort(), [seen[0], '10.11.0.200'].sort());
      assert.equal(
        await store.backend.get('/calico/ipam/v2/handle/h1'),
        undefined,
        'an empty handle is deleted',
      );
    });

    test('a stale release (old sequence number) does not free the re-allocated address', async () => {
      await putPool(store.backend, { name: 'p', cidr: '10.12.0.0/30', blockSize: 30 });
      const old = (await ipam.autoAssign({ node: 'n1', handleId: 'h1', num4: 1 })).ipv4[0]!;
      await ipam.releaseIps([old.ip]);
      // Cycle the other three addresses so the same one comes round again.
      for (const h of ['x1', 'x2', 'x3'])
        await ipam.autoAssign({ node: 'n1', handleId: h, num4: 1 });
      const again = (await ipam.autoAssign({ node: 'n1', handleId: 'h1', num4: 1 })).ipv4[0]!;
      assert.equal(again.ip, old.ip);
      const r = await ipam.releaseIps([{ ip: old.ip, sequenceNumber: old.sequenceNumber }]);
      assert.deepEqual(r.stale, [old.ip]);
      assert.equal((await ipam.ipInfo(old.ip)).allocated, true);
    });

    test('pool exhaustion is a clear error naming the pool, and takes nothing', async () => {
      await putPool(store.backend, { name: 'tiny-pool', cidr: '10.13.0.0/28', blockSize: 28 });
      await ipam.autoAssign({ node: 'n1', handleId: 'a', num4: 15 });
      await assert.rejects(
        ipam.autoAssign({ node: 'n1', handleId: 'b', num4: 2 }),
        rejectsWith('POOL_EXHAUSTED', 'tiny-pool', '10.13.0.0/28', 'n1'),
      );
      assert.equal(
        (await ipam.utilisation())[0]!.inUse,
        15,
        'the partial assignment was rolled back',
      );
      assert.equal(await store.backend.get('/calico/ipam/v2/handle/b'), undefined);
    });

    test('without strict affinity a node borrows from another node’s block', async () => {
      await putPool(store.backend, { name: 'p', cidr: '10.14.0.0/26', blockSize: 26 });
      await ipam.autoAssign({ node: 'n1', handleId: 'a', num4: 1 });
      const b = await ipam.autoAssign({ node: 'n2', handleId: 'b', num4: 1 });
      const info = await ipam.ipInfo(b.ipv4[0]!.ip);
      assert.equal(info.blockAffinity, 'host:n1');
      assert.equal(info.borrowed, true);
      assert.deepEqual(await ipam.listBorrowed(), [
        {
          ip: b.ipv4[0]!.ip,
          node: 'n2',
          block: '10.14.0.0/26',
          blockOwner: 'n1',
          handleId: 'b',
          type: null,
        },
      ]);
    });

    test('with strict affinity and no free block the assignment fails instead of borrowing', async () => {
      await putPool(store.backend, { name: 'strict-pool', cidr: '10.15.0.0/26', blockSize: 26 });
      await ipam.configure({ strictAffinity: true });
      await ipam.autoAssign({ node: 'n1', handleId: 'a', num4: 1 });
      await assert.rejects(
        ipam.autoAssign({ node: 'n2', handleId: 'b', num4: 1 }),
        rejectsWith('STRICT_AFFINITY_NO_BLOCK', 'strict-pool', 'n2'),
      );
      assert.equal((await ipam.utilisation())[0]!.inUse, 1);
      assert.deepEqual(await ipam.getConfig(), {
        strictAffinity: true,
        autoAllocateBlocks: true,
        maxBlocksPerHost: 0,
      });
    });

    test('maxBlocksPerHost caps the blocks a node owns', async () => {
      await putPool(store.backend, { name: 'p', cidr: '10.16.0.0/24', blockSize: 28 });
      await assert.rejects(
        ipam.configure({ maxBlocksPerHost: 2 }),
        rejectsWith('INVALID_CONFIG', 'strictAffinity'),
      );
      await ipam.configure({ strictAffinity: true, maxBlocksPerHost: 2 });
      await ipam.autoAssign({ node: 'n1', handleId: 'a', num4: 32 });
      await assert.rejects(
        ipam.autoAssign({ node: 'n1', handleId: 'b', num4: 1 }),
        rejectsWith('MAX_BLOCKS_PER_HOST', 'maxBlocksPerHost=2', 'n1'),
      );
      const { items } = await store.backend.list('/calico/ipam/v2/host/n1/');
      assert.equal(items.length, 2);
      // Another node still gets its own blocks.
      await ipam.autoAssign({ node: 'n2', handleId: 'c', num4: 1 });
    });

    test('reserved addresses are never handed out and are excluded from utilisation', async () => {
      await putPool(store.backend, { name: 'p', cidr: '10.17.0.0/28', blockSize: 28 });
      await putReservation(store.backend, 'r', ['10.17.0.0/30', '10.17.0.9']);
      const r = await ipam.autoAssign({ node: 'n1', handleId: 'a', num4: 11 });
      const got = r.ipv4.map((a) => a.ip);
      for (const reserved of ['10.17.0.0', '10.17.0.1', '10.17.0.2', '10.17.0.3', '10.17.0.9']) {
        assert.equal(got.includes(reserved), false, `${reserved} is reserved`);
      }
      await assert.rejects(
        ipam.autoAssign({ node: 'n1', handleId: 'b', num4: 1 }),
        rejectsWith('POOL_EXHAUSTED'),
      );
      await assert.rejects(
        ipam.assignIp({ ip: '10.17.0.9', node: 'n1', handleId: 'c' }),
        rejectsWith('ADDRESS_RESERVED', '10.17.0.9'),
      );
      const [u] = await ipam.utilisation();
      assert.deepEqual([u!.size, u!.reserved, u!.inUse, u!.free], [16, 5, 11, 0]);
      assert.equal((await ipam.ipInfo('10.17.0.2')).reserved, true);
    });

    test('nodeSelector, disabled and allowedUses decide which pool serves a node', async () => {
      await putPool(store.backend, {
        name: 'rack-a',
        cidr: '10.18.0.0/24',
        nodeSelector: "rack == 'a'",
      });
      await putPool(store.backend, { name: 'off', cidr: '10.19.0.0/24', disabled: true });
      await putPool(store.backend, {
        name: 'lb',
        cidr: '10.20.0.0/24',
        allowedUses: ['LoadBalancer'],
      });
      await store.backend.put(
        nodeKey('n1'),
        JSON.stringify({ kind: 'Node', metadata: { name: 'n1', labels: { rack: 'a' } } }),
      );
      const r = await ipam.autoAssign({ node: 'n1', handleId: 'a', num4: 1 });
      assert.equal(r.ipv4[0]!.pool, 'rack-a');
      await assert.rejects(
        ipam.autoAssign({ node: 'n2', handleId: 'b', num4: 1 }),
        rejectsWith('NO_MATCHING_POOL', 'n2', 'rack-a', 'nodeSelector', 'off', 'disabled'),
      );
      const lb = await ipam.autoAssign({ node: 'n2', handleId: 'c', num4: 1, use: 'LoadBalancer' });
      assert.equal(lb.ipv4[0]!.pool, 'lb');
      await assert.rejects(
        ipam.autoAssign({ node: 'n1', handleId: 'd', num4: 1, pools: ['no-such-pool'] }),
        rejectsWith('NO_MATCHING_POOL', 'no-such-pool'),
      );
    });

    test('assignIp takes one given address and refuses taken or foreign ones', async () => {
      await putPool(store.backend, { name: 'p', cidr: '10.21.0.0/24' });
      const a = await ipam.assignIp({
        ip: '10.21.0.77',
        node: 'n1',
        handleId: 'h',
        attributes: { pod: 'x' },
      });
      assert.deepEqual([a.ip, a.cidr, a.block], ['10.21.0.77', '10.21.0.77/26', '10.21.0.64/26']);
      assert.equal((await ipam.ipInfo('10.21.0.77')).blockAffinity, 'host:n1');
      await assert.rejects(
        ipam.assignIp({ ip: '10.21.0.77', node: 'n2', handleId: 'h2' }),
        rejectsWith('ADDRESS_IN_USE', '10.21.0.77', 'h'),
      );
      await assert.rejects(
        ipam.assignIp({ ip: '10.99.0.1', node: 'n1', handleId: 'h3' }),
        rejectsWith('ADDRESS_NOT_IN_POOL', '10.99.0.1'),
      );
      // The next auto-assign on n1 uses the block assignIp claimed.
      const next = await ipam.autoAssign({ node: 'n1', handleId: 'h4', num4: 1 });
      assert.equal(next.ipv4[0]!.block, '10.21.0.64/26');
    });

    test('releasing a node’s affinities frees empty blocks and keeps busy ones', async () => {
      await putPool(store.backend, { name: 'p', cidr: '10.22.0.0/24', blockSize: 28 });
      const keep = await ipam.autoAssign({ node: 'n1', handleId: 'keep', num4: 1 });
      await ipam.autoAssign({ node: 'n1', handleId: 'fill', num4: 16 });
      await ipam.releaseByHandle('fill');
      const r = await ipam.releaseHostAffinities('n1', { onlyEmpty: true });
      assert.equal(r.kept.length, 1);
      assert.equal(r.released.length, 1);
      assert.equal(keep.ipv4[0]!.block, r.kept[0]);
      const after1 = await ipam.snapshot();
      assert.equal(after1.blocks.length, 1, 'the empty block was deleted with its affinity');
      const all = await ipam.releaseHostAffinities('n1', { onlyEmpty: false });
      assert.deepEqual(all.released, r.kept);
      const snap = await ipam.snapshot();
      assert.equal(snap.affinities.length, 0);
      assert.equal(
        snap.blocks[0]?.block.affinity,
        undefined,
        'a busy block survives without an owner',
      );
      // Releasing its last address deletes the ownerless block.
      await ipam.releaseByHandle('keep');
      assert.equal((await ipam.snapshot()).blocks.length, 0);
    });

    test('check reports leaked handles, missing allocations and unknown-node affinities', async () => {
      await putPool(store.backend, { name: 'p', cidr: '10.23.0.0/24' });
      const live = await ipam.autoAssign({ node: 'n1', handleId: 'live', num4: 1 });
      const leak = await ipam.autoAssign({ node: 'n2', handleId: 'leak', num4: 2 });
      const unallocated = formatIp(nthAddress(parseCidr(live.ipv4[0]!.block), 63));
      const report = await ipam.check({
        endpointsByHandle: {
          live: [live.ipv4[0]!.ip],
          other: [unallocated],
          nowhere: ['10.99.0.1'],
        },
        knownNodes: ['n1'],
      });
      assert.equal(report.ok, false);
      assert.deepEqual(
        report.leakedHandles.map((l) => [l.handleId, l.addresses.sort()]),
        [['leak', leak.ipv4.map((a) => a.ip).sort()]],
      );
      assert.deepEqual(report.missingAllocations, [
        { handleId: 'other', ip: unallocated, problem: 'not-allocated' },
        { handleId: 'nowhere', ip: '10.99.0.1', problem: 'no-block' },
      ]);
      assert.deepEqual(
        report.affinityProblems.map((p) => [p.node, p.problem]),
        [['n2', 'unknown-node']],
      );
      await ipam.releaseByHandle('leak');
      await ipam.releaseHostAffinities('n2');
      const clean = await ipam.check({ liveHandles: ['live'], knownNodes: ['n1'] });
      assert.equal(clean.ok, true, JSON.stringify(clean));
    });

    test('autoAllocateBlocks off: nodes use only the blocks they already own', async () => {
      await putPool(store.backend, { name: 'p', cidr: '10.24.0.0/24' });
      await ipam.autoAssign({ node: 'n1', handleId: 'a', num4: 1 });
      await assert.rejects(
        ipam.configure({ autoAllocateBlocks: false }),
        rejectsWith('INVALID_CONFIG', 'autoAllocateBlocks'),
      );
      await ipam.configure({ autoAllocateBlocks: false, strictAffinity: true });
      await ipam.autoAssign({ node: 'n1', handleId: 'b', num4: 1 });
      await assert.rejects(
        ipam.autoAssign({ node: 'n2', handleId: 'c', num4: 1 }),
        rejectsWith('STRICT_AFFINITY_NO_BLOCK', 'autoAllocateBlocks is off'),
      );
      assert.equal((await ipam.snapshot()).blocks.length, 1);
    });
  });
}
