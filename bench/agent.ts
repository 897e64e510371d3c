// `npm run bench -- agent [--json] [--scale F]`: calico-node start of day (issue 9).
// A cluster of 100,000 endpoints on 1,000 hosts and 2,000 policies (bench/calc.ts's
// generator) is written into an embedded store; the bundled agent then starts for
// node-0 (100 local workloads, their cali* veths present in a private namespace) and we
// time spawn → /readiness 200. RSS is read from /proc for an agent on an empty store
// (idle) and for the agent at that scale. `--scale 0.1` gives a quick run.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundles } from '../src/agent/testkit.js';
import { EmbeddedBackend, ipamBlockKey, resourceKey, type TxnOp } from '../src/datastore/index.js';
import type { ResourceLike } from '../src/policy/index.js';
import { freePort } from '../src/testing/etcd.js';
import { spawnTracked, terminate } from '../src/testing/processes.js';
import { Cluster } from './calc.js';
import type { Benchmark, Figure } from './lib/report.js';

const PLURALS: Record<string, string> = {
  FelixConfiguration: 'felixconfigurations',
  Tier: 'tiers',
  IPPool: 'ippools',
  Profile: 'profiles',
  GlobalNetworkPolicy: 'globalnetworkpolicies',
  NetworkPolicy: 'networkpolicies',
  Node: 'nodes',
  WorkloadEndpoint: 'workloadendpoints',
  GlobalNetworkSet: 'globalnetworksets',
  NetworkSet: 'networksets',
};

