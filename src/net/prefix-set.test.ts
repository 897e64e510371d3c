import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  type Cidr,
  CidrMatcher,
  cidrContains,
  cidrContainsIp,
  cidrOverlaps,
  compareCidr,
  compileCidrMatcher,
  formatCidr,
  formatIp,
  type IpAddress,
  maskOf,
  minimalCidrs,
  PrefixSet,
  parseCidr,
  parseIp,
  rangeToCidrs,
} from './index.js';

const c = (s: string) => parseCidr(s);
const ip = (s: string) => parseIp(s);

describe('PrefixSet', () => {
  test('add, has, remove, size', () => {
    const set = new PrefixSet();
    assert.equal(set.add(c('10.0.0.0/8')), true);
    assert.equal(set.add(c('10.0.0.0/8')), false);
    assert.equal(set.add(c('fd00::/8')), true);
    assert.equal(set.size, 2);
    assert.ok(set.has(c('10.0.0.0/8')));
    assert.ok(!set.has(c('10.0.0.0/9')));
    assert.equal(set.remove(c('10.0.0.0/9')), false);
    assert.equal(set.remove(c('10.0.0.0/8')), true);
    assert.equal(set.size, 1);
    assert.ok(!set.containsIp(ip('10.1.1.1')));
    set.clear();
    assert.equal(set.size, 0);
    assert.equal(set.lookup(ip('fd00::1')), undefined);
  });

  test('rejects a CIDR with host bits', () => {
    assert.throws(
      () => new PrefixSet().add({ family: 4, address: 1n, prefixLength: 8 }),
      /host bits/,
    );
  });

  test('longest-prefix match', () => {
    const set = new PrefixSet(
      [
        '0.0.0.0/0',
        '10.0.0.0/8',
        '10.1.0.0/16',
        '10.1.2.0/24',
        '10.1.2.3/32',
        '::/0',
        'fd00::/64',
      ].map(c),
    );
    const lpm = (s: string) => {
      const hit = set.lookup(ip(s));
      return hit ? formatCidr(hit) : undefined;
    };
    assert.equal(lpm('10.1.2.3'), '10.1.2.3/32');
    assert.equal(lpm('10.1.2.4'), '10.1.2.0/24');
    assert.equal(lpm('10.1.3.4'), '10.1.0.0/16');
    assert.equal(lpm('10.2.3.4'), '10.0.0.0/8');
    assert.equal(lpm('11.0.0.1'), '0.0.0.0/0');
    assert.equal(lpm('fd00::9'), 'fd00::/64');
    assert.equal(lpm('fd01::9'), '::/0');
    set.remove(c('0.0.0.0/0'));
    assert.equal(lpm('11.0.0.1'), undefined);
    assert.equal(formatCidr(set.lookupCidr(c('10.1.2.0/25'))!), '10.1.2.0/24');
    assert.ok(set.covers(c('10.9.0.0/16')));
    assert.ok(!set.covers(c('10.0.0.0/7')));
  });

  test('iterates sorted: v4 first, by address, shorter first', () => {
    const set = new PrefixSet(
      ['fd00::/8', '10.0.0.0/16', '::/0', '10.0.0.0/8', '9.9.9.9/32'].map(c),
    );
    assert.deepEqual([...set].map(formatCidr), [
      '9.9.9.9/32',
      '10.0.0.0/8',
      '10.0.0.0/16',
      '::/0',
      'fd00::/8',
    ]);
    set.add(c('1.0.0.0/8'));
    assert.equal(formatCidr([...set][0]!), '1.0.0.0/8');
  });

  test('toMinimalCidrs merges siblings and drops covered prefixes', () => {
    const set = new PrefixSet(
      [
        '10.0.0.0/25',
        '10.0.0.128/25',
        '10.0.1.0/24',
        '10.0.1.7/32',
        '192.168.0.1/32',
        '192.168.0.2/32',
        'fd00::/65',
        'fd00:0:0:0:8000::/65',
      ].map(c),
    );
    assert.deepEqual(set.toMinimalCidrs().map(formatCidr), [
      '10.0.0.0/23',
      '192.168.0.1/32',
      '192.168.0.2/32',
      'fd00::/64',
    ]);
  });

  test('rangeToCidrs splits an unaligned range optimally', () => {
    const cidrs = rangeToCidrs({ family: 4, first: 0x0a000001n, last: 0x0a000006n });
    assert.deepEqual(cidrs.map(formatCidr), [
      '10.0.0.1/32',
      '10.0.0.2/31',
      '10.0.0.4/31',
      '10.0.0.6/32',
    ]);
    assert.deepEqual(
      rangeToCidrs({ family: 6, first: 0n, last: (1n << 128n) - 1n }).map(formatCidr),
      ['::/0'],
    );
    assert.throws(() => rangeToCidrs({ family: 4, first: 2n, last: 1n }), RangeError);
  });
});

