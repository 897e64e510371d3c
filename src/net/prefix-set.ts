import { bitLength, formatIp, type IpAddress, type IpFamily } from './address.js';
import { assertCidr, type Cidr, compareCidr, formatCidr, maskOf } from './cidr.js';

/** One family's prefixes, bucketed by length so longest-prefix match is one probe per length. */
// IPv4 keys are signed int32 numbers: V8 hashes those (small integers) far faster than
// bigints or unsigned values above 2^31, and route lookups are hot.
type Key = number | bigint;

function keyOf(cidr: Cidr): Key {
  return cidr.family === 4 ? Number(cidr.address) | 0 : cidr.address;
}

const MASKS32: number[] = [];
for (let len = 0; len <= 32; len++) MASKS32.push(len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);

class FamilyTable {
  readonly byLength: (Map<Key, Cidr> | undefined)[];
  /** lengths with at least one prefix, longest first */
  lengths: number[] = [];
  readonly masks: bigint[] = [];
  size = 0;

  constructor(readonly family: IpFamily) {
    const bits = bitLength(family);
    this.byLength = new Array(bits + 1).fill(undefined);
    for (let len = 0; len <= bits; len++) this.masks.push(maskOf(family, len));
  }

  refreshLengths(): void {
    const out: number[] = [];
    for (let len = this.byLength.length - 1; len >= 0; len--) {
      if ((this.byLength[len]?.size ?? 0) > 0) out.push(len);
    }
    this.lengths = out;
  }
}

/**
 * A set of CIDRs of both families: exact membership, longest-prefix match, sorted
 * iteration and aggregation. Used for route tables and IP-set members.
 */
export class PrefixSet implements Iterable<Cidr> {
  private readonly v4 = new FamilyTable(4);
  private readonly v6 = new FamilyTable(6);
  private sorted: Cidr[] | undefined;

  constructor(cidrs?: Iterable<Cidr>) {
    if (cidrs) for (const c of cidrs) this.add(c);
  }

  get size(): number {
    return this.v4.size + this.v6.size;
  }

  private table(family: IpFamily): FamilyTable {
    return family === 4 ? this.v4 : this.v6;
  }

  /** Adds the CIDR; returns false if it was already present. */
  add(cidr: Cidr): boolean {
    assertCidr(cidr);
    const t = this.table(cidr.family);
    let bucket = t.byLength[cidr.prefixLength];
    if (!bucket) {
      bucket = new Map();
      t.byLength[cidr.prefixLength] = bucket;
    }
    const key = keyOf(cidr);
    if (bucket.has(key)) return false;
    bucket.set(key, {
      family: cidr.family,
      address: cidr.address,
      prefixLength: cidr.prefixLength,
    });
    t.size++;
    if (bucket.size === 1) t.refreshLengths();
    this.sorted = undefined;
    return true;
  }

  /** Removes the exact CIDR; returns false if it was not present. */
  remove(cidr: Cidr): boolean {
    const t = this.table(cidr.family);
    const bucket = t.byLength[cidr.prefixLength];
    if (!bucket?.delete(keyOf(cidr))) return false;
    t.size--;
    if (bucket.size === 0) t.refreshLengths();
    this.sorted = undefined;
    return true;
  }

  has(cidr: Cidr): boolean {
    return this.table(cidr.family).byLength[cidr.prefixLength]?.has(keyOf(cidr)) ?? false;
  }

  clear(): void {
    for (const t of [this.v4, this.v6]) {
      t.byLength.fill(undefined);
      t.lengths = [];
      t.size = 0;
    }
    this.sorted = undefined;
  }

  /** Longest-prefix match: the most specific stored CIDR holding ip. */
  lookup(ip: IpAddress): Cidr | undefined {
    if (ip.family === 4) return this.lookupV4(Number(ip.value));
    const t = this.v6;
    for (const len of t.lengths) {
      const hit = t.byLength[len]!.get(ip.value & t.masks[len]!);
      if (hit) return hit;
    }
    return undefined;
  }

