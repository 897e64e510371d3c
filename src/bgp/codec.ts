// BGP-4 message codec: RFC 4271 messages, RFC 2918 ROUTE-REFRESH, RFC 5492 capabilities,
// RFC 4760 MP_REACH/MP_UNREACH with RFC 2545 IPv6 next hops, RFC 6793 4-octet AS and
// AS4_PATH, RFC 4724 graceful restart, RFC 1997/8092 communities, RFC 4456 reflection
// attributes. UPDATE errors follow RFC 7606: the decoder reports treat-as-withdraw and
// attribute-discard in the result and throws BgpError only where a session reset is due.
import { BgpError, ErrCode, HeaderSub, OpenSub, UpdateSub } from './errors.js';
import {
  type Afi,
  ipv4FromBytes,
  ipv4ToBytes,
  ipv6FromBytes,
  ipv6ToBytes,
  nlriSize,
  type ParsedPrefix,
  parsePrefix,
  writeNlri,
} from './prefix.js';

export const HEADER_LEN = 19;
export const MAX_MESSAGE_LEN = 4096;
export const AS_TRANS = 23456;

export const MsgType = {
  Open: 1,
  Update: 2,
  Notification: 3,
  Keepalive: 4,
  RouteRefresh: 5,
} as const;

export const Attr = {
  Origin: 1,
  AsPath: 2,
  NextHop: 3,
  Med: 4,
  LocalPref: 5,
  AtomicAggregate: 6,
  Aggregator: 7,
  Communities: 8,
  OriginatorId: 9,
  ClusterList: 10,
  MpReach: 14,
  MpUnreach: 15,
  As4Path: 17,
  As4Aggregator: 18,
  LargeCommunity: 32,
} as const;

const F_OPTIONAL = 0x80;
const F_TRANSITIVE = 0x40;
const F_PARTIAL = 0x20;
const F_EXTENDED = 0x10;

export const AsSegment = { Set: 1, Sequence: 2, ConfedSequence: 3, ConfedSet: 4 } as const;

export interface AsPathSegment {
  type: number;
  asns: number[];
}

export interface UnknownAttribute {
  flags: number;
  type: number;
  value: Uint8Array;
}

export interface PathAttributes {
  origin?: number;
  asPath?: AsPathSegment[];
  nextHop?: string;
  med?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  aggregator?: { asn: number; address: string };
  communities?: number[];
  largeCommunities?: Array<[number, number, number]>;
  originatorId?: string;
  clusterList?: string[];
  /** optional transitive attributes we don't understand, forwarded with the partial bit */
  unknown?: UnknownAttribute[];
}

export interface MpReach {
  afi: number;
  safi: number;
  /** IPv6: global first, then link-local if the peer sent 32 octets (RFC 2545) */
  nextHops: string[];
  nlri: string[];
}

export interface MpUnreach {
  afi: number;
  safi: number;
  withdrawn: string[];
}

export interface UpdateMessage {
  type: 'update';
  withdrawn: string[];
  attrs: PathAttributes;
  nlri: string[];
  mpReach?: MpReach;
  mpUnreach?: MpUnreach;
  /** set when RFC 7606 says to handle every NLRI of this UPDATE as withdrawn */
  treatAsWithdraw?: string;
  /** attributes dropped under RFC 7606 attribute-discard, for logging */
  discarded?: string[];
}

export interface FamilyId {
  afi: number;
  safi: number;
}

export interface GracefulRestartCap {
  /** R bit: the sender has just restarted */
  restarting: boolean;
  restartTime: number;
  families: Array<FamilyId & { forwarding: boolean }>;
}

export interface AddPathCap {
  families: Array<FamilyId & { sendReceive: number }>;
}

export interface Capabilities {
  multiprotocol: FamilyId[];
  routeRefresh: boolean;
  as4?: number;
  gracefulRestart?: GracefulRestartCap;
  addPath?: AddPathCap;
  unknown: Array<{ code: number; value: Uint8Array }>;
}

export interface OpenMessage {
  type: 'open';
  version: number;
  /** the 2-octet My AS field (AS_TRANS when the real AS needs 4 octets) */
  myAs: number;
  holdTime: number;
  bgpId: string;
  capabilities: Capabilities;
}

export interface NotificationMessage {
  type: 'notification';
  code: number;
  subcode: number;
  data: Uint8Array;
}

export interface KeepaliveMessage {
  type: 'keepalive';
}

export interface RouteRefreshMessage {
  type: 'route-refresh';
  afi: number;
  safi: number;
  /** RFC 7313 subtype; 0 = plain refresh request */
  subtype: number;
}

export type BgpMessage =
  | OpenMessage
  | UpdateMessage
  | NotificationMessage
  | KeepaliveMessage
  | RouteRefreshMessage;

export interface CodecContext {
  /** both sides advertised the 4-octet AS capability */
  as4: boolean;
  /**
   * AFIs whose NLRI we receive with RFC 7911 path identifiers (negotiated ADD-PATH);
   * such prefixes decode as "prefix#pathId"
   */
  addPathRx?: ReadonlySet<number>;
}

export const AS4_CONTEXT: CodecContext = { as4: true };

export function emptyCapabilities(): Capabilities {
  return { multiprotocol: [], routeRefresh: false, unknown: [] };
}

// ---------------------------------------------------------------- header

/**
 * Validates the 19-octet header at the start of `buf` (which holds at least 19 octets)
 * and returns the message length. Errors are RFC 4271 §6.1 header errors.
 */
