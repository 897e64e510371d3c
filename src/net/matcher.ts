import type { IpAddress } from './address.js';
import type { Cidr } from './cidr.js';
import { mergeToRanges } from './prefix-set.js';

/**
 * A list of CIDRs compiled for repeated membership tests: merged into sorted disjoint
 * ranges once, then each test is a binary search over plain numbers (IPv4 as uint32)
 * or bigints (IPv6), with no parsing or allocation.
 */
export class CidrMatcher {
  private readonly v4First: Float64Array;
  private readonly v4Last: Float64Array;
  private readonly v6First: bigint[];
  private readonly v6Last: bigint[];

  constructor(cidrs: Iterable<Cidr>) {
    const ranges = mergeToRanges(cidrs);
    const v4 = ranges.filter((r) => r.family === 4);
    const v6 = ranges.filter((r) => r.family === 6);
    this.v4First = Float64Array.from(v4, (r) => Number(r.first));
    this.v4Last = Float64Array.from(v4, (r) => Number(r.last));
    this.v6First = v6.map((r) => r.first);
    this.v6Last = v6.map((r) => r.last);
  }

  get hasV4(): boolean {
    return this.v4First.length > 0;
  }

  get hasV6(): boolean {
    return this.v6First.length > 0;
  }

  /** Tests an IPv4 address given as an unsigned 32-bit number. */
  matchesV4(ip: number): boolean {
    const first = this.v4First;
    let lo = 0;
    let hi = first.length - 1;
    // find the last range starting at or below ip
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (first[mid]! <= ip) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi >= 0 && ip <= this.v4Last[hi]!;
  }

  /** Tests an IPv6 address given as its 128-bit value. */
  matchesV6(ip: bigint): boolean {
    const first = this.v6First;
    let lo = 0;
    let hi = first.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (first[mid]! <= ip) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi >= 0 && ip <= this.v6Last[hi]!;
  }

  matches(ip: IpAddress): boolean {
    return ip.family === 4 ? this.matchesV4(Number(ip.value)) : this.matchesV6(ip.value);
  }
}

export function compileCidrMatcher(cidrs: Iterable<Cidr>): CidrMatcher {
  return new CidrMatcher(cidrs);
}