/** The key and stored value of a generated resource, as Calico's etcd layout has it. */
function stored(r: ResourceLike): { key: string; value: string } | undefined {
  if (r.kind === 'IPAMBlock') {
    const spec = r.spec as { cidr: string };
    return { key: ipamBlockKey(spec.cidr), value: JSON.stringify(spec) };
  }
  if (r.kind === 'Namespace') {
    // etcd mode has no Namespaces: a kns.<ns> Profile carries their labels
    const name = r.metadata?.name ?? '';
    const labels: Record<string, string> = { 'pcns.projectcalico.org/name': name };
    for (const [k, v] of Object.entries(r.metadata?.labels ?? {})) labels[`pcns.${k}`] = v;
    const p: ResourceLike = {
      apiVersion: 'projectcalico.org/v3',
      kind: 'Profile',
      metadata: { name: `kns.${name}` },
      spec: {
        labelsToApply: labels,
        ingress: [{ action: 'Allow' }],
        egress: [{ action: 'Allow' }],
      },
    };
    return stored(p);
  }
  const plural = PLURALS[r.kind];
  if (plural === undefined) return undefined;
  const ns = r.metadata?.namespace;
  return { key: resourceKey(plural, r.metadata?.name ?? '', ns), value: JSON.stringify(r) };
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function waitReady(port: number, deadlineMs: number): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/readiness`, {
        signal: AbortSignal.timeout(2000),
      });
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`agent not ready after ${deadlineMs} ms`);
}

const bench: Benchmark = async (args) => {
  const i = args.indexOf('--scale');
  const scale = i >= 0 ? Number(args[i + 1]) : 1;
  const shape = {
    endpoints: Math.round(100_000 * scale),
    hosts: Math.max(1, Math.round(1000 * scale)),
    policies: Math.round(2000 * scale),
  };
  const cluster = new Cluster(shape);
  const dir = mkdtempSync(join(tmpdir(), 'bench-agent-'));
  const netns = `cabench${process.pid}`;
  const bundles = await buildBundles();
  const figures: Figure[] = [];
  const children: ReturnType<typeof spawnTracked>[] = [];
  try {
    // 1. the cluster, written in transactions of 500 keys
    const t0 = performance.now();
    const store = new EmbeddedBackend({ path: join(dir, 'big/calico.db'), synchronous: 'NORMAL' });
    let ops: TxnOp[] = [];
    let keys = 0;
    const local: string[] = [];
    for (const r of cluster.resources()) {
      const kv = stored(r);
      if (kv === undefined) continue;
      if (r.kind === 'WorkloadEndpoint' && (r.spec as { node: string }).node === 'node-0') {
        local.push((r.spec as { interfaceName: string }).interfaceName);
      }
      ops.push({ type: 'put', ...kv });
      keys++;
      if (ops.length === 500) {
        await store.txn({ compare: [], success: ops });
        ops = [];
      }
    }
    if (ops.length > 0) await store.txn({ compare: [], success: ops });
    await store.close();
    const genS = (performance.now() - t0) / 1000;

    // 2. the host namespace with the local workloads' host-side veths
    execFileSync('ip', ['netns', 'add', netns]);
    const lines = ['link set lo up'];
    local.forEach((ifname, k) => {
      lines.push(
        `link add ${ifname} type veth peer name wl${k}`,
        `link set ${ifname} up`,
        `link set wl${k} up`,
      );
    });
    execFileSync('ip', ['-n', netns, '-batch', '-'], { input: `${lines.join('\n')}\n` });

    const run = async (dataDir: string) => {
      const port = await freePort();
      const start = performance.now();
      const child = spawnTracked(process.execPath, [bundles.node], {
        env: {
          PATH: process.env.PATH ?? '',
          DATASTORE_TYPE: 'embedded',
          CALICO_DATA_DIR: dataDir,
          NODENAME: 'node-0',
          CALICO_NETNS: netns,
          IP: 'none',
          NO_DEFAULT_POOLS: 'true',
          FELIX_HEALTHPORT: String(port),
          FELIX_PROMETHEUSMETRICSPORT: String(port),
          FELIX_ENDPOINTSTATUSPATHPREFIX: join(dir, 'status'),
          FELIX_LOGSEVERITYSCREEN: process.env.BENCH_AGENT_LOG ?? 'Warning',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.push(child);
      await waitReady(port, 600_000);
      const readyS = (performance.now() - start) / 1000;
      const atReady = rssMiB(child.pid!);
      await new Promise((r) => setTimeout(r, 5000));
      const idle = rssMiB(child.pid!);
      await terminate(child, 'SIGTERM', 10000);
      return { readyS, atReady, idle };
    };

    const empty = await run(join(dir, 'empty'));
    const big = await run(join(dir, 'big'));
    figures.push(
      {
        name: 'start_to_ready_s',
        label: `start of day → ready (${shape.endpoints} endpoints, ${shape.policies} policies, ${local.length} local)`,
        value: big.readyS,
        unit: 's',
        baseline: empty.readyS,
        baselineLabel: 'empty store',
        better: 'lower',
      },
      {
        name: 'rss_at_scale_mib',
        label: 'agent RSS at scale, 5 s after ready',
        value: big.idle,
        unit: 'MiB',
        baseline: empty.idle,
        baselineLabel: 'idle agent (empty store)',
        better: 'lower',
      },
      {
        name: 'rss_at_ready_mib',
        label: 'agent RSS at scale, at the moment of readiness',
        value: big.atReady,
        unit: 'MiB',
        better: 'lower',
      },
      {
        name: 'rss_idle_mib',
        label: 'agent RSS idle (empty store)',
        value: empty.idle,
        unit: 'MiB',
        better: 'lower',
      },
    );
    return {
      title: `calico-node start of day (embedded store, ${keys} keys written in ${genS.toFixed(1)} s)`,
      figures,
      notes: [
        'The agent is the esbuild bundle as a child process; readiness = calc graph in sync and the first nft/route apply done.',
        'Local workloads are host-side veths in a private namespace (CALICO_NETNS).',
      ],
    };
  } finally {
    for (const c of children) await terminate(c, 'SIGKILL', 1000).catch(() => undefined);
    try {
      execFileSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
    } catch {
      // never created
    }
    bundles.remove();
    rmSync(dir, { recursive: true, force: true });
  }
};

export default bench;
