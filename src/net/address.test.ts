import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  compareIp,
  formatIp,
  formatIpv4,
  IpParseError,
  ipv4FromNumber,
  ipv4ToNumber,
  isValidIp,
  makeIp,
  parseIp,
  parseIpv4,
  scanIpv4,
  tryParseIp,
} from './index.js';

describe('parseIp accepts', () => {
  const cases: [string, 4 | 6, bigint, string][] = [
    ['0.0.0.0', 4, 0n, '0.0.0.0'],
    ['255.255.255.255', 4, 0xffffffffn, '255.255.255.255'],
    ['10.1.2.3', 4, 0x0a010203n, '10.1.2.3'],
    ['192.168.0.10', 4, 0xc0a8000an, '192.168.0.10'],
    ['::', 6, 0n, '::'],
    ['::1', 6, 1n, '::1'],
    ['1::', 6, 1n << 112n, '1::'],
    ['2001:db8::1', 6, (0x20010db8n << 96n) | 1n, '2001:db8::1'],
    ['2001:DB8::1', 6, (0x20010db8n << 96n) | 1n, '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', 6, (0x20010db8n << 96n) | 1n, '2001:db8::1'],
    ['fe80::1:2', 6, (0xfe80n << 112n) | 0x10002n, 'fe80::1:2'],
    ['::ffff:1.2.3.4', 6, (0xffffn << 32n) | 0x01020304n, '::ffff:1.2.3.4'],
    ['::ffff:0102:0304', 6, (0xffffn << 32n) | 0x01020304n, '::ffff:1.2.3.4'],
    ['::1.2.3.4', 6, 0x01020304n, '::102:304'],
    ['1:2:3:4:5:6:1.2.3.4', 6, 0x0001000200030004000500060102_0304n, '1:2:3:4:5:6:102:304'],
    ['1:2:3:4:5:6:7:8', 6, 0x00010002000300040005000600070008n, '1:2:3:4:5:6:7:8'],
    ['1:2:3:4:5:6:7::', 6, 0x00010002000300040005000600070000n, '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8', 6, 0x00000002000300040005000600070008n, '0:2:3:4:5:6:7:8'],
    ['1:0:0:2:0:0:0:3', 6, 0x00010000000000020000000000000003n, '1:0:0:2::3'],
    ['1:0:0:2:0:0:3:4', 6, 0x00010000000000020000000000030004n, '1::2:0:0:3:4'],
    ['1:0:2:0:3:0:4:0', 6, 0x00010000000200000003000000040000n, '1:0:2:0:3:0:4:0'],
  ];
  for (const [text, family, value, canonical] of cases) {
    test(text, () => {
      const ip = parseIp(text);
      assert.equal(ip.family, family);
      assert.equal(ip.value, value);
      assert.equal(formatIp(ip), canonical);
      assert.ok(isValidIp(text));
      assert.deepEqual(parseIp(canonical), ip);
    });
  }
});

describe('parseIp rejects', () => {
  // [input, fragment of the message, column]
  const cases: [string, string, number | undefined][] = [
    ['', 'empty address', 1],
    ['010.1.1.1', 'leading zero', 1],
    ['1.02.3.4', 'leading zero', 3],
    ['00.0.0.0', 'leading zero', 1],
    ['1', 'found 1', 1],
    ['1.2', 'found 2', 3],
    ['1.2.3', 'found 3', 5],
    ['1.2.3.', 'missing octet', 6],
    ['.1.2.3', 'empty octet', 1],
    ['1..2.3', 'empty octet', 3],
    ['1.2.3.4.5', 'more than 4 octets', 8],
    ['1.2.3.256', 'greater than 255', 7],
    ['1.2.3.1000', 'greater than 255', 7],
    ['0x1f.1.1.1', 'hexadecimal', 1],
    ['1.0X1.1.1', 'hexadecimal', 3],
    ['1e2.1.1.1', 'unexpected character "e"', 2],
    [' 10.1.2.3', 'whitespace', 1],
    ['10.1.2.3 ', 'whitespace', 9],
    ['10.1.2.3\n', 'whitespace', 9],
    ['10. 1.2.3', 'whitespace', 4],
    ['-1.2.3.4', 'unexpected character "-"', 1],
    ['+1.2.3.4', 'unexpected character "+"', 1],
    ['10.0.0.0/8', 'CIDR is not a single address', 9],
    ['a.b.c.d', 'unexpected character "a"', 1],
    ['localhost', 'unexpected character "l"', 1],
    ['1::2::3', '"::" may appear only once', 5],
    ['::1::', '"::" may appear only once', 4],
    [':::', 'unexpected character ":"', 3],
    ['12345::', 'more than 4 hex digits', 1],
    ['1:00000::', 'more than 4 hex digits', 3],
    ['1:2:3:4:5:6:7:8:9', 'more than 8 groups', 17],
    ['1:2:3:4:5:6:7', 'expected 8 groups, found 7', 13],
    ['1:2:3:4:5:6:7:8::', '"::" must stand for at least one group', undefined],
    ['::1:2:3:4:5:6:7:8', '"::" must stand for at least one group', undefined],
    [':1::', 'single ":" cannot start', 1],
    [':', 'single ":" cannot start', 1],
    ['1::2:', 'cannot end with a single ":"', 5],
    ['1:', 'cannot end with a single ":"', 2],
    ['fe80::1%eth0', 'zone identifier', 8],
    ['fe80::1%1', 'zone identifier', 8],
    ['[::1]', 'unexpected character "["', 1],
    ['g::1', 'unexpected character "g"', 1],
    [' ::1', 'whitespace', 1],
    ['::1 ', 'whitespace', 4],
    ['::ffff:1.2.3', 'embedded IPv4', 12],
    ['::ffff:01.2.3.4', 'embedded IPv4', 8],
    ['::ffff:1.2.3.4:5', 'embedded IPv4', 15],
    ['::1.2.3.4::', 'embedded IPv4', 10],
    ['1:2:3:4:5:6:7:1.2.3.4', 'follows too many groups', 15],
    ['::ffff:a.2.3.4', 'embedded IPv4', 8],
    ['１.2.3.4', 'unexpected character', 1],
  ];
  for (const [text, fragment, column] of cases) {
    test(JSON.stringify(text), () => {
      assert.equal(isValidIp(text), false);
      assert.equal(tryParseIp(text), undefined);
      assert.throws(
        () => parseIp(text),
        (e: unknown) => {
          assert.ok(e instanceof IpParseError);
          assert.ok(e instanceof SyntaxError);
          assert.equal(e.code, 'INVALID_IP');
          assert.equal(e.input, text);
          assert.ok(
            e.message.startsWith(`Cannot parse IP address ${JSON.stringify(text)}: `),
            e.message,
          );
          assert.ok(e.message.includes(fragment), `${e.message} should mention ${fragment}`);
          if (column !== undefined) assert.equal(e.column, column, e.message);
          return true;
        },
      );
    });
  }
  test('non-strings', () => {
    assert.throws(() => parseIp(42 as unknown as string), TypeError);
    assert.equal(isValidIp(null as unknown as string), false);
  });
});

