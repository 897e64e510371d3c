// The Dataplane facade: folds the calc graph's update stream into a DesiredState and,
// on flush(), reconciles nftables, routes and interface settings in one namespace.
// Nothing is deleted or replaced before the stream reports in-sync, so a restarted
// process leaves the previous instance's table enforcing until its own is complete.
import {
  applyDesiredStateUpdate,
  type DesiredState,
  type DesiredStateUpdate,
  emptyDesiredState,
  type RouteState,
} from '../calc/index.js';
import { ShellRunner, SpawnRunner, type ToolRunner } from './exec.js';
import { configureInterfaces } from './interfaces.js';
import { countTable, countTableDelta, type RenderedTable, type TableCounts } from './model.js';
import { TABLE_NAME } from './names.js';
import { type NftStats, NftTable, type SyncResult } from './nft.js';
import { Renderer } from './render.js';
import {
  CALICO_ROUTE_PROTOCOL,
  type RouteApplyResult,
  type RouteSpec,
  RouteTable,
} from './routes.js';

export interface DataplaneOptions {
  /** network namespace to program; the caller's own namespace when absent */
  netns?: string;
  tableName?: string;
  routeProtocol?: number;
  /** program routes from DesiredState.routes (default true) */
  manageRoutes?: boolean;
  /** apply workload interface sysctls (default true) */
  manageInterfaces?: boolean;
  /** periodic read-back of table and routes; 0 disables (default 0; Felix uses 3 min) */
  refreshIntervalMs?: number;
  nftRetries?: number;
  nftBackoffMs?: number;
  /** called after every flush that did something */
  onApply?: (m: ApplyMetrics) => void;
  /**
   * keep a long-lived shell and `nft -i` in the namespace instead of starting processes
   * per change (default true; stop() ends them)
   */
  helpers?: boolean;
}

export interface ApplyMetrics {
  /** time spent in flush(), milliseconds */
  applyMs: number;
  /** of which rendering the table, and the nft transaction(s) */
  renderMs: number;
  nftMs: number;
  nft: SyncResult | undefined;
  routes: RouteApplyResult | undefined;
  counts: TableCounts;
}

export interface DataplaneMetrics extends TableCounts {
  applies: number;
  lastApplyMs: number;
  nft: NftStats;
  routes: number;
  inSync: boolean;
}

export function routeSpecFor(r: RouteState): RouteSpec | undefined {
  switch (r.type) {
    case 'local-workload':
      return r.interfaceName ? { dst: r.dst, kind: 'device', dev: r.interfaceName } : undefined;
    case 'local-block':
      return { dst: r.dst, kind: 'blackhole' };
    case 'remote-block':
    case 'remote-workload':
      return r.nextHop
        ? { dst: r.dst, kind: 'nexthops', nextHops: [{ via: r.nextHop }] }
        : undefined;
  }
}

export class Dataplane {
  readonly state: DesiredState = emptyDesiredState();
  readonly routes: RouteTable;
  private readonly renderer: Renderer;
  private readonly nft: NftTable;
  private readonly runner: ToolRunner;
  private dirty = newDirty();
  /** the next render re-renders every IP set (first flush, a failed flush, forced resync) */
  private allSetsDirty = true;
  /** the next render walks the whole state (config, host endpoints or pools changed) */
  private walkAll = true;
  private routesDirty = true;
  private readonly configuredIfs = new Set<string>();
  private globalsDone = false;
  private routesResynced = false;
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private last: RenderedTable | undefined;
  private lastCounts: TableCounts = zeroCounts();
  private applies = 0;
  private lastApplyMs = 0;

  constructor(private readonly opts: DataplaneOptions = {}) {
    const tableName = opts.tableName ?? TABLE_NAME;
    this.renderer = new Renderer(tableName);
    const helpers = opts.helpers !== false;
    this.runner = helpers ? new ShellRunner(opts.netns) : new SpawnRunner(opts.netns);
    this.nft = new NftTable({
      netns: opts.netns,
      tableName,
      retries: opts.nftRetries,
      backoffMs: opts.nftBackoffMs,
      runner: this.runner,
      session: helpers,
    });
    this.routes = new RouteTable({
      netns: opts.netns,
      protocol: opts.routeProtocol ?? CALICO_ROUTE_PROTOCOL,
      runner: this.runner,
    });
    if (opts.refreshIntervalMs && opts.refreshIntervalMs > 0) {
      this.timer = setInterval(() => {
        this.refresh().catch(() => {
          // a failed refresh is retried at the next tick; the flush path reports errors
        });
      }, opts.refreshIntervalMs);
      this.timer.unref();
    }
  }

  /** Buffers one update; nothing reaches the kernel until flush(). */
  apply(update: DesiredStateUpdate): void {
    if (this.stopped) throw new Error('Dataplane.apply() after stop()');
    applyDesiredStateUpdate(this.state, update);
    switch (update.type) {
      case 'ipSetUpdate':
      case 'ipSetDelta':
      case 'ipSetRemove':
        this.dirty.sets.add(update.id);
        break;
      case 'policyUpdate':
        this.dirty.policies.add(update.policy.id);
        break;
      case 'policyRemove':
        this.dirty.policies.add(update.id);
        break;
      case 'profileUpdate':
        this.dirty.profiles.add(update.profile.id);
        break;
      case 'profileRemove':
        this.dirty.profiles.add(update.id);
        break;
      case 'workloadEndpointUpdate':
        this.dirty.endpoints.add(update.endpoint.id);
        break;
      case 'workloadEndpointRemove':
        this.dirty.endpoints.add(update.id);
        break;
      case 'routeUpdate':
      case 'routeRemove':
        this.routesDirty = true;
        this.syncRoute(update.type === 'routeUpdate' ? update.route.dst : update.dst);
        break;
      default:
        this.walkAll = true;
    }
  }

