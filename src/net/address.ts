import { IpParseError, quoteInput } from './errors.js';

export type IpFamily = 4 | 6;

/** An address of either family; `value` is the address as an unsigned integer. */
export interface IpAddress {
  readonly family: IpFamily;
  readonly value: bigint;
}

export const MAX_V4 = 0xffffffff;
export const MAX_V6 = (1n << 128n) - 1n;

export function bitLength(family: IpFamily): 32 | 128 {
  return family === 4 ? 32 : 128;
}

// The scanners report failure through these module-level slots rather than by
// allocating result objects, so the success path (the common one) allocates nothing.
let failReason = '';
let failColumn = 0;
let scannedV4 = 0;
let scannedV6 = 0n;
const groups = new Uint16Array(8);

function fail(reason: string, column: number): false {
  failReason = reason;
  failColumn = column;
  return false;
}

function describeChar(s: string, i: number): string {
  const ch = s[i]!;
  const col = i + 1;
  if (/\s/.test(ch)) return `whitespace at column ${col} is not allowed`;
  if (ch === '%') return `zone identifier at column ${col} is not accepted`;
  if (ch === '/') return `unexpected "/" at column ${col} (a CIDR is not a single address)`;
  return `unexpected character ${JSON.stringify(ch)} at column ${col}`;
}

