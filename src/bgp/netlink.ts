// RouteProgrammer that speaks rtnetlink itself over one in-process socket (the `netlink`
// package provides the socket only; messages are encoded here). Each tick's changes go
// out as a few datagrams of many RTM_NEWROUTE/RTM_DELROUTE messages without per-message
// ACKs: the kernel still answers failures with NLMSG_ERROR, which we count and log. This
// is what lets 100k routes install at BIRD-like cost; `ip -batch` pays a process
// round trip per route.
import { createRequire } from 'node:module';
import { listKernelRoutes } from './kernel.js';
import { addressToBytes } from './prefix.js';
import type { Logger, RouteProgrammer } from './types.js';

const RTM_NEWROUTE = 24;
const RTM_DELROUTE = 25;
const NLMSG_ERROR = 2;
const NLM_F_REQUEST = 0x1;
const NLM_F_REPLACE = 0x100;
const NLM_F_CREATE = 0x400;
const RTA_DST = 1;
const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RTA_MULTIPATH = 9;
const RTA_TABLE = 15;
const RT_TABLE_MAIN = 254;
const RTN_UNICAST = 1;
/** keep each datagram well under the default socket send buffer */
const MAX_DATAGRAM = 60 * 1024;

interface RawSocket {
  send(msg: Uint8Array | Uint8Array[], options?: { port?: number }, cb?: (e?: Error) => void): void;
  on(ev: 'message', fn: (msg: Buffer) => void): void;
  on(ev: 'error', fn: (e: Error) => void): void;
  close(): void;
  unref(): void;
  setRecvBufferSize(n: number): unknown;
}

export interface NetlinkRouteProgrammerOptions {
  protocol?: number;
  table?: number;
  /** default 32, as BIRD's kernel protocol (see kernel.ts) */
  metric?: number;
  logger?: Logger;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

export class NetlinkRouteProgrammer implements RouteProgrammer {
  private readonly sock: RawSocket;
  private readonly protocol: number;
  private readonly table: number;
  private readonly metric: number;
  private readonly logger: Logger | undefined;
  private readonly leftovers: Set<string>;
  private cur: Buffer = Buffer.allocUnsafe(MAX_DATAGRAM);
  private curLen = 0;
  private scheduled = false;
  private seq = 1;
  private errors = 0;
  private closed = false;

  private constructor(sock: RawSocket, opts: NetlinkRouteProgrammerOptions, existing: string[]) {
    this.sock = sock;
    this.protocol = opts.protocol ?? 81;
    this.table = opts.table ?? RT_TABLE_MAIN;
    this.metric = opts.metric ?? 32;
    this.logger = opts.logger;
    this.leftovers = new Set(existing);
    sock.setRecvBufferSize(4 * 1024 * 1024);
    sock.on('message', (msg) => this.onReply(msg));
    sock.on('error', (e) => this.logger?.error({ err: e.message }, 'netlink socket error'));
  }

  /** Opens a socket in this process's network namespace; throws if `netlink` can't load. */
  static async open(opts: NetlinkRouteProgrammerOptions = {}): Promise<NetlinkRouteProgrammer> {
    const require = createRequire(import.meta.url);
    const nl = require('netlink') as { RawNetlinkSocket: new (protocol: number) => RawSocket };
    const existing = await listKernelRoutes({
      protocol: opts.protocol ?? 81,
      ...(opts.table ? { table: opts.table } : {}),
    });
    return new NetlinkRouteProgrammer(new nl.RawNetlinkSocket(0), opts, existing);
  }

  get errorCount(): number {
    return this.errors;
  }

  replaceRoute(prefix: string, nextHops: string[]): void {
    this.leftovers.delete(prefix);
    const flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE;
    this.pushEncoded(RTM_NEWROUTE, flags, prefix, nextHops);
  }

  deleteRoute(prefix: string): void {
    this.leftovers.delete(prefix);
    this.pushEncoded(RTM_DELROUTE, NLM_F_REQUEST, prefix, []);
  }

  resyncDone(): void {
    // A previous incarnation may have used another metric: match on protocol only.
    for (const prefix of this.leftovers) {
      this.pushEncoded(RTM_DELROUTE, NLM_F_REQUEST, prefix, [], false);
    }
    this.leftovers.clear();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    // Give the kernel's error replies for the last datagrams a moment to arrive.
    await new Promise((r) => setTimeout(r, 50));
    this.sock.close();
  }

