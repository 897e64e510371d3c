// BgpSpeaker: listener, peers, Loc-RIB, export rules (iBGP/eBGP, route reflection per
// RFC 4456, next hop self, AS path prepend), kernel programming of best routes and the
// restarting-speaker side of RFC 4724.
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:net';
import type { PathAttributes } from './codec.js';
import { plainAddress } from './connection.js';
import { CeaseSub } from './errors.js';
import { Peer, type PeerHost } from './peer.js';
import { type Afi, canonicalAddress, canonicalPrefix } from './prefix.js';
import {
  CHANGED_BEST,
  CHANGED_HOPS,
  CHANGED_PATHS,
  LocRib,
  type Path,
  type PathSource,
} from './rib.js';
import type {
  BestRouteEvent,
  Logger,
  OriginateOptions,
  PeerConfig,
  PeerStatus,
  RouteSnapshot,
  SpeakerConfig,
} from './types.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Shared by every local route without options, so they export as one UPDATE. */
const LOCAL_DEFAULT: PathAttributes = Object.freeze({ origin: 0, asPath: [] }) as PathAttributes;

export interface BgpSpeakerEvents {
  peerState: [PeerStatus];
  bestRoute: [BestRouteEvent];
  /** a restarting speaker finished waiting for End-of-RIB (or gave up waiting) */
  resynced: [];
}

export class BgpSpeaker extends EventEmitter<BgpSpeakerEvents> implements PeerHost {
  readonly routerId: string;
  readonly asNumber: number;
  readonly clusterId: string;
  readonly logger: Logger;
  readonly restarting: boolean;
  readonly restartTime: number;
  readonly stalePathTime: number;
  readonly rib: LocRib;
  private readonly peers = new Map<string, Peer>();
  private readonly localSource: PathSource;
  private server: Server | undefined;
  private dirty = new Map<string, number>();
  private flushScheduled = false;
  private deferring: boolean;
  private deferralTimer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(private readonly cfg: SpeakerConfig) {
    super();
    this.routerId = canonicalAddress(cfg.routerId);
    this.asNumber = cfg.asNumber;
    this.clusterId = cfg.clusterId ?? this.routerId;
    this.logger = cfg.logger ?? silent;
    this.restarting = cfg.gracefulRestart?.restarting === true;
    this.restartTime = cfg.gracefulRestart?.restartTime ?? 120;
    this.stalePathTime = cfg.gracefulRestart?.stalePathTime ?? 360;
    this.deferring = this.restarting;
    this.rib = new LocRib(cfg.multipath !== false);
    this.localSource = {
      address: '',
      routerId: this.routerId,
      ebgp: false,
      local: true,
      rrClient: false,
      peerAs: cfg.asNumber,
    };
    for (const p of cfg.peers ?? []) this.addPeerInternal(p);
  }