  /** Longest-prefix match for an IPv4 address given as an unsigned 32-bit number. */
  lookupV4(ip: number): Cidr | undefined {
    const t = this.v4;
    for (const len of t.lengths) {
      const hit = t.byLength[len]!.get(ip & MASKS32[len]!);
      if (hit) return hit;
    }
    return undefined;
  }

  containsIp(ip: IpAddress): boolean {
    return this.lookup(ip) !== undefined;
  }

  /** The most specific stored CIDR that contains all of cidr (itself included). */
  lookupCidr(cidr: Cidr): Cidr | undefined {
    const t = this.table(cidr.family);
    for (const len of t.lengths) {
      if (len > cidr.prefixLength) continue;
      const masked = cidr.address & t.masks[len]!;
      const hit = t.byLength[len]!.get(cidr.family === 4 ? Number(masked) | 0 : masked);
      if (hit) return hit;
    }
    return undefined;
  }

  /** Whether some stored CIDR contains all of cidr. */
  covers(cidr: Cidr): boolean {
    return this.lookupCidr(cidr) !== undefined;
  }

  /** IPv4 before IPv6, then by address, shorter prefix first. */
  toArray(): Cidr[] {
    if (!this.sorted) {
      const out: Cidr[] = [];
      for (const t of [this.v4, this.v6]) {
        for (const bucket of t.byLength) if (bucket) for (const c of bucket.values()) out.push(c);
      }
      out.sort(compareCidr);
      this.sorted = out;
    }
    return this.sorted.slice();
  }

  [Symbol.iterator](): Iterator<Cidr> {
    return this.toArray()[Symbol.iterator]();
  }

  /** The smallest list of CIDRs covering exactly the same addresses, sorted. */
  toMinimalCidrs(): Cidr[] {
    return minimalCidrs(this.toArray());
  }

  toString(): string {
    return `PrefixSet{${this.toArray().map(formatCidr).join(', ')}}`;
  }
}

/** Inclusive address range of one family. */
export interface IpRange {
  readonly family: IpFamily;
  readonly first: bigint;
  readonly last: bigint;
}

/** Merges CIDRs into sorted, disjoint, non-adjacent ranges per family. */
export function mergeToRanges(cidrs: Iterable<Cidr>): IpRange[] {
  const list = [...cidrs].sort(compareCidr);
  const out: { family: IpFamily; first: bigint; last: bigint }[] = [];
  for (const c of list) {
    const first = c.address;
    const last = c.address + (1n << BigInt(bitLength(c.family) - c.prefixLength)) - 1n;
    const prev = out[out.length - 1];
    if (prev && prev.family === c.family && first <= prev.last + 1n) {
      if (last > prev.last) prev.last = last;
    } else {
      out.push({ family: c.family, first, last });
    }
  }
  return out;
}

function trailingZeros(v: bigint, bits: number): number {
  if (v === 0n) return bits;
  let n = 0;
  while ((v & 0xffffffffn) === 0n) {
    v >>= 32n;
    n += 32;
  }
  let low = Number(v & 0xffffffffn);
  while ((low & 1) === 0) {
    low >>>= 1;
    n++;
  }
  return n;
}

/** The fewest CIDRs that cover exactly the inclusive range. */
export function rangeToCidrs(range: IpRange): Cidr[] {
  const bits = bitLength(range.family);
  if (range.first > range.last) {
    throw new RangeError(
      `Range start ${formatIp({ family: range.family, value: range.first })} is after its end`,
    );
  }
  const out: Cidr[] = [];
  let start = range.first;
  for (;;) {
    let hostBits = trailingZeros(start, bits);
    while (start + (1n << BigInt(hostBits)) - 1n > range.last) hostBits--;
    out.push({ family: range.family, address: start, prefixLength: bits - hostBits });
    const next = start + (1n << BigInt(hostBits));
    if (next > range.last) return out;
    start = next;
  }
}

/** Aggregates CIDRs: drops covered ones and merges neighbours into the fewest CIDRs. */
export function minimalCidrs(cidrs: Iterable<Cidr>): Cidr[] {
  return mergeToRanges(cidrs).flatMap(rangeToCidrs);
}
