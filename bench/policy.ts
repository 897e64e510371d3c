// Policy engine benchmark: flows evaluated per second against a generated cluster
// of 100,000 workload endpoints and 10,000 policies, and the time to compute a
// 1,000 x 1,000 reachability matrix, against naive pairwise evaluation of a sample
// (extrapolated) measured in the same run.
//
//   npm run bench -- policy [--json] [--endpoints N] [--policies N] [--flows N]
import {
  buildSnapshot,
  computeMatrix,
  decide,
  evaluateFlow,
  type Flow,
} from '../src/policy/index.js';
import type { Benchmark, Figure } from './lib/report.js';

function arg(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : dflt;
}

/** Deterministic PRNG so every run measures the same cluster and flows. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function ipOf(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

const NAMESPACES = 100;
const APPS = 50;
const TIERS = ['fe', 'be', 'db'];

function generate(endpoints: number, policies: number) {
  const rand = rng(42);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const res: unknown[] = [];
  for (let n = 0; n < NAMESPACES; n++) {
    res.push({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: `ns${n}`, labels: { env: n % 2 ? 'prod' : 'dev', team: `t${n % 10}` } },
    });
  }
  res.push({
    apiVersion: 'projectcalico.org/v3',
    kind: 'Tier',
    metadata: { name: 'security' },
    spec: { order: 100 },
  });
  for (let i = 0; i < endpoints; i++) {
    const ns = i % NAMESPACES;
    res.push({
      apiVersion: 'projectcalico.org/v3',
      kind: 'WorkloadEndpoint',
      metadata: {
        name: `pod${i}`,
        namespace: `ns${ns}`,
        labels: { app: `app${Math.floor(i / NAMESPACES) % APPS}`, tier: TIERS[i % 3]! },
      },
      spec: {
        orchestrator: 'k8s',
        node: `node${i % 200}`,
        pod: `pod${i}`,
        endpoint: 'eth0',
        ipNetworks: [`${ipOf(i + 1)}/32`],
        serviceAccountName: `sa${i % 5}`,
        ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
      },
    });
  }
  for (let i = 0; i < 200; i++) {
    res.push({
      apiVersion: 'projectcalico.org/v3',
      kind: 'GlobalNetworkSet',
      metadata: { name: `set${i}`, labels: { kind: i % 2 ? 'partner' : 'vendor' } },
      spec: { nets: [`172.${16 + (i % 16)}.${i}.0/24`] },
    });
  }
  // 90% namespaced policies, 9% GNPs in the default tier, 1% in a security tier.
  for (let i = 0; i < policies; i++) {
    const r = i / policies;
    const app = `app${i % APPS}`;
    const peer = `app${(i * 7) % APPS}`;
    const rules = [
      {
        action: 'Allow',
        protocol: 'TCP',
        source: { selector: `app == '${peer}'` },
        destination: { ports: [80, '8000:8100', 'http'] },
      },
      {
        action: 'Allow',
        protocol: 'TCP',
        source: { namespaceSelector: "env == 'prod'", selector: `tier == '${pick(TIERS)}'` },
        destination: { ports: [443] },
      },
      { action: 'Deny', protocol: 'UDP', source: { nets: ['172.16.0.0/12'] } },
      {
        action: 'Allow',
        source: { serviceAccounts: { names: ['sa1', 'sa2'] } },
        protocol: 'TCP',
        destination: { ports: [9090] },
      },
    ];
    if (r < 0.9) {
      res.push({
        apiVersion: 'projectcalico.org/v3',
        kind: 'NetworkPolicy',
        metadata: { name: `np${i}`, namespace: `ns${i % NAMESPACES}` },
        spec: {
          order: (i % 7) * 10,
          selector: `app == '${app}'`,
          types: ['Ingress', 'Egress'],
          ingress: rules,
          egress: [
            { action: 'Allow', protocol: 'UDP', destination: { ports: [53] } },
            { action: 'Allow', destination: { selector: `app == '${peer}'` } },
          ],
        },
      });
    } else if (r < 0.99) {
      res.push({
        apiVersion: 'projectcalico.org/v3',
        kind: 'GlobalNetworkPolicy',
        metadata: { name: `gnp${i}` },
        spec: {
          order: 500 + (i % 13),
          selector: `app == '${app}' && tier == '${pick(TIERS)}'`,
          namespaceSelector: "team == 't3'",
          ingress: rules,
        },
      });
    } else {
      res.push({
        apiVersion: 'projectcalico.org/v3',
        kind: 'GlobalNetworkPolicy',
        metadata: { name: `sec${i}` },
        spec: {
          tier: 'security',
          order: i,
          selector: `tier == '${pick(TIERS)}'`,
          ingress: [
            { action: 'Deny', source: { selector: "kind == 'vendor'" } },
            { action: 'Pass' },
          ],
          egress: [{ action: 'Pass' }],
        },
      });
    }
  }
  return res;
}

const PORTS = [80, 443, 8080, 9090, 22];

/**
 * Runs fn and returns its CPU time (user + system of this process) in ms. The
 * shared build machine is often heavily loaded, so wall time would measure the
 * neighbours; CPU time measures the engine.
 */
