// calico-node: datastore → calc graph → dataplane, plus the Node registration, default
// resources, health, metrics and status around that pipeline. Restart doctrine
// (calico-dataplane.md §1–2): nothing in the kernel is removed before the first full
// sync, a datastore outage leaves the kernel exactly as it is, and shutdown leaves the
// dataplane in place for the next instance to adopt.
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import {
  CalcGraph,
  type DesiredStateUpdate,
  type EffectiveConfig,
  type ResourceUpdate,
} from '../calc/index.js';
import { type ApplyMetrics, Dataplane } from '../dataplane/index.js';
import {
  type Backend,
  type DatastoreConfig,
  DatastoreError,
  openBackend,
  ResourceClient,
} from '../datastore/index.js';
import { autodetectAddress } from './autodetect.js';
import { type AgentConfig, parseDurationMs } from './config.js';
import { closeServer, listen } from './http.js';
import { pinoLevel } from './log.js';
import { AgentMetrics } from './metrics.js';
import { BuiltinNetworking, type NetworkingBackend, NoNetworking } from './networking.js';
import { endpointStatuses, hostStatusKey, StatusFiles, upInterfaces } from './status.js';
import { Syncer, type SyncStatus } from './syncer.js';

const V3 = 'projectcalico.org/v3';
export const AGENT_VERSION = 'v0.1.0-calico-ts';

export interface AgentOptions {
  readonly config: AgentConfig;
  readonly datastore: DatastoreConfig;
  readonly log: Logger;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}

export class Agent {
  readonly config: AgentConfig;
  private readonly log: Logger;
  private backend: Backend | undefined;
  private client: ResourceClient | undefined;
  private graph: CalcGraph;
  private dataplane: Dataplane;
  private syncer: Syncer | undefined;
  private readonly metrics: AgentMetrics;
  private networking: NetworkingBackend;
  private servers: Server[] = [];
  private statusFiles: StatusFiles;
  private readonly timers: NodeJS.Timeout[] = [];

  private felix: Record<string, unknown> = {};
  private syncStatus: SyncStatus = 'wait-for-ready';
  private datastoreConnected = false;
  private dataplaneInSync = false;
  private lastApplyFailed = false;
  private stopping = false;
  private pumpScheduled = false;
  private pumping: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();
  private ipv4: string | undefined;
  private ipv6: string | undefined;
  private lastStatusJson = '';
  private lastStatusWrite = 0;
  private statusDirty = true;
  private reportingIntervalMs = 30_000;
  private statusBusy = false;

  constructor(opts: AgentOptions) {
    this.config = opts.config;
    this.log = opts.log;
    this.graph = new CalcGraph({ hostname: this.config.nodeName });
    this.dataplane = this.newDataplane({});
    this.networking =
      this.config.networkingBackend === 'none'
        ? new NoNetworking()
        : new BuiltinNetworking({
            nodeName: this.config.nodeName,
            ...(this.config.netns !== undefined ? { netns: this.config.netns } : {}),
            log: this.log,
            statusFile: this.config.bgpStatusFile,
            ...(this.config.bgpHoldTime !== undefined ? { holdTime: this.config.bgpHoldTime } : {}),
          });
    this.statusFiles = new StatusFiles('/var/run/calico/endpoint-status');
    this.metrics = new AgentMetrics({
      localEndpoints: () =>
        this.dataplane.state.workloadEndpoints.size + this.dataplane.state.hostEndpoints.size,
      localPolicies: () => this.dataplane.state.policies.size,
      localSelectors: () => this.graph.stats().selectors ?? 0,
      ipSets: () => this.dataplane.state.ipSets.size,
      routes: () => this.dataplane.state.routes.size,
      clusterEndpoints: () => this.graph.stats().contributors ?? 0,
      resyncState: () => (this.syncStatus === 'in-sync' ? 3 : this.syncStatus === 'resync' ? 2 : 1),
      datastoreConnected: () => this.datastoreConnected,
    });
  }

