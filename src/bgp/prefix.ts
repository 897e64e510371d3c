// Prefix and address text <-> wire bytes for the two unicast families BGP carries here.
// `net` has no public index yet, and the codec needs only canonical text (RFC 5952 for
// IPv6) and byte packing, so this small module keeps bgp self-contained; swap to
// `../net/index.js` once it exports equivalent helpers.
import { isIPv4, isIPv6 } from 'node:net';

export type Afi = 1 | 2;
export const AFI_IPV4: Afi = 1;
export const AFI_IPV6: Afi = 2;
export const SAFI_UNICAST = 1;

export type Family = 'ipv4' | 'ipv6';

export function familyOfAfi(afi: Afi): Family {
  return afi === 1 ? 'ipv4' : 'ipv6';
}

export function afiOfFamily(f: Family): Afi {
  return f === 'ipv4' ? 1 : 2;
}

export function familyOfPrefix(prefix: string): Family {
  return prefix.includes(':') ? 'ipv6' : 'ipv4';
}

export function ipv4ToBytes(addr: string, out: Uint8Array, off: number): void {
  if (!isIPv4(addr)) throw new TypeError(`Cannot parse IPv4 address "${addr}"`);
  const parts = addr.split('.');
  for (let i = 0; i < 4; i++) out[off + i] = Number(parts[i]);
}

export function ipv4FromBytes(b: Uint8Array, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

export function ipv4ToNumber(addr: string): number {
  const b = new Uint8Array(4);
  ipv4ToBytes(addr, b, 0);
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

export function ipv6ToBytes(addr: string, out: Uint8Array, off: number): void {
  if (!isIPv6(addr)) throw new TypeError(`Cannot parse IPv6 address "${addr}"`);
  let text = addr;
  const words: number[] = [];
  // An embedded dotted quad (::ffff:1.2.3.4) becomes the last two words.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  let v4: number[] | undefined;
  if (tail.includes('.')) {
    v4 = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split('::');
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const rest = halves.length > 1 ? (halves[1] === '' ? [] : halves[1]!.split(':')) : [];
  for (const h of head) words.push(Number.parseInt(h, 16));
  const fill = 8 - head.length - rest.length;
  for (let i = 0; i < fill && halves.length > 1; i++) words.push(0);
  for (const h of rest) words.push(Number.parseInt(h, 16));
  for (let i = 0; i < 8; i++) {
    out[off + 2 * i] = (words[i]! >> 8) & 0xff;
    out[off + 2 * i + 1] = words[i]! & 0xff;
  }
  if (v4) for (let i = 0; i < 4; i++) out[off + 12 + i] = v4[i]!;
}

/** RFC 5952 canonical text: lower case, longest run (>1) of zero words compressed. */
export function ipv6FromBytes(b: Uint8Array, off: number): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return w.map((x) => x.toString(16)).join(':');
  const left = w
    .slice(0, bestStart)
    .map((x) => x.toString(16))
    .join(':');
  const right = w
    .slice(bestStart + bestLen)
    .map((x) => x.toString(16))
    .join(':');
  return `${left}::${right}`;
}

export function addressToBytes(addr: string): Uint8Array {
  if (addr.includes(':')) {
    const b = new Uint8Array(16);
    ipv6ToBytes(addr, b, 0);
    return b;
  }
  const b = new Uint8Array(4);
  ipv4ToBytes(addr, b, 0);
  return b;
}

export function canonicalAddress(addr: string): string {
  const b = addressToBytes(addr);
  return b.length === 4 ? ipv4FromBytes(b, 0) : ipv6FromBytes(b, 0);
}

export interface ParsedPrefix {
  afi: Afi;
  len: number;
  /** address bytes, host bits cleared */
  bytes: Uint8Array;
  /** RFC 7911 path identifier, sent before the prefix when set */
  pathId?: number;
}

/**
 * With ADD-PATH (RFC 7911) one prefix has several paths: the codec and the Adj-RIBs key
 * such a path as "prefix#pathId", so that plain prefixes cost nothing extra.
 */
export function splitPathKey(key: string): { prefix: string; pathId: number | undefined } {
  const hash = key.indexOf('#');
  if (hash < 0) return { prefix: key, pathId: undefined };
  return { prefix: key.slice(0, hash), pathId: Number(key.slice(hash + 1)) };
}

/** The prefix of a path key ("10.0.0.0/24#3" → "10.0.0.0/24"). */
export function prefixOfKey(key: string): string {
  const hash = key.indexOf('#');
  return hash < 0 ? key : key.slice(0, hash);
}

/** Parses "a.b.c.d/n" or "x::/n" (optionally "#pathId"); host bits are rejected so that one route has one key. */
export function parsePrefix(key: string): ParsedPrefix {
  const hash = key.indexOf('#');
  const text = hash < 0 ? key : key.slice(0, hash);
  if (hash >= 0) {
    const id = Number(key.slice(hash + 1));
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff)
      throw new RangeError(`Path key "${key}": path identifier is not a 32-bit number`);
    const p = parsePrefix(text);
    p.pathId = id;
    return p;
  }
  const slash = text.indexOf('/');
  if (slash < 0) throw new TypeError(`Cannot parse prefix "${text}": missing "/length"`);
  const addr = text.slice(0, slash);
  const lenText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) throw new TypeError(`Cannot parse prefix "${text}": bad length`);
  const len = Number(lenText);
  const bytes = addressToBytes(addr);
  const afi: Afi = bytes.length === 4 ? 1 : 2;
  if (len > bytes.length * 8) throw new RangeError(`Prefix "${text}": length ${len} too long`);
  for (let bit = len; bit < bytes.length * 8; bit++) {
    if (bytes[bit >> 3]! & (0x80 >> (bit & 7))) {
      throw new RangeError(`Prefix "${text}": host bits set beyond /${len}`);
    }
  }
  return { afi, len, bytes };
}

export function formatPrefix(p: ParsedPrefix): string {
  const a = p.afi === 1 ? ipv4FromBytes(p.bytes, 0) : ipv6FromBytes(p.bytes, 0);
  return `${a}/${p.len}`;
}

export function canonicalPrefix(text: string): string {
  return formatPrefix(parsePrefix(text));
}

/** Size of `prefixes` in NLRI encoding (RFC 4271 §4.3: length byte + minimal octets). */
export function nlriSize(p: ParsedPrefix): number {
  return (p.pathId !== undefined ? 5 : 1) + ((p.len + 7) >> 3);
}

export function writeNlri(p: ParsedPrefix, out: Uint8Array, off: number): number {
  if (p.pathId !== undefined) {
    const id = p.pathId >>> 0;
    out[off] = id >>> 24;
    out[off + 1] = (id >> 16) & 0xff;
    out[off + 2] = (id >> 8) & 0xff;
    out[off + 3] = id & 0xff;
    off += 4;
  }
  out[off] = p.len;
  const n = (p.len + 7) >> 3;
  for (let i = 0; i < n; i++) out[off + 1 + i] = p.bytes[i]!;
  return off + 1 + n;
}