  /** Starts listening and connecting. Resolves once the listener is bound. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.cfg.listenAddress !== null) {
      const server = createServer((sock) => {
        const addr = plainAddress(sock.remoteAddress);
        const peer = addr ? this.peers.get(canonicalAddress(addr)) : undefined;
        if (!peer) {
          this.logger.warn({ from: addr }, 'connection from unknown address rejected');
          sock.destroy();
          return;
        }
        peer.acceptIncoming(sock);
      });
      this.server = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(
          { host: this.cfg.listenAddress ?? '::', port: this.cfg.listenPort ?? 179 },
          () => {
            server.off('error', reject);
            resolve();
          },
        );
      });
    }
    for (const p of this.peers.values()) p.start();
    if (this.deferring) {
      const wait = this.cfg.gracefulRestart?.selectionDeferralTime ?? 60;
      this.deferralTimer = setTimeout(
        () => this.finishDeferral('selection deferral timer expired'),
        wait * 1000,
      );
      this.checkDeferral();
    } else {
      this.cfg.routeProgrammer?.resyncDone();
    }
  }

  /** The port we listen on (useful with listenPort 0). */
  get listenPort(): number | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  /**
   * Stops every session. `graceful` (RFC 4724 restarting speaker) closes without
   * NOTIFICATION and leaves kernel routes in place for the next incarnation; otherwise
   * peers get Cease and our kernel routes are removed.
   */
  async stop(opts: { graceful?: boolean } = {}): Promise<void> {
    if (this.deferralTimer) clearTimeout(this.deferralTimer);
    for (const p of this.peers.values()) p.stop(opts.graceful === true);
    if (!opts.graceful) {
      for (const [prefix, e] of this.rib.entries) {
        if (e.nextHops.length > 0) this.cfg.routeProgrammer?.deleteRoute(prefix);
      }
    }
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  addPeer(cfg: PeerConfig): void {
    const p = this.addPeerInternal(cfg);
    if (this.started) p.start();
  }

  removePeer(address: string): void {
    const key = canonicalAddress(address);
    const p = this.peers.get(key);
    if (!p) return;
    p.stop(false, CeaseSub.PeerDeconfigured);
    p.dropRoutes();
    this.peers.delete(key);
    this.checkDeferral();
  }

  private addPeerInternal(cfg: PeerConfig): Peer {
    const p = new Peer(cfg, this);
    if (this.peers.has(p.address)) throw new Error(`BGP peer ${p.address} is configured twice`);
    this.peers.set(p.address, p);
    return p;
  }

  /** Announces a local route (e.g. an IPAM block) to every peer. */
  originate(prefix: string, opts: OriginateOptions = {}): void {
    const key = canonicalPrefix(prefix);
    const hasOpts = Object.values(opts).some((v) => v !== undefined);
    const attrs: PathAttributes = hasOpts
      ? {
          origin: 0,
          asPath: [],
          ...(opts.communities ? { communities: opts.communities } : {}),
          ...(opts.largeCommunities ? { largeCommunities: opts.largeCommunities } : {}),
          ...(opts.med !== undefined ? { med: opts.med } : {}),
          ...(opts.localPref !== undefined ? { localPref: opts.localPref } : {}),
        }
      : LOCAL_DEFAULT;
    this.ribSet(key, this.localSource, {
      source: this.localSource,
      attrs,
      nextHop: '',
      stale: false,
    });
  }

  withdraw(prefix: string): void {
    this.ribSet(canonicalPrefix(prefix), this.localSource, undefined);
  }

  /** Sends ROUTE-REFRESH to the peer; false if it is not established or lacks the capability. */
  refresh(address: string): boolean {
    return this.peers.get(canonicalAddress(address))?.requestRefresh() ?? false;
  }

  status(): PeerStatus[] {
    return [...this.peers.values()].map((p) => p.status());
  }

  routes(): RouteSnapshot[] {
    const out: RouteSnapshot[] = [];
    for (const [prefix, e] of this.rib.entries) {
      const b = e.best!;
      out.push({
        prefix,
        nextHops: e.nextHops,
        local: b.source.local,
        from: b.source.local ? 'local' : b.source.address,
        asPath: (b.attrs.asPath ?? []).flatMap((s) => s.asns),
        paths: e.paths.length,
        stale: b.stale,
      });
    }
    return out;
  }

  // ------------------------------------------------------------ PeerHost

  ribSet(prefix: string, source: PathSource, path: Path | undefined): void {
    const flags = this.rib.set(prefix, source, path);
    if (flags !== 0) this.markDirty(prefix, flags);
  }

  ribReselect(prefix: string): void {
    const flags = this.rib.reselect(prefix);
    if (flags !== 0) this.markDirty(prefix, flags);
  }

  allPrefixes(): Iterable<string> {
    return this.rib.entries.keys();
  }

  importPolicy(peer: Peer, prefix: string, attrs: PathAttributes): PathAttributes | null {
    const pol = this.cfg.importPolicy;
    return pol ? pol({ peer: peer.address, prefix, attrs }) : attrs;
  }

  onPeerState(peer: Peer): void {
    this.emit('peerState', peer.status());
  }

  onEndOfRib(_peer: Peer): void {
    this.checkDeferral();
  }

  exportFor(peer: Peer, prefix: string): PathAttributes | null {
    const best = this.rib.get(prefix)?.best;
    if (!best) return null;
    return this.exportPath(peer, prefix, best);
  }

  /**
   * ADD-PATH (RFC 7911) towards `peer`: every path of `prefix` it may have, by the path
   * identifier we give the path's source (stable while the source exists).
   */
  exportPaths(peer: Peer, prefix: string): Map<number, PathAttributes> {
    const out = new Map<number, PathAttributes>();
    const e = this.rib.get(prefix);
    if (!e) return out;
    for (const path of e.paths) {
      const a = this.exportPath(peer, prefix, path);
      if (a) out.set(this.pathIdOf(path.source), a);
    }
    return out;
  }

  private readonly pathIds = new WeakMap<PathSource, number>();
  private nextPathId = 1;

  private pathIdOf(src: PathSource): number {
    let id = this.pathIds.get(src);
    if (id === undefined) {
      id = this.nextPathId++;
      this.pathIds.set(src, id);
    }
    return id;
  }

  private exportPath(peer: Peer, prefix: string, path: Path): PathAttributes | null {
    const src = path.source;
    // Never back to where it came from (with ADD-PATH one peer has several sources).
    if (!src.local && src.address === peer.address) return null;
    if (!src.local && !src.ebgp && !peer.ebgp && !src.rrClient && !peer.source.rrClient) {
      // RFC 4456 §8: iBGP-learned routes go to iBGP peers only by reflection.
      return null;
    }
    const afi: Afi = prefix.includes(':') ? 2 : 1;
    const out = peer.cachedExport(path.attrs, afi, () => this.buildExport(peer, path, afi));
    if (!out.nextHop) return null;
    const pol = this.cfg.exportPolicy;
    return pol ? pol({ peer: peer.address, prefix, attrs: out }) : out;
  }

  private selfAddress(peer: Peer, afi: Afi): string | undefined {
    const local = peer.localAddress;
    if (local && (afi === 2) === local.includes(':')) return local;
    return afi === 1 ? this.cfg.nextHopSelf?.ipv4 : this.cfg.nextHopSelf?.ipv6;
  }

  private buildExport(peer: Peer, best: Path, afi: Afi): PathAttributes {
    const src = best.source;
    const a: PathAttributes = { ...best.attrs };
    const mode = peer.cfg.nextHopMode ?? 'auto';
    let self: boolean;
    if (peer.ebgp) {
      const prepend = 1 + (peer.cfg.asPathPrepend ?? 0);
      const mine = new Array<number>(prepend).fill(peer.localAs);
      const path = a.asPath ?? [];
      const first = path[0];
      a.asPath =
        first && first.type === 2 && first.asns.length + prepend <= 255
          ? [{ type: 2, asns: [...mine, ...first.asns] }, ...path.slice(1)]
          : [{ type: 2, asns: mine }, ...path];
      delete a.localPref;
      delete a.originatorId;
      delete a.clusterList;
      // RFC 4271 §5.1.4: a MED learned from one AS is not passed on to another.
      if (src.ebgp) delete a.med;
      self = mode !== 'keep' || src.local;
    } else {
      a.localPref = best.attrs.localPref ?? 100;
      if (!src.local && !src.ebgp) {
        // Reflecting (RFC 4456 §8).
        a.originatorId = best.attrs.originatorId ?? src.routerId;
        a.clusterList = [this.clusterId, ...(best.attrs.clusterList ?? [])];
      }
      self = src.local || mode === 'self';
    }
    a.nextHop = self ? this.selfAddress(peer, afi) : best.nextHop;
    return a;
  }

  // ------------------------------------------------------------ change propagation

  private markDirty(prefix: string, flags: number): void {
    this.dirty.set(prefix, (this.dirty.get(prefix) ?? 0) | flags);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const dirty = this.dirty;
    this.dirty = new Map();
    const prog = this.cfg.routeProgrammer;
    const established = [...this.peers.values()].filter((p) => p.established);
    const listen = this.listenerCount('bestRoute') > 0;
    for (const [prefix, flags] of dirty) {
      const e = this.rib.get(prefix);
      if (flags & CHANGED_HOPS && prog) {
        if (e && e.nextHops.length > 0) prog.replaceRoute(prefix, e.nextHops);
        else prog.deleteRoute(prefix);
      }
      if (flags & CHANGED_BEST) for (const p of established) p.queue(prefix);
      else if (flags & CHANGED_PATHS)
        for (const p of established) if (p.sendsAddPath) p.queue(prefix);
      if (listen && flags & (CHANGED_BEST | CHANGED_HOPS)) {
        this.emit('bestRoute', {
          prefix,
          nextHops: e?.nextHops ?? [],
          reachable: e !== undefined,
          local: e?.best?.source.local ?? false,
        });
      }
    }
  }

  private checkDeferral(): void {
    if (!this.deferring) return;
    for (const p of this.peers.values()) {
      if (!p.established) return;
      for (const afi of p.families) if (!p.eorReceived.has(afi)) return;
    }
    this.finishDeferral('End-of-RIB from every peer');
  }

  private finishDeferral(why: string): void {
    if (!this.deferring) return;
    this.deferring = false;
    if (this.deferralTimer) clearTimeout(this.deferralTimer);
    this.logger.info({ why }, 'graceful restart: routes relearned; removing leftovers');
    this.cfg.routeProgrammer?.resyncDone();
    this.emit('resynced');
  }
}