export function checkHeader(buf: Uint8Array, off = 0): { length: number; type: number } {
  for (let i = 0; i < 16; i++) {
    if (buf[off + i] !== 0xff) {
      throw new BgpError(ErrCode.Header, HeaderSub.NotSynchronized, 'marker is not all ones');
    }
  }
  const length = (buf[off + 16]! << 8) | buf[off + 17]!;
  const type = buf[off + 18]!;
  const badLen = () =>
    new BgpError(
      ErrCode.Header,
      HeaderSub.BadLength,
      `length ${length} invalid for type ${type}`,
      Uint8Array.of(buf[off + 16]!, buf[off + 17]!),
    );
  if (length < HEADER_LEN || length > MAX_MESSAGE_LEN) throw badLen();
  switch (type) {
    case MsgType.Open:
      if (length < 29) throw badLen();
      break;
    case MsgType.Update:
      if (length < 23) throw badLen();
      break;
    case MsgType.Notification:
      if (length < 21) throw badLen();
      break;
    case MsgType.Keepalive:
      if (length !== 19) throw badLen();
      break;
    case MsgType.RouteRefresh:
      if (length !== 23) throw badLen();
      break;
    default:
      throw new BgpError(
        ErrCode.Header,
        HeaderSub.BadType,
        `unknown type ${type}`,
        Uint8Array.of(type),
      );
  }
  return { length, type };
}

/** Decodes one complete message (header included). */
export function decodeMessage(buf: Uint8Array, ctx: CodecContext = AS4_CONTEXT): BgpMessage {
  if (buf.length < HEADER_LEN) {
    throw new BgpError(ErrCode.Header, HeaderSub.BadLength, `only ${buf.length} octets`);
  }
  const { length, type } = checkHeader(buf, 0);
  if (length !== buf.length) {
    throw new BgpError(
      ErrCode.Header,
      HeaderSub.BadLength,
      `header says ${length} octets, got ${buf.length}`,
      Uint8Array.of(buf[16]!, buf[17]!),
    );
  }
  const body = buf.subarray(HEADER_LEN, length);
  switch (type) {
    case MsgType.Open:
      return decodeOpen(body);
    case MsgType.Update:
      return decodeUpdate(body, ctx);
    case MsgType.Notification:
      return {
        type: 'notification',
        code: body[0]!,
        subcode: body[1]!,
        data: new Uint8Array(body.subarray(2)),
      };
    case MsgType.Keepalive:
      return { type: 'keepalive' };
    default:
      return {
        type: 'route-refresh',
        afi: (body[0]! << 8) | body[1]!,
        subtype: body[2]!,
        safi: body[3]!,
      };
  }
}

function frame(type: number, body: Uint8Array): Buffer {
  const len = HEADER_LEN + body.length;
  if (len > MAX_MESSAGE_LEN) throw new RangeError(`BGP message of ${len} octets exceeds 4096`);
  const out = Buffer.allocUnsafe(len);
  out.fill(0xff, 0, 16);
  out.writeUInt16BE(len, 16);
  out[18] = type;
  out.set(body, HEADER_LEN);
  return out;
}

// ---------------------------------------------------------------- OPEN

function openErr(sub: number, msg: string, data?: Uint8Array): BgpError {
  return new BgpError(ErrCode.Open, sub, msg, data);
}

function decodeOpen(b: Uint8Array): OpenMessage {
  const version = b[0]!;
  if (version !== 4) {
    throw openErr(OpenSub.UnsupportedVersion, `version ${version}`, Uint8Array.of(0, 4));
  }
  const myAs = (b[1]! << 8) | b[2]!;
  const holdTime = (b[3]! << 8) | b[4]!;
  const bgpId = ipv4FromBytes(b, 5);
  const optLen = b[9]!;
  if (10 + optLen !== b.length) {
    throw new BgpError(
      ErrCode.Header,
      HeaderSub.BadLength,
      `OPEN optional parameters length ${optLen} disagrees with message length`,
    );
  }
  const caps = emptyCapabilities();
  let p = 10;
  while (p < b.length) {
    if (p + 2 > b.length) throw openErr(OpenSub.Unspecific, 'truncated optional parameter');
    const ptype = b[p]!;
    const plen = b[p + 1]!;
    const end = p + 2 + plen;
    if (end > b.length) throw openErr(OpenSub.Unspecific, 'optional parameter overruns OPEN');
    if (ptype !== 2) {
      throw openErr(
        OpenSub.UnsupportedOptionalParam,
        `optional parameter type ${ptype}`,
        b.slice(p, end),
      );
    }
    decodeCapabilities(b.subarray(p + 2, end), caps);
    p = end;
  }
  return { type: 'open', version, myAs, holdTime, bgpId, capabilities: caps };
}

function decodeCapabilities(b: Uint8Array, caps: Capabilities): void {
  let p = 0;
  while (p < b.length) {
    if (p + 2 > b.length) throw openErr(OpenSub.Unspecific, 'truncated capability');
    const code = b[p]!;
    const len = b[p + 1]!;
    const v = b.subarray(p + 2, p + 2 + len);
    if (v.length !== len) throw openErr(OpenSub.Unspecific, `capability ${code} overruns`);
    const bad = () => openErr(OpenSub.Unspecific, `capability ${code} has length ${len}`);
    switch (code) {
      case 1:
        if (len !== 4) throw bad();
        caps.multiprotocol.push({ afi: (v[0]! << 8) | v[1]!, safi: v[3]! });
        break;
      case 2:
      case 128: // pre-standard route refresh code some peers still send
        caps.routeRefresh = true;
        break;
      case 65:
        if (len !== 4) throw bad();
        caps.as4 = ((v[0]! << 24) | (v[1]! << 16) | (v[2]! << 8) | v[3]!) >>> 0;
        break;
      case 64: {
        if (len < 2 || (len - 2) % 4 !== 0) throw bad();
        const gr: GracefulRestartCap = {
          restarting: (v[0]! & 0x80) !== 0,
          restartTime: ((v[0]! & 0x0f) << 8) | v[1]!,
          families: [],
        };
        for (let i = 2; i < len; i += 4) {
          gr.families.push({
            afi: (v[i]! << 8) | v[i + 1]!,
            safi: v[i + 2]!,
            forwarding: (v[i + 3]! & 0x80) !== 0,
          });
        }
        caps.gracefulRestart = gr;
        break;
      }
      case 69: {
        if (len % 4 !== 0) throw bad();
        const ap: AddPathCap = { families: [] };
        for (let i = 0; i < len; i += 4) {
          ap.families.push({
            afi: (v[i]! << 8) | v[i + 1]!,
            safi: v[i + 2]!,
            sendReceive: v[i + 3]!,
          });
        }
        caps.addPath = ap;
        break;
      }
      default:
        caps.unknown.push({ code, value: new Uint8Array(v) });
    }
    p += 2 + len;
  }
}

