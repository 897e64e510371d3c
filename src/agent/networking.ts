// The seam between the agent and BGP (CALICO_NETWORKING_BACKEND). `none` does nothing;
// `builtin` runs src/bgp's speaker for this node, configured from the datastore the way
// confd configures BIRD for Calico: the agent hands over every resource update and the
// backend keeps the BGP-relevant kinds, recomputes bgpConfigForNode and applies only the
// difference to the running speaker.
//
// The speaker is a child process, not part of the agent: with CALICO_NETNS the agent runs
// outside the namespace it programs and Node can't open sockets in another namespace,
// so the child is started under `ip netns exec`. Without CALICO_NETNS it runs beside us.
import type { Logger as PinoLogger } from 'pino';
import {
  BGP_ROUTE_PROTOCOL,
  type BgpModelInput,
  bgpConfigForNode,
  diffBgpConfig,
  isEmptyDiff,
  type Logger,
  type NodeBgpConfig,
  SpeakerProcessClient,
  type SpeakerProcessConfig,
} from '../bgp/index.js';
import type { ResourceUpdate } from '../calc/index.js';

/** What the readiness endpoint reports about BGP. */
export interface NetworkingHealth {
  speakerRunning: boolean;
  peers: number;
  established: number;
}

export interface NetworkingBackend {
  readonly name: 'builtin' | 'none';
  start(): Promise<void>;
  health(): NetworkingHealth | null;
  /** every datastore update the syncer delivers, in order */
  onUpdates(updates: readonly ResourceUpdate[]): void;
  /** the datastore snapshot is complete: safe to act on absences */
  onInSync(): void;
  stop(): Promise<void>;
}

export class NoNetworking implements NetworkingBackend {
  readonly name = 'none' as const;
  async start(): Promise<void> {}
  health(): null {
    return null;
  }
  onUpdates(_updates: readonly ResourceUpdate[]): void {}
  onInSync(): void {}
  async stop(): Promise<void> {}
}

/** The kinds bgpConfigForNode reads. */
const BGP_KINDS = [
  'Node',
  'BGPConfiguration',
  'BGPPeer',
  'IPPool',
  'IPAMBlock',
  'BlockAffinity',
] as const;
type BgpKind = (typeof BGP_KINDS)[number];

export interface BuiltinNetworkingOptions {
  nodeName: string;
  /** the namespace the speaker must run in (CALICO_NETNS); default ours */
  netns?: string;
  log: PinoLogger;
  /** status file for `calicoctl node status`; null = none */
  statusFile: string | null;
  /** hold time for every peer, seconds (default the speaker's, 90) */
  holdTime?: number;
  /** route protocol number for learned routes (default 81; Felix's own routes use 80) */
  routeProtocol?: number;
  /**
   * argv that runs the speaker service reading its config from stdin; default: this
   * program again with CALICO_BGP_SPEAKER=stdin (see main.ts)
   */
  speakerArgv?: readonly string[];
  /** extra environment for the speaker process */
  env?: NodeJS.ProcessEnv;
}

/** argv that re-runs the current program (bundle or tsx source) as the speaker. */
export function selfSpeakerArgv(): string[] {
  // An inspector flag would make the child fight the agent for the debugger port.
  const flags = process.execArgv.filter((a) => !a.startsWith('--inspect'));
  return [process.execPath, ...flags, process.argv[1] as string];
}

export class BuiltinNetworking implements NetworkingBackend {
  readonly name = 'builtin' as const;
  private readonly resources = new Map<BgpKind, Map<string, unknown>>(
    BGP_KINDS.map((k) => [k, new Map()]),
  );
  private inSync = false;
  private stopped = false;
  private started = false;
  /** what the running speaker was configured with */
  private current: NodeBgpConfig | undefined;
  private speaker: SpeakerProcessClient | undefined;
  private scheduled = false;
  private chain: Promise<void> = Promise.resolve();
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly bgpLog: Logger;
  /** BGP state per peer address, from the speaker's peerState events */
  private readonly peerStates = new Map<string, string>();

  constructor(private readonly opts: BuiltinNetworkingOptions) {
    const l = opts.log.child({ component: 'bgp' });
    this.bgpLog = {
      debug: (o, m) => l.debug(o, m),
      info: (o, m) => l.info(o, m),
      warn: (o, m) => l.warn(o, m),
      error: (o, m) => l.error(o, m),
    };
  }

  /** The running speaker, for diagnostics and tests. */
  get speakerProcess(): SpeakerProcessClient | undefined {
    return this.speaker;
  }

  async start(): Promise<void> {
    this.started = true;
  }

  health(): NetworkingHealth {
    const peers = this.current?.speaker.peers ?? [];
    let established = 0;
    for (const p of peers) if (this.peerStates.get(p.address) === 'Established') established++;
    return {
      speakerRunning: this.speaker?.running === true,
      peers: peers.length,
      established,
    };
  }

  onUpdates(updates: readonly ResourceUpdate[]): void {
    let touched = false;
    for (const u of updates) {
      const kind = (u.type === 'set' ? u.resource.kind : u.kind) as BgpKind;
      const map = this.resources.get(kind);
      if (map === undefined) continue;
      if (u.type === 'set') map.set(u.resource.metadata?.name ?? '', u.resource);
      else map.delete(u.name);
      touched = true;
    }
    if (touched) this.schedule();
  }

  onInSync(): void {
    this.inSync = true;
    this.schedule();
  }

  private input(): BgpModelInput {
    const list = <T>(k: BgpKind) => [...this.resources.get(k)!.values()] as T[];
    return {
      nodes: list('Node'),
      bgpConfigurations: list('BGPConfiguration'),
      bgpPeers: list('BGPPeer'),
      ipPools: list('IPPool'),
      blocks: list('IPAMBlock'),
      affinities: list('BlockAffinity'),
    };
  }

