import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { formatIp, parseCidr, parseIp } from '../net/index.js';
import { Block, reservedOrdinals } from './block.js';
import { IpamError } from './errors.js';

const v4 = parseCidr('10.244.1.0/26');
const v6 = parseCidr('fd00:10::/122');

describe('Block', () => {
  test('a new block queues every ordinal in address order', () => {
    const b = Block.create(v4, 'host:n1');
    assert.equal(b.size, 64);
    assert.deepEqual(b.data.unallocated, [...Array(64).keys()]);
    assert.equal(b.data.affinity, 'host:n1');
    assert.equal(b.inUse(), 0);
    assert.ok(b.isEmpty());
  });

  test('ordinal and address map both ways for IPv4 and IPv6', () => {
    const b4 = Block.create(v4);
    assert.equal(formatIp(b4.ipAt(5)), '10.244.1.5');
    assert.equal(b4.ordinalOf(parseIp('10.244.1.63')), 63);
    assert.equal(b4.maskedAt(7), '10.244.1.7/26');
    const b6 = Block.create(v6);
    assert.equal(formatIp(b6.ipAt(63)), 'fd00:10::3f');
    assert.equal(b6.ordinalOf(parseIp('fd00:10::2a')), 42);
    assert.equal(b6.maskedAt(1), 'fd00:10::1/122');
    assert.throws(() => b4.ordinalOf(parseIp('10.244.2.0')), { code: 'INVALID_ARGUMENT' });
  });

  test('allocation takes the head of the queue and release appends to the tail', () => {
    const b = Block.create(v4);
    const first = b.allocate(3, 'h1', { node: 'n1' });
    assert.deepEqual(
      first.map((a) => a.ordinal),
      [0, 1, 2],
    );
    assert.deepEqual(b.release([{ ordinal: 1 }]), ['released']);
    assert.equal(b.data.unallocated.at(-1), 1);
    const rest = b.allocate(61, 'h2', undefined);
    assert.equal(rest.length, 61);
    assert.equal(rest.at(-1)?.ordinal, 63);
    assert.deepEqual(
      b.allocate(5, 'h3', undefined).map((a) => a.ordinal),
      [1],
      'the released address is reused only after every never-used one',
    );
    assert.deepEqual(b.allocate(1, 'h4', undefined), [], 'a full block allocates nothing');
  });

  test('reserved ordinals are skipped but stay queued in place', () => {
    const b = Block.create(v4);
    const reserved = new Set([0, 1, 2, 3]);
    const got = b.allocate(2, 'h', undefined, (o) => reserved.has(o));
    assert.deepEqual(
      got.map((a) => a.ordinal),
      [4, 5],
    );
    assert.deepEqual(b.data.unallocated.slice(0, 5), [0, 1, 2, 3, 6]);
    assert.equal(
      b.freeCount((o) => reserved.has(o)),
      58,
    );
    assert.equal(b.freeCount(), 62);
  });

  test('attributes are shared per handle and compacted when released', () => {
    const b = Block.create(v4);
    b.allocate(2, 'h1', { node: 'n1', pod: 'a' });
    b.allocate(1, 'h2', { node: 'n1', pod: 'b' });
    b.allocate(1, 'h1', { node: 'n1', pod: 'a' });
    assert.equal(b.data.attributes.length, 2);
    assert.deepEqual(b.data.allocations.slice(0, 4), [0, 0, 1, 0]);
    b.releaseHandle('h1');
    assert.deepEqual(b.data.attributes, [{ handle_id: 'h2', secondary: { node: 'n1', pod: 'b' } }]);
    assert.deepEqual(b.data.allocations.slice(0, 4), [null, null, 0, null]);
    assert.equal(b.handleOf(2), 'h2');
    assert.deepEqual(Object.fromEntries(b.countsByHandle()), { h2: 1 });
  });

  test('sequence numbers reject a stale release after the address was reused (ABA)', () => {
    const b = Block.create(v4);
    const [a] = b.allocate(1, 'h1', undefined);
    assert.ok(a);
    // Free it and let the queue wrap around so the same ordinal is handed out again.
    b.release([{ ordinal: a.ordinal }]);
    b.allocate(63, 'filler', undefined);
    const [again] = b.allocate(1, 'h1', undefined);
    assert.equal(again?.ordinal, a.ordinal);
    assert.notEqual(again?.sequenceNumber, a.sequenceNumber);
    assert.deepEqual(b.release([{ ordinal: a.ordinal, sequenceNumber: a.sequenceNumber }]), [
      'stale',
    ]);
    assert.deepEqual(b.release([{ ordinal: a.ordinal, handleId: 'other' }]), ['stale']);
    assert.ok(b.isAllocated(a.ordinal));
    assert.deepEqual(b.release([{ ordinal: a.ordinal, sequenceNumber: again?.sequenceNumber }]), [
      'released',
    ]);
    assert.deepEqual(
      b.release([{ ordinal: a.ordinal }]),
      ['not-allocated'],
      'release is idempotent',
    );
  });

  test('every write bumps the block sequence number', () => {
    const b = Block.create(v4);
    b.allocate(1, 'h', undefined);
    b.assign(10, 'h', undefined);
    b.release([{ ordinal: 10 }]);
    assert.equal(b.sequenceNumber, 3);
    b.release([{ ordinal: 10 }]);
    assert.equal(b.sequenceNumber, 3, 'a release that frees nothing writes nothing');
  });

  test('assigning a taken address names the address and its handle', () => {
    const b = Block.create(v4);
    b.assign(9, 'h1', undefined);
    assert.equal(b.data.unallocated.includes(9), false);
    assert.throws(
      () => b.assign(9, 'h2', undefined),
      (e: unknown) =>
        e instanceof IpamError &&
        e.code === 'ADDRESS_IN_USE' &&
        e.message.includes('10.244.1.9') &&
        e.message.includes('h1'),
    );
  });

  test('encode and decode round-trip; corrupt blocks are rejected with CORRUPT_DATA', () => {
    const b = Block.create(v6, 'host:n2', true);
    b.allocate(3, 'h', { node: 'n2' });
    b.release([{ ordinal: 1 }]);
    const back = Block.decode(b.encode(), 'k');
    assert.deepEqual(back.data, b.data);
    const bad = (mut: (d: Record<string, unknown>) => void) => {
      const d = JSON.parse(b.encode()) as Record<string, unknown>;
      mut(d);
      return () => Block.decode(JSON.stringify(d), 'k');
    };
    assert.throws(() => Block.decode('{', 'k'), { code: 'CORRUPT_DATA' });
    assert.throws(
      bad((d) => {
        d.allocations = [0];
      }),
      { code: 'CORRUPT_DATA' },
    );
    assert.throws(
      bad((d) => {
        (d.allocations as unknown[])[5] = 7;
      }),
      { code: 'CORRUPT_DATA' },
    );
    assert.throws(
      bad((d) => {
        (d.unallocated as number[]).push(0);
      }),
      { code: 'CORRUPT_DATA' },
      'an allocated ordinal in the free queue',
    );
  });

  test('decode requeues ordinals that are neither allocated nor queued', () => {
    const b = Block.create(v4);
    const d = JSON.parse(b.encode()) as { unallocated: number[] };
    d.unallocated = d.unallocated.filter((o) => o !== 7);
    const back = Block.decode(JSON.stringify(d), 'k');
    assert.equal(back.freeCount(), 64);
  });

  test('property: any interleaving keeps the queue and allocations a partition, in FIFO order', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('alloc' as const),
        n: fc.integer({ min: 0, max: 10 }),
        h: fc.integer({ min: 0, max: 4 }),
      }),
      fc.record({ kind: fc.constant('release' as const), o: fc.integer({ min: 0, max: 15 }) }),
      fc.record({ kind: fc.constant('releaseHandle' as const), h: fc.integer({ min: 0, max: 4 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const b = Block.create(parseCidr('10.0.0.0/28'));
        // Model: a FIFO queue and a map ordinal → handle.
        let queue = [...Array(16).keys()];
        const owner = new Map<number, string>();
        for (const o of ops) {
          if (o.kind === 'alloc') {
            const got = b.allocate(o.n, `h${o.h}`, undefined).map((a) => a.ordinal);
            const expect = queue.slice(0, o.n);
            queue = queue.slice(expect.length);
            assert.deepEqual(got, expect);
            for (const g of got) owner.set(g, `h${o.h}`);
          } else if (o.kind === 'release') {
            const [r] = b.release([{ ordinal: o.o }]);
            assert.equal(r, owner.has(o.o) ? 'released' : 'not-allocated');
            if (owner.delete(o.o)) queue.push(o.o);
          } else {
            const freed = b.releaseHandle(`h${o.h}`);
            const expect = [...owner]
              .filter(([, h]) => h === `h${o.h}`)
              .map(([k]) => k)
              .sort((x, y) => x - y);
            assert.deepEqual(freed, expect);
            for (const f of freed) {
              owner.delete(f);
              queue.push(f);
            }
          }
          assert.deepEqual(b.data.unallocated, queue);
          for (let i = 0; i < 16; i++) assert.equal(b.handleOf(i), owner.get(i));
          assert.equal(b.inUse() + b.freeCount(), 16);
          const back = Block.decode(b.encode(), 'k');
          assert.deepEqual(back.data, b.data);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('reservedOrdinals', () => {
  test('clips reservations to the block for both families', () => {
    const r = [parseCidr('10.244.1.0/30'), parseCidr('10.244.0.0/16'), parseCidr('fd00:10::/126')];
    assert.equal(
      reservedOrdinals(v4, r).size,
      64,
      'a reservation covering the block covers it all',
    );
    assert.deepEqual([...reservedOrdinals(v4, [parseCidr('10.244.1.60/30')])], [60, 61, 62, 63]);
    assert.deepEqual([...reservedOrdinals(v6, r)], [0, 1, 2, 3]);
    assert.equal(reservedOrdinals(v4, [parseCidr('10.244.2.0/24')]).size, 0);
  });
});