  private syncRoute(dst: string): void {
    if (this.opts.manageRoutes === false) return;
    const r = this.state.routes.get(dst);
    const spec = r ? routeSpecFor(r) : undefined;
    if (spec) this.routes.set(spec);
    else this.routes.delete(dst);
  }

  /** Reconciles the kernel with everything applied so far (serialised with other flushes). */
  flush(): Promise<ApplyMetrics> {
    const p = this.queue.then(() => this.doFlush());
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async doFlush(): Promise<ApplyMetrics> {
    const t0 = performance.now();
    let nftResult: SyncResult | undefined;
    let routeResult: RouteApplyResult | undefined;
    const inSync = this.state.inSync;

    // Interfaces, routes and the table are independent kernel objects: program them
    // concurrently so a change is enforced as soon as its nft transaction commits.
    const interfaces = async () => {
      if (this.opts.manageInterfaces === false) return;
      const present = new Set<string>();
      for (const e of this.state.workloadEndpoints.values()) present.add(e.interfaceName);
      for (const n of [...this.configuredIfs]) if (!present.has(n)) this.configuredIfs.delete(n);
      const wanted = [...present].filter((n) => !this.configuredIfs.has(n));
      if (wanted.length === 0 && this.globalsDone) return;
      const done = await configureInterfaces(
        this.opts.netns,
        wanted,
        !this.globalsDone,
        this.runner,
      );
      this.globalsDone = true;
      for (const n of done) this.configuredIfs.add(n);
    };
    const routes = async () => {
      if (this.opts.manageRoutes === false || (!this.routesDirty && this.routesResynced)) return;
      // Before in-sync only add/replace; the first in-sync flush also removes strays.
      if (inSync && !this.routesResynced) {
        routeResult = await this.routes.resync(true);
        this.routesResynced = true;
      } else routeResult = await this.routes.apply();
      this.routesDirty = routeResult.failed.length > 0;
    };
    let renderMs = 0;
    let nftMs = 0;
    const table = async () => {
      if (!inSync) return;
      const r0 = performance.now();
      // A change is rendered on top of the previous render when it can be; the full walk
      // (still cached per object) is for the first flush, structural changes and recovery.
      const changes =
        this.allSetsDirty || this.walkAll
          ? undefined
          : this.renderer.renderChanges(this.state, this.dirty);
      const rendered =
        changes?.table ??
        this.renderer.render(this.state, this.allSetsDirty ? undefined : this.dirty.sets);
      this.dirty = newDirty();
      this.allSetsDirty = false;
      this.walkAll = false;
      const r1 = performance.now();
      renderMs = r1 - r0;
      try {
        nftResult = await this.nft.sync(rendered, changes);
        nftMs = performance.now() - r1;
      } catch (e) {
        // the sets we consumed as dirty were not programmed: recompute them all next time
        this.allSetsDirty = true;
        throw e;
      }
      this.lastCounts =
        changes && changes.base === this.last
          ? countTableDelta(changes.base, this.lastCounts, rendered, changes.touched)
          : countTable(rendered);
      this.last = rendered;
    };
    await Promise.all([interfaces(), routes(), table()]);
    const applyMs = performance.now() - t0;
    this.applies++;
    this.lastApplyMs = applyMs;
    const m: ApplyMetrics = {
      applyMs,
      renderMs,
      nftMs,
      nft: nftResult,
      routes: routeResult,
      counts: { ...this.lastCounts },
    };
    this.opts.onApply?.(m);
    return m;
  }

  /** Read-back of table and routes; repairs drift (also run by the refresh timer). */
  refresh(): Promise<string | undefined> {
    const p = this.queue.then(async () => {
      if (!this.state.inSync) return undefined;
      const drift = await this.nft.repairDrift();
      if (this.opts.manageRoutes !== false) await this.routes.resync(true);
      return drift;
    });
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Forces the next flush to rewrite the table atomically. */
  forceFullResync(): void {
    this.nft.markDirty();
    this.allSetsDirty = true;
  }

  metrics(): DataplaneMetrics {
    return {
      ...this.lastCounts,
      applies: this.applies,
      lastApplyMs: this.lastApplyMs,
      nft: { ...this.nft.stats },
      routes: this.routes.size,
      inSync: this.state.inSync,
    };
  }

  /** The table as last rendered (for diagnostics and `calicoctl`-style dumps). */
  rendered(): RenderedTable | undefined {
    return this.last;
  }

  /**
   * Stops timers and waits for in-flight work. The kernel state stays as programmed:
   * a restarting agent must keep enforcing until its successor is in sync.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.queue;
    await this.nft.close();
    await this.runner.close();
  }

  /** Removes our table (teardown only; never part of normal operation). */
  async deleteTable(): Promise<void> {
    await this.queue;
    await this.nft.delete();
  }
}

function newDirty() {
  return {
    endpoints: new Set<string>(),
    policies: new Set<string>(),
    profiles: new Set<string>(),
    sets: new Set<string>(),
  };
}

function zeroCounts(): TableCounts {
  return { chains: 0, rules: 0, sets: 0, setElements: 0, maps: 0, mapElements: 0 };
}
