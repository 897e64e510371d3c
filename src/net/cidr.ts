import {
  bitLength,
  formatIp,
  type IpAddress,
  type IpFamily,
  makeIp,
  scanAddressInternal,
} from './address.js';
import { IpParseError, quoteInput } from './errors.js';

/** A network: `address` always has its host bits cleared. */
export interface Cidr {
  readonly family: IpFamily;
  readonly address: bigint;
  readonly prefixLength: number;
}

export interface ParseCidrOptions {
  /** Reject host bits (the default); false masks them off instead. */
  strict?: boolean;
}

const MASKS4: bigint[] = [];
const MASKS6: bigint[] = [];
for (let len = 0; len <= 32; len++) MASKS4.push(((1n << BigInt(len)) - 1n) << BigInt(32 - len));
for (let len = 0; len <= 128; len++) MASKS6.push(((1n << BigInt(len)) - 1n) << BigInt(128 - len));

function checkPrefixLength(family: IpFamily, len: number): void {
  if (family !== 4 && family !== 6) throw new RangeError(`IP family must be 4 or 6, got ${family}`);
  const bits = bitLength(family);
  if (!Number.isInteger(len) || len < 0 || len > bits) {
    throw new RangeError(`Prefix length ${len} is out of range for IPv${family} (0-${bits})`);
  }
}

/** The network mask for a prefix length, e.g. maskOf(4, 24) === 0xffffff00n. */
export function maskOf(family: IpFamily, prefixLength: number): bigint {
  checkPrefixLength(family, prefixLength);
  return family === 4 ? MASKS4[prefixLength]! : MASKS6[prefixLength]!;
}

/** The host part mask, the complement of maskOf within the family's width. */
export function hostMaskOf(family: IpFamily, prefixLength: number): bigint {
  checkPrefixLength(family, prefixLength);
  const all = family === 4 ? MASKS4[32]! : MASKS6[128]!;
  return all ^ maskOf(family, prefixLength);
}

function mask(family: IpFamily, len: number): bigint {
  return family === 4 ? MASKS4[len]! : MASKS6[len]!;
}

function cidrError(
  code: 'INVALID_CIDR' | 'HOST_BITS_SET' | 'PREFIX_OUT_OF_RANGE',
  text: string,
  reason: string,
  column?: number,
): IpParseError {
  return new IpParseError(code, text, `Cannot parse CIDR ${quoteInput(text)}: ${reason}`, column);
}

/**
 * Parses "address/prefix". The prefix is plain decimal (no sign, no leading zero) and
 * must fit the family; with strict (the default) the host bits must be zero, because a
 * pool or rule written as 10.0.0.1/24 usually hides a typo.
 */
export function parseCidr(text: string, options?: ParseCidrOptions): Cidr {
  if (typeof text !== 'string') throw new TypeError(`Expected a CIDR string, got ${typeof text}`);
  const slash = text.indexOf('/');
  if (slash < 0) {
    const scan = scanAddressInternal(text, 0, text.length);
    if (scan.family === 0) throw cidrError('INVALID_CIDR', text, scan.reason, scan.column);
    throw cidrError(
      'INVALID_CIDR',
      text,
      'missing "/<prefix length>" (a bare address is not a CIDR here)',
      text.length + 1,
    );
  }
  return parseCidrAt(text, slash, options?.strict ?? true);
}

function parseCidrAt(text: string, slash: number, strict: boolean): Cidr {
  const scan = scanAddressInternal(text, 0, slash);
  if (scan.family === 0) {
    const reason = slash === 0 ? 'missing address before "/"' : scan.reason;
    throw cidrError('INVALID_CIDR', text, reason, scan.column || 1);
  }
  const family = scan.family;
  const start = slash + 1;
  const end = text.length;
  if (start === end) {
    throw cidrError(
      'INVALID_CIDR',
      text,
      `missing prefix length after "/" at column ${slash + 1}`,
      start,
    );
  }
  let len = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) {
      const ch = text[i]!;
      const what = c === 47 ? 'a second "/"' : /\s/.test(ch) ? 'whitespace' : JSON.stringify(ch);
      throw cidrError(
        'INVALID_CIDR',
        text,
        `prefix length must be a decimal number, found ${what} at column ${i + 1}`,
        i + 1,
      );
    }
    len = len * 10 + (c - 48);
  }
  if (end - start > 1 && text.charCodeAt(start) === 48) {
    throw cidrError(
      'INVALID_CIDR',
      text,
      `prefix length "${text.slice(start, start + 12)}" at column ${start + 1} has a leading zero`,
      start + 1,
    );
  }
  const bits = bitLength(family);
  if (end - start > 3 || len > bits) {
    throw cidrError(
      'PREFIX_OUT_OF_RANGE',
      text,
      `prefix length ${text.slice(start, start + 12)} at column ${start + 1} is out of range for IPv${family} (0-${bits})`,
      start + 1,
    );
  }
  const value = family === 4 ? BigInt(scan.v4) : scan.v6;
  const address = value & mask(family, len);
  if (strict && address !== value) {
    const suggestion = formatCidr({ family, address, prefixLength: len });
    throw cidrError('HOST_BITS_SET', text, `host bits are set (did you mean ${suggestion}?)`, 1);
  }
  return { family, address, prefixLength: len };
}

