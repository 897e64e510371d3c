// A configured neighbour: the session-level RFC 4271 FSM (Idle/Connect/Active/... with
// ConnectRetry), collision detection between an incoming and an outgoing connection
// (§6.8), Adj-RIB-In/Out, and RFC 4724 graceful restart in the helper role.
import { connect, type Socket } from 'node:net';
import {
  type BgpMessage,
  type CodecContext,
  encodeAnnounce,
  encodeEndOfRib,
  encodeKeepalive,
  encodeOpen,
  encodeRouteRefresh,
  encodeWithdraw,
  endOfRibFamily,
  type GracefulRestartCap,
  type OpenMessage,
  type PathAttributes,
  type UpdateMessage,
} from './codec.js';
import { type CloseInfo, Connection, type ConnectionHandler } from './connection.js';
import { BgpError, CeaseSub, ErrCode, OpenSub } from './errors.js';
import {
  type Afi,
  canonicalAddress,
  familyOfAfi,
  familyOfPrefix,
  ipv4ToNumber,
  prefixOfKey,
  splitPathKey,
} from './prefix.js';
import type { Path, PathSource } from './rib.js';
import type { BgpState, Logger, PeerConfig, PeerStatus, PeerType } from './types.js';

/** What a Peer needs from the speaker that owns it. */
export interface PeerHost {
  readonly routerId: string;
  readonly asNumber: number;
  readonly clusterId: string;
  readonly logger: Logger;
  readonly restarting: boolean;
  readonly restartTime: number;
  readonly stalePathTime: number;
  ribSet(prefix: string, source: PathSource, path: Path | undefined): void;
  ribReselect(prefix: string): void;
  /** attributes to send `peer` for `prefix` now, or null */
  exportFor(peer: Peer, prefix: string): PathAttributes | null;
  /** with ADD-PATH: every path to send `peer` for `prefix`, by path identifier */
  exportPaths(peer: Peer, prefix: string): Map<number, PathAttributes>;
  allPrefixes(): Iterable<string>;
  importPolicy(peer: Peer, prefix: string, attrs: PathAttributes): PathAttributes | null;
  onPeerState(peer: Peer): void;
  onEndOfRib(peer: Peer): void;
}

const AFI_OF: Record<string, Afi> = { ipv4: 1, ipv6: 2 };

function defaultName(type: PeerType, address: string): string {
  const kind = type === 'node-to-node mesh' ? 'Mesh' : type === 'global' ? 'Global' : 'Node';
  return `${kind}_${address.replace(/[.:]/g, '_')}`;
}

export class Peer implements ConnectionHandler {
  readonly address: string;
  readonly name: string;
  readonly type: PeerType;
  readonly ebgp: boolean;
  /** our AS on this session (BGPPeer localASNumber, else the speaker's) */
  readonly localAs: number;
  readonly source: PathSource;
  state: BgpState = 'Idle';
  since = new Date();
  lastError = '';
  /** Adj-RIB-In: the peer's paths as accepted, by prefix ("prefix#pathId" with ADD-PATH) */
  readonly adjIn = new Map<string, Path>();
  /** Adj-RIB-Out: what we last sent, by attribute object identity */
  readonly adjOut = new Map<string, PathAttributes>();
  /** Adj-RIB-Out of ADD-PATH families: prefix → path identifier → attributes sent */
  readonly adjOutPaths = new Map<string, Map<number, PathAttributes>>();
  /** families we send / receive path identifiers in on the current session (RFC 7911) */
  private addPathTx = new Set<Afi>();
  private addPathRx = new Set<Afi>();
  /** one path source per received path identifier, so the Loc-RIB keeps each path */
  private readonly pathSources = new Map<number, PathSource>();
  /** families negotiated on the current session */
  families = new Set<Afi>();
  peerRouteRefresh = false;
  established: Connection | undefined;
  /** the peer's graceful-restart capability from its last OPEN */
  private peerGr: GracefulRestartCap | undefined;
  private conns: Connection[] = [];
  private pendingOut = new Map<string, PathAttributes | null>();
  private flushScheduled = false;
  private sendEor = false;
  private exportCache = [
    new WeakMap<PathAttributes, PathAttributes>(),
    new WeakMap<PathAttributes, PathAttributes>(),
  ];
  private connectTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private staleTimer: NodeJS.Timeout | undefined;
  private stopped = true;
  readonly eorReceived = new Set<Afi>();
  private hadStale = false;

