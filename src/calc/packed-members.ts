// IPv4 IP set members packed as numbers. At a million endpoints an IP set holds
// about one member per endpoint; as strings in a Set each member was a heap string
// plus a hash-table entry, all of which the garbage collector traced and moved, and
// the strings were built (and hashed) on every insert. Packed, a member is two words
// in typed arrays the collector never looks into, and its text is made only when
// the dataplane is told about it.
//
// A member is (address, tag): the tag is 0 in a `net` set (`a.b.c.d/32`) and
// `protocol << 16 | port` in an `ip-port` set (`a.b.c.d,tcp:8080`). Only members
// whose text is exactly what `formatMember` gives are packed (see `packMember`), so
// one member has one representation.
import { formatIpv4, scanIpv4 } from '../net/index.js';
import type { IpSetType } from './desired-state.js';
import { protocolToken } from './rules.js';

/** Decimal octet strings, for member text built from per-set prefixes. */
const OCTETS: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));

/** Protocols a named port may carry (policy's PORT_PROTOCOLS), by token. */
const PROTOCOL_OF_TOKEN: Readonly<Record<string, number>> = { tcp: 6, udp: 17, sctp: 132 };

/** `protocol << 16 | port`: the tag of an ip-port member. */
export function portTag(protocol: number, port: number): number {
  return (protocol << 16) | port;
}

/** The member's text, as the dataplane receives it (desired-state.ts, IpSetMember). */
export function formatMember(type: IpSetType, ip: number, tag: number): string {
  return formatIpv4(ip) + memberSuffix(type, tag);
}

/** What follows the address in a member's text. */
export function memberSuffix(type: IpSetType, tag: number): string {
  return type === 'net' ? '/32' : [',', protocolToken(tag >>> 16), ':', tag & 0xffff].join('');
}

/**
 * Formats many members: the members of a set share few /24 prefixes and tags, so
 * those parts are made once each and a member costs one or two concatenations.
 */
export class MemberFormatter {
  private readonly prefixes = new Map<number, string>();
  private readonly suffixes = new Map<number, string>();

  constructor(private readonly type: IpSetType) {}

  format(ip: number, tag: number): string {
    const net = ip >>> 8;
    let prefix = this.prefixes.get(net);
    if (prefix === undefined) {
      prefix = [
        OCTETS[net >>> 16],
        '.',
        OCTETS[(net >>> 8) & 255],
        '.',
        OCTETS[net & 255],
        '.',
      ].join('');
      this.prefixes.set(net, prefix);
    }
    let suffix = this.suffixes.get(tag);
    if (suffix === undefined) {
      suffix = memberSuffix(this.type, tag);
      this.suffixes.set(tag, suffix);
    }
    return prefix + OCTETS[ip & 255] + suffix;
  }
}

/** A canonical IPv4 host CIDR (`a.b.c.d/32`) -> its address, else -1. */
export function parseV4Host(net: string): number {
  const n = net.length;
  if (
    n < 10 ||
    net.charCodeAt(n - 3) !== 47 ||
    net.charCodeAt(n - 2) !== 51 ||
    net.charCodeAt(n - 1) !== 50
  ) {
    return -1;
  }
  return scanIpv4(net, 0, n - 3);
}

/**
 * A member's text -> [address, tag] when the text is exactly what formatMember
 * gives for them, else undefined (IPv6, CIDRs, anything unusual stays text).
 */
export function packMember(type: IpSetType, m: string): [number, number] | undefined {
  if (type === 'net') {
    const ip = parseV4Host(m);
    return ip < 0 ? undefined : [ip, 0];
  }
  const comma = m.indexOf(',');
  if (comma < 0) return undefined;
  const ip = scanIpv4(m, 0, comma);
  if (ip < 0) return undefined;
  const colon = m.indexOf(':', comma);
  if (colon < 0) return undefined;
  const protocol = PROTOCOL_OF_TOKEN[m.slice(comma + 1, colon)];
  const port = Number(m.slice(colon + 1));
  if (protocol === undefined || !Number.isInteger(port) || port < 0 || port > 0xffff) {
    return undefined;
  }
  const tag = portTag(protocol, port);
  return formatMember(type, ip, tag) === m ? [ip, tag] : undefined;
}

const MIN_CAPACITY = 8;