/**
 * Accepts a CIDR or a bare address; a bare address becomes a /32 or /128, as Calico
 * allows in rule `nets` and network sets.
 */
export function parseCidrOrIp(text: string, options?: ParseCidrOptions): Cidr {
  if (typeof text !== 'string') throw new TypeError(`Expected a CIDR string, got ${typeof text}`);
  const slash = text.indexOf('/');
  if (slash >= 0) return parseCidrAt(text, slash, options?.strict ?? true);
  const scan = scanAddressInternal(text, 0, text.length);
  if (scan.family === 0) throw cidrError('INVALID_CIDR', text, scan.reason, scan.column || 1);
  return scan.family === 4
    ? { family: 4, address: BigInt(scan.v4), prefixLength: 32 }
    : { family: 6, address: scan.v6, prefixLength: 128 };
}

export function isValidCidr(text: string, options?: ParseCidrOptions): boolean {
  try {
    parseCidr(text, options);
    return true;
  } catch (e) {
    if (e instanceof IpParseError || e instanceof TypeError) return false;
    throw e;
  }
}

export function tryParseCidr(text: string, options?: ParseCidrOptions): Cidr | undefined {
  try {
    return parseCidr(text, options);
  } catch (e) {
    if (e instanceof IpParseError || e instanceof TypeError) return undefined;
    throw e;
  }
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp({ family: cidr.family, value: cidr.address })}/${cidr.prefixLength}`;
}

/**
 * Builds a CIDR from an address and prefix length. With strict (the default) set host
 * bits are an error; otherwise they are masked off.
 */
export function makeCidr(ip: IpAddress, prefixLength: number, options?: ParseCidrOptions): Cidr {
  checkPrefixLength(ip.family, prefixLength);
  const address = ip.value & mask(ip.family, prefixLength);
  if ((options?.strict ?? true) && address !== ip.value) {
    throw new RangeError(
      `${formatIp(ip)}/${prefixLength} has host bits set (did you mean ${formatCidr({ family: ip.family, address, prefixLength })}?)`,
    );
  }
  return { family: ip.family, address, prefixLength };
}

/** The /32 or /128 holding exactly this address. */
export function hostCidr(ip: IpAddress): Cidr {
  return { family: ip.family, address: ip.value, prefixLength: bitLength(ip.family) };
}

export function cidrContainsIp(cidr: Cidr, ip: IpAddress): boolean {
  return (
    cidr.family === ip.family && (ip.value & mask(cidr.family, cidr.prefixLength)) === cidr.address
  );
}

/** Whether every address of inner is in outer (a CIDR contains itself). */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return (
    outer.family === inner.family &&
    outer.prefixLength <= inner.prefixLength &&
    (inner.address & mask(outer.family, outer.prefixLength)) === outer.address
  );
}

export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const m = mask(a.family, Math.min(a.prefixLength, b.prefixLength));
  return (a.address & m) === (b.address & m);
}

export function cidrEquals(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.prefixLength === b.prefixLength && a.address === b.address;
}

/** Orders IPv4 before IPv6, then by address, then shorter prefix first. */
export function compareCidr(a: Cidr, b: Cidr): number {
  if (a.family !== b.family) return a.family - b.family;
  if (a.address !== b.address) return a.address < b.address ? -1 : 1;
  return a.prefixLength - b.prefixLength;
}

/** Number of addresses in the CIDR. */
export function cidrSize(cidr: Cidr): bigint {
  return 1n << BigInt(bitLength(cidr.family) - cidr.prefixLength);
}

export function cidrFirst(cidr: Cidr): IpAddress {
  return { family: cidr.family, value: cidr.address };
}

export function cidrLast(cidr: Cidr): IpAddress {
  return { family: cidr.family, value: cidr.address + cidrSize(cidr) - 1n };
}

function toIndex(n: bigint | number, what: string): bigint {
  if (typeof n === 'number') {
    if (!Number.isSafeInteger(n)) throw new RangeError(`${what} ${n} is not a safe integer`);
    return BigInt(n);
  }
  return n;
}

/** The address at offset n (0-based) inside the CIDR. */
export function nthAddress(cidr: Cidr, n: bigint | number): IpAddress {
  const i = toIndex(n, 'Offset');
  const size = cidrSize(cidr);
  if (i < 0n || i >= size) {
    throw new RangeError(`Offset ${i} is outside ${formatCidr(cidr)} (0 to ${size - 1n})`);
  }
  return { family: cidr.family, value: cidr.address + i };
}

/** The offset of ip inside the CIDR; the inverse of nthAddress. */
export function ipOffset(cidr: Cidr, ip: IpAddress): bigint {
  if (!cidrContainsIp(cidr, ip)) {
    throw new RangeError(`${formatIp(ip)} is not inside ${formatCidr(cidr)}`);
  }
  return ip.value - cidr.address;
}

function checkBlockLength(pool: Cidr, blockPrefixLength: number): void {
  checkPrefixLength(pool.family, blockPrefixLength);
  if (blockPrefixLength < pool.prefixLength) {
    throw new RangeError(
      `Block prefix length /${blockPrefixLength} is shorter than the pool ${formatCidr(pool)}`,
    );
  }
}

/** How many blocks of the given prefix length the pool divides into. */
export function blockCount(pool: Cidr, blockPrefixLength: number): bigint {
  checkBlockLength(pool, blockPrefixLength);
  return 1n << BigInt(blockPrefixLength - pool.prefixLength);
}

/** The n-th (0-based) block of the given prefix length inside the pool. */
export function nthBlock(pool: Cidr, blockPrefixLength: number, n: bigint | number): Cidr {
  const count = blockCount(pool, blockPrefixLength);
  const i = toIndex(n, 'Block index');
  if (i < 0n || i >= count) {
    throw new RangeError(`Block index ${i} is outside ${formatCidr(pool)} (0 to ${count - 1n})`);
  }
  const step = 1n << BigInt(bitLength(pool.family) - blockPrefixLength);
  return { family: pool.family, address: pool.address + i * step, prefixLength: blockPrefixLength };
}

/**
 * Lazily yields the pool's blocks in address order; lazy because a /8 pool holds 2^18
 * /26 blocks and an IPv6 pool far more.
 */
export function* splitIntoBlocks(pool: Cidr, blockPrefixLength: number): Generator<Cidr> {
  const count = blockCount(pool, blockPrefixLength);
  const step = 1n << BigInt(bitLength(pool.family) - blockPrefixLength);
  let address = pool.address;
  for (let i = 0n; i < count; i++) {
    yield { family: pool.family, address, prefixLength: blockPrefixLength };
    address += step;
  }
}

/** The block of the given prefix length that holds ip. */
export function blockContaining(ip: IpAddress, blockPrefixLength: number): Cidr {
  checkPrefixLength(ip.family, blockPrefixLength);
  return {
    family: ip.family,
    address: ip.value & mask(ip.family, blockPrefixLength),
    prefixLength: blockPrefixLength,
  };
}

const LINK_LOCAL_V4: Cidr = { family: 4, address: 0xa9fe0000n, prefixLength: 16 };
const LINK_LOCAL_V6: Cidr = { family: 6, address: 0xfe80n << 112n, prefixLength: 10 };

/** Whether the address, or every address of the CIDR, is in 169.254.0.0/16 or fe80::/10. */
export function isLinkLocal(x: Cidr | IpAddress): boolean {
  const cidr = 'prefixLength' in x ? x : hostCidr(x);
  return cidrContains(cidr.family === 4 ? LINK_LOCAL_V4 : LINK_LOCAL_V6, cidr);
}

/** Checks an object claiming to be a Cidr (e.g. built by hand or decoded). */
export function assertCidr(cidr: Cidr): void {
  checkPrefixLength(cidr.family, cidr.prefixLength);
  makeIp(cidr.family, cidr.address);
  if ((cidr.address & mask(cidr.family, cidr.prefixLength)) !== cidr.address) {
    throw new RangeError(
      `CIDR address ${formatIp({ family: cidr.family, value: cidr.address })} has host bits set for /${cidr.prefixLength}`,
    );
  }
}