  private newDataplane(cfg: Record<string, unknown>): Dataplane {
    const refresh = parseDurationMs(cfg.nftablesRefreshInterval, 180_000);
    return new Dataplane({
      ...(this.config.netns !== undefined ? { netns: this.config.netns } : {}),
      refreshIntervalMs: refresh,
      onApply: (m: ApplyMetrics) => this.metrics.applyTime.observe(m.applyMs / 1000),
    });
  }

  /** Effective startup configuration: FelixConfiguration default ← node.<name> ← FELIX_*. */
  private effective(
    global: Record<string, unknown> | undefined,
    node: Record<string, unknown> | undefined,
  ) {
    return { ...(global ?? {}), ...(node ?? {}), ...this.config.felixOverrides };
  }

  // ================================================================== lifecycle

  async start(datastore: DatastoreConfig): Promise<void> {
    this.log.info(
      {
        node: this.config.nodeName,
        datastore: datastore.type,
        netns: this.config.netns ?? '(own)',
        networking: this.config.networkingBackend,
      },
      'calico-node starting',
    );
    for (const name of this.config.unknownFelixEnv) {
      this.log.warn({ env: name }, 'ignoring FELIX_ variable that names no known parameter');
    }
    // Health and metrics come up before the datastore is reached, so an operator sees
    // "not ready" during a start-of-day outage; their host/port therefore come from
    // FELIX_* or the defaults, not from FelixConfiguration in the store.
    this.felix = { ...this.config.felixOverrides };
    await this.startServers();
    this.backend = await this.retry('open datastore', () => openBackend(datastore));
    this.client = new ResourceClient(this.backend);
    await this.retry('bootstrap', () => this.bootstrap());
    await this.networking.start();
    this.syncer = new Syncer(this.backend, {
      onUpdates: (u) => this.onUpdates(u),
      onInSync: () => {
        this.log.info({ ...this.syncer?.lastResync }, 'datastore in sync');
        this.graph.onInSync();
        this.networking.onInSync();
        this.schedule();
      },
      onStatus: (s) => {
        this.syncStatus = s;
        if (s === 'in-sync') this.datastoreConnected = true;
      },
      onResyncStarted: () => this.metrics.resyncsStarted.inc(),
      onError: (err, ms) => {
        this.datastoreConnected = false;
        this.log.warn({ err: errText(err), retryInMs: ms }, 'datastore sync failed; retrying');
      },
    });
    this.syncer.start();
    this.every(2000, () => this.checkDatastore());
    this.every(1000, () => this.reportStatus(false));
  }

  private every(ms: number, fn: () => Promise<void>): void {
    let busy = false;
    const t = setInterval(() => {
      if (busy || this.stopping) return;
      busy = true;
      fn()
        .catch((err: unknown) => this.log.debug({ err: errText(err) }, 'periodic task failed'))
        .finally(() => {
          busy = false;
        });
    }, ms);
    t.unref();
    this.timers.push(t);
  }

