// `npm run bench -- datastore [--json] [--seconds N] [--watchers N]`
//
// The embedded (SQLite) and etcd backends side by side in one run, and the same
// operations done directly with the etcd3 client as the baseline for our etcd overhead:
// writes/s at concurrency 1 and 64, successful CAS/s with 16 contenders on one key, and
// watch delivery latency (p50/p99) with 200 watchers while writes are paced.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import {
  type Backend,
  DatastoreError,
  EmbeddedBackend,
  openEtcdBackend,
} from '../src/datastore/index.js';
import { startEtcd } from '../src/testing/etcd.js';
import { type Benchmark, type Figure, percentile } from './lib/report.js';

/** The operations measured, implemented once over our Backend and once over raw etcd3. */
interface Target {
  put(key: string, value: string): Promise<void>;
  /** one get + conditional update; true if it won */
  casIncrement(key: string): Promise<boolean>;
  /** starts n watchers on prefix; onEvent gets each delivered value; resolves when all are live */
  watchers(
    prefix: string,
    n: number,
    onEvent: (value: string) => void,
  ): Promise<() => Promise<void>>;
}

function backendTarget(db: Backend): Target {
  return {
    put: async (k, v) => {
      await db.put(k, v);
    },
    casIncrement: async (k) => {
      const cur = await db.get(k);
      try {
        await db.update(k, String(Number(cur!.value) + 1), cur!.modRevision);
        return true;
      } catch (err) {
        if (err instanceof DatastoreError && err.code === 'CONFLICT') return false;
        throw err;
      }
    },
    watchers: async (prefix, n, onEvent) => {
      const ws = Array.from({ length: n }, () => db.watch(prefix));
      await Promise.all(ws.map((w) => w.ready()));
      const loops = ws.map(async (w) => {
        for await (const ev of w) if (ev.type === 'put') onEvent(ev.value);
      });
      return async () => {
        await Promise.all(ws.map((w) => w.close()));
        await Promise.all(loops);
      };
    },
  };
}

function rawTarget(client: Etcd3): Target {
  return {
    put: async (k, v) => {
      await client.put(k).value(v);
    },
    casIncrement: async (k) => {
      const res = await client.get(k).exec();
      const kv = res.kvs[0]!;
      const next = String(Number(kv.value.toString()) + 1);
      const txn = await client
        .if(k, 'Mod', '==', kv.mod_revision)
        .then(client.put(k).value(next))
        .commit();
      return txn.succeeded;
    },
    watchers: async (prefix, n, onEvent) => {
      const ws = await Promise.all(
        Array.from({ length: n }, () => client.watch().prefix(prefix).create()),
      );
      for (const w of ws) w.on('put', (kv) => onEvent(kv.value.toString()));
      return async () => {
        await Promise.all(ws.map((w) => w.cancel()));
      };
    },
  };
}

const VALUE = 'x'.repeat(256);

async function writesPerSecond(
  t: Target,
  concurrency: number,
  seconds: number,
  tag: string,
): Promise<number> {
  let done = 0;
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      for (let i = 0; performance.now() < deadline; i++) {
        await t.put(`/bench/${tag}/w${w}/${i % 100}`, VALUE);
        done++;
      }
    }),
  );
  return done / ((performance.now() - start) / 1000);
}

async function casPerSecond(
  t: Target,
  seconds: number,
  tag: string,
): Promise<{ won: number; tried: number }> {
  const key = `/bench/${tag}/counter`;
  await t.put(key, '0');
  let won = 0;
  let tried = 0;
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (performance.now() < deadline) {
        tried++;
        if (await t.casIncrement(key)) won++;
      }
    }),
  );
  const secs = (performance.now() - start) / 1000;
  return { won: won / secs, tried: tried / secs };
}

/**
 * Paced writes (one every 5 ms) through `writer`, each carrying its send time; every
 * watcher on `watched` records how long delivery took.
 */
async function watchLatency(
  writer: Target,
  watched: Target,
  watchers: number,
  writes: number,
  tag: string,
): Promise<{ p50: number; p99: number; delivered: number }> {
  const prefix = `/bench/${tag}/watch/`;
  const latencies: number[] = [];
  let delivered = 0;
  const expected = watchers * writes;
  let allDelivered!: () => void;
  const done = new Promise<void>((r) => {
    allDelivered = r;
  });
  const stop = await watched.watchers(prefix, watchers, (value) => {
    latencies.push(performance.now() + performance.timeOrigin - Number(value));
    if (++delivered === expected) allDelivered();
  });
  for (let i = 0; i < writes; i++) {
    await writer.put(`${prefix}k${i % 10}`, String(performance.now() + performance.timeOrigin));
    await new Promise((r) => setTimeout(r, 5));
  }
  // A stuck delivery would be a bug; give up after a while rather than hang the bench.
  await Promise.race([done, new Promise((r) => setTimeout(r, 30_000))]);
  await stop();
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), delivered };
}

function arg(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : dflt;
}