// Small universes make exhaustive checking possible: CIDRs inside 10.0.0.0/24 and
// inside fd00::/120, so every address can be probed.
const V4_BASE = 0x0a000000n;
const V6_BASE = 0xfd00n << 112n;
const arbSmallCidr: fc.Arbitrary<Cidr> = fc
  .tuple(fc.boolean(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 8 }))
  .map(([v6, offset, hostBits]) => {
    const family = v6 ? 6 : 4;
    const bits = v6 ? 128 : 32;
    const len = bits - hostBits;
    const address = ((v6 ? V6_BASE : V4_BASE) + BigInt(offset)) & maskOf(family, len);
    return { family, address, prefixLength: len };
  });
const allProbes: IpAddress[] = [];
for (let i = 0n; i < 256n; i++) {
  allProbes.push({ family: 4, value: V4_BASE + i }, { family: 6, value: V6_BASE + i });
}
allProbes.push(ip('10.0.1.0'), ip('9.255.255.255'), ip('fd00::100'), ip('::'));

function naiveLookup(cidrs: Cidr[], probe: IpAddress): Cidr | undefined {
  let best: Cidr | undefined;
  for (const x of cidrs) {
    if (cidrContainsIp(x, probe) && (!best || x.prefixLength > best.prefixLength)) best = x;
  }
  return best;
}

describe('PrefixSet against a naive model', () => {
  test('lookup, membership and minimal form after random adds and removes', () => {
    const arbOps = fc.array(fc.tuple(fc.boolean(), arbSmallCidr), { maxLength: 40 });
    fc.assert(
      fc.property(arbOps, (ops) => {
        const set = new PrefixSet();
        let model: Cidr[] = [];
        for (const [add, cidr] of ops) {
          const present = model.some((m) => compareCidr(m, cidr) === 0);
          if (add) {
            assert.equal(set.add(cidr), !present);
            if (!present) model.push(cidr);
          } else {
            assert.equal(set.remove(cidr), present);
            model = model.filter((m) => compareCidr(m, cidr) !== 0);
          }
        }
        assert.equal(set.size, model.length);
        assert.deepEqual([...set], [...model].sort(compareCidr));
        const minimal = set.toMinimalCidrs();
        const matcher = compileCidrMatcher(model);
        for (const probe of allProbes) {
          const expected = naiveLookup(model, probe);
          assert.deepEqual(set.lookup(probe), expected, formatIp(probe));
          const inAny = expected !== undefined;
          assert.equal(
            minimal.some((m) => cidrContainsIp(m, probe)),
            inAny,
            formatIp(probe),
          );
          assert.equal(matcher.matches(probe), inAny, formatIp(probe));
        }
        // minimal: sorted, disjoint, and no two neighbours could merge into their parent
        for (let i = 1; i < minimal.length; i++) {
          const a = minimal[i - 1]!;
          const b = minimal[i]!;
          assert.ok(compareCidr(a, b) < 0);
          assert.ok(!cidrOverlaps(a, b));
          if (a.family === b.family && a.prefixLength === b.prefixLength && a.prefixLength > 0) {
            const parent = {
              family: a.family,
              address: a.address & maskOf(a.family, a.prefixLength - 1),
              prefixLength: a.prefixLength - 1,
            };
            assert.ok(!(cidrContains(parent, a) && cidrContains(parent, b)), 'mergeable siblings');
          }
        }
        assert.deepEqual(minimalCidrs(minimal), minimal, 'minimal form is a fixed point');
      }),
      { numRuns: 500 },
    );
  });
});