/** Strict dotted-quad: exactly four decimal octets, no leading zeros, each at most 255. */
function scanV4(s: string, start: number, end: number): boolean {
  let value = 0;
  let parts = 0;
  let i = start;
  for (;;) {
    const partStart = i;
    let octet = 0;
    while (i < end) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      octet = octet * 10 + (c - 48);
      i++;
    }
    const len = i - partStart;
    if (len === 0) {
      if (i >= end) {
        return fail(
          parts === 0 ? 'empty address' : `missing octet after "." at column ${i}`,
          Math.max(i, 1),
        );
      }
      if (s[i] === '.') return fail(`empty octet at column ${i + 1}`, i + 1);
      return fail(describeChar(s, i), i + 1);
    }
    if (len === 1 && octet === 0 && i < end && (s[i] === 'x' || s[i] === 'X')) {
      return fail(
        `hexadecimal octet at column ${partStart + 1} is not accepted (use decimal)`,
        partStart + 1,
      );
    }
    if (len > 1 && s.charCodeAt(partStart) === 48) {
      return fail(
        `octet "${s.slice(partStart, Math.min(i, partStart + 12))}" at column ${partStart + 1} has a leading zero ` +
          '(octal forms are ambiguous and not accepted)',
        partStart + 1,
      );
    }
    if (len > 3 || octet > 255) {
      return fail(
        `octet "${s.slice(partStart, Math.min(i, partStart + 12))}" at column ${partStart + 1} is greater than 255`,
        partStart + 1,
      );
    }
    value = value * 256 + octet;
    parts++;
    if (parts === 4) {
      if (i === end) {
        scannedV4 = value;
        return true;
      }
      if (s[i] === '.') return fail(`more than 4 octets (extra "." at column ${i + 1})`, i + 1);
      return fail(describeChar(s, i), i + 1);
    }
    if (i >= end) {
      return fail(
        `expected 4 dot-separated decimal octets, found ${parts} (shorthand forms are not accepted)`,
        i,
      );
    }
    if (s[i] !== '.') return fail(describeChar(s, i), i + 1);
    i++;
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** RFC 4291 text forms: eight groups, at most one "::", optional trailing dotted quad. */
function scanV6(s: string, start: number, end: number): boolean {
  let n = 0;
  let gap = -1;
  let i = start;
  if (i < end && s[i] === ':') {
    if (i + 1 < end && s[i + 1] === ':') {
      gap = 0;
      i += 2;
    } else {
      return fail(`a single ":" cannot start an address (column ${i + 1})`, i + 1);
    }
  }
  while (i < end) {
    const groupStart = i;
    let g = 0;
    while (i < end) {
      const h = hexValue(s.charCodeAt(i));
      if (h < 0) break;
      g = g * 16 + h;
      i++;
    }
    const len = i - groupStart;
    if (i < end && s[i] === '.') {
      if (n > 6) {
        return fail(
          `embedded IPv4 address at column ${groupStart + 1} follows too many groups`,
          groupStart + 1,
        );
      }
      if (!scanV4(s, groupStart, end)) {
        return fail(`in the embedded IPv4 address: ${failReason}`, failColumn);
      }
      groups[n++] = scannedV4 >>> 16;
      groups[n++] = scannedV4 & 0xffff;
      i = end;
      break;
    }
    if (len === 0) return fail(describeChar(s, i), i + 1);
    if (len > 4) {
      return fail(
        `group "${s.slice(groupStart, Math.min(i, groupStart + 12))}" at column ${groupStart + 1} has more than 4 hex digits`,
        groupStart + 1,
      );
    }
    if (n === 8) return fail(`more than 8 groups (column ${groupStart + 1})`, groupStart + 1);
    groups[n++] = g;
    if (i === end) break;
    if (s[i] !== ':') return fail(describeChar(s, i), i + 1);
    i++;
    if (i < end && s[i] === ':') {
      if (gap >= 0) return fail(`"::" may appear only once (second at column ${i})`, i);
      gap = n;
      i++;
    } else if (i === end) {
      return fail(`an address cannot end with a single ":" (column ${i})`, i);
    }
  }
  if (gap < 0) {
    if (n !== 8) return fail(`expected 8 groups, found ${n}`, end);
  } else {
    if (n > 7) return fail('"::" must stand for at least one group, but 8 are present', gap);
    const move = n - gap;
    for (let k = 1; k <= move; k++) groups[8 - k] = groups[n - k]!;
    for (let k = gap; k < 8 - move; k++) groups[k] = 0;
  }
  scannedV6 =
    (BigInt((groups[0]! * 0x10000 + groups[1]!) >>> 0) << 96n) |
    (BigInt((groups[2]! * 0x10000 + groups[3]!) >>> 0) << 64n) |
    (BigInt((groups[4]! * 0x10000 + groups[5]!) >>> 0) << 32n) |
    BigInt((groups[6]! * 0x10000 + groups[7]!) >>> 0);
  return true;
}

/**
 * Scans s[start, end) as an address of either family. Returns 4 or 6 on success (the
 * value is in scannedV4 / scannedV6) and 0 on failure (reason in failReason).
 */
function scanAddress(s: string, start: number, end: number): 0 | 4 | 6 {
  if (start >= end) {
    fail('empty address', 1);
    return 0;
  }
  for (let i = start; i < end; i++) {
    if (s.charCodeAt(i) === 58) return scanV6(s, start, end) ? 6 : 0;
  }
  return scanV4(s, start, end) ? 4 : 0;
}

/** @internal used by the CIDR parser, which shares the scanners' state. */
export function scanAddressInternal(
  s: string,
  start: number,
  end: number,
): { family: 0 | 4 | 6; v4: number; v6: bigint; reason: string; column: number } {
  const family = scanAddress(s, start, end);
  return { family, v4: scannedV4, v6: scannedV6, reason: failReason, column: failColumn };
}

function invalid(text: string): IpParseError {
  return new IpParseError(
    'INVALID_IP',
    text,
    `Cannot parse IP address ${quoteInput(text)}: ${failReason}`,
    failColumn || undefined,
  );
}

function checkString(text: unknown): asserts text is string {
  if (typeof text !== 'string') {
    throw new TypeError(`Expected an IP address string, got ${typeof text}`);
  }
}

/**
 * Parses an IPv4 or IPv6 address strictly: decimal dotted quads only (no octal, hex or
 * shorthand), RFC 4291 IPv6 forms, no whitespace and no zone identifiers.
 */
export function parseIp(text: string): IpAddress {
  checkString(text);
  const family = scanAddress(text, 0, text.length);
  if (family === 4) return { family: 4, value: BigInt(scannedV4) };
  if (family === 6) return { family: 6, value: scannedV6 };
  throw invalid(text);
}

/** Like parseIp but returns undefined instead of throwing. */
export function tryParseIp(text: string): IpAddress | undefined {
  if (typeof text !== 'string') return undefined;
  const family = scanAddress(text, 0, text.length);
  if (family === 4) return { family: 4, value: BigInt(scannedV4) };
  if (family === 6) return { family: 6, value: scannedV6 };
  return undefined;
}

export function isValidIp(text: string): boolean {
  return typeof text === 'string' && scanAddress(text, 0, text.length) !== 0;
}

/** Hot-path form: parses an IPv4 address to an unsigned 32-bit number. */
export function parseIpv4(text: string): number {
  checkString(text);
  const family = scanAddress(text, 0, text.length);
  if (family === 4) return scannedV4;
  if (family === 6) {
    throw new IpParseError(
      'INVALID_IP',
      text,
      `Cannot parse IPv4 address ${quoteInput(text)}: it is an IPv6 address`,
    );
  }
  throw invalid(text);
}

/** Builds an address from its integer value, checking that it fits the family. */
export function makeIp(family: IpFamily, value: bigint | number): IpAddress {
  if (family !== 4 && family !== 6) throw new RangeError(`IP family must be 4 or 6, got ${family}`);
  const v = typeof value === 'number' ? toBigInt(value) : value;
  if (v < 0n || v > (family === 4 ? BigInt(MAX_V4) : MAX_V6)) {
    throw new RangeError(`${v} is outside the IPv${family} address range`);
  }
  return { family, value: v };
}

function toBigInt(n: number): bigint {
  if (!Number.isSafeInteger(n)) throw new RangeError(`${n} is not a safe integer`);
  return BigInt(n);
}

export function ipv4FromNumber(n: number): IpAddress {
  if (!Number.isInteger(n) || n < 0 || n > MAX_V4) {
    throw new RangeError(`${n} is not an unsigned 32-bit integer`);
  }
  return { family: 4, value: BigInt(n) };
}

/** The hot-path uint32 form of an IPv4 address. */
export function ipv4ToNumber(ip: IpAddress): number {
  if (ip.family !== 4) throw new TypeError(`Expected an IPv4 address, got IPv${ip.family}`);
  return Number(ip.value);
}

/** Decimal octet strings, so an address is formatted without number formatting. */
const OCTETS: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));

