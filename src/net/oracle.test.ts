// Differential property tests: ipaddr.js (and node:net's validator) serve only as
// oracles here, restricted to the forms each of them reads the same way we do.
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import {
  type Cidr,
  cidrContains,
  cidrContainsIp,
  cidrLast,
  cidrOverlaps,
  cidrSize,
  formatCidr,
  formatIp,
  type IpAddress,
  ipOffset,
  isValidIp,
  maskOf,
  nthAddress,
  parseCidr,
  parseIp,
  tryParseIp,
} from './index.js';

const RUNS = { numRuns: 2000 };

function bytesToBigInt(bytes: number[]): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

function toOracle(ip: IpAddress): ipaddr.IPv4 | ipaddr.IPv6 {
  const len = ip.family === 4 ? 4 : 16;
  const bytes: number[] = [];
  for (let i = len - 1; i >= 0; i--) bytes.push(Number((ip.value >> BigInt(i * 8)) & 0xffn));
  return ipaddr.fromByteArray(bytes);
}

const arbV4: fc.Arbitrary<IpAddress> = fc
  .integer({ min: 0, max: 0xffffffff })
  .map((n) => ({ family: 4, value: BigInt(n) }));

// Zero groups are common in real IPv6 addresses and are where compression bugs live.
const arbGroup = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 0xf }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
);
const arbGroups = fc.array(arbGroup, { minLength: 8, maxLength: 8 });
const arbV6: fc.Arbitrary<IpAddress> = arbGroups.map((g) => ({
  family: 6,
  value: g.reduce((acc, x) => (acc << 16n) | BigInt(x), 0n),
}));
const arbIp = fc.oneof(arbV4, arbV6);

const arbCidr: fc.Arbitrary<Cidr> = arbIp.chain((ip) =>
  fc.integer({ min: 0, max: ip.family === 4 ? 32 : 128 }).map((len) => ({
    family: ip.family,
    address: ip.value & maskOf(ip.family, len),
    prefixLength: len,
  })),
);

function isV4Mapped(ip: IpAddress): boolean {
  return ip.family === 6 && ip.value >> 32n === 0xffffn;
}

