// Prometheus metrics under Felix's names (calico-dataplane.md §15). Gauges read live
// state at scrape time, so a scrape always reports what is, not a cached constant.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface LiveState {
  localEndpoints(): number;
  localPolicies(): number;
  localSelectors(): number;
  ipSets(): number;
  routes(): number;
  clusterEndpoints(): number;
  /** 1 wait-for-ready, 2 resyncing, 3 in sync (Felix's felix_resync_state values) */
  resyncState(): number;
  datastoreConnected(): boolean;
}

export class AgentMetrics {
  readonly registry = new Registry();
  readonly resyncsStarted: Counter;
  readonly applyTime: Histogram;
  readonly calcTime: Histogram;
  readonly updatesProcessed: Counter;
  readonly dataplaneFailures: Counter;
  readonly initialResync: Gauge;

  constructor(live: LiveState) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'felix_' });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    gauge('felix_active_local_endpoints', 'Local workload and host endpoints', () =>
      live.localEndpoints(),
    );
    gauge('felix_active_local_policies', 'Policies active on local endpoints', () =>
      live.localPolicies(),
    );
    gauge('felix_active_local_selectors', 'Selectors active on this host', () =>
      live.localSelectors(),
    );
    gauge('felix_ipsets_calico', 'IP sets programmed by the agent', () => live.ipSets());
    gauge('felix_route_table_num_routes', 'Routes the agent programs', () => live.routes());
    gauge('felix_cluster_num_workload_endpoints', 'Endpoints in the cluster', () =>
      live.clusterEndpoints(),
    );
    gauge('felix_resync_state', 'Datastore state: 1 wait-for-ready, 2 resync, 3 in sync', () =>
      live.resyncState(),
    );
    gauge('felix_datastore_connected', 'calico-ts: 1 while the datastore answers', () =>
      live.datastoreConnected() ? 1 : 0,
    );
    this.resyncsStarted = new Counter({
      name: 'felix_resyncs_started',
      help: 'Datastore (re)syncs started',
      registers,
    });
    this.updatesProcessed = new Counter({
      name: 'felix_calc_graph_updates_processed',
      help: 'Datastore updates fed to the calculation graph',
      registers,
    });
    this.dataplaneFailures = new Counter({
      name: 'felix_int_dataplane_failures',
      help: 'Failed dataplane applies',
      registers,
    });
    const buckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    this.applyTime = new Histogram({
      name: 'felix_int_dataplane_apply_time_seconds',
      help: 'Time to apply a batch of changes to the dataplane',
      buckets,
      registers,
    });
    this.calcTime = new Histogram({
      name: 'felix_calc_graph_update_time_seconds',
      help: 'Time the calculation graph spent on a batch of updates',
      buckets,
      registers,
    });
    this.initialResync = new Gauge({
      name: 'felix_int_dataplane_initial_resync_time_seconds',
      help: 'Start of day to the first complete dataplane apply',
      registers,
    });
  }
}