export interface OpenParams {
  localAs: number;
  holdTime: number;
  bgpId: string;
  families: FamilyId[];
  routeRefresh?: boolean;
  gracefulRestart?: GracefulRestartCap;
  addPath?: AddPathCap;
}

export function encodeOpen(o: OpenParams): Buffer {
  const caps: number[] = [];
  const cap = (code: number, value: number[]) => caps.push(code, value.length, ...value);
  for (const f of o.families) cap(1, [f.afi >> 8, f.afi & 0xff, 0, f.safi]);
  if (o.routeRefresh !== false) cap(2, []);
  const as = o.localAs >>> 0;
  cap(65, [as >>> 24, (as >> 16) & 0xff, (as >> 8) & 0xff, as & 0xff]);
  if (o.gracefulRestart) {
    const g = o.gracefulRestart;
    const v = [(g.restarting ? 0x80 : 0) | ((g.restartTime >> 8) & 0x0f), g.restartTime & 0xff];
    for (const f of g.families) v.push(f.afi >> 8, f.afi & 0xff, f.safi, f.forwarding ? 0x80 : 0);
    cap(64, v);
  }
  if (o.addPath && o.addPath.families.length > 0) {
    const v: number[] = [];
    for (const f of o.addPath.families) v.push(f.afi >> 8, f.afi & 0xff, f.safi, f.sendReceive);
    cap(69, v);
  }
  // One capability per optional parameter, as RFC 5492 recommends for interop.
  const params: number[] = [];
  for (let i = 0; i < caps.length; ) {
    const len = caps[i + 1]! + 2;
    params.push(2, len, ...caps.slice(i, i + len));
    i += len;
  }
  if (params.length > 255) throw new RangeError('OPEN optional parameters exceed 255 octets');
  const body = new Uint8Array(10 + params.length);
  body[0] = 4;
  const myAs = as > 0xffff ? AS_TRANS : as;
  body[1] = myAs >> 8;
  body[2] = myAs & 0xff;
  body[3] = o.holdTime >> 8;
  body[4] = o.holdTime & 0xff;
  ipv4ToBytes(o.bgpId, body, 5);
  body[9] = params.length;
  body.set(params, 10);
  return frame(MsgType.Open, body);
}

// ---------------------------------------------------------------- small messages

export function encodeKeepalive(): Buffer {
  return frame(MsgType.Keepalive, new Uint8Array(0));
}

export function encodeNotification(code: number, subcode: number, data?: Uint8Array): Buffer {
  const d = data ?? new Uint8Array(0);
  const body = new Uint8Array(2 + Math.min(d.length, MAX_MESSAGE_LEN - HEADER_LEN - 2));
  body[0] = code;
  body[1] = subcode;
  body.set(d.subarray(0, body.length - 2), 2);
  return frame(MsgType.Notification, body);
}

export function encodeRouteRefresh(afi: number, safi: number, subtype = 0): Buffer {
  return frame(MsgType.RouteRefresh, Uint8Array.of(afi >> 8, afi & 0xff, subtype, safi));
}

// ---------------------------------------------------------------- NLRI

const textScratch = Buffer.allocUnsafe(24);

function putDecimal(n: number, at: number): number {
  if (n >= 100) textScratch[at++] = 48 + Math.floor(n / 100);
  if (n >= 10) textScratch[at++] = 48 + (Math.floor(n / 10) % 10);
  textScratch[at++] = 48 + (n % 10);
  return at;
}

/**
 * "a.b.c.d/len" as one flat string. Template literals build rope (cons) strings in V8,
 * and with 100k prefixes kept as RIB keys the rope nodes cost more than the text.
 */
function flatV4Prefix(v: number, len: number): string {
  let at = putDecimal(v >>> 24, 0);
  textScratch[at++] = 46;
  at = putDecimal((v >>> 16) & 0xff, at);
  textScratch[at++] = 46;
  at = putDecimal((v >>> 8) & 0xff, at);
  textScratch[at++] = 46;
  at = putDecimal(v & 0xff, at);
  textScratch[at++] = 47;
  at = putDecimal(len, at);
  return textScratch.toString('latin1', 0, at);
}