  /** Coalesces a burst of updates into one reconcile; reconciles never overlap. */
  private schedule(): void {
    if (this.scheduled || this.stopped || !this.started || !this.inSync) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.chain = this.chain.then(() =>
        this.reconcile().catch((err: unknown) => {
          this.bgpLog.error({ err: String(err) }, 'BGP reconcile failed; retrying in 2 s');
          this.retryLater(2000);
        }),
      );
    });
  }

  private retryLater(ms: number): void {
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.schedule();
    }, ms);
  }

  private desired(): NodeBgpConfig | undefined {
    let next: NodeBgpConfig | undefined;
    try {
      next = bgpConfigForNode(this.opts.nodeName, this.input());
    } catch (err) {
      // One bad resource (say an unparsable AS) must not take down the sessions we have.
      this.bgpLog.error(
        { err: String(err) },
        'cannot compute BGP configuration; keeping the last one',
      );
      return this.current;
    }
    if (next === undefined) return undefined;
    const hold = this.opts.holdTime;
    return {
      ...next,
      speaker: {
        ...next.speaker,
        // Calico's BIRD template has `add paths on` for every peer (RFC 7911): a route
        // reflector passes on every path of an anycast prefix, not just its best.
        peers: next.speaker.peers.map((p) => ({
          addPath: 'both' as const,
          ...p,
          ...(p.holdTime === undefined && hold !== undefined ? { holdTime: hold } : {}),
        })),
      },
    };
  }

  private async reconcile(): Promise<void> {
    if (this.stopped) return;
    const next = this.desired();
    if (this.speaker === undefined) {
      if (next === undefined) {
        if (this.current === undefined)
          this.bgpLog.info(
            { node: this.opts.nodeName },
            'no BGP address for this node (Node.spec.bgp): not running BGP',
          );
        this.current = undefined;
        return;
      }
      await this.startSpeaker(next);
      return;
    }
    const diff = diffBgpConfig(this.current, next);
    if (isEmptyDiff(diff)) return;
    if (diff.restart) {
      this.bgpLog.info(
        { node: this.opts.nodeName },
        'speaker-wide BGP settings changed: restarting the speaker gracefully',
      );
      const old = this.speaker;
      this.speaker = undefined;
      this.current = undefined;
      await old.stop(true);
      if (next !== undefined) await this.startSpeaker(next);
      return;
    }
    const sp = this.speaker;
    for (const a of diff.removePeers) sp.removePeer(a);
    for (const p of diff.changePeers) {
      sp.removePeer(p.address);
      sp.addPeer(p);
    }
    for (const p of diff.addPeers) sp.addPeer(p);
    if (diff.withdraw.length > 0) await sp.request('withdraw', { prefixes: diff.withdraw });
    if (diff.originate.length > 0) await sp.originateAll(diff.originate);
    this.bgpLog.info(
      {
        peersAdded: diff.addPeers.length,
        peersRemoved: diff.removePeers.length,
        peersChanged: diff.changePeers.length,
        originated: diff.originate,
        withdrawn: diff.withdraw,
      },
      'BGP configuration updated',
    );
    this.current = next;
  }

  private async startSpeaker(cfg: NodeBgpConfig): Promise<void> {
    this.peerStates.clear();
    const config: SpeakerProcessConfig = {
      ...cfg.speaker,
      // Whenever we start, the kernel may still forward on routes of our previous
      // incarnation (agent restart): advertise a restart with forwarding preserved, as
      // calico-node's `bird -R` does, so peers keep our routes until our End-of-RIB.
      gracefulRestart: { restarting: true },
      kernel: { protocol: this.opts.routeProtocol ?? BGP_ROUTE_PROTOCOL },
      statusFile: this.opts.statusFile,
      logLevel: this.opts.log.isLevelEnabled('debug') ? 'debug' : 'info',
    };
    const base = this.opts.speakerArgv ?? selfSpeakerArgv();
    const argv =
      this.opts.netns !== undefined ? ['ip', 'netns', 'exec', this.opts.netns, ...base] : [...base];
    const sp = await SpeakerProcessClient.start({
      argv,
      env: { ...process.env, ...this.opts.env, CALICO_BGP_SPEAKER: 'stdin' },
      config,
      logger: this.bgpLog,
      onEvent: (ev) => {
        if (ev.event === 'peerState' && typeof ev.address === 'string')
          this.peerStates.set(ev.address, String(ev.bgpState));
      },
      onExit: (code, signal) => {
        if (this.speaker !== sp) return;
        this.bgpLog.error({ code, signal }, 'BGP speaker exited; starting it again in 1 s');
        this.speaker = undefined;
        this.current = undefined;
        this.retryLater(1000);
      },
    });
    if (this.stopped) {
      await sp.stop(true);
      return;
    }
    this.speaker = sp;
    if (cfg.prefixes.length > 0) await sp.originateAll(cfg.prefixes);
    this.current = cfg;
    this.bgpLog.info(
      {
        pid: sp.pid,
        routerId: cfg.speaker.routerId,
        asNumber: cfg.speaker.asNumber,
        peers: cfg.speaker.peers.map((p) => `${p.name ?? p.address} (AS ${p.asNumber})`),
        originated: cfg.prefixes,
      },
      'BGP speaker started',
    );
  }

  /**
   * Graceful stop (RFC 4724): sessions close without NOTIFICATION and learned routes stay
   * in the kernel, so peers and this host keep forwarding while calico-node restarts.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.chain;
    const sp = this.speaker;
    this.speaker = undefined;
    await sp?.stop(true);
  }
}