  constructor(
    readonly cfg: PeerConfig,
    private readonly host: PeerHost,
  ) {
    this.address = canonicalAddress(cfg.address);
    this.type = cfg.type ?? 'global';
    this.name = cfg.name ?? defaultName(this.type, this.address);
    this.localAs = cfg.localAsNumber ?? host.asNumber;
    this.ebgp = cfg.asNumber !== this.localAs;
    this.source = {
      address: this.address,
      routerId: '0.0.0.0',
      ebgp: this.ebgp,
      local: false,
      rrClient: cfg.routeReflectorClient === true,
      peerAs: cfg.asNumber,
    };
  }

  get configuredFamilies(): Afi[] {
    const fams = this.cfg.families ?? [familyOfPrefix(this.address)];
    return fams.map((f) => AFI_OF[f]!);
  }

  /** We send several paths per prefix on the current session. */
  get sendsAddPath(): boolean {
    return this.addPathTx.size > 0;
  }

  private sourceFor(pathId: number | undefined): PathSource {
    if (pathId === undefined) return this.source;
    let s = this.pathSources.get(pathId);
    if (!s) {
      s = { ...this.source };
      this.pathSources.set(pathId, s);
    }
    return s;
  }

  get holdTime(): number {
    return this.cfg.holdTime ?? 90;
  }

  private get grEnabled(): boolean {
    return this.cfg.gracefulRestart !== false;
  }

  status(): PeerStatus {
    return {
      address: this.address,
      name: this.name,
      type: this.type,
      asNumber: this.cfg.asNumber,
      state: this.stopped ? 'down' : this.state === 'Established' ? 'up' : 'start',
      since: this.since,
      bgpState: this.state,
      info:
        this.lastError && this.state !== 'Established'
          ? `${this.state} ${this.lastError}`
          : this.state,
      routesReceived: this.adjIn.size,
      routesExported: this.adjOut.size + this.adjOutPaths.size,
      families: [...this.families].map(familyOfAfi),
    };
  }

  start(): void {
    this.stopped = false;
    this.setState(this.cfg.passive ? 'Active' : 'Connect');
    if (!this.cfg.passive) this.scheduleConnect(Math.random() * 200);
  }