/** Decodes prefixes in b[start,end); throws `err` on any malformation (RFC 7606 §5.3). */
function decodePrefixes(
  b: Uint8Array,
  start: number,
  end: number,
  afi: Afi,
  out: string[],
  err: () => BgpError,
  addPath = false,
): void {
  const max = afi === 1 ? 32 : 128;
  let p = start;
  const tmp = new Uint8Array(16);
  const first = out.length;
  const ids: number[] = [];
  while (p < end) {
    if (addPath) {
      if (p + 4 > end) throw err();
      ids.push(u32(b, p));
      p += 4;
      if (p >= end) throw err();
    }
    const len = b[p]!;
    if (len > max) throw err();
    const n = (len + 7) >> 3;
    if (p + 1 + n > end) throw err();
    if (afi === 1) {
      // Hot path for large tables: build the text directly without a scratch copy.
      const a0 = n > 0 ? b[p + 1]! : 0;
      const a1 = n > 1 ? b[p + 2]! : 0;
      const a2 = n > 2 ? b[p + 3]! : 0;
      let a3 = n > 3 ? b[p + 4]! : 0;
      // Trailing bits beyond the length are ignored per RFC 4271, so mask them off to
      // keep one key per route.
      let v = ((a0 << 24) | (a1 << 16) | (a2 << 8) | a3) >>> 0;
      if (len < 32) v = (v & ~(0xffffffff >>> len)) >>> 0;
      a3 = v & 0xff;
      out.push(flatV4Prefix(v, len));
    } else {
      tmp.fill(0);
      for (let i = 0; i < n; i++) tmp[i] = b[p + 1 + i]!;
      if (len & 7) tmp[n - 1] = tmp[n - 1]! & (0xff << (8 - (len & 7)));
      out.push(`${ipv6FromBytes(tmp, 0)}/${len}`);
    }
    p += 1 + n;
  }
  if (addPath) for (let k = 0; k < ids.length; k++) out[first + k] = `${out[first + k]}#${ids[k]}`;
}

// ---------------------------------------------------------------- UPDATE decode

const ATTR_NAMES: Record<number, string> = {
  1: 'ORIGIN',
  2: 'AS_PATH',
  3: 'NEXT_HOP',
  4: 'MULTI_EXIT_DISC',
  5: 'LOCAL_PREF',
  6: 'ATOMIC_AGGREGATE',
  7: 'AGGREGATOR',
  8: 'COMMUNITIES',
  9: 'ORIGINATOR_ID',
  10: 'CLUSTER_LIST',
  14: 'MP_REACH_NLRI',
  15: 'MP_UNREACH_NLRI',
  17: 'AS4_PATH',
  18: 'AS4_AGGREGATOR',
  32: 'LARGE_COMMUNITY',
};

/** Expected Optional/Transitive bits for attributes we know. */
const EXPECTED_FLAGS: Record<number, number> = {
  1: F_TRANSITIVE,
  2: F_TRANSITIVE,
  3: F_TRANSITIVE,
  4: F_OPTIONAL,
  5: F_TRANSITIVE,
  6: F_TRANSITIVE,
  7: F_OPTIONAL | F_TRANSITIVE,
  8: F_OPTIONAL | F_TRANSITIVE,
  9: F_OPTIONAL,
  10: F_OPTIONAL,
  14: F_OPTIONAL,
  15: F_OPTIONAL,
  17: F_OPTIONAL | F_TRANSITIVE,
  18: F_OPTIONAL | F_TRANSITIVE,
  32: F_OPTIONAL | F_TRANSITIVE,
};

function updErr(sub: number, msg: string, data?: Uint8Array): BgpError {
  return new BgpError(ErrCode.Update, sub, msg, data);
}

function u32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
}

function decodeAsPath(v: Uint8Array, width: 2 | 4): AsPathSegment[] | undefined {
  const segs: AsPathSegment[] = [];
  let p = 0;
  while (p < v.length) {
    if (p + 2 > v.length) return undefined;
    const type = v[p]!;
    const count = v[p + 1]!;
    if (type < 1 || type > 4 || count === 0) return undefined;
    if (p + 2 + count * width > v.length) return undefined;
    const asns: number[] = [];
    for (let i = 0; i < count; i++) {
      const q = p + 2 + i * width;
      asns.push(width === 4 ? u32(v, q) : (v[q]! << 8) | v[q + 1]!);
    }
    segs.push({ type, asns });
    p += 2 + count * width;
  }
  return segs;
}

/** Number of ASes an AS_PATH counts for in best-path selection (RFC 4271 §9.1.2.2). */
export function asPathLength(segs: AsPathSegment[] | undefined): number {
  let n = 0;
  for (const s of segs ?? []) {
    if (s.type === AsSegment.Sequence) n += s.asns.length;
    else if (s.type === AsSegment.Set) n += 1;
  }
  return n;
}

/** RFC 6793 §4.2.3: rebuild the real path from AS_PATH (2-octet) and AS4_PATH. */
function mergeAs4Path(asPath: AsPathSegment[], as4: AsPathSegment[]): AsPathSegment[] {
  const n2 = asPathLength(asPath);
  const n4 = asPathLength(as4);
  if (n4 > n2) return asPath;
  // Keep the leading (n2 - n4) ASes of AS_PATH, then append AS4_PATH.
  let keep = n2 - n4;
  const out: AsPathSegment[] = [];
  for (const s of asPath) {
    if (keep <= 0) break;
    if (s.type === AsSegment.Sequence) {
      const take = s.asns.slice(0, keep);
      out.push({ type: s.type, asns: take });
      keep -= take.length;
    } else if (s.type === AsSegment.Set) {
      out.push(s);
      keep -= 1;
    } else {
      out.push(s);
    }
  }
  return [...out, ...as4];
}