/**
 * Dotted-quad text of a uint32. Built with `join`: the result is one flat string, where a
 * template literal can leave a tree of pieces that V8 keeps alive (the calculation graph
 * holds a million of these).
 */
export function formatIpv4(n: number): string {
  return [
    OCTETS[n >>> 24],
    '.',
    OCTETS[(n >>> 16) & 255],
    '.',
    OCTETS[(n >>> 8) & 255],
    '.',
    OCTETS[n & 255],
  ].join('');
}

/**
 * Hot-path, no-throw form of the strict dotted quad (what parseIpv4 accepts), on
 * `text[start, end)`: the address as an unsigned 32-bit number, else -1. No message is
 * built, so callers probing text that is usually not an IPv4 address pay nothing.
 */
export function scanIpv4(text: string, start: number, end: number): number {
  let i = start;
  let ip = 0;
  for (let part = 0; part < 4; part++) {
    const from = i;
    let v = 0;
    while (i < end) {
      const ch = text.charCodeAt(i);
      if (ch < 48 || ch > 57) break;
      v = v * 10 + (ch - 48);
      i++;
    }
    const len = i - from;
    if (len === 0 || len > 3 || v > 255 || (len > 1 && text.charCodeAt(from) === 48)) return -1;
    ip = ip * 256 + v;
    if (part < 3) {
      if (i >= end || text.charCodeAt(i) !== 46) return -1;
      i++;
    }
  }
  return i === end ? ip : -1;
}

const words = new Uint32Array(4);

/**
 * RFC 5952 canonical text: lower case, no leading zeros, the longest run of two or more
 * zero groups (the first on a tie) compressed, and IPv4-mapped addresses in mixed
 * notation (::ffff:1.2.3.4) as RFC 5952 section 5 recommends.
 */
export function formatIpv6(value: bigint): string {
  words[0] = Number((value >> 96n) & 0xffffffffn);
  words[1] = Number((value >> 64n) & 0xffffffffn);
  words[2] = Number((value >> 32n) & 0xffffffffn);
  words[3] = Number(value & 0xffffffffn);
  if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff) {
    return `::ffff:${formatIpv4(words[3]!)}`;
  }
  const g: number[] = [];
  for (let k = 0; k < 4; k++) g.push(words[k]! >>> 16, words[k]! & 0xffff);
  let bestStart = -1;
  let bestLen = 1;
  for (let k = 0; k < 8; ) {
    if (g[k] !== 0) {
      k++;
      continue;
    }
    let j = k;
    while (j < 8 && g[j] === 0) j++;
    if (j - k > bestLen) {
      bestStart = k;
      bestLen = j - k;
    }
    k = j;
  }
  if (bestStart < 0) return g.map((x) => x.toString(16)).join(':');
  const head = g.slice(0, bestStart).map((x) => x.toString(16));
  const tail = g.slice(bestStart + bestLen).map((x) => x.toString(16));
  return `${head.join(':')}::${tail.join(':')}`;
}

export function formatIp(ip: IpAddress): string {
  return ip.family === 4 ? formatIpv4(Number(ip.value)) : formatIpv6(ip.value);
}

/** Orders IPv4 before IPv6, then by value. */
export function compareIp(a: IpAddress, b: IpAddress): number {
  if (a.family !== b.family) return a.family - b.family;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

export function ipEquals(a: IpAddress, b: IpAddress): boolean {
  return a.family === b.family && a.value === b.value;
}
