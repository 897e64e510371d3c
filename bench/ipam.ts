// `npm run bench -- ipam [--json] [--total N]`: IPAM auto-assign throughput with 1, 10
// and 50 concurrent hosts, each host a separate allocator process (as each node runs
// its own CNI/IPAM client), on a real etcd and on the embedded SQLite store.
//
// Every process connects first and waits at a barrier; the figure is the total number
// of addresses assigned divided by the time from the barrier until the last process
// finished. No releases, one address per handle, one /16 pool with /26 blocks, so the
// run includes each host claiming its blocks.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorker, openTestStore, putPool, type TestStore } from '../src/ipam/testkit.js';
import { exited, spawnTracked, terminate } from '../src/testing/processes.js';
import type { Benchmark, Figure } from './lib/report.js';

const HOST_COUNTS = [1, 10, 50];

async function run(
  store: TestStore,
  workerPath: string,
  hosts: number,
  total: number,
  dir: string,
): Promise<number> {
  await store.wipe();
  await putPool(store.backend, { name: 'bench-pool', cidr: '10.96.0.0/16' });
  const perHost = Math.max(1, Math.round(total / hosts));
  const children = [];
  const ready: Promise<void>[] = [];
  const logs: string[] = [];
  try {
    for (let h = 0; h < hosts; h++) {
      const log = join(dir, `${store.spec.type}-${hosts}-${h}.log`);
      logs.push(log);
      const cfg = {
        spec: store.spec,
        node: `bench-host-${h}`,
        id: h,
        count: perHost,
        releaseProbability: 0,
        seed: h + 1,
        log,
        waitForGo: true,
      };
      const child = spawnTracked(process.execPath, [workerPath], {
        env: { ...process.env, IPAM_WORKER: JSON.stringify(cfg) },
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      children.push(child);
      ready.push(
        new Promise<void>((resolve, reject) => {
          child.stdout?.once('data', () => resolve());
          child.once('exit', (code) =>
            reject(new Error(`allocator ${h} exited with ${code} before starting`)),
          );
        }),
      );
    }
    await Promise.all(ready);
    const go = Date.now();
    for (const c of children) c.stdin?.end('go\n');
    await Promise.all(children.map((c) => exited(c)));
    let assigned = 0;
    let last = go;
    for (const [i, log] of logs.entries()) {
      const text = readFileSync(log, 'utf8');
      if (children[i]?.exitCode !== 0) {
        throw new Error(
          `allocator ${i} failed: ${text
            .split('\n')
            .filter((l) => l.startsWith('ERR'))
            .join(' ')}`,
        );
      }
      assigned += text.split('\n').filter((l) => l.startsWith('OK ')).length;
      const t = /^T \d+ (\d+)$/m.exec(text);
      if (t) last = Math.max(last, Number(t[1]));
    }
    return assigned / ((last - go) / 1000);
  } finally {
    await Promise.all(children.map((c) => terminate(c, 'SIGKILL')));
  }
}

const bench: Benchmark = async (args) => {
  const i = args.indexOf('--total');
  const total = i >= 0 ? Number(args[i + 1]) : 1000;
  if (!Number.isInteger(total) || total < 1)
    throw new Error(`--total must be a positive integer, got ${args[i + 1]}`);
  const dir = mkdtempSync(join(tmpdir(), 'ipam-bench-'));
  const worker = await bundleWorker();
  const figures: Figure[] = [];
  try {
    for (const kind of ['etcdv3', 'embedded'] as const) {
      const store = await openTestStore(kind);
      try {
        for (const hosts of HOST_COUNTS) {
          const rate = await run(store, worker.path, hosts, total, dir);
          figures.push({
            name: `${kind === 'etcdv3' ? 'etcd' : 'embedded'}_${hosts}_hosts_allocs_per_s`,
            label: `${kind === 'etcdv3' ? 'etcd' : 'embedded'}: auto-assign, ${hosts} concurrent host${hosts === 1 ? '' : 's'}`,
            value: rate,
            unit: 'allocs/s',
            better: 'higher',
          });
        }
      } finally {
        await store.close();
      }
    }
  } finally {
    worker.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    title: `IPAM auto-assign throughput (${total} addresses per run, one allocator process per host)`,
    figures,
    notes: [
      'Each host is its own process with its own datastore client; every assignment is a compare-and-swap',
      'transaction on the block and the handle. Host counts above the core count measure contention',
      'for the CPUs as well as for the store. The embedded store is one SQLite file shared by all processes.',
    ],
  };
};

export default bench;