function cpuMs(fn: () => void): { cpu: number; wall: number } {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  fn();
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / 1000, wall: performance.now() - w0 };
}

const bench: Benchmark = async (args) => {
  const nEndpoints = arg(args, 'endpoints', 100_000);
  const nPolicies = arg(args, 'policies', 10_000);
  const nFlows = arg(args, 'flows', 100_000);
  const matrixN = arg(args, 'matrix', 1000);

  const t0 = performance.now();
  const resources = generate(nEndpoints, nPolicies);
  const genMs = performance.now() - t0;
  let snap = buildSnapshot([]);
  const build = cpuMs(() => {
    snap = buildSnapshot(resources);
  });

  const rand = rng(7);
  const flows: Flow[] = [];
  for (let i = 0; i < nFlows; i++) {
    const s = Math.floor(rand() * nEndpoints);
    const d = Math.floor(rand() * nEndpoints);
    flows.push({
      srcIp: ipOf(s + 1),
      dstIp: ipOf(d + 1),
      protocol: 'TCP',
      srcPort: 40000,
      dstPort: PORTS[i % PORTS.length]!,
    });
  }
  // Cold: most endpoints are seen for the first time, so their applicable policies
  // are resolved (through the label index) during the run.
  let allowed = 0;
  const cold = cpuMs(() => {
    for (const f of flows) if (decide(snap, f) === 'Allow') allowed++;
  });
  const warm = cpuMs(() => {
    for (const f of flows) decide(snap, f);
  });
  const explainN = Math.min(nFlows, 20_000);
  const explain = cpuMs(() => {
    for (let i = 0; i < explainN; i++) evaluateFlow(snap, flows[i]!);
  });

  // Matrix over the first matrixN endpoints of ten namespaces (fresh snapshot so
  // nothing is cached from the flow runs).
  const mSnap = buildSnapshot(resources);
  const keys = mSnap.endpoints
    .filter((e) => Number(e.namespace.slice(2)) < 10)
    .slice(0, matrixN)
    .map((e) => e.key);
  let m = computeMatrix(mSnap, [], []);
  const matrix = cpuMs(() => {
    m = computeMatrix(mSnap, keys, [{ protocol: 'TCP', port: 80 }]);
  });
  let mAllowed = 0;
  for (let i = 0; i < m.cells.length; i++) mAllowed += m.cells[i]!;

  // Baseline: pairwise evaluation of a sample of the same pairs, extrapolated.
  const bSnap = buildSnapshot(resources);
  const ips = keys.map((k) => {
    const a = bSnap.endpoint(k)!.addresses[0]!.value;
    return `${a >> 24n}.${(a >> 16n) & 255n}.${(a >> 8n) & 255n}.${a & 255n}`;
  });
  const sample = Math.min(20_000, keys.length * keys.length);
  const naive = cpuMs(() => {
    for (let i = 0; i < sample; i++) {
      const s = i % keys.length;
      const d = Math.floor(i / keys.length) * 37 + i;
      decide(bSnap, { srcIp: ips[s]!, dstIp: ips[d % keys.length]!, protocol: 'TCP', dstPort: 80 });
    }
  });
  const pairs = keys.length * keys.length;
  const naiveMs = (naive.cpu / sample) * pairs;

  const figures: Figure[] = [
    {
      name: 'flows_per_s_cold',
      label: `flows/s (${nPolicies} policies, ${nEndpoints} endpoints, cold)`,
      value: (nFlows / cold.cpu) * 1000,
      unit: 'flows/s',
      better: 'higher',
    },
    {
      name: 'flows_per_s_warm',
      label: 'flows/s (same flows again, warm caches)',
      value: (nFlows / warm.cpu) * 1000,
      unit: 'flows/s',
      better: 'higher',
    },
    {
      name: 'explained_flows_per_s',
      label: 'flows/s with full explanation (evaluateFlow)',
      value: (explainN / explain.cpu) * 1000,
      unit: 'flows/s',
      better: 'higher',
    },
    {
      name: 'matrix_ms',
      label: `${keys.length} x ${keys.length} matrix, 1 port`,
      value: matrix.cpu,
      unit: 'ms',
      baseline: naiveMs,
      baselineLabel: `pairwise decide(), ${sample} pairs extrapolated`,
      better: 'lower',
    },
    {
      name: 'snapshot_build_ms',
      label: 'snapshot build (conversion + indexes)',
      value: build.cpu,
      unit: 'ms',
      better: 'lower',
    },
  ];
  return {
    title: 'policy: reference engine',
    figures,
    notes: [
      `generated ${resources.length} resources in ${genMs.toFixed(0)} ms; ${allowed}/${nFlows} random flows allowed; matrix: ${mAllowed} of ${pairs} pairs allowed, ${m.fallbackPairs} pairs via the pairwise fallback`,
      `all figures are CPU time of this process (wall time on a loaded machine: build ${build.wall.toFixed(0)} ms, cold flows ${cold.wall.toFixed(0)} ms, warm ${warm.wall.toFixed(0)} ms, matrix ${matrix.wall.toFixed(0)} ms)`,
      'baseline column of the matrix row: naive pairwise evaluation (one decide() per pair) on a sample, extrapolated to the full matrix.',
    ],
  };
};

export default bench;