/**
 * A counted multiset of (address, tag) pairs: open addressing with linear probing
 * and backward-shift deletion (no tombstones, so deletes return the slot and the
 * table shrinks when it empties). A slot is three words, address, tag and count,
 * side by side so that a probe touches one cache line; a slot is free when its
 * count is 0.
 */
export class PackedMembers {
  private slots = new Int32Array(MIN_CAPACITY * 3);
  private mask = MIN_CAPACITY - 1;
  /** distinct members */
  size = 0;

  /** Counts one more contributor; true if the member is new. */
  add(ip: number, tag: number): boolean {
    const ipw = ip | 0;
    const mask = this.mask;
    const s = this.slots;
    let i = slotOf(ipw, tag, mask);
    for (;;) {
      const o = i * 3;
      const n = s[o + 2]!;
      if (n === 0) break;
      if (s[o] === ipw && s[o + 1] === tag) {
        s[o + 2] = n + 1;
        return false;
      }
      i = (i + 1) & mask;
    }
    const o = i * 3;
    s[o] = ipw;
    s[o + 1] = tag;
    s[o + 2] = 1;
    // At most 3/4 full: linear probing's chains stay short.
    if (++this.size * 4 > (mask + 1) * 3) this.resize((mask + 1) * 2);
    return true;
  }

  /** Counts one contributor less; true if that was the member's last (it is gone). */
  remove(ip: number, tag: number): boolean {
    const ipw = ip | 0;
    const mask = this.mask;
    const s = this.slots;
    let i = slotOf(ipw, tag, mask);
    for (;;) {
      const o = i * 3;
      const n = s[o + 2]!;
      if (n === 0) return false;
      if (s[o] === ipw && s[o + 1] === tag) {
        if (n > 1) {
          s[o + 2] = n - 1;
          return false;
        }
        break;
      }
      i = (i + 1) & mask;
    }
    // Backward shift: later entries of the probe run whose home slot is not in
    // (i, j] move into the hole, so every entry stays reachable from its home.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const oj = j * 3;
      if (s[oj + 2] === 0) break;
      const home = slotOf(s[oj]!, s[oj + 1]!, mask);
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      const oi = i * 3;
      s[oi] = s[oj]!;
      s[oi + 1] = s[oj + 1]!;
      s[oi + 2] = s[oj + 2]!;
      i = j;
    }
    s[i * 3 + 2] = 0;
    this.size--;
    // Shrink below 1/8 full, to 1/4: memory is returned, without resizing back and forth.
    if (this.size * 8 < mask + 1 && mask + 1 > MIN_CAPACITY) this.resize((mask + 1) / 2);
    return true;
  }

  /** The member's number of contributors (0: absent). */
  count(ip: number, tag: number): number {
    const ipw = ip | 0;
    const mask = this.mask;
    const s = this.slots;
    for (let i = slotOf(ipw, tag, mask); ; i = (i + 1) & mask) {
      const o = i * 3;
      const n = s[o + 2]!;
      if (n === 0) return 0;
      if (s[o] === ipw && s[o + 1] === tag) return n;
    }
  }

  /** Visits every member once (address as an unsigned number), in no particular order. */
  forEach(visit: (ip: number, tag: number) => void): void {
    const s = this.slots;
    for (let o = 0; o < s.length; o += 3) if (s[o + 2] !== 0) visit(s[o]! >>> 0, s[o + 1]!);
  }

  /** Slots, for tests: the table must shrink when members go. */
  get capacity(): number {
    return this.mask + 1;
  }

  private resize(capacity: number): void {
    const old = this.slots;
    const s = new Int32Array(capacity * 3);
    const mask = capacity - 1;
    this.slots = s;
    this.mask = mask;
    for (let p = 0; p < old.length; p += 3) {
      const n = old[p + 2]!;
      if (n === 0) continue;
      let i = slotOf(old[p]!, old[p + 1]!, mask);
      while (s[i * 3 + 2] !== 0) i = (i + 1) & mask;
      const o = i * 3;
      s[o] = old[p]!;
      s[o + 1] = old[p + 1]!;
      s[o + 2] = n;
    }
  }
}

/** The home slot: a multiplicative mix, as addresses of one block differ in low bits. */
function slotOf(ip: number, tag: number, mask: number): number {
  let h = Math.imul(ip ^ Math.imul(tag, 0x27d4eb2d), 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h & mask;
}