function decodeUpdate(b: Uint8Array, ctx: CodecContext): UpdateMessage {
  const wlen = (b[0]! << 8) | b[1]!;
  if (2 + wlen + 2 > b.length) {
    throw updErr(UpdateSub.MalformedAttributeList, `withdrawn length ${wlen} overruns UPDATE`);
  }
  const withdrawn: string[] = [];
  const addPath4 = ctx.addPathRx?.has(1) === true;
  decodePrefixes(
    b,
    2,
    2 + wlen,
    1,
    withdrawn,
    () => updErr(UpdateSub.InvalidNetwork, 'malformed withdrawn routes field'),
    addPath4,
  );
  const aStart = 4 + wlen;
  const alen = (b[aStart - 2]! << 8) | b[aStart - 1]!;
  const aEnd = aStart + alen;
  if (aEnd > b.length) {
    throw updErr(UpdateSub.MalformedAttributeList, `attribute length ${alen} overruns UPDATE`);
  }
  const nlri: string[] = [];
  decodePrefixes(
    b,
    aEnd,
    b.length,
    1,
    nlri,
    () => updErr(UpdateSub.InvalidNetwork, 'malformed NLRI field'),
    addPath4,
  );

  const u: UpdateMessage = { type: 'update', withdrawn, attrs: {}, nlri };
  const attrs = u.attrs;
  const seen = new Set<number>();
  const withdrawAll = (why: string) => {
    if (!u.treatAsWithdraw) u.treatAsWithdraw = why;
  };
  const discard = (why: string) => {
    u.discarded ??= [];
    u.discarded.push(why);
  };
  let as4Path: AsPathSegment[] | undefined;
  let as4Aggregator: { asn: number; address: string } | undefined;
  const width: 2 | 4 = ctx.as4 ? 4 : 2;

  let p = aStart;
  while (p < aEnd) {
    if (p + 3 > aEnd) {
      // RFC 7606 §4: a truncated attribute header still lets us find the NLRI field,
      // but a missing MP attribute could hide more NLRI, so only then reset.
      if (nlri.length === 0 && !u.mpReach && !u.mpUnreach && alen > 0 && withdrawn.length === 0) {
        throw updErr(UpdateSub.MalformedAttributeList, 'truncated attribute header');
      }
      withdrawAll('truncated attribute header');
      break;
    }
    const flags = b[p]!;
    const type = b[p + 1]!;
    const ext = (flags & F_EXTENDED) !== 0;
    if (ext && p + 4 > aEnd) {
      withdrawAll('truncated attribute header');
      break;
    }
    const len = ext ? (b[p + 2]! << 8) | b[p + 3]! : b[p + 2]!;
    const vStart = p + (ext ? 4 : 3);
    const vEnd = vStart + len;
    const name = ATTR_NAMES[type] ?? `attribute ${type}`;
    if (vEnd > aEnd) {
      if (nlri.length === 0 && !u.mpReach && !u.mpUnreach && withdrawn.length === 0) {
        throw updErr(UpdateSub.MalformedAttributeList, `${name} overruns the attribute list`);
      }
      withdrawAll(`${name} overruns the attribute list`);
      break;
    }
    const whole = b.subarray(p, vEnd);
    const v = b.subarray(vStart, vEnd);
    p = vEnd;

    if (seen.has(type)) {
      // RFC 7606 §3 g: repeated MP attributes are fatal; other repeats are dropped.
      if (type === Attr.MpReach || type === Attr.MpUnreach) {
        throw updErr(UpdateSub.MalformedAttributeList, `${name} appears twice`);
      }
      discard(`repeated ${name}`);
      continue;
    }
    seen.add(type);

    const expected = EXPECTED_FLAGS[type];
    if (expected === undefined) {
      if ((flags & F_OPTIONAL) === 0) {
        throw updErr(UpdateSub.UnrecognizedWellKnown, `unrecognized well-known ${name}`, whole);
      }
      if (flags & F_TRANSITIVE) {
        attrs.unknown ??= [];
        attrs.unknown.push({ flags, type, value: new Uint8Array(v) });
      }
      continue;
    }
    const flagsOk = (flags & (F_OPTIONAL | F_TRANSITIVE)) === expected;

    switch (type) {
      case Attr.MpReach:
      case Attr.MpUnreach: {
        // RFC 7606 §7.11: we cannot trust any NLRI if these are malformed: reset.
        if (!flagsOk) throw updErr(UpdateSub.AttributeFlags, `${name} flags`, whole);
        decodeMp(type, v, whole, u, ctx);
        break;
      }
      case Attr.Origin:
        if (!flagsOk || len !== 1) withdrawAll(`malformed ORIGIN`);
        else if (v[0]! > 2) withdrawAll(`ORIGIN value ${v[0]}`);
        else attrs.origin = v[0]!;
        break;
      case Attr.AsPath: {
        const segs = flagsOk ? decodeAsPath(v, width) : undefined;
        if (!segs) withdrawAll('malformed AS_PATH');
        else attrs.asPath = segs;
        break;
      }
      case Attr.NextHop:
        if (!flagsOk || len !== 4) withdrawAll('malformed NEXT_HOP');
        else attrs.nextHop = ipv4FromBytes(v, 0);
        break;
      case Attr.Med:
        if (!flagsOk || len !== 4) withdrawAll('malformed MULTI_EXIT_DISC');
        else attrs.med = u32(v, 0);
        break;
      case Attr.LocalPref:
        if (!flagsOk || len !== 4) withdrawAll('malformed LOCAL_PREF');
        else attrs.localPref = u32(v, 0);
        break;
      case Attr.AtomicAggregate:
        if (!flagsOk || len !== 0) discard('malformed ATOMIC_AGGREGATE');
        else attrs.atomicAggregate = true;
        break;
      case Attr.Aggregator: {
        const want = width + 4;
        if (!flagsOk || len !== want) discard('malformed AGGREGATOR');
        else
          attrs.aggregator = {
            asn: width === 4 ? u32(v, 0) : (v[0]! << 8) | v[1]!,
            address: ipv4FromBytes(v, width),
          };
        break;
      }
      case Attr.Communities:
        if (!flagsOk || len % 4 !== 0) withdrawAll('malformed COMMUNITIES');
        else {
          const cs: number[] = [];
          for (let i = 0; i < len; i += 4) cs.push(u32(v, i));
          attrs.communities = cs;
        }
        break;
      case Attr.LargeCommunity:
        if (!flagsOk || len % 12 !== 0 || len === 0) withdrawAll('malformed LARGE_COMMUNITY');
        else {
          const cs: Array<[number, number, number]> = [];
          for (let i = 0; i < len; i += 12) cs.push([u32(v, i), u32(v, i + 4), u32(v, i + 8)]);
          attrs.largeCommunities = cs;
        }
        break;
      case Attr.OriginatorId:
        if (!flagsOk || len !== 4) withdrawAll('malformed ORIGINATOR_ID');
        else attrs.originatorId = ipv4FromBytes(v, 0);
        break;
      case Attr.ClusterList:
        if (!flagsOk || len % 4 !== 0 || len === 0) withdrawAll('malformed CLUSTER_LIST');
        else {
          const ids: string[] = [];
          for (let i = 0; i < len; i += 4) ids.push(ipv4FromBytes(v, i));
          attrs.clusterList = ids;
        }
        break;
      case Attr.As4Path: {
        // RFC 6793 §6 / RFC 7606 §7.2: a bad AS4_PATH is discarded, never fatal.
        const segs = flagsOk ? decodeAsPath(v, 4) : undefined;
        if (!segs) discard('malformed AS4_PATH');
        else if (!ctx.as4) as4Path = segs;
        break;
      }
      case Attr.As4Aggregator:
        if (!flagsOk || len !== 8) discard('malformed AS4_AGGREGATOR');
        else if (!ctx.as4) as4Aggregator = { asn: u32(v, 0), address: ipv4FromBytes(v, 4) };
        break;
    }
  }

  if (as4Path && attrs.asPath) {
    if (attrs.aggregator && attrs.aggregator.asn !== AS_TRANS) {
      // RFC 6793 §4.2.3: a 2-octet aggregator that isn't AS_TRANS means AS4 data is stale.
    } else {
      attrs.asPath = mergeAs4Path(attrs.asPath, as4Path);
      if (as4Aggregator) attrs.aggregator = as4Aggregator;
    }
  }

  // RFC 7606 §3 d: a missing mandatory attribute is treat-as-withdraw when there is
  // something to announce.
  const announces = nlri.length > 0 || (u.mpReach?.nlri.length ?? 0) > 0;
  if (announces && !u.treatAsWithdraw) {
    if (attrs.origin === undefined) withdrawAll('missing ORIGIN');
    else if (attrs.asPath === undefined) withdrawAll('missing AS_PATH');
    else if (nlri.length > 0 && attrs.nextHop === undefined) withdrawAll('missing NEXT_HOP');
  }
  return u;
}