describe('v4 number form', () => {
  test('round trips', () => {
    assert.equal(parseIpv4('10.1.2.3'), 0x0a010203);
    assert.equal(parseIpv4('255.255.255.255'), 0xffffffff);
    assert.equal(formatIpv4(0xffffffff), '255.255.255.255');
    assert.equal(ipv4ToNumber(ipv4FromNumber(0xc0a80001)), 0xc0a80001);
  });
  test('rejects IPv6 and bad text', () => {
    assert.throws(() => parseIpv4('::1'), /it is an IPv6 address/);
    assert.throws(() => parseIpv4('010.0.0.1'), { code: 'INVALID_IP' });
    assert.throws(() => ipv4FromNumber(2 ** 32), RangeError);
    assert.throws(() => ipv4FromNumber(-1), RangeError);
    assert.throws(() => ipv4ToNumber(parseIp('::1')), TypeError);
  });
});

test('makeIp checks the range', () => {
  assert.deepEqual(makeIp(4, 1), { family: 4, value: 1n });
  assert.throws(() => makeIp(4, 1n << 32n), RangeError);
  assert.throws(() => makeIp(6, -1n), RangeError);
  assert.throws(() => makeIp(5 as 4, 0n), RangeError);
});

test('compareIp orders v4 before v6, then by value', () => {
  const sorted = ['::', '10.0.0.2', '::1', '10.0.0.1', '0.0.0.0']
    .map(parseIp)
    .sort(compareIp)
    .map(formatIp);
  assert.deepEqual(sorted, ['0.0.0.0', '10.0.0.1', '10.0.0.2', '::', '::1']);
});

test('huge input gives a short message but keeps the full input', () => {
  const text = '1'.repeat(100_000);
  assert.throws(
    () => parseIp(text),
    (e: unknown) => {
      assert.ok(e instanceof IpParseError);
      assert.equal(e.input, text);
      assert.ok(e.message.length < 300, e.message);
      assert.match(e.message, /greater than 255/);
      return true;
    },
  );
  assert.equal(isValidIp(`${'1:'.repeat(50_000)}1`), false);
});

test('scanIpv4 accepts exactly what parseIpv4 accepts, with the same value, inside any span', () => {
  const octet = fc.oneof(
    fc.integer({ min: 0, max: 300 }).map(String),
    fc.constantFrom('00', '01', '0x1', '', ' 1'),
  );
  const text = fc.oneof(
    fc.ipV4().map(String),
    fc.tuple(octet, octet, octet, octet).map((o) => o.join('.')),
    fc.string({ maxLength: 18 }),
  );
  fc.assert(
    fc.property(text, fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), (t, pre, post) => {
      let expected = -1;
      try {
        expected = parseIpv4(t);
      } catch {
        // rejected
      }
      const got = scanIpv4(pre + t + post, pre.length, pre.length + t.length);
      assert.equal(got, expected, t);
      if (got >= 0) assert.equal(formatIpv4(got), t);
    }),
    { numRuns: 3000 },
  );
});