describe('addresses against ipaddr.js', () => {
  test('IPv4 format/parse round trip and oracle agreement', () => {
    fc.assert(
      fc.property(arbV4, (ip) => {
        const text = formatIp(ip);
        assert.deepEqual(parseIp(text), ip);
        const o = ipaddr.parse(text);
        assert.equal(o.kind(), 'ipv4');
        assert.equal(o.toString(), text);
        assert.equal(bytesToBigInt(o.toByteArray()), ip.value);
      }),
      RUNS,
    );
  });

  test('IPv6 canonical text equals ipaddr.js RFC 5952 text (mixed notation aside)', () => {
    fc.assert(
      fc.property(arbV6, (ip) => {
        const text = formatIp(ip);
        assert.deepEqual(parseIp(text), ip);
        const o = toOracle(ip) as ipaddr.IPv6;
        if (isV4Mapped(ip)) {
          // we print ::ffff:a.b.c.d (RFC 5952 section 5); ipaddr.js prints hex groups
          assert.equal(bytesToBigInt(ipaddr.parse(text).toByteArray()), ip.value);
        } else {
          assert.equal(text, o.toRFC5952String());
        }
      }),
      RUNS,
    );
  });

  // Writes the same IPv6 address in one of its many legal spellings.
  const arbV6Spelling = fc
    .record({
      groups: arbGroups,
      pad: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
      upper: fc.boolean(),
      compress: fc.nat(),
      dotted: fc.boolean(),
    })
    .map(({ groups, pad, upper, compress, dotted }) => {
      let parts = groups.map((g, i) => (pad[i] ? g.toString(16).padStart(4, '0') : g.toString(16)));
      if (upper) parts = parts.map((p) => p.toUpperCase());
      const value = groups.reduce((acc, x) => (acc << 16n) | BigInt(x), 0n);
      let tailV4: string | undefined;
      if (dotted) {
        const low = Number(value & 0xffffffffn);
        tailV4 = `${low >>> 24}.${(low >>> 16) & 255}.${(low >>> 8) & 255}.${low & 255}`;
      }
      const slots = tailV4 ? parts.slice(0, 6) : parts;
      // candidate runs of zero groups that "::" may replace
      const runs: [number, number][] = [];
      for (let i = 0; i < slots.length; i++) {
        for (let j = i; j < slots.length && groups[j] === 0; j++) runs.push([i, j + 1]);
      }
      let text: string;
      if (runs.length > 0 && compress % 3 !== 0) {
        const [a, b] = runs[compress % runs.length]!;
        text = `${slots.slice(0, a).join(':')}::${slots.slice(b).join(':')}`;
        if (tailV4) text = text.endsWith('::') ? text + tailV4 : `${text}:${tailV4}`;
      } else {
        text = tailV4 ? `${slots.join(':')}:${tailV4}` : slots.join(':');
      }
      return { text, value };
    });

  test('every spelling of an IPv6 address parses to the same value as ipaddr.js', () => {
    fc.assert(
      fc.property(arbV6Spelling, ({ text, value }) => {
        const ip = parseIp(text);
        assert.equal(ip.family, 6, text);
        assert.equal(ip.value, value, text);
        assert.notEqual(isIP(text), 0, text);
        // ipaddr.js reads "::a.b.c.d" as IPv4-mapped rather than IPv4-compatible
        if (!/^::[0-9]+\./.test(text)) {
          assert.equal(bytesToBigInt(ipaddr.parse(text).toByteArray()), value, text);
        }
        assert.deepEqual(parseIp(formatIp(ip)), ip);
      }),
      RUNS,
    );
  });

  test('random text: we accept exactly what the strict validators accept', () => {
    const alphabet = fc.constantFrom(...'0123456789abcdefABx:.%/ '.split(''));
    const digitsAndDots = fc.constantFrom(...'0123456789.'.split(''));
    const arbText = fc.oneof(
      fc.string({ unit: alphabet, maxLength: 24 }),
      fc.string({ unit: digitsAndDots, maxLength: 16 }),
      fc.string({ unit: fc.constantFrom(...'0123456789abcdef:.'.split('')), maxLength: 40 }),
    );
    fc.assert(
      fc.property(arbText, (text) => {
        const ours = tryParseIp(text);
        const v4Oracle = ipaddr.IPv4.isValidFourPartDecimal(text);
        // node:net accepts zone ids; we do not
        const nodeFamily = text.includes('%') ? 0 : isIP(text);
        assert.equal(
          ours?.family ?? 0,
          nodeFamily,
          `node:net disagrees on ${JSON.stringify(text)}`,
        );
        if (!text.includes(':')) assert.equal(ours !== undefined, v4Oracle, text);
        if (ours) {
          assert.equal(
            bytesToBigInt(ipaddr.parse(text).toByteArray()) === ours.value ||
              /^::[0-9]+\./.test(text),
            true,
            text,
          );
        }
      }),
      { numRuns: 20000 },
    );
  });

  test('dotted quads with a leading zero are rejected, as node:net does', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }),
        fc.integer({ min: 0, max: 3 }),
        (octets, which) => {
          const parts = octets.map(String);
          parts[which] = `0${parts[which]}`;
          const text = parts.join('.');
          assert.equal(isValidIp(text), false);
          assert.equal(isIP(text), 0);
          // ipaddr.js reads these with inet_aton octal rules, a silent change of address
          if (/^[0-7.]+$/.test(text)) assert.equal(ipaddr.isValid(text), true);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('CIDRs against ipaddr.js', () => {
  test('parse/format round trip and network address', () => {
    fc.assert(
      fc.property(arbIp, fc.nat(128), (ip, rawLen) => {
        const len = rawLen % ((ip.family === 4 ? 32 : 128) + 1);
        const text = `${formatIp(ip)}/${len}`;
        const loose = parseCidr(text, { strict: false });
        const network =
          toOracle(ip).kind() === 'ipv4'
            ? ipaddr.IPv4.networkAddressFromCIDR(text)
            : ipaddr.IPv6.networkAddressFromCIDR(text);
        assert.equal(loose.address, bytesToBigInt(network.toByteArray()));
        assert.equal(loose.prefixLength, len);
        const canonical = formatCidr(loose);
        assert.deepEqual(parseCidr(canonical), loose);
        if (loose.address === ip.value) assert.deepEqual(parseCidr(text), loose);
        else assert.throws(() => parseCidr(text), { code: 'HOST_BITS_SET' });
      }),
      RUNS,
    );
  });

  test('masks agree with subnetMaskFromPrefixLength', () => {
    for (let len = 0; len <= 32; len++) {
      assert.equal(
        maskOf(4, len),
        bytesToBigInt(ipaddr.IPv4.subnetMaskFromPrefixLength(len).toByteArray()),
      );
    }
    for (let len = 0; len <= 128; len++) {
      assert.equal(
        maskOf(6, len),
        bytesToBigInt(ipaddr.IPv6.subnetMaskFromPrefixLength(len).toByteArray()),
      );
    }
  });

  test('containment of addresses agrees with match()', () => {
    fc.assert(
      fc.property(arbCidr, arbIp, fc.boolean(), (cidr, other, near) => {
        // half the probes land inside or right next to the CIDR so both answers occur
        const ip: IpAddress =
          near && other.family === cidr.family
            ? {
                family: cidr.family,
                value:
                  (cidr.address + (other.value % (cidrSize(cidr) + 1n))) %
                  (cidr.family === 4 ? 1n << 32n : 1n << 128n),
              }
            : other;
        const o = toOracle(ip);
        const net = toOracle({ family: cidr.family, value: cidr.address });
        const expected = o.kind() === net.kind() && o.match(net, cidr.prefixLength);
        assert.equal(cidrContainsIp(cidr, ip), expected);
      }),
      RUNS,
    );
  });

  test('nthAddress, ipOffset and the last address agree with the oracle', () => {
    fc.assert(
      fc.property(arbCidr, fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (cidr, raw) => {
        const size = cidrSize(cidr);
        const n = raw % size;
        const ip = nthAddress(cidr, n);
        const net = toOracle({ family: cidr.family, value: cidr.address });
        assert.ok(toOracle(ip).match(net, cidr.prefixLength));
        assert.equal(ipOffset(cidr, ip), n);
        const text = formatCidr(cidr);
        const broadcast =
          cidr.family === 4
            ? ipaddr.IPv4.broadcastAddressFromCIDR(text)
            : ipaddr.IPv6.broadcastAddressFromCIDR(text);
        assert.equal(cidrLast(cidr).value, bytesToBigInt(broadcast.toByteArray()));
        assert.deepEqual(nthAddress(cidr, size - 1n), cidrLast(cidr));
        assert.throws(() => nthAddress(cidr, size), RangeError);
      }),
      RUNS,
    );
  });

  test('CIDR containment and overlap agree with the oracle', () => {
    const related = arbCidr.chain((outer) =>
      fc
        .tuple(
          fc.integer({ min: outer.prefixLength, max: outer.family === 4 ? 32 : 128 }),
          fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
        )
        .map(([len, raw]) => {
          const inner: Cidr = {
            family: outer.family,
            address: (outer.address + (raw % cidrSize(outer))) & maskOf(outer.family, len),
            prefixLength: len,
          };
          return [outer, inner] as const;
        }),
    );
    fc.assert(
      fc.property(fc.oneof(related, fc.tuple(arbCidr, arbCidr)), fc.boolean(), ([a0, b0], swap) => {
        const [a, b] = swap ? [b0, a0] : [a0, b0];
        const oa = toOracle({ family: a.family, value: a.address });
        const ob = toOracle({ family: b.family, value: b.address });
        const sameKind = oa.kind() === ob.kind();
        const aHoldsB =
          sameKind && a.prefixLength <= b.prefixLength && ob.match(oa, a.prefixLength);
        const bHoldsA =
          sameKind && b.prefixLength <= a.prefixLength && oa.match(ob, b.prefixLength);
        assert.equal(cidrContains(a, b), aHoldsB);
        assert.equal(cidrContains(b, a), bHoldsA);
        assert.equal(cidrOverlaps(a, b), aHoldsB || bHoldsA);
        assert.equal(cidrOverlaps(b, a), aHoldsB || bHoldsA);
      }),
      RUNS,
    );
  });
});
