import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  assertCidr,
  blockContaining,
  blockCount,
  cidrContains,
  cidrContainsIp,
  cidrEquals,
  cidrFirst,
  cidrLast,
  cidrOverlaps,
  cidrSize,
  compareCidr,
  formatCidr,
  formatIp,
  hostCidr,
  hostMaskOf,
  IpParseError,
  type IpParseErrorCode,
  ipOffset,
  isLinkLocal,
  isValidCidr,
  makeCidr,
  maskOf,
  nthAddress,
  nthBlock,
  parseCidr,
  parseCidrOrIp,
  parseIp,
  splitIntoBlocks,
  tryParseCidr,
} from './index.js';

const c = (s: string) => parseCidr(s);
const ip = (s: string) => parseIp(s);

describe('parseCidr accepts', () => {
  const cases: [string, string][] = [
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['192.168.1.7/32', '192.168.1.7/32'],
    ['::/0', '::/0'],
    ['fd00:1234::/48', 'fd00:1234::/48'],
    ['FD00:1234:0000::/48', 'fd00:1234::/48'],
    ['2001:db8::1/128', '2001:db8::1/128'],
    ['::ffff:10.0.0.0/104', '::ffff:10.0.0.0/104'],
    ['fe80::/10', 'fe80::/10'],
  ];
  for (const [text, canonical] of cases) {
    test(text, () => {
      const cidr = parseCidr(text);
      assert.equal(formatCidr(cidr), canonical);
      assert.ok(isValidCidr(text));
      assert.deepEqual(parseCidr(canonical), cidr);
    });
  }
  test('strict:false masks host bits', () => {
    assert.equal(formatCidr(parseCidr('10.0.0.1/24', { strict: false })), '10.0.0.0/24');
    assert.equal(formatCidr(parseCidr('fd00::1/64', { strict: false })), 'fd00::/64');
    assert.ok(isValidCidr('10.0.0.1/24', { strict: false }));
  });
  test('parseCidrOrIp turns a bare address into a host CIDR', () => {
    assert.equal(formatCidr(parseCidrOrIp('10.1.2.3')), '10.1.2.3/32');
    assert.equal(formatCidr(parseCidrOrIp('fd00::5')), 'fd00::5/128');
    assert.equal(formatCidr(parseCidrOrIp('10.1.0.0/16')), '10.1.0.0/16');
    assert.throws(() => parseCidrOrIp('10.1.0.1/16'), { code: 'HOST_BITS_SET' });
    assert.throws(() => parseCidrOrIp('010.1.0.1'), { code: 'INVALID_CIDR' });
  });
});

describe('parseCidr rejects', () => {
  const cases: [string, IpParseErrorCode, string, number][] = [
    ['10.0.0.1/24', 'HOST_BITS_SET', 'host bits are set (did you mean 10.0.0.0/24?)', 1],
    ['fd00::1/64', 'HOST_BITS_SET', 'did you mean fd00::/64?', 1],
    ['10.0.0.0/33', 'PREFIX_OUT_OF_RANGE', 'out of range for IPv4 (0-32)', 10],
    ['10.0.0.0/100', 'PREFIX_OUT_OF_RANGE', 'out of range for IPv4 (0-32)', 10],
    ['10.0.0.0/1000000000000', 'PREFIX_OUT_OF_RANGE', 'out of range', 10],
    ['::/129', 'PREFIX_OUT_OF_RANGE', 'out of range for IPv6 (0-128)', 4],
    ['10.0.0.0/-1', 'INVALID_CIDR', 'found "-" at column 10', 10],
    ['10.0.0.0/+8', 'INVALID_CIDR', 'found "+" at column 10', 10],
    ['10.0.0.0/024', 'INVALID_CIDR', 'leading zero', 10],
    ['10.0.0.0/00', 'INVALID_CIDR', 'leading zero', 10],
    ['10.0.0.0/', 'INVALID_CIDR', 'missing prefix length', 9],
    ['10.0.0.0', 'INVALID_CIDR', 'missing "/<prefix length>"', 9],
    ['/24', 'INVALID_CIDR', 'missing address', 1],
    ['10.0.0.0/24/1', 'INVALID_CIDR', 'a second "/" at column 12', 12],
    ['10.0.0.0/2x', 'INVALID_CIDR', 'found "x" at column 11', 11],
    ['10.0.0.0/ 24', 'INVALID_CIDR', 'whitespace at column 10', 10],
    ['10.0.0.0/24 ', 'INVALID_CIDR', 'whitespace at column 12', 12],
    [' 10.0.0.0/24', 'INVALID_CIDR', 'whitespace at column 1', 1],
    ['010.0.0.0/8', 'INVALID_CIDR', 'leading zero', 1],
    ['10.0.0/24', 'INVALID_CIDR', 'found 3', 6],
    ['10/8', 'INVALID_CIDR', 'found 1', 2],
    ['1::2::/64', 'INVALID_CIDR', '"::" may appear only once', 5],
    ['fe80::%eth0/64', 'INVALID_CIDR', 'zone identifier', 7],
    ['', 'INVALID_CIDR', 'empty address', 1],
    ['garbage', 'INVALID_CIDR', 'unexpected character "g"', 1],
    ['/', 'INVALID_CIDR', 'missing address', 1],
  ];
  for (const [text, code, fragment, column] of cases) {
    test(JSON.stringify(text), () => {
      assert.equal(isValidCidr(text), false);
      assert.equal(tryParseCidr(text), undefined);
      assert.throws(
        () => parseCidr(text),
        (e: unknown) => {
          assert.ok(e instanceof IpParseError);
          assert.equal(e.code, code, e.message);
          assert.equal(e.input, text);
          assert.ok(e.message.startsWith(`Cannot parse CIDR ${JSON.stringify(text)}: `), e.message);
          assert.ok(e.message.includes(fragment), `${e.message} should mention ${fragment}`);
          assert.equal(e.column, column, e.message);
          return true;
        },
      );
    });
  }
  test('the exact host-bits message', () => {
    assert.throws(() => parseCidr('10.0.0.1/24'), {
      message: 'Cannot parse CIDR "10.0.0.1/24": host bits are set (did you mean 10.0.0.0/24?)',
    });
  });
  test('non-strings', () => {
    assert.throws(() => parseCidr(undefined as unknown as string), TypeError);
    assert.equal(isValidCidr(7 as unknown as string), false);
  });
});