  /**
   * Stops the peer. `graceful` closes sockets without NOTIFICATION so the peer keeps
   * our routes as a graceful-restart helper; otherwise we send Cease.
   */
  stop(graceful: boolean, subcode: number = CeaseSub.AdminShutdown): void {
    this.stopped = true;
    if (this.connectTimer) clearTimeout(this.connectTimer);
    for (const c of [...this.conns]) {
      if (graceful) c.close({ reason: 'graceful stop', notified: false, holdExpired: false });
      else c.notifyAndClose(new BgpError(ErrCode.Cease, subcode, 'administrative shutdown'));
    }
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.staleTimer) clearTimeout(this.staleTimer);
  }

  /** Withdraws everything learned from this peer (peer deconfigured or speaker stopped). */
  dropRoutes(): void {
    for (const [key, p] of this.adjIn) this.host.ribSet(prefixOfKey(key), p.source, undefined);
    this.adjIn.clear();
  }

  private setState(s: BgpState): void {
    if (this.state === s) return;
    this.state = s;
    this.since = new Date();
    this.host.onPeerState(this);
  }

  private scheduleConnect(delayMs: number): void {
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = setTimeout(() => this.connectOut(), delayMs);
  }

  private retryMs(): number {
    return (this.cfg.connectRetryTime ?? 5) * 1000;
  }

  private connectOut(): void {
    if (this.stopped || this.cfg.passive || this.established) return;
    if (this.conns.some((c) => c.outgoing)) return;
    this.setState(this.conns.length > 0 ? this.state : 'Connect');
    const sock: Socket = connect({
      host: this.address,
      port: this.cfg.port ?? 179,
      ...(this.cfg.localAddress ? { localAddress: this.cfg.localAddress } : {}),
    });
    let connected = false;
    // ConnectRetry timer: an attempt that neither connects nor fails is abandoned.
    const timer = setTimeout(() => {
      if (!connected) sock.destroy(new Error('connect timed out'));
    }, this.retryMs());
    sock.once('connect', () => {
      connected = true;
      clearTimeout(timer);
      if (this.stopped) {
        sock.destroy();
        return;
      }
      this.addConnection(sock, true);
    });
    sock.once('error', (e) => {
      if (connected) return;
      clearTimeout(timer);
      this.lastError = `Socket: ${e.message}`;
      if (this.conns.length === 0 && !this.stopped) this.setState('Active');
      if (!this.stopped) this.scheduleConnect(this.retryMs());
    });
  }

  /** An incoming TCP connection from this peer's address. */
  acceptIncoming(sock: Socket): void {
    if (this.stopped) {
      sock.destroy();
      return;
    }
    this.addConnection(sock, false);
  }

  private addConnection(sock: Socket, outgoing: boolean): void {
    const c = new Connection(sock, outgoing, this);
    this.conns.push(c);
    const gr = this.grEnabled
      ? {
          restarting: this.host.restarting,
          restartTime: this.cfg.maxRestartTime ?? this.host.restartTime,
          families: this.configuredFamilies.map((afi) => ({
            afi,
            safi: 1,
            forwarding: this.host.restarting,
          })),
        }
      : undefined;
    c.send(
      encodeOpen({
        localAs: this.localAs,
        holdTime: this.holdTime,
        bgpId: this.host.routerId,
        families: this.configuredFamilies.map((afi) => ({ afi, safi: 1 })),
        ...(gr ? { gracefulRestart: gr } : {}),
        ...(this.cfg.addPath
          ? {
              addPath: {
                families: this.configuredFamilies.map((afi) => ({
                  afi,
                  safi: 1,
                  sendReceive: { receive: 1, send: 2, both: 3 }[this.cfg.addPath!],
                })),
              },
            }
          : {}),
      }),
    );
    if (!this.established) this.setState('OpenSent');
  }

  onMessage(conn: Connection, msg: BgpMessage): void {
    switch (conn.stage) {
      case 'OpenSent':
        if (msg.type !== 'open') {
          conn.notifyAndClose(new BgpError(ErrCode.Fsm, 1, `unexpected ${msg.type} in OpenSent`));
          return;
        }
        this.onOpen(conn, msg);
        return;
      case 'OpenConfirm':
        if (msg.type === 'keepalive') {
          this.onEstablished(conn);
          return;
        }
        conn.notifyAndClose(new BgpError(ErrCode.Fsm, 2, `unexpected ${msg.type} in OpenConfirm`));
        return;
      case 'Established':
        if (msg.type === 'update') this.onUpdate(msg);
        else if (msg.type === 'route-refresh') this.onRouteRefresh(msg.afi, msg.safi);
        else if (msg.type === 'open') {
          conn.notifyAndClose(new BgpError(ErrCode.Fsm, 3, 'OPEN in Established'));
        }
        return;
      default:
        return;
    }
  }

  private onOpen(conn: Connection, open: OpenMessage): void {
    const caps = open.capabilities;
    const peerAs = caps.as4 ?? open.myAs;
    if (peerAs !== this.cfg.asNumber) {
      conn.notifyAndClose(
        new BgpError(
          ErrCode.Open,
          OpenSub.BadPeerAs,
          `peer AS ${peerAs}, expected ${this.cfg.asNumber}`,
        ),
      );
      return;
    }
    if (open.holdTime === 1 || open.holdTime === 2) {
      conn.notifyAndClose(
        new BgpError(ErrCode.Open, OpenSub.UnacceptableHoldTime, `hold time ${open.holdTime}`),
      );
      return;
    }
    const id = ipv4ToNumber(open.bgpId);
    if (id === 0 || (!this.ebgp && open.bgpId === this.host.routerId)) {
      conn.notifyAndClose(
        new BgpError(ErrCode.Open, OpenSub.BadBgpId, `BGP identifier ${open.bgpId}`),
      );
      return;
    }
    (conn.ctx as CodecContext).as4 = caps.as4 !== undefined;

    // Collision detection (RFC 4271 §6.8) against the other connection, if any.
    const other = this.conns.find((c) => c !== conn && !c.isClosed);
    if (other) {
      if (other.stage === 'Established') {
        if (this.peerGr && this.grEnabled) {
          // RFC 4724 §4.2: a new OPEN from a peer whose session we still hold means it restarted.
          other.close({ reason: 'peer restarted', notified: false, holdExpired: false });
        } else {
          conn.notifyAndClose(
            new BgpError(ErrCode.Cease, CeaseSub.CollisionResolution, 'session exists'),
          );
          return;
        }
      } else {
        const keepOutgoing = ipv4ToNumber(this.host.routerId) > id;
        const loser = conn.outgoing === keepOutgoing ? other : conn;
        loser.notifyAndClose(
          new BgpError(ErrCode.Cease, CeaseSub.CollisionResolution, 'connection collision'),
        );
        if (loser === conn) return;
      }
    }

    this.source.routerId = open.bgpId;
    for (const src of this.pathSources.values()) src.routerId = open.bgpId;
    // RFC 7911 §5: path identifiers flow where one side offers to send and the other to receive.
    const ours = this.cfg.addPath ? { receive: 1, send: 2, both: 3 }[this.cfg.addPath] : 0;
    this.addPathRx = new Set();
    this.addPathTx = new Set();
    for (const f of caps.addPath?.families ?? []) {
      if (f.safi !== 1 || (f.afi !== 1 && f.afi !== 2)) continue;
      if (!this.configuredFamilies.includes(f.afi as Afi)) continue;
      if (ours & 1 && f.sendReceive & 2) this.addPathRx.add(f.afi as Afi);
      if (ours & 2 && f.sendReceive & 1) this.addPathTx.add(f.afi as Afi);
    }
    (conn.ctx as CodecContext).addPathRx = this.addPathRx;
    this.peerGr = this.grEnabled ? caps.gracefulRestart : undefined;
    this.peerRouteRefresh = caps.routeRefresh;
    const theirs = caps.multiprotocol.length > 0 ? caps.multiprotocol : [{ afi: 1, safi: 1 }];
    this.families = new Set(
      this.configuredFamilies.filter((afi) => theirs.some((f) => f.afi === afi && f.safi === 1)),
    );
    const hold = Math.min(this.holdTime, open.holdTime);
    const keepalive = hold === 0 ? 0 : Math.min(this.cfg.keepaliveTime ?? hold / 3, hold / 3);
    conn.stage = 'OpenConfirm';
    conn.send(encodeKeepalive());
    conn.setHold(hold);
    conn.setKeepalive(keepalive);
    this.setState('OpenConfirm');
  }

  private onEstablished(conn: Connection): void {
    conn.stage = 'Established';
    this.established = conn;
    this.lastError = '';
    this.eorReceived.clear();
    this.exportCache = [new WeakMap(), new WeakMap()];
    this.setState('Established');
    this.host.logger.info(
      { peer: this.address, families: [...this.families] },
      'BGP session established',
    );

    if (this.restartTimer) {
      clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
    }
    if (this.hadStale) {
      // RFC 4724 §4.2: keep stale routes only for families whose forwarding state the
      // peer says it preserved, and only until End-of-RIB or the stale timer.
      const kept = new Set<number>();
      for (const f of this.peerGr?.families ?? [])
        if (f.forwarding && f.safi === 1) kept.add(f.afi);
      for (const afi of [1, 2] as Afi[]) if (!kept.has(afi)) this.removeStale(afi);
      if (this.staleTimer) clearTimeout(this.staleTimer);
      this.staleTimer = setTimeout(() => {
        this.host.logger.warn(
          { peer: this.address },
          'no End-of-RIB before stale timer; dropping stale routes',
        );
        this.removeStale(undefined);
      }, this.host.stalePathTime * 1000);
    }

    for (const prefix of this.host.allPrefixes()) this.queue(prefix);
    this.sendEor = true;
    this.scheduleFlush();
  }

  onClosed(conn: Connection, info: CloseInfo): void {
    this.conns = this.conns.filter((c) => c !== conn);
    const wasEstablished = this.established === conn;
    if (info.notified || info.holdExpired) this.lastError = info.reason;
    this.host.logger.info(
      { peer: this.address, reason: info.reason, wasEstablished },
      'BGP connection closed',
    );
    if (wasEstablished) {
      this.established = undefined;
      this.adjOut.clear();
      this.adjOutPaths.clear();
      this.pendingOut.clear();
      this.sendEor = false;
      const helper = !info.notified && this.peerGr !== undefined && !this.stopped;
      if (helper) this.enterHelperMode();
      else if (!this.stopped) this.dropRoutes();
    }
    if (this.conns.length === 0) {
      if (this.stopped) {
        this.setState('Idle');
        return;
      }
      this.setState('Active');
      // Don't hammer a peer that just rejected us; a fresh peer restart reconnects fast.
      if (!this.cfg.passive) this.scheduleConnect(wasEstablished ? 500 : this.retryMs());
    }
  }

  /** RFC 4724 §4.2 helper: keep the peer's routes, marked stale, for its restart time. */
  private enterHelperMode(): void {
    // RFC 4724 §4.2: the restarting peer's own advertised restart time bounds the wait.
    const restart = this.peerGr?.restartTime ?? 0;
    this.host.logger.info(
      { peer: this.address, restart },
      'peer went down; keeping its routes as stale (graceful restart helper)',
    );
    for (const [key, p] of this.adjIn) {
      p.stale = true;
      this.host.ribReselect(prefixOfKey(key));
    }
    this.hadStale = this.adjIn.size > 0;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.state !== 'Established') {
        this.host.logger.info(
          { peer: this.address },
          'restart time expired; dropping stale routes',
        );
        this.removeStale(undefined);
      }
    }, restart * 1000);
  }

  private removeStale(afi: Afi | undefined): void {
    let left = false;
    for (const [key, p] of this.adjIn) {
      if (!p.stale) continue;
      const isV6 = key.includes(':');
      if (afi === undefined || (afi === 2) === isV6) {
        this.adjIn.delete(key);
        this.host.ribSet(prefixOfKey(key), p.source, undefined);
      } else left = true;
    }
    this.hadStale = left;
    if (!left && this.staleTimer) {
      clearTimeout(this.staleTimer);
      this.staleTimer = undefined;
    }
  }

  private onUpdate(u: UpdateMessage): void {
    const eor = endOfRibFamily(u);
    if (eor !== undefined) {
      this.eorReceived.add(eor);
      this.removeStale(eor);
      this.host.onEndOfRib(this);
      return;
    }
    for (const prefix of u.withdrawn) this.remove(prefix);
    if (u.mpUnreach) for (const prefix of u.mpUnreach.withdrawn) this.remove(prefix);
    if (u.discarded)
      this.host.logger.debug(
        { peer: this.address, discarded: u.discarded },
        'attributes discarded (RFC 7606)',
      );
    let reject = u.treatAsWithdraw;
    const attrs = u.attrs;
    if (!reject) reject = this.importCheck(attrs);
    if (reject) {
      this.host.logger.warn({ peer: this.address, reason: reject }, 'UPDATE treated as withdraw');
      for (const prefix of u.nlri) this.remove(prefix);
      if (u.mpReach) for (const prefix of u.mpReach.nlri) this.remove(prefix);
      return;
    }
    if (u.nlri.length > 0) this.learn(u.nlri, attrs, attrs.nextHop!);
    const mp = u.mpReach;
    if (mp && mp.safi === 1 && (mp.afi === 1 || mp.afi === 2) && mp.nlri.length > 0) {
      // RFC 2545: prefer the global next hop; a link-local alone is unusable without an interface.
      const nh = mp.nextHops.find((a) => !a.startsWith('fe80:')) ?? mp.nextHops[0]!;
      this.learn(mp.nlri, attrs, nh);
    }
  }

  /** Returns a reason to ignore the path, or undefined (loop checks of RFC 4271/4456). */
  private importCheck(attrs: PathAttributes): string | undefined {
    if (this.ebgp) {
      // RFC 7606 §7.5/§7.9/§7.10: these never come from an external peer.
      delete attrs.localPref;
      delete attrs.originatorId;
      delete attrs.clusterList;
    }
    let own = 0;
    for (const s of attrs.asPath ?? []) for (const a of s.asns) if (a === this.host.asNumber) own++;
    if (own > (this.cfg.allowLocalAs ?? 0)) return 'AS path loop';
    if (attrs.originatorId === this.host.routerId) return 'ORIGINATOR_ID is ours';
    if (attrs.clusterList?.includes(this.host.clusterId)) return 'CLUSTER_LIST loop';
    return undefined;
  }

  private learn(keys: string[], attrs: PathAttributes, nextHop: string): void {
    for (const key of keys) {
      const { prefix, pathId } = splitPathKey(key);
      const a = this.host.importPolicy(this, prefix, attrs);
      if (!a) {
        this.remove(key);
        continue;
      }
      const source = this.sourceFor(pathId);
      const path: Path = { source, attrs: a, nextHop, stale: false };
      this.adjIn.set(key, path);
      this.host.ribSet(prefix, source, path);
    }
  }

  private remove(key: string): void {
    const p = this.adjIn.get(key);
    if (p === undefined) return;
    this.adjIn.delete(key);
    this.host.ribSet(prefixOfKey(key), p.source, undefined);
  }

  private onRouteRefresh(afi: number, safi: number): void {
    if (safi !== 1 || !this.families.has(afi as Afi)) return;
    this.host.logger.info({ peer: this.address, afi }, 'route refresh requested');
    for (const prefix of this.host.allPrefixes()) {
      if ((afi === 2) === prefix.includes(':')) {
        this.adjOut.delete(prefix);
        this.adjOutPaths.delete(prefix);
        this.queue(prefix);
      }
    }
    this.scheduleFlush();
  }

  /** Asks the peer to send its routes again (RFC 2918). */
  requestRefresh(): boolean {
    if (!this.established || !this.peerRouteRefresh) return false;
    for (const afi of this.families) this.established.send(encodeRouteRefresh(afi, 1));
    return true;
  }

  /** Re-evaluates what we send for `prefix` (best path changed). */
  queue(prefix: string): void {
    if (!this.established) return;
    this.pendingOut.set(prefix, null);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const conn = this.established;
    if (!conn) return;
    const announce = new Map<PathAttributes, string[]>();
    const withdraw: Record<Afi, string[]> = { 1: [], 2: [] };
    const add = (attrs: PathAttributes, key: string) => {
      let list = announce.get(attrs);
      if (!list) {
        list = [];
        announce.set(attrs, list);
      }
      list.push(key);
    };
    for (const prefix of this.pendingOut.keys()) {
      const afi: Afi = prefix.includes(':') ? 2 : 1;
      if (!this.families.has(afi)) continue;
      if (this.addPathTx.has(afi)) {
        const want = this.host.exportPaths(this, prefix);
        const had = this.adjOutPaths.get(prefix);
        if (had)
          for (const id of had.keys()) if (!want.has(id)) withdraw[afi].push(`${prefix}#${id}`);
        for (const [id, attrs] of want) if (had?.get(id) !== attrs) add(attrs, `${prefix}#${id}`);
        if (want.size > 0) this.adjOutPaths.set(prefix, want);
        else this.adjOutPaths.delete(prefix);
        continue;
      }
      const out = this.host.exportFor(this, prefix);
      const prev = this.adjOut.get(prefix);
      if (out === null) {
        if (prev) {
          this.adjOut.delete(prefix);
          withdraw[afi].push(prefix);
        }
        continue;
      }
      if (prev === out) continue;
      this.adjOut.set(prefix, out);
      add(out, prefix);
    }
    this.pendingOut.clear();
    const bufs: Buffer[] = [];
    for (const afi of [1, 2] as Afi[]) {
      if (withdraw[afi].length > 0) bufs.push(...encodeWithdraw(afi, withdraw[afi]));
    }
    for (const [attrs, prefixes] of announce) {
      const v4 = prefixes.filter((p) => !p.includes(':'));
      const v6 = prefixes.filter((p) => p.includes(':'));
      if (v4.length > 0) bufs.push(...encodeAnnounce(1, v4, attrs, conn.ctx));
      if (v6.length > 0)
        bufs.push(...encodeAnnounce(2, v6, attrs, conn.ctx, [attrs.nextHop ?? '::']));
    }
    if (this.sendEor) {
      this.sendEor = false;
      for (const afi of this.families) bufs.push(encodeEndOfRib(afi));
    }
    if (bufs.length > 0) conn.send(Buffer.concat(bufs));
  }

  /** Cached per source attribute object so that one received UPDATE is re-sent as one. */
  cachedExport(attrs: PathAttributes, afi: Afi, build: () => PathAttributes): PathAttributes {
    const cache = this.exportCache[afi - 1]!;
    let out = cache.get(attrs);
    if (!out) {
      out = build();
      cache.set(attrs, out);
    }
    return out;
  }

  /** Our address on the current session, for next-hop-self. */
  get localAddress(): string | undefined {
    return this.established?.localAddress;
  }
}
