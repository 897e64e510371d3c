// `npm run bench -- calc [--json] [--scale F] [--only design|moonshot|incremental] [--no-baseline]
// [--isolate-gc] [--warm]`:
// the calculation graph on generated Kubernetes-like clusters (issue 7).
//  (a) design point: 100,000 endpoints on 1,000 hosts, 2,000 policies, empty -> in-sync;
//  (b) moonshot: 1,000,000 endpoints on 10,000 hosts, 10,000 policies (needs a big heap:
//      NODE_OPTIONS=--max-old-space-size=6144);
//  (c) incremental latencies and sustained endpoint updates on the design-point cluster.
// The baseline column is a full recompute (computeFromScratch) in the same run
// (`--no-baseline` skips it); the last note gives every figure's ratio to its target.
// `--scale F` multiplies every count (0.1 gives a CI-sized run).

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CalcGraph, computeFromScratch, type ResourceUpdate } from '../src/calc/index.js';
import type { ResourceLike } from '../src/policy/index.js';
import type { Benchmark, Figure } from './lib/report.js';
import { percentile } from './lib/report.js';

const V3 = 'projectcalico.org/v3';

interface ClusterShape {
  endpoints: number;
  hosts: number;
  policies: number;
}

/** Deterministic cluster generator; resources are produced lazily to bound memory. */
export class Cluster {
  readonly namespaces: number;
  readonly apps: number;
  readonly blocksPerHost: number;

  constructor(readonly shape: ClusterShape) {
    this.apps = Math.max(10, Math.floor(shape.endpoints / 20));
    this.namespaces = Math.max(5, Math.floor(shape.endpoints / 100));
    this.blocksPerHost = Math.ceil(shape.endpoints / shape.hosts / 64) + 1;
  }

  hostName(h: number): string {
    return `node-${h}`;
  }

  nsOfApp(a: number): string {
    return `ns-${a % this.namespaces}`;
  }