describe('masks', () => {
  test('maskOf and hostMaskOf', () => {
    assert.equal(maskOf(4, 0), 0n);
    assert.equal(maskOf(4, 24), 0xffffff00n);
    assert.equal(maskOf(4, 32), 0xffffffffn);
    assert.equal(maskOf(6, 64), ((1n << 64n) - 1n) << 64n);
    assert.equal(hostMaskOf(4, 26), 63n);
    assert.equal(hostMaskOf(6, 122), 63n);
    assert.throws(() => maskOf(4, 33), RangeError);
    assert.throws(() => maskOf(6, -1), RangeError);
    assert.throws(() => maskOf(6, 1.5), RangeError);
  });
});

describe('containment and overlap', () => {
  test('cidrContainsIp', () => {
    assert.ok(cidrContainsIp(c('10.0.0.0/8'), ip('10.255.1.2')));
    assert.ok(!cidrContainsIp(c('10.0.0.0/8'), ip('11.0.0.0')));
    assert.ok(cidrContainsIp(c('0.0.0.0/0'), ip('1.2.3.4')));
    assert.ok(!cidrContainsIp(c('0.0.0.0/0'), ip('::1')), 'families never mix');
    assert.ok(!cidrContainsIp(c('::/0'), ip('1.2.3.4')));
    assert.ok(cidrContainsIp(c('fd00::/8'), ip('fdff::1')));
  });
  test('cidrContains and cidrOverlaps', () => {
    assert.ok(cidrContains(c('10.0.0.0/8'), c('10.1.0.0/16')));
    assert.ok(cidrContains(c('10.0.0.0/8'), c('10.0.0.0/8')));
    assert.ok(!cidrContains(c('10.1.0.0/16'), c('10.0.0.0/8')));
    assert.ok(cidrOverlaps(c('10.1.0.0/16'), c('10.0.0.0/8')));
    assert.ok(!cidrOverlaps(c('10.1.0.0/16'), c('10.2.0.0/16')));
    assert.ok(!cidrOverlaps(c('0.0.0.0/0'), c('::/0')));
    assert.ok(cidrEquals(c('10.0.0.0/8'), parseCidr('10.1.2.3/8', { strict: false })));
  });
  test('compareCidr sorts v4 first, by address, shorter first', () => {
    const sorted = ['::/0', '10.0.0.0/16', '10.0.0.0/8', '9.0.0.0/8', 'fd00::/8']
      .map(c)
      .sort(compareCidr)
      .map(formatCidr);
    assert.deepEqual(sorted, ['9.0.0.0/8', '10.0.0.0/8', '10.0.0.0/16', '::/0', 'fd00::/8']);
  });
});