function decodeMp(
  type: number,
  v: Uint8Array,
  whole: Uint8Array,
  u: UpdateMessage,
  ctx: CodecContext,
): void {
  const bad = (why: string) => updErr(UpdateSub.OptionalAttribute, why, whole);
  if (v.length < 3) throw bad('MP attribute too short');
  const afi = (v[0]! << 8) | v[1]!;
  const safi = v[2]!;
  const known = (afi === 1 || afi === 2) && safi === 1;
  const addPath = known && ctx.addPathRx?.has(afi) === true;
  if (type === Attr.MpUnreach) {
    const withdrawn: string[] = [];
    if (known) {
      decodePrefixes(
        v,
        3,
        v.length,
        afi as Afi,
        withdrawn,
        () => bad('malformed MP_UNREACH_NLRI prefixes'),
        addPath,
      );
    }
    u.mpUnreach = { afi, safi, withdrawn };
    return;
  }
  if (v.length < 5) throw bad('MP_REACH_NLRI too short');
  const nhLen = v[3]!;
  const nlriStart = 4 + nhLen + 1;
  if (nlriStart > v.length) throw bad('MP_REACH_NLRI next hop overruns');
  const nextHops: string[] = [];
  const nlri: string[] = [];
  if (known) {
    if (afi === 2) {
      if (nhLen !== 16 && nhLen !== 32) throw bad(`IPv6 next hop length ${nhLen}`);
      nextHops.push(ipv6FromBytes(v, 4));
      if (nhLen === 32) nextHops.push(ipv6FromBytes(v, 20));
    } else {
      if (nhLen !== 4) throw bad(`IPv4 next hop length ${nhLen}`);
      nextHops.push(ipv4FromBytes(v, 4));
    }
    decodePrefixes(
      v,
      nlriStart,
      v.length,
      afi as Afi,
      nlri,
      () => bad('malformed MP_REACH_NLRI prefixes'),
      addPath,
    );
  }
  u.mpReach = { afi, safi, nextHops, nlri };
}

// ---------------------------------------------------------------- UPDATE encode

function attrHeader(out: number[], flags: number, type: number, len: number): void {
  if (len > 255) out.push(flags | F_EXTENDED, type, len >> 8, len & 0xff);
  else out.push(flags, type, len);
}