  /** Endpoint i: a pseudo-random app, host i % hosts, address inside one of its host's blocks. */
  endpoint(i: number, variant = 0): ResourceLike {
    const a = (Math.imul(i, 2654435761) >>> 0) % this.apps;
    const h = i % this.shape.hosts;
    const j = Math.floor(i / this.shape.hosts);
    const ns = this.nsOfApp(a);
    const ip = this.address(h, j);
    const name = `${this.hostName(h)}-k8s-pod${i}-eth0`;
    return {
      apiVersion: V3,
      kind: 'WorkloadEndpoint',
      metadata: {
        name,
        namespace: ns,
        // Calico's client stores WEPs with these labels already present.
        labels: {
          app: `app-${variant === 0 ? a : (a + variant) % this.apps}`,
          tier: ['web', 'api', 'db'][a % 3]!,
          version: variant % 2 === 0 ? 'v1' : 'v2',
          'projectcalico.org/namespace': ns,
          'projectcalico.org/orchestrator': 'k8s',
        },
      },
      spec: {
        orchestrator: 'k8s',
        node: this.hostName(h),
        pod: `pod${i}`,
        endpoint: 'eth0',
        interfaceName: `cali${(i * 2654435761).toString(16).slice(-11).padStart(11, '0')}`,
        ipNetworks: [`${ip}/32`],
        profiles: [`kns.${ns}`],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    };
  }

  address(h: number, j: number): string {
    const block = h * this.blocksPerHost + Math.floor(j / 64);
    const n = block * 64 + (j % 64);
    return `10.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  }

  namespace(n: number): ResourceLike {
    return {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: `ns-${n}`,
        labels: { team: `team-${n % 20}`, env: n % 4 === 0 ? 'prod' : 'dev' },
      },
    };
  }

  /** 80% namespaced app policies, 15% global tier/namespace policies, 5% with CIDRs. */
  policy(k: number, variant = 0): ResourceLike {
    const a = (k * 7919) % this.apps;
    const from = (a + 1 + variant) % this.apps;
    const kind = k % 20;
    if (kind < 16) {
      return {
        apiVersion: V3,
        kind: 'NetworkPolicy',
        metadata: { name: `allow-${k}`, namespace: this.nsOfApp(a) },
        spec: {
          tier: k % 2 === 0 ? 'default' : 'platform',
          order: (k % 10) * 10,
          selector: `app == 'app-${a}'`,
          types: ['Ingress', 'Egress'],
          ingress: [
            {
              action: 'Allow',
              protocol: 'TCP',
              source: { selector: `app == 'app-${from}'` },
              destination: { ports: ['http'] },
            },
            { action: 'Deny' },
          ],
          egress: [
            {
              action: 'Allow',
              protocol: 'TCP',
              destination: {
                selector: `tier == 'db'`,
                namespaceSelector: `team == 'team-${k % 20}'`,
                ports: [5432],
              },
            },
            { action: 'Allow', protocol: 'UDP', destination: { ports: [53] } },
          ],
        },
      };
    }
    if (kind < 19) {
      return {
        apiVersion: V3,
        kind: 'GlobalNetworkPolicy',
        metadata: { name: `global-${k}` },
        spec: {
          tier: 'security',
          order: k,
          selector: `tier == '${['web', 'api', 'db'][k % 3]}' && version == 'v${1 + (k % 2)}'`,
          namespaceSelector: `team == 'team-${k % 20}'`,
          ingress: [
            { action: 'Pass', source: { namespaceSelector: `env == 'prod'` } },
            { action: 'Deny', source: { selector: `app == 'app-${(k + variant) % this.apps}'` } },
          ],
          egress: [{ action: 'Pass' }],
        },
      };
    }
    return {
      apiVersion: V3,
      kind: 'GlobalNetworkPolicy',
      metadata: { name: `cidr-${k}` },
      spec: {
        tier: 'security',
        order: 1000 + k,
        selector: `app == 'app-${a}'`,
        egress: [
          {
            action: 'Deny',
            destination: { nets: [`172.${k % 256}.0.0/16`], notNets: ['172.16.5.0/24'] },
          },
        ],
        types: ['Egress'],
      },
    };
  }

  *resources(): Generator<ResourceLike> {
    yield {
      apiVersion: V3,
      kind: 'FelixConfiguration',
      metadata: { name: 'default' },
      spec: { logSeverityScreen: 'Info' },
    };
    yield { apiVersion: V3, kind: 'Tier', metadata: { name: 'security' }, spec: { order: 100 } };
    yield {
      apiVersion: V3,
      kind: 'Tier',
      metadata: { name: 'platform' },
      spec: { order: 200, defaultAction: 'Pass' },
    };
    yield {
      apiVersion: V3,
      kind: 'IPPool',
      metadata: { name: 'pool' },
      spec: { cidr: '10.0.0.0/8', natOutgoing: true },
    };
    for (let n = 0; n < this.namespaces; n++) yield this.namespace(n);
    for (let k = 0; k < this.shape.policies; k++) yield this.policy(k);
    for (let h = 0; h < this.shape.hosts; h++) {
      yield {
        apiVersion: V3,
        kind: 'Node',
        metadata: { name: this.hostName(h) },
        spec: { bgp: { ipv4Address: `192.168.${(h >> 8) & 255}.${h & 255}/16` } },
      };
    }
    const perHost = Math.ceil(this.shape.endpoints / this.shape.hosts);
    for (let h = 0; h < this.shape.hosts; h++) {
      for (let b = 0; b * 64 < perHost; b++) yield this.block(h, b, perHost);
    }
    for (let i = 0; i < this.shape.endpoints; i++) yield this.endpoint(i);
  }

  block(h: number, b: number, perHost: number): ResourceLike {
    const allocations: (number | null)[] = new Array(64).fill(null);
    const attributes: unknown[] = [];
    for (let o = 0; o < 64 && b * 64 + o < perHost; o++) {
      allocations[o] = attributes.length;
      attributes.push({
        handle_id: `k8s-pod-network.${h}.${b}.${o}`,
        secondary: { node: this.hostName(h) },
      });
    }
    const first = this.address(h, b * 64);
    return {
      apiVersion: V3,
      kind: 'IPAMBlock',
      metadata: { name: `${first.replaceAll('.', '-')}-26` },
      spec: {
        cidr: `${first}/26`,
        affinity: `host:${this.hostName(h)}`,
        allocations,
        unallocated: [],
        attributes,
      },
    };
  }
}

function set(resource: ResourceLike): ResourceUpdate {
  return { type: 'set', resource };
}

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

type Gc = (options?: { type: 'major' | 'minor'; execution: 'sync' }) => void;

/** V8's gc(), also when node was started without --expose-gc (as `npm run bench` does). */
function exposeGc(): Gc {
  const g = (globalThis as { gc?: Gc }).gc;
  if (g !== undefined) return g;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as Gc;
}
const gc = exposeGc();

function heapMb(): number {
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

interface SyncResult {
  graph: CalcGraph;
  /** CPU time of the process over the timed parts (GC threads included) */
  cpuMs: number;
  /** policy ids in the first flush: the policies active on the host */
  activePolicyIds: string[];
  ms: number;
  outputs: number;
  heapMb: number;
}

/**
 * Feeds the whole cluster in batches (generation is not timed), then in-sync and flush.
 * With `isolateGc`, an untimed minor GC before each batch evacuates the generator's
 * young objects first; without it the graph's first scavenges of each batch also
 * copy the batch the generator just built (about a fifth of the figure at the design
 * point), which a syncer decoding a list page would pay too.
 */
function syncFromEmpty(cluster: Cluster, host: string, isolateGc: boolean): SyncResult {
  const graph = new CalcGraph({ hostname: host });
  let total = 0;
  let cpu = 0;
  let batch: ResourceUpdate[] = [];
  const feed = () => {
    if (isolateGc) gc({ type: 'minor', execution: 'sync' });
    const c = cpuMs();
    const t = process.hrtime.bigint();
    for (const u of batch) graph.onUpdate(u);
    total += ms(t);
    cpu += cpuMs() - c;
    batch = [];
  };
  for (const r of cluster.resources()) {
    batch.push(set(r));
    if (batch.length === 10_000) feed();
  }
  feed();
  const c = cpuMs();
  const t = process.hrtime.bigint();
  graph.onInSync();
  const out = graph.flush();
  total += ms(t);
  cpu += cpuMs() - c;
  const activePolicyIds = out.flatMap((u) => (u.type === 'policyUpdate' ? [u.policy.id] : []));
  return { graph, activePolicyIds, ms: total, cpuMs: cpu, outputs: out.length, heapMb: heapMb() };
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Wall-clock and CPU-time latencies of `run`, each sorted. On a shared machine the
 * wall clock includes time the process was not scheduled; CPU time (this process,
 * GC threads included) does not, so both are reported.
 */
function latencies(run: (i: number) => void, n: number): { wall: number[]; cpu: number[] } {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = cpuMs();
    const t = process.hrtime.bigint();
    run(i);
    wall.push(ms(t));
    cpu.push(cpuMs() - c);
  }
  return { wall: wall.sort((a, b) => a - b), cpu: cpu.sort((a, b) => a - b) };
}

function scaled(shape: ClusterShape, f: number): ClusterShape {
  return {
    endpoints: Math.max(100, Math.round(shape.endpoints * f)),
    hosts: Math.max(2, Math.round(shape.hosts * f)),
    policies: Math.max(20, Math.round(shape.policies * f)),
  };
}

const bench: Benchmark = async (args) => {
  const scaleArg = args.indexOf('--scale');
  const scale = scaleArg >= 0 ? Number(args[scaleArg + 1]) : 1;
  const onlyArg = args.indexOf('--only');
  const only = onlyArg >= 0 ? args[onlyArg + 1] : undefined;
  const want = (s: string) => only === undefined || only === s;
  const withBaseline = !args.includes('--no-baseline');
  const isolateGc = args.includes('--isolate-gc');
  // One untimed sync into a throwaway graph first: the timed one then runs compiled
  // code, which separates the graph's cost from V8's warm-up in a cold process.
  const warm = args.includes('--warm');
  const figures: Figure[] = [];
  const notes: string[] = [];
  const host = 'node-0';

  const design = new Cluster(scaled({ endpoints: 100_000, hosts: 1_000, policies: 2_000 }, scale));
  let designSync: SyncResult | undefined;
  if (want('design') || want('incremental')) {
    if (warm) syncFromEmpty(design, host, isolateGc);
    designSync = syncFromEmpty(design, host, isolateGc);
    const st = designSync.graph.stats();
    let baseline: number | undefined;
    if (want('design') && withBaseline) {
      const all = [...design.resources()];
      const t = process.hrtime.bigint();
      computeFromScratch(all, host);
      baseline = ms(t);
    }
    figures.push({
      name: 'design_sync_ms',
      label: `(a) empty -> in-sync, ${design.shape.endpoints} eps / ${design.shape.hosts} hosts / ${design.shape.policies} policies`,
      value: designSync.ms,
      ...(baseline !== undefined ? { baseline, baselineLabel: 'computeFromScratch' } : {}),
      unit: 'ms',
      target: 1000,
      better: 'lower',
    });
    figures.push({
      name: 'design_sync_cpu_ms',
      label: '(a) empty -> in-sync, CPU time',
      value: designSync.cpuMs,
      unit: 'ms',
      target: 1000,
      better: 'lower',
    });
    figures.push({
      name: 'design_heap_mb',
      label: '(a) heap after in-sync',
      value: designSync.heapMb,
      unit: 'MB',
      better: 'lower',
    });
    notes.push(
      `(a) host ${host}: ${st.localEndpoints} local endpoints, ${st.activePolicies} active policies, ${st.activeProfiles} profiles, ${st.ipSets} IP sets (${st.ipSetMembers} members, ${st.unindexedSelectors} unindexable selectors), ${st.routes} routes; ${designSync.outputs} updates in the first flush`,
    );
  }

  if (want('incremental') && designSync !== undefined) {
    const g = designSync.graph;
    // The snapshot is for the baselines only, built after the latency runs: held
    // during them, it would be 100k live resources for every GC to mark.
    let snapshot: ResourceLike[] | undefined;
    // With --isolate-gc each phase starts from a collected heap, so one phase's
    // garbage is not collected in (and charged to) the next phase's samples.
    const phase = () => {
      if (isolateGc) gc();
    };
    const E = design.shape.endpoints;
    const N = 2000;
    // Endpoint adds: new pods of existing apps, spread over hosts (1 in 1000 local).
    phase();
    const add = latencies((i) => {
      g.onUpdate(set(design.endpoint(E + i)));
      g.flush();
    }, N);
    phase();
    const label = latencies((i) => {
      g.onUpdate(set(design.endpoint((i * 7) % E, 1 + (i % 5))));
      g.flush();
    }, N);
    // Policy changes: rewrite the rule selector of policies active on this host.
    const activeKs = designSync.activePolicyIds
      .map((id) => /(?:allow|global|cidr)-(\d+)$/.exec(id)?.[1])
      .filter((k): k is string => k !== undefined)
      .map(Number)
      .slice(0, 100);
    if (activeKs.length === 0) activeKs.push(0);
    phase();
    const pol = latencies((i) => {
      g.onUpdate(set(design.policy(activeKs[i % activeKs.length]!, 1 + (i % 7))));
      g.flush();
    }, 500);
    // Selector edits: a new selector (a term that flips on every visit of a policy), so
    // the host's endpoints are rematched and re-rendered, unlike the rule edits above.
    // The term never excludes an existing endpoint: an edit that makes a policy leave
    // or join this host instead (de)activates it and may tear down or rebuild IP sets
    // it shared, up to the 100k-member named-port set over all().
    const withSelector = (k: number, i: number): ResourceLike => {
      const p = design.policy(k, 1 + (i % 7));
      const spec = p.spec as { selector: string };
      const flip = 3 + (Math.floor(i / activeKs.length) % 2);
      return { ...p, spec: { ...spec, selector: `${spec.selector} && version != 'v${flip}'` } };
    };
    phase();
    const polSel = latencies((i) => {
      g.onUpdate(set(withSelector(activeKs[i % activeKs.length]!, i)));
      g.flush();
    }, 500);
    const base = (change: (snapshot: ResourceLike[]) => void): number | undefined => {
      if (!withBaseline) return undefined;
      const samples: number[] = [];
      for (let r = 0; r < 3; r++) {
        snapshot ??= [...design.resources()];
        const snap = snapshot.slice();
        change(snap);
        const t = process.hrtime.bigint();
        computeFromScratch(snap, host);
        samples.push(ms(t));
      }
      return samples.sort((a, b) => a - b)[1]!;
    };
    const baseAdd = base((s) => s.push(design.endpoint(E + 99_999)));
    const baseLabel = base((s) => s.push(design.endpoint(5, 2)));
    const basePol = base((s) => s.push(design.policy(activeKs[0]!, 3)));
    const fig = (
      name: string,
      what: string,
      l: { wall: number[]; cpu: number[] },
      b: number | undefined,
    ) => {
      const sorted = l.wall;
      const baseline = b !== undefined ? { baseline: b, baselineLabel: 'computeFromScratch' } : {};
      figures.push({
        name: `${name}_p50_ms`,
        label: `(c) ${what} p50`,
        value: percentile(sorted, 50),
        ...baseline,
        unit: 'ms',
        better: 'lower',
      });
      figures.push({
        name: `${name}_cpu_p50_ms`,
        label: `(c) ${what} p50, CPU time`,
        value: percentile(l.cpu, 50),
        unit: 'ms',
        better: 'lower',
      });
      figures.push({
        name: `${name}_p99_ms`,
        label: `(c) ${what} p99`,
        value: percentile(sorted, 99),
        ...baseline,
        unit: 'ms',
        target: 5,
        better: 'lower',
      });
      figures.push({
        name: `${name}_cpu_p99_ms`,
        label: `(c) ${what} p99, CPU time`,
        value: percentile(l.cpu, 99),
        unit: 'ms',
        target: 5,
        better: 'lower',
      });
    };
    fig('endpoint_add', 'endpoint add + flush', add, baseAdd);
    fig('label_change', 'endpoint label change + flush', label, baseLabel);
    fig('policy_change', 'active policy rule change + flush', pol, basePol);
    fig('policy_selector_change', 'active policy selector change + flush', polSel, basePol);

    // Sustained: label flips over many endpoints, flushed every 1000 updates, as an
    // agent batching watch events would.
    const U = 100_000;
    phase();
    const c0 = cpuMs();
    const t = process.hrtime.bigint();
    for (let i = 0; i < U; i++) {
      g.onUpdate(set(design.endpoint((i * 13) % E, 1 + (i % 3))));
      if (i % 1000 === 999) g.flush();
    }
    g.flush();
    const wallMs = ms(t);
    const cpuUsed = cpuMs() - c0;
    const genC = cpuMs();
    const genT = process.hrtime.bigint();
    for (let i = 0; i < U; i++) design.endpoint((i * 13) % E, 1 + (i % 3));
    const genMs = ms(genT);
    const genCpu = cpuMs() - genC;
    const rate = U / ((wallMs - genMs) / 1000);
    figures.push({
      name: 'sustained_endpoint_updates_per_s',
      label: '(c) sustained endpoint updates (flush per 1000)',
      value: rate,
      ...(baseLabel !== undefined
        ? { baseline: 1000 / baseLabel, baselineLabel: 'computeFromScratch per update' }
        : {}),
      unit: 'updates/s',
      target: 20_000,
      better: 'higher',
    });
    figures.push({
      name: 'sustained_endpoint_updates_per_cpu_s',
      label: '(c) sustained endpoint updates per CPU second',
      value: U / ((cpuUsed - genCpu) / 1000),
      unit: 'updates/s',
      target: 20_000,
      better: 'higher',
    });
    notes.push(
      '(c) generation of the update objects is subtracted from the sustained rate; baselines are the median of 3 full recomputes.',
    );
  }
  designSync = undefined;

  if (want('moonshot')) {
    const moon = new Cluster(
      scaled({ endpoints: 1_000_000, hosts: 10_000, policies: 10_000 }, scale),
    );
    if (warm) syncFromEmpty(moon, host, isolateGc);
    const r = syncFromEmpty(moon, host, isolateGc);
    const st = r.graph.stats();
    figures.push({
      name: 'moonshot_sync_ms',
      label: `(b) empty -> in-sync, ${moon.shape.endpoints} eps / ${moon.shape.hosts} hosts / ${moon.shape.policies} policies`,
      value: r.ms,
      unit: 'ms',
      target: 10_000,
      better: 'lower',
    });
    figures.push({
      name: 'moonshot_sync_cpu_ms',
      label: '(b) empty -> in-sync, CPU time',
      value: r.cpuMs,
      unit: 'ms',
      target: 10_000,
      better: 'lower',
    });
    figures.push({
      name: 'moonshot_heap_mb',
      label: '(b) heap after in-sync',
      value: r.heapMb,
      unit: 'MB',
      target: 4096,
      better: 'lower',
    });
    notes.push(
      `(b) host ${host}: ${st.localEndpoints} local endpoints, ${st.activePolicies} active policies, ${st.ipSets} IP sets (${st.ipSetMembers} members), ${st.routes} routes. No full-recompute baseline at this size (it would need every resource in memory at once).`,
    );
  }
  const ratios = figures
    .filter((f) => f.target !== undefined)
    .map((f) => {
      const target = f.target!;
      const meets = f.better === 'lower' ? f.value <= target : f.value >= target;
      const ratio =
        f.better === 'lower'
          ? `${(f.value / target).toFixed(2)}× the target (≤ 1 meets)`
          : `${(f.value / target).toFixed(2)}× the target (≥ 1 meets)`;
      return `  ${f.name}: ${ratio}${meets ? '' : ', MISSES'}`;
    });
  if (ratios.length > 0) notes.push(`ratio to target:\n${ratios.join('\n')}`);
  const mode =
    (isolateGc ? ', untimed minor GC before each sync batch (--isolate-gc)' : '') +
    (warm ? ', after an untimed warm-up sync (--warm)' : '');
  return { title: `calc graph (scale ${scale}${mode})`, figures, notes };
};

export default bench;