describe('address arithmetic', () => {
  test('size, first, last, nth, offset', () => {
    assert.equal(cidrSize(c('10.0.0.0/26')), 64n);
    assert.equal(cidrSize(c('0.0.0.0/0')), 1n << 32n);
    assert.equal(cidrSize(c('::/0')), 1n << 128n);
    assert.equal(formatIp(cidrFirst(c('10.0.0.64/26'))), '10.0.0.64');
    assert.equal(formatIp(cidrLast(c('10.0.0.64/26'))), '10.0.0.127');
    assert.equal(formatIp(cidrLast(c('fd00::/120'))), 'fd00::ff');
    assert.equal(formatIp(nthAddress(c('10.0.0.64/26'), 5)), '10.0.0.69');
    assert.equal(formatIp(nthAddress(c('fd00::/64'), 2n ** 63n)), 'fd00::8000:0:0:0');
    assert.equal(ipOffset(c('10.0.0.64/26'), ip('10.0.0.69')), 5n);
    assert.throws(() => nthAddress(c('10.0.0.64/26'), 64), /Offset 64 is outside 10.0.0.64\/26/);
    assert.throws(() => nthAddress(c('10.0.0.64/26'), -1), RangeError);
    assert.throws(() => nthAddress(c('10.0.0.64/26'), 0.5), RangeError);
    assert.throws(() => ipOffset(c('10.0.0.64/26'), ip('10.0.0.1')), /not inside/);
  });
  test('hostCidr and makeCidr', () => {
    assert.equal(formatCidr(hostCidr(ip('fd00::1'))), 'fd00::1/128');
    assert.equal(formatCidr(makeCidr(ip('10.0.0.0'), 24)), '10.0.0.0/24');
    assert.equal(formatCidr(makeCidr(ip('10.0.0.9'), 24, { strict: false })), '10.0.0.0/24');
    assert.throws(() => makeCidr(ip('10.0.0.9'), 24), /did you mean 10.0.0.0\/24/);
    assert.throws(() => makeCidr(ip('10.0.0.9'), 40), RangeError);
  });
  test('assertCidr catches hand-built nonsense', () => {
    assertCidr(c('10.0.0.0/8'));
    assert.throws(() => assertCidr({ family: 4, address: 1n, prefixLength: 8 }), /host bits/);
    assert.throws(
      () => assertCidr({ family: 4, address: 1n << 32n, prefixLength: 32 }),
      RangeError,
    );
    assert.throws(() => assertCidr({ family: 6, address: 0n, prefixLength: 129 }), RangeError);
  });
});

describe('blocks', () => {
  test('a /8 pool splits lazily into 2^18 /26 blocks', () => {
    const pool = c('10.0.0.0/8');
    assert.equal(blockCount(pool, 26), 262144n);
    const it = splitIntoBlocks(pool, 26);
    const first3 = [it.next().value!, it.next().value!, it.next().value!].map(formatCidr);
    assert.deepEqual(first3, ['10.0.0.0/26', '10.0.0.64/26', '10.0.0.128/26']);
    let count = 0;
    let last = '';
    for (const b of splitIntoBlocks(pool, 26)) {
      count++;
      last = formatCidr(b);
    }
    assert.equal(count, 262144);
    assert.equal(last, '10.255.255.192/26');
  });
  test('an IPv6 /48 pool is enumerable lazily in /122 blocks', () => {
    const pool = c('fd00:1::/48');
    assert.equal(blockCount(pool, 122), 1n << 74n);
    const it = splitIntoBlocks(pool, 122);
    assert.equal(formatCidr(it.next().value!), 'fd00:1::/122');
    assert.equal(formatCidr(it.next().value!), 'fd00:1::40/122');
    assert.equal(
      formatCidr(nthBlock(pool, 122, (1n << 74n) - 1n)),
      'fd00:1:0:ffff:ffff:ffff:ffff:ffc0/122',
    );
  });
  test('nthBlock and blockContaining agree', () => {
    const pool = c('192.168.0.0/16');
    assert.equal(formatCidr(nthBlock(pool, 26, 5)), '192.168.1.64/26');
    assert.equal(formatCidr(blockContaining(ip('192.168.1.100'), 26)), '192.168.1.64/26');
    assert.equal(formatCidr(blockContaining(ip('fd00::1:ff'), 122)), 'fd00::1:c0/122');
    assert.throws(() => nthBlock(pool, 26, 1024), RangeError);
    assert.throws(() => blockCount(pool, 8), /shorter than the pool/);
    assert.throws(() => [...splitIntoBlocks(pool, 33)], RangeError);
    assert.deepEqual([...splitIntoBlocks(pool, 16)].map(formatCidr), ['192.168.0.0/16']);
  });
});

test('isLinkLocal', () => {
  assert.ok(isLinkLocal(c('169.254.0.0/16')));
  assert.ok(isLinkLocal(c('169.254.1.0/24')));
  assert.ok(isLinkLocal(ip('169.254.169.254')));
  assert.ok(!isLinkLocal(c('169.0.0.0/8')));
  assert.ok(!isLinkLocal(ip('10.0.0.1')));
  assert.ok(isLinkLocal(c('fe80::/10')));
  assert.ok(isLinkLocal(c('fe80::/64')));
  assert.ok(isLinkLocal(ip('febf::1')));
  assert.ok(!isLinkLocal(ip('fec0::1')));
  assert.ok(!isLinkLocal(c('fe80::/9')));
});
