// The packed member table against a plain counted-Map model: random adds and
// removes over a small key space (many collisions, repeated members, runs of
// deletes that exercise the backward shift), growth and shrinking included; and the
// text form of packed members, which must round-trip exactly or not pack at all.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { IpSetData } from './ip-set.js';
import {
  formatMember,
  MemberFormatter,
  PackedMembers,
  packMember,
  parseV4Host,
  portTag,
} from './packed-members.js';

type Op = { add: boolean; ip: number; tag: number };

// Addresses from a few blocks and a few tags: members repeat and probe runs collide.
const arbIp = fc.oneof(
  fc.integer({ min: 0, max: 40 }).map((i) => (10 << 24) + i),
  fc.integer({ min: 0, max: 40 }).map((i) => 0xc0a80000 + i * 256),
  fc.constantFrom(0, 0xffffffff, 0x80000000),
);
const arbTag = fc.constantFrom(0, portTag(6, 80), portTag(17, 53), portTag(132, 65535));
const arbOp: fc.Arbitrary<Op> = fc.record({
  add: fc.boolean(),
  ip: arbIp,
  tag: arbTag,
});

function check(t: PackedMembers, model: Map<string, number>): void {
  assert.equal(t.size, model.size);
  for (const [k, n] of model) {
    const [ip, tag] = k.split('/').map(Number) as [number, number];
    assert.equal(t.count(ip, tag), n, k);
  }
  const seen: string[] = [];
  t.forEach((ip, tag) => {
    seen.push(`${ip}/${tag}`);
  });
  assert.deepEqual(seen.sort(), [...model.keys()].sort());
}

test('PackedMembers: counts, adds and removes agree with a Map model', () => {
  fc.assert(
    fc.property(fc.array(arbOp, { maxLength: 600 }), (ops) => {
      const t = new PackedMembers();
      const model = new Map<string, number>();
      for (const { add, ip, tag } of ops) {
        const k = `${ip}/${tag}`;
        const n = model.get(k) ?? 0;
        if (add) {
          assert.equal(t.add(ip, tag), n === 0);
          model.set(k, n + 1);
        } else {
          assert.equal(t.remove(ip, tag), n === 1);
          if (n > 1) model.set(k, n - 1);
          else model.delete(k);
        }
      }
      check(t, model);
    }),
    { numRuns: 500 },
  );
});

test('PackedMembers: grows past thousands of members and shrinks when they go', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer(), (n, seed) => {
      const t = new PackedMembers();
      const model = new Map<string, number>();
      const ips: number[] = [];
      for (let i = 0; i < n; i++) {
        const ip = (Math.imul(i + seed, 2654435761) >>> 0) % 100_000;
        ips.push(ip);
        t.add(ip, 0);
        model.set(`${ip}/0`, (model.get(`${ip}/0`) ?? 0) + 1);
      }
      check(t, model);
      assert.ok(t.size * 4 <= t.capacity * 3);
      // Remove all but a few, in another order than they came (7919 is a prime above
      // n, so the stride visits every index once).
      for (let r = 0; r < n - 5; r++) {
        const ip = ips[(r * 7919) % n]!;
        t.remove(ip, 0);
        const k = `${ip}/0`;
        const c = model.get(k)!;
        if (c > 1) model.set(k, c - 1);
        else model.delete(k);
      }
      check(t, model);
      assert.ok(t.capacity <= Math.max(8, t.size * 8 * 2), `${t.capacity} for ${t.size}`);
    }),
    { numRuns: 50 },
  );
});

test('MemberFormatter gives formatMember`s text', () => {
  const net = new MemberFormatter('net');
  const ipPort = new MemberFormatter('ip-port');
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), arbTag, (ip, tag) => {
      const f = tag === 0 ? net : ipPort;
      assert.equal(f.format(ip, tag), formatMember(tag === 0 ? 'net' : 'ip-port', ip, tag));
      assert.equal(f.format(ip ^ 1, tag), formatMember(tag === 0 ? 'net' : 'ip-port', ip ^ 1, tag));
    }),
  );
  assert.equal(net.format(0x0a000105, 0), '10.0.1.5/32');
  assert.equal(ipPort.format(0xc0a80001, portTag(6, 8080)), '192.168.0.1,tcp:8080');
});

test('packMember: exactly the text formatMember gives packs, and round-trips', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), arbTag, (ip, tag) => {
      const type = tag === 0 ? 'net' : 'ip-port';
      const text = formatMember(type, ip, tag);
      assert.deepEqual(packMember(type, text), [ip, tag]);
    }),
  );
  for (const m of [
    '010.0.0.1/32',
    '10.0.0.1/31',
    '10.0.0.1',
    '10.0.0.256/32',
    'fd00::1/128',
    '10.0.0.0/24',
    '1.2.3.4/32 ',
  ]) {
    assert.equal(packMember('net', m), undefined, m);
  }
  for (const m of [
    '10.0.0.1,tcp:080',
    '10.0.0.1,tcp:',
    '10.0.0.1,tcp:65536',
    '10.0.0.1,icmp:1',
    '10.0.0.1,TCP:80',
    'fd00::1,tcp:80',
    '10.0.0.1/32,tcp:80',
    '10.0.0.1,tcp:8.0',
  ]) {
    assert.equal(packMember('ip-port', m), undefined, m);
  }
  assert.equal(parseV4Host('255.255.255.255/32'), 0xffffffff);
  assert.equal(parseV4Host('0.0.0.0/32'), 0);
});

test('IpSetData: packed and text additions of one member meet, and deltas are exact', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          add: fc.boolean(),
          member: fc.constantFrom('10.0.0.1/32', '10.0.0.2/32', 'fd00::1/128', '10.1.0.0/16'),
          packed: fc.boolean(),
          flush: fc.boolean(),
        }),
        { maxLength: 200 },
      ),
      (ops) => {
        const data = new IpSetData('s:x', 'net', () => {});
        const counts = new Map<string, number>();
        let dataplane = new Set<string>();
        let emitted = false;
        for (const { add, member, packed, flush } of ops) {
          const p = packMember('net', member);
          const n = counts.get(member) ?? 0;
          if (!add && n === 0) continue;
          if (p !== undefined && packed) {
            if (add) data.incPacked(p[0], p[1]);
            else data.decPacked(p[0], p[1]);
          } else if (add) data.inc(member);
          else data.dec(member);
          counts.set(member, n + (add ? 1 : -1));
          if (flush) {
            if (!emitted) {
              emitted = true;
              data.emitted = true;
              dataplane = new Set(data.members());
            } else {
              for (const m of data.removed) dataplane.delete(m);
              for (const m of data.added) dataplane.add(m);
            }
            data.added.clear();
            data.removed.clear();
          }
        }
        const want = [...counts].filter(([, n]) => n > 0).map(([m]) => m);
        assert.deepEqual(data.members().sort(), [...want].sort());
        assert.equal(data.size, want.length);
        if (emitted) {
          for (const m of data.removed) dataplane.delete(m);
          for (const m of data.added) dataplane.add(m);
          assert.deepEqual([...dataplane].sort(), [...want].sort());
        }
      },
    ),
    { numRuns: 500 },
  );
});