  private async retry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    let backoff = 200;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (this.stopping) throw err;
        if (err instanceof DatastoreError && err.code === 'INVALID_CONFIG') throw err;
        this.log.warn({ err: errText(err), retryInMs: backoff }, `${what} failed; retrying`);
        await sleep(backoff);
        backoff = Math.min(5000, backoff * 2);
      }
    }
  }

  /** Graceful stop: the kernel keeps what it enforces; the next instance adopts it. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.log.info('calico-node stopping; dataplane left in place');
    for (const t of this.timers) clearInterval(t);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.syncer?.stop();
    await this.pumping;
    await this.dataplane.stop();
    await this.networking.stop();
    await Promise.all(this.servers.map(closeServer));
    await this.backend?.close();
  }

  // ================================================================== bootstrap

  private async bootstrap(): Promise<void> {
    const c = this.client!;
    await this.createIfAbsent({
      apiVersion: V3,
      kind: 'ClusterInformation',
      metadata: { name: 'default' },
      spec: {
        clusterGUID: randomBytes(16).toString('hex'),
        clusterType: 'calico-ts',
        calicoVersion: AGENT_VERSION,
        datastoreReady: true,
      },
    });
    await this.createIfAbsent({
      apiVersion: V3,
      kind: 'FelixConfiguration',
      metadata: { name: 'default' },
      spec: { logSeverityScreen: 'Info', reportingInterval: '30s' },
    });
    if (!this.config.noDefaultPools) {
      const pools = await c.list('IPPool');
      if (pools.items.length === 0) {
        await this.createIfAbsent({
          apiVersion: V3,
          kind: 'IPPool',
          metadata: { name: 'default-ipv4-ippool' },
          spec: {
            cidr: this.config.ipv4PoolCidr,
            ipipMode: 'Never',
            vxlanMode: 'Never',
            natOutgoing: true,
            blockSize: 26,
            nodeSelector: 'all()',
          },
        });
        if (this.config.ipv6PoolCidr !== undefined) {
          await this.createIfAbsent({
            apiVersion: V3,
            kind: 'IPPool',
            metadata: { name: 'default-ipv6-ippool' },
            spec: {
              cidr: this.config.ipv6PoolCidr,
              ipipMode: 'Never',
              vxlanMode: 'Never',
              natOutgoing: false,
              blockSize: 122,
              nodeSelector: 'all()',
            },
          });
        }
      }
    }
    const global = await c.get('FelixConfiguration', 'default');
    const node = await c.get('FelixConfiguration', `node.${this.config.nodeName}`);
    this.felix = this.effective(
      global?.spec as Record<string, unknown> | undefined,
      node?.spec as Record<string, unknown> | undefined,
    );
    this.applyRuntimeConfig(this.felix);
    await this.resolveAddresses();
    await this.ensureNode();
    this.datastoreConnected = true;
  }

  private async createIfAbsent(resource: Record<string, unknown>): Promise<void> {
    const meta = resource.metadata as { name: string };
    const existing = await this.client!.get(resource.kind as 'IPPool', meta.name);
    if (existing !== undefined) return;
    try {
      await this.client!.create(resource as never);
      this.log.info({ kind: resource.kind, name: meta.name }, 'created default resource');
    } catch (err) {
      // another node created it first: never overwrite
      if (!(err instanceof DatastoreError && err.code === 'KEY_EXISTS')) throw err;
    }
  }

  private async resolveAddresses(): Promise<void> {
    const prefixes = String(this.felix.interfacePrefix ?? 'cali').split(',');
    const pick = async (fam: 4 | 6) => {
      const s = fam === 4 ? this.config.ip : this.config.ip6;
      if (s.mode === 'explicit') return s.cidr;
      if (s.mode === 'none') return undefined;
      return autodetectAddress(fam, this.config.netns, prefixes);
    };
    this.ipv4 = await pick(4);
    this.ipv6 = await pick(6);
    this.log.info({ ipv4: this.ipv4 ?? null, ipv6: this.ipv6 ?? null }, 'node addresses');
  }

  /** Creates or corrects this host's Node resource; other fields (labels, …) are kept. */
  private async ensureNode(): Promise<void> {
    const c = this.client!;
    const bgp: Record<string, unknown> = {};
    if (this.ipv4 !== undefined) bgp.ipv4Address = this.ipv4;
    if (this.ipv6 !== undefined) bgp.ipv6Address = this.ipv6;
    if (this.config.asNumber !== undefined) bgp.asNumber = this.config.asNumber;
    const existing = await c.get('Node', this.config.nodeName);
    const spec = { ...((existing?.spec as Record<string, unknown> | undefined) ?? {}) };
    const oldBgp = (spec.bgp ?? {}) as Record<string, unknown>;
    const wantBgp = Object.keys(bgp).length > 0 ? { ...oldBgp, ...bgp } : undefined;
    if (existing !== undefined && JSON.stringify(oldBgp) === JSON.stringify(wantBgp ?? {})) return;
    if (wantBgp !== undefined) spec.bgp = wantBgp;
    else delete spec.bgp;
    const doc = {
      apiVersion: V3,
      kind: 'Node',
      metadata: { ...(existing?.metadata ?? {}), name: this.config.nodeName },
      spec,
    } as Record<string, unknown>;
    delete (doc.metadata as Record<string, unknown>).resourceVersion;
    await c.apply(doc as never);
    this.log.info({ node: this.config.nodeName, bgp: wantBgp ?? null }, 'registered Node');
  }

  private async startServers(): Promise<void> {
    const f = this.felix;
    const healthOn = f.healthEnabled !== false;
    const metricsOn = f.prometheusMetricsEnabled !== false;
    const hHost = String(f.healthHost ?? 'localhost');
    const hPort = Number(f.healthPort ?? 9099);
    const mHost = String(f.prometheusMetricsHost ?? hHost);
    const mPort = Number(f.prometheusMetricsPort ?? 9091);
    const health = {
      live: () => ({
        ok: !this.stopping,
        detail: { uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000) },
      }),
      ready: () => {
        const ok = this.dataplaneInSync && !this.lastApplyFailed && !this.stopping;
        return {
          ok,
          detail: {
            datastoreInSync: this.syncStatus === 'in-sync',
            dataplaneInSync: this.dataplaneInSync,
            lastApplyFailed: this.lastApplyFailed,
            datastoreConnected: this.datastoreConnected,
            // informational: Calico gates readiness on BGP too (-bird-ready); we don't yet
            bgp: this.networking.health(),
          },
        };
      },
    };
    if (healthOn && metricsOn && hPort === mPort && hHost === mHost) {
      this.servers.push(await listen(hHost, hPort, { health, metrics: this.metrics.registry }));
    } else {
      if (healthOn) this.servers.push(await listen(hHost, hPort, { health }));
      if (metricsOn)
        this.servers.push(await listen(mHost, mPort, { metrics: this.metrics.registry }));
    }
    this.log.info(
      {
        health: healthOn ? `${hHost}:${hPort}` : null,
        metrics: metricsOn ? `${mHost}:${mPort}` : null,
      },
      'serving health and metrics',
    );
  }

  // ================================================================== pipeline

  private onUpdates(updates: ResourceUpdate[]): void {
    if (updates.length === 0) return;
    const t0 = performance.now();
    this.graph.onUpdates(updates);
    this.metrics.calcTime.observe((performance.now() - t0) / 1000);
    this.networking.onUpdates(updates);
    this.metrics.updatesProcessed.inc(updates.length);
    this.schedule();
  }

  private schedule(): void {
    if (this.pumpScheduled || this.stopping) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pumping = (this.pumping ?? Promise.resolve()).then(() => this.pump());
    });
  }

  private async pump(): Promise<void> {
    if (this.stopping) return;
    const t0 = performance.now();
    const out = this.graph.flush();
    const flushMs = performance.now() - t0;
    if (out.length > 0) this.metrics.calcTime.observe(flushMs / 1000);
    let endpointsChanged = false;
    for (const u of out) {
      this.dataplane.apply(this.withOverrides(this.withoutBgpRoutes(u)));
      if (u.type.startsWith('workloadEndpoint')) endpointsChanged = true;
    }
    if (out.length === 0 && !this.lastApplyFailed) return;
    try {
      const m = await this.dataplane.flush();
      if (this.lastApplyFailed) this.log.info('dataplane apply recovered');
      this.lastApplyFailed = false;
      if (!this.dataplaneInSync && this.dataplane.state.inSync) {
        this.dataplaneInSync = true;
        const secs = (Date.now() - this.startedAt) / 1000;
        this.metrics.initialResync.set(secs);
        this.log.info(
          {
            seconds: secs,
            endpoints: this.dataplane.state.workloadEndpoints.size,
            policies: this.dataplane.state.policies.size,
            graphFlushMs: Math.round(flushMs),
            updates: out.length,
            applyMs: Math.round(m.applyMs),
            renderMs: Math.round(m.renderMs),
            nftMs: Math.round(m.nftMs),
          },
          'dataplane in sync',
        );
      }
      if (endpointsChanged) this.statusDirty = true;
    } catch (err) {
      this.lastApplyFailed = true;
      this.metrics.dataplaneFailures.inc();
      this.log.error({ err: errText(err) }, 'dataplane apply failed; retrying in 1 s');
      this.dataplane.forceFullResync();
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.schedule(), 1000);
    }
  }

  /**
   * With the builtin BGP backend, routes to other hosts' blocks and borrowed addresses
   * are BGP's (learned, protocol 81, ECMP), as BIRD's are beside Felix: the dataplane
   * keeps only this host's own routes. With `none` the dataplane programs them itself.
   */
  private withoutBgpRoutes(u: DesiredStateUpdate): DesiredStateUpdate {
    if (
      this.networking.name === 'builtin' &&
      u.type === 'routeUpdate' &&
      (u.route.type === 'remote-block' || u.route.type === 'remote-workload')
    )
      return { type: 'routeRemove', dst: u.route.dst };
    return u;
  }

  /** FELIX_* environment overrides win over the datastore, as in Felix. */
  private withOverrides(u: DesiredStateUpdate): DesiredStateUpdate {
    if (u.type !== 'config') return u;
    const config: EffectiveConfig = { ...u.config, ...this.config.felixOverrides };
    this.felix = { ...config };
    this.applyRuntimeConfig(config);
    return { type: 'config', config };
  }

  private applyRuntimeConfig(cfg: Readonly<Record<string, unknown>>): void {
    const level = pinoLevel(cfg.logSeverityScreen) ?? 'info';
    if (this.log.level !== level) this.log.level = level;
    this.statusFiles.setPrefix(String(cfg.endpointStatusPathPrefix ?? '/var/run/calico'));
    this.reportingIntervalMs = parseDurationMs(cfg.reportingInterval, 30_000);
  }

  // ================================================================== datastore health and status

  private async checkDatastore(): Promise<void> {
    const b = this.backend;
    if (!b) return;
    const ok = await Promise.race([
      b.currentRevision().then(
        () => true,
        () => false,
      ),
      sleep(1500).then(() => false),
    ]);
    if (ok !== this.datastoreConnected) {
      this.log[ok ? 'info' : 'warn'](ok ? 'datastore reachable' : 'datastore unreachable');
    }
    this.datastoreConnected = ok;
  }

  /**
   * Status files follow endpoint changes promptly (the CNI plugin waits on them); the
   * datastore record is rewritten only when it changed or reportingInterval passed.
   */
  private async reportStatus(force: boolean): Promise<void> {
    if (!this.dataplaneInSync || this.statusBusy) return;
    const due =
      this.reportingIntervalMs > 0 && Date.now() - this.lastStatusWrite >= this.reportingIntervalMs;
    if (!this.statusDirty && !due && !force) return;
    this.statusBusy = true;
    try {
      this.statusDirty = false;
      const up = await upInterfaces(this.config.netns);
      const statuses = endpointStatuses(this.dataplane.state.workloadEndpoints.values(), up);
      await this.statusFiles.sync(statuses);
      if (this.reportingIntervalMs <= 0 || !this.datastoreConnected) return;
      const endpoints = Object.fromEntries(statuses);
      const json = JSON.stringify(endpoints);
      if (json === this.lastStatusJson && !due) return;
      await this.backend!.put(
        hostStatusKey(this.config.nodeName),
        JSON.stringify({
          time: new Date().toISOString(),
          uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
          inSync: this.syncStatus === 'in-sync',
          endpoints,
        }),
      );
      this.lastStatusJson = json;
      this.lastStatusWrite = Date.now();
      if (due) await this.ensureNode();
    } catch (err) {
      this.statusDirty = true;
      throw err;
    } finally {
      this.statusBusy = false;
    }
  }
}