const bench: Benchmark = async (args) => {
  const seconds = arg(args, '--seconds', 3);
  const nWatchers = arg(args, '--watchers', 200);
  const nWrites = 200;
  const dir = mkdtempSync(join(tmpdir(), 'calico-ts-bench-'));
  const etcd = await startEtcd();
  const { Etcd3 } = await import('etcd3');
  const raw = new Etcd3({ hosts: etcd.endpoints });
  const embeddedWriter = new EmbeddedBackend({ path: join(dir, 'calico.db') });
  const embeddedWatcher = new EmbeddedBackend({ path: join(dir, 'calico.db') });
  const etcdWriter = await openEtcdBackend({ endpoints: etcd.endpoints });
  const etcdWatcher = await openEtcdBackend({ endpoints: etcd.endpoints });
  const figures: Figure[] = [];
  const notes: string[] = [];
  try {
    const emb = backendTarget(embeddedWriter);
    const et = backendTarget(etcdWriter);
    const base = rawTarget(raw);

    const e1 = await writesPerSecond(emb, 1, seconds, 'emb1');
    const e64 = await writesPerSecond(emb, 64, seconds, 'emb64');
    const eCas = await casPerSecond(emb, seconds, 'embcas');
    const eWatch = await watchLatency(
      emb,
      backendTarget(embeddedWatcher),
      nWatchers,
      nWrites,
      'emb',
    );

    const t1 = await writesPerSecond(et, 1, seconds, 'etcd1');
    const r1 = await writesPerSecond(base, 1, seconds, 'raw1');
    const t64 = await writesPerSecond(et, 64, seconds, 'etcd64');
    const r64 = await writesPerSecond(base, 64, seconds, 'raw64');
    const tCas = await casPerSecond(et, seconds, 'etcdcas');
    const rCas = await casPerSecond(base, seconds, 'rawcas');
    const tWatch = await watchLatency(et, backendTarget(etcdWatcher), nWatchers, nWrites, 'etcd');
    const rWatch = await watchLatency(base, base, nWatchers, nWrites, 'raw');

    const fig = (
      name: string,
      label: string,
      value: number,
      unit: string,
      better: 'higher' | 'lower',
      baseline?: number,
    ): Figure => ({
      name,
      label,
      value,
      unit,
      better,
      ...(baseline === undefined ? {} : { baseline, baselineLabel: 'etcd3 client directly' }),
    });
    figures.push(
      fig('embedded_writes_c1', 'embedded: writes/s, concurrency 1', e1, 'ops/s', 'higher'),
      fig('embedded_writes_c64', 'embedded: writes/s, concurrency 64', e64, 'ops/s', 'higher'),
      fig('embedded_cas', 'embedded: successful CAS/s, 16 contenders', eCas.won, 'ops/s', 'higher'),
      fig(
        'embedded_watch_p50',
        `embedded: watch latency p50, ${nWatchers} watchers`,
        eWatch.p50,
        'ms',
        'lower',
      ),
      fig(
        'embedded_watch_p99',
        `embedded: watch latency p99, ${nWatchers} watchers`,
        eWatch.p99,
        'ms',
        'lower',
      ),
      fig('etcd_writes_c1', 'etcd: writes/s, concurrency 1', t1, 'ops/s', 'higher', r1),
      fig('etcd_writes_c64', 'etcd: writes/s, concurrency 64', t64, 'ops/s', 'higher', r64),
      fig(
        'etcd_cas',
        'etcd: successful CAS/s, 16 contenders',
        tCas.won,
        'ops/s',
        'higher',
        rCas.won,
      ),
      fig(
        'etcd_watch_p50',
        `etcd: watch latency p50, ${nWatchers} watchers`,
        tWatch.p50,
        'ms',
        'lower',
        rWatch.p50,
      ),
      fig(
        'etcd_watch_p99',
        `etcd: watch latency p99, ${nWatchers} watchers`,
        tWatch.p99,
        'ms',
        'lower',
        rWatch.p99,
      ),
    );
    notes.push(
      `CAS attempts/s (won+lost): embedded ${Math.round(eCas.tried)}, etcd ${Math.round(tCas.tried)}, raw etcd3 ${Math.round(rCas.tried)}.`,
      `Watch deliveries: embedded ${eWatch.delivered}, etcd ${tWatch.delivered}, raw ${rWatch.delivered} of ${nWatchers * nWrites} each; writes paced every 5 ms, 256-byte values for write tests.`,
      `Embedded: WAL, synchronous=FULL, watcher on a second connection (inotify notify-file path). etcd 3.4 single member on loopback, fsync on.`,
      `Load average at the end: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} on ${availableParallelism()} cores — figures are noisy under load.`,
    );
  } finally {
    await Promise.all([
      embeddedWriter.close(),
      embeddedWatcher.close(),
      etcdWriter.close(),
      etcdWatcher.close(),
    ]);
    raw.close();
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return { title: 'datastore: embedded (SQLite) and etcd v3 backends', figures, notes };
};

export default bench;