test('PrefixSet lookup over the whole IPv4 space, high addresses included', () => {
  const arbV4Cidr = fc
    .tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }))
    .map(
      ([n, len]): Cidr => ({ family: 4, address: BigInt(n) & maskOf(4, len), prefixLength: len }),
    );
  fc.assert(
    fc.property(
      fc.array(arbV4Cidr, { maxLength: 30 }),
      fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 20 }),
      (cidrs, probes) => {
        const set = new PrefixSet(cidrs);
        const edges = cidrs.flatMap((x) => [
          x.address,
          x.address + (1n << BigInt(32 - x.prefixLength)) - 1n,
        ]);
        for (const v of [...probes.map(BigInt), ...edges]) {
          const probe: IpAddress = { family: 4, value: v };
          const expected = naiveLookup(cidrs, probe);
          assert.deepEqual(set.lookup(probe), expected);
          assert.deepEqual(set.lookupV4(Number(v)), expected);
        }
      },
    ),
    { numRuns: 500 },
  );
  const set = new PrefixSet([c('255.255.255.255/32'), c('128.0.0.0/1')]);
  assert.equal(formatCidr(set.lookupV4(0xffffffff)!), '255.255.255.255/32');
  assert.equal(formatCidr(set.lookupV4(0x80000000)!), '128.0.0.0/1');
  assert.equal(set.lookupV4(0x7fffffff), undefined);
  assert.ok(set.covers(c('192.168.0.0/16')));
});

describe('CidrMatcher', () => {
  test('matches v4 numbers and v6 bigints', () => {
    const m = new CidrMatcher(['10.0.0.0/8', '192.168.1.0/24', 'fd00::/8', '172.16.0.5/32'].map(c));
    assert.ok(m.hasV4 && m.hasV6);
    assert.ok(m.matchesV4(0x0a000001));
    assert.ok(m.matchesV4(0x0affffff));
    assert.ok(!m.matchesV4(0x0b000000));
    assert.ok(m.matchesV4(0xac100005));
    assert.ok(!m.matchesV4(0xac100006));
    assert.ok(!m.matchesV4(0));
    assert.ok(m.matches(ip('192.168.1.255')));
    assert.ok(!m.matches(ip('192.168.2.0')));
    assert.ok(m.matchesV6(ip('fd12::1').value));
    assert.ok(!m.matches(ip('fe00::1')));
  });
  test('empty and whole-space matchers', () => {
    const none = compileCidrMatcher([]);
    assert.ok(!none.hasV4 && !none.hasV6);
    assert.ok(!none.matches(ip('1.2.3.4')));
    assert.ok(!none.matches(ip('::')));
    const all = compileCidrMatcher([c('0.0.0.0/0'), c('::/0')]);
    assert.ok(all.matchesV4(0) && all.matchesV4(0xffffffff));
    assert.ok(all.matchesV6((1n << 128n) - 1n));
  });
  test('agrees with a linear scan on random v4 lists', () => {
    const arbV4Cidr = fc
      .tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }))
      .map(
        ([n, len]): Cidr => ({ family: 4, address: BigInt(n) & maskOf(4, len), prefixLength: len }),
      );
    fc.assert(
      fc.property(
        fc.array(arbV4Cidr, { maxLength: 30 }),
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 30 }),
        (cidrs, probes) => {
          const m = compileCidrMatcher(cidrs);
          // probe the edges of every CIDR as well as random points
          const edges = cidrs.flatMap((x) => {
            const size = 1n << BigInt(32 - x.prefixLength);
            return [x.address - 1n, x.address, x.address + size - 1n, x.address + size];
          });
          const all = [...probes.map(BigInt), ...edges].filter((v) => v >= 0n && v <= 0xffffffffn);
          for (const v of all) {
            const expected = cidrs.some((x) => cidrContainsIp(x, { family: 4, value: v }));
            assert.equal(m.matchesV4(Number(v)), expected);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