function encodeAsPathValue(segs: AsPathSegment[], width: 2 | 4): number[] {
  const v: number[] = [];
  for (const s of segs) {
    // Segments hold at most 255 ASes; long ones are split (RFC 4271 §5.1.2).
    for (let i = 0; i < s.asns.length; i += 255) {
      const chunk = s.asns.slice(i, i + 255);
      v.push(s.type, chunk.length);
      for (const a of chunk) {
        if (width === 4) v.push(a >>> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
        else {
          const x = a > 0xffff ? AS_TRANS : a;
          v.push(x >> 8, x & 0xff);
        }
      }
    }
  }
  return v;
}

function pushU32(v: number[], x: number): void {
  v.push(x >>> 24, (x >> 16) & 0xff, (x >> 8) & 0xff, x & 0xff);
}

function pushV4(v: number[], a: string): void {
  const t = new Uint8Array(4);
  ipv4ToBytes(a, t, 0);
  v.push(...t);
}

/**
 * Encodes the path attributes except MP_REACH/MP_UNREACH. The result is reused for
 * every UPDATE that carries the same attributes to the same peer.
 */
export function encodeAttributes(
  a: PathAttributes,
  ctx: CodecContext,
  ipv4Nlri: boolean,
): number[] {
  const out: number[] = [];
  const width: 2 | 4 = ctx.as4 ? 4 : 2;
  const put = (flags: number, type: number, v: number[]) => {
    attrHeader(out, flags, type, v.length);
    for (const x of v) out.push(x);
  };
  put(F_TRANSITIVE, Attr.Origin, [a.origin ?? 0]);
  const path = a.asPath ?? [];
  put(F_TRANSITIVE, Attr.AsPath, encodeAsPathValue(path, width));
  if (ipv4Nlri && a.nextHop) {
    const v: number[] = [];
    pushV4(v, a.nextHop);
    put(F_TRANSITIVE, Attr.NextHop, v);
  }
  if (a.med !== undefined) {
    const v: number[] = [];
    pushU32(v, a.med);
    put(F_OPTIONAL, Attr.Med, v);
  }
  if (a.localPref !== undefined) {
    const v: number[] = [];
    pushU32(v, a.localPref);
    put(F_TRANSITIVE, Attr.LocalPref, v);
  }
  if (a.atomicAggregate) put(F_TRANSITIVE, Attr.AtomicAggregate, []);
  if (a.aggregator) {
    const v: number[] = [];
    const asn = a.aggregator.asn;
    if (width === 4) pushU32(v, asn);
    else {
      const x = asn > 0xffff ? AS_TRANS : asn;
      v.push(x >> 8, x & 0xff);
    }
    pushV4(v, a.aggregator.address);
    put(F_OPTIONAL | F_TRANSITIVE, Attr.Aggregator, v);
  }
  if (a.communities && a.communities.length > 0) {
    const v: number[] = [];
    for (const c of a.communities) pushU32(v, c);
    put(F_OPTIONAL | F_TRANSITIVE, Attr.Communities, v);
  }
  if (a.originatorId) {
    const v: number[] = [];
    pushV4(v, a.originatorId);
    put(F_OPTIONAL, Attr.OriginatorId, v);
  }
  if (a.clusterList && a.clusterList.length > 0) {
    const v: number[] = [];
    for (const c of a.clusterList) pushV4(v, c);
    put(F_OPTIONAL, Attr.ClusterList, v);
  }
  if (!ctx.as4) {
    // RFC 6793 §4.2.2: carry the real path for a 2-octet peer when it doesn't fit.
    const needs = path.some((s) => s.asns.some((x) => x > 0xffff));
    if (needs) put(F_OPTIONAL | F_TRANSITIVE, Attr.As4Path, encodeAsPathValue(path, 4));
    if (a.aggregator && a.aggregator.asn > 0xffff) {
      const v: number[] = [];
      pushU32(v, a.aggregator.asn);
      pushV4(v, a.aggregator.address);
      put(F_OPTIONAL | F_TRANSITIVE, Attr.As4Aggregator, v);
    }
  }
  if (a.largeCommunities && a.largeCommunities.length > 0) {
    const v: number[] = [];
    for (const [g, l1, l2] of a.largeCommunities) {
      pushU32(v, g);
      pushU32(v, l1);
      pushU32(v, l2);
    }
    put(F_OPTIONAL | F_TRANSITIVE, Attr.LargeCommunity, v);
  }
  for (const u of a.unknown ?? []) {
    put((u.flags & ~F_EXTENDED) | F_PARTIAL, u.type, [...u.value]);
  }
  return out;
}

function mpNextHopBytes(afi: Afi, nextHops: string[]): number[] {
  const out: number[] = [];
  for (const nh of nextHops) {
    const t = new Uint8Array(afi === 1 ? 4 : 16);
    if (afi === 1) ipv4ToBytes(nh, t, 0);
    else ipv6ToBytes(nh, t, 0);
    out.push(...t);
  }
  return out;
}

/** Builds one UPDATE from already-encoded pieces. */
function buildUpdate(
  withdrawnV4: Uint8Array,
  attrs: number[] | Uint8Array,
  nlriV4: Uint8Array,
): Buffer {
  const body = new Uint8Array(4 + withdrawnV4.length + attrs.length + nlriV4.length);
  body[0] = withdrawnV4.length >> 8;
  body[1] = withdrawnV4.length & 0xff;
  body.set(withdrawnV4, 2);
  const a = 2 + withdrawnV4.length;
  body[a] = attrs.length >> 8;
  body[a + 1] = attrs.length & 0xff;
  body.set(attrs, a + 2);
  body.set(nlriV4, a + 2 + attrs.length);
  return frame(MsgType.Update, body);
}

function packPrefixes(prefixes: ParsedPrefix[], room: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let cur: ParsedPrefix[] = [];
  let size = 0;
  const flush = () => {
    const buf = new Uint8Array(size);
    let o = 0;
    for (const p of cur) o = writeNlri(p, buf, o);
    chunks.push(buf);
    cur = [];
    size = 0;
  };
  for (const p of prefixes) {
    const s = nlriSize(p);
    if (size + s > room) flush();
    cur.push(p);
    size += s;
  }
  if (cur.length > 0) flush();
  return chunks;
}

/**
 * UPDATEs announcing `prefixes` (all of one family) with `attrs`; IPv6 goes in
 * MP_REACH_NLRI with `nextHops` (global, optionally link-local). Splits to fit 4096.
 */
export function encodeAnnounce(
  afi: Afi,
  prefixes: string[],
  attrs: PathAttributes,
  ctx: CodecContext,
  nextHops?: string[],
): Buffer[] {
  const parsed = prefixes.map(parsePrefix);
  const base = encodeAttributes(attrs, ctx, afi === 1);
  const out: Buffer[] = [];
  if (afi === 1) {
    const room = MAX_MESSAGE_LEN - HEADER_LEN - 4 - base.length;
    for (const chunk of packPrefixes(parsed, room)) {
      out.push(buildUpdate(new Uint8Array(0), base, chunk));
    }
    return out;
  }
  const nh = mpNextHopBytes(afi, nextHops ?? []);
  // MP_REACH with extended length: 4 header + 2 afi + 1 safi + 1 nhlen + nh + 1 reserved.
  const room = MAX_MESSAGE_LEN - HEADER_LEN - 4 - base.length - (4 + 5 + nh.length);
  for (const chunk of packPrefixes(parsed, room)) {
    const v = [0, afi, 1, nh.length, ...nh, 0];
    const attrsAll = [...base];
    const len = v.length + chunk.length;
    attrsAll.push(F_OPTIONAL | F_EXTENDED, Attr.MpReach, len >> 8, len & 0xff, ...v);
    for (const x of chunk) attrsAll.push(x);
    out.push(buildUpdate(new Uint8Array(0), attrsAll, new Uint8Array(0)));
  }
  return out;
}

/** UPDATEs withdrawing `prefixes` (all of one family). */
export function encodeWithdraw(afi: Afi, prefixes: string[]): Buffer[] {
  const parsed = prefixes.map(parsePrefix);
  const out: Buffer[] = [];
  if (afi === 1) {
    for (const chunk of packPrefixes(parsed, MAX_MESSAGE_LEN - HEADER_LEN - 4)) {
      out.push(buildUpdate(chunk, [], new Uint8Array(0)));
    }
    return out;
  }
  for (const chunk of packPrefixes(parsed, MAX_MESSAGE_LEN - HEADER_LEN - 4 - 7)) {
    const len = 3 + chunk.length;
    const attrs = [F_OPTIONAL | F_EXTENDED, Attr.MpUnreach, len >> 8, len & 0xff, 0, afi, 1];
    for (const x of chunk) attrs.push(x);
    out.push(buildUpdate(new Uint8Array(0), attrs, new Uint8Array(0)));
  }
  return out;
}

/** RFC 4724 §2 End-of-RIB marker. */
export function encodeEndOfRib(afi: Afi): Buffer {
  if (afi === 1) return buildUpdate(new Uint8Array(0), [], new Uint8Array(0));
  return buildUpdate(
    new Uint8Array(0),
    [F_OPTIONAL, Attr.MpUnreach, 3, 0, afi, 1],
    new Uint8Array(0),
  );
}

/** The family whose End-of-RIB this UPDATE is, if it is one. */
export function endOfRibFamily(u: UpdateMessage): Afi | undefined {
  const noAttrs =
    u.attrs.origin === undefined && u.attrs.asPath === undefined && u.attrs.nextHop === undefined;
  if (u.withdrawn.length === 0 && u.nlri.length === 0 && !u.mpReach && noAttrs) {
    if (!u.mpUnreach) return 1;
    if (u.mpUnreach.withdrawn.length === 0 && u.mpUnreach.safi === 1) {
      if (u.mpUnreach.afi === 1 || u.mpUnreach.afi === 2) return u.mpUnreach.afi as Afi;
    }
  }
  return undefined;
}

/** Encodes any decoded message again (used by tests and by the raw test peer). */
export function encodeUpdateMessage(u: UpdateMessage, ctx: CodecContext): Buffer {
  const w: number[] = [];
  for (const p of u.withdrawn) {
    const pp = parsePrefix(p);
    const t = new Uint8Array(nlriSize(pp));
    writeNlri(pp, t, 0);
    w.push(...t);
  }
  const n: number[] = [];
  for (const p of u.nlri) {
    const pp = parsePrefix(p);
    const t = new Uint8Array(nlriSize(pp));
    writeNlri(pp, t, 0);
    n.push(...t);
  }
  const hasAttrs = u.nlri.length > 0 || u.mpReach !== undefined;
  const attrs = hasAttrs ? encodeAttributes(u.attrs, ctx, u.nlri.length > 0) : [];
  const mp = (type: number, afi: number, safi: number, extra: number[], list: string[]) => {
    const v = [afi >> 8, afi & 0xff, safi, ...extra];
    for (const p of list) {
      const pp = parsePrefix(p);
      const t = new Uint8Array(nlriSize(pp));
      writeNlri(pp, t, 0);
      v.push(...t);
    }
    attrHeader(attrs, F_OPTIONAL, type, v.length);
    attrs.push(...v);
  };
  if (u.mpReach) {
    const nh = mpNextHopBytes(u.mpReach.afi as Afi, u.mpReach.nextHops);
    mp(Attr.MpReach, u.mpReach.afi, u.mpReach.safi, [nh.length, ...nh, 0], u.mpReach.nlri);
  }
  if (u.mpUnreach) mp(Attr.MpUnreach, u.mpUnreach.afi, u.mpUnreach.safi, [], u.mpUnreach.withdrawn);
  return buildUpdate(Uint8Array.from(w), attrs, Uint8Array.from(n));
}