  private encode(
    type: number,
    flags: number,
    prefix: string,
    nextHops: string[],
    withMetric = true,
  ): void {
    const slash = prefix.indexOf('/');
    const dst = addressToBytes(prefix.slice(0, slash));
    const dstLen = Number(prefix.slice(slash + 1));
    const family = dst.length === 4 ? 2 : 10;
    const gws = nextHops.map(addressToBytes);
    const attr = (len: number) => align4(4 + len);
    let size = 16 + 12 + attr(dst.length) + attr(4) + (withMetric ? attr(4) : 0);
    if (gws.length === 1) size += attr(gws[0]!.length);
    else if (gws.length > 1) {
      let mp = 0;
      for (const g of gws) mp += 8 + attr(g.length);
      size += attr(mp);
    }
    if (this.curLen + size > MAX_DATAGRAM) this.sendCurrent();
    const b = this.cur.subarray(this.curLen, this.curLen + size);
    this.curLen += size;
    b.fill(0);
    b.writeUInt32LE(size, 0);
    b.writeUInt16LE(type, 4);
    b.writeUInt16LE(flags, 6);
    b.writeUInt32LE(this.seq++ >>> 0, 8);
    b.writeUInt32LE(0, 12);
    // struct rtmsg
    b[16] = family;
    b[17] = dstLen;
    b[18] = 0;
    b[19] = 0;
    b[20] = this.table < 256 ? this.table : 252; // RT_TABLE_COMPAT; RTA_TABLE carries the real id
    b[21] = this.protocol;
    b[22] = 0; // RT_SCOPE_UNIVERSE
    b[23] = type === RTM_NEWROUTE ? RTN_UNICAST : 0;
    b.writeUInt32LE(0, 24);
    let at = 28;
    const put = (t: number, value: Uint8Array | number) => {
      const data = typeof value === 'number' ? null : value;
      const len = data ? data.length : 4;
      b.writeUInt16LE(4 + len, at);
      b.writeUInt16LE(t, at + 2);
      if (data) b.set(data, at + 4);
      else b.writeUInt32LE(value as number, at + 4);
      at += attr(len);
    };
    put(RTA_DST, dst);
    put(RTA_TABLE, this.table);
    if (withMetric) put(RTA_PRIORITY, this.metric);
    if (gws.length === 1) put(RTA_GATEWAY, gws[0]!);
    else if (gws.length > 1) {
      let mp = 0;
      for (const g of gws) mp += 8 + attr(g.length);
      b.writeUInt16LE(4 + mp, at);
      b.writeUInt16LE(RTA_MULTIPATH, at + 2);
      let q = at + 4;
      for (const g of gws) {
        // struct rtnexthop { len, flags, hops, ifindex } then its own RTA_GATEWAY
        b.writeUInt16LE(8 + attr(g.length), q);
        b[q + 2] = 0;
        b[q + 3] = 0;
        b.writeInt32LE(0, q + 4);
        b.writeUInt16LE(4 + g.length, q + 8);
        b.writeUInt16LE(RTA_GATEWAY, q + 10);
        b.set(g, q + 12);
        q += 8 + attr(g.length);
      }
      at += attr(mp);
    }
  }

  private pushEncoded(
    type: number,
    flags: number,
    prefix: string,
    nextHops: string[],
    withMetric = true,
  ): void {
    if (this.closed) return;
    this.encode(type, flags, prefix, nextHops, withMetric);
    this.push();
  }

  /** Messages are encoded straight into the next datagram; it leaves at the end of the tick. */
  private push(): void {
    if (this.closed) return;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    this.sendCurrent();
  }

  private sendCurrent(): void {
    if (this.curLen === 0) return;
    const data = this.cur.subarray(0, this.curLen);
    this.cur = Buffer.allocUnsafe(MAX_DATAGRAM);
    this.curLen = 0;
    this.sock.send(data, { port: 0 }, (e) => {
      if (e) {
        this.errors++;
        this.logger?.error({ err: e.message }, 'netlink send failed');
      }
    });
  }

  private onReply(msg: Buffer): void {
    let at = 0;
    while (at + 16 <= msg.length) {
      const len = msg.readUInt32LE(at);
      const type = msg.readUInt16LE(at + 4);
      if (len < 16) break;
      if (type === NLMSG_ERROR && at + 20 <= msg.length) {
        const errno = -msg.readInt32LE(at + 16);
        if (errno !== 0) {
          this.errors++;
          // Deleting a route that is already gone is the desired end state.
          if (errno !== 3)
            this.logger?.warn(
              { errno, seq: msg.readUInt32LE(at + 8) },
              'kernel rejected a route change',
            );
        }
      }
      at += align4(len);
    }
  }
}
