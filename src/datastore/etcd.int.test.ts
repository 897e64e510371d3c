// etcd-only behaviour against real etcd processes: restarts under a live watch, a
// leader killed in a three-member cluster, close() with the server gone, and TLS.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateTlsFiles, startEtcd, startEtcdCluster } from '../testing/etcd.js';
import {
  type Backend,
  DatastoreError,
  type KeyValue,
  loadDatastoreConfig,
  openBackend,
  openEtcdBackend,
  type WatchEvent,
} from './index.js';
import { take } from './testdata/conformance.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Retries a write while etcd is unreachable or electing a leader (bounded, not timed). */
async function persist<T>(fn: () => Promise<T>, attempts = 200): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof DatastoreError) || err.code !== 'UNAVAILABLE' || i >= attempts)
        throw err;
      await sleep(100);
    }
  }
}

/**
 * Creates a key, retrying through outages. A create that timed out may have landed;
 * the retry then finds the key and reads it back instead of failing.
 */
async function createThrough(db: Backend, key: string, value: string): Promise<KeyValue> {
  return persist(async () => {
    try {
      return await db.create(key, value);
    } catch (err) {
      if (err instanceof DatastoreError && err.code === 'KEY_EXISTS') {
        const kv = await db.get(key);
        assert.equal(kv?.value, value);
        return kv!;
      }
      throw err;
    }
  });
}

function keysOf(events: WatchEvent[]): string[] {
  return events.map((e) => (e.type === 'resync-needed' ? e.type : e.key));
}

test('etcd killed -9 and restarted under an active watch: no event lost or repeated', async (t) => {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const writer = await openEtcdBackend({ endpoints: etcd.endpoints });
  const reader = await openEtcdBackend({ endpoints: etcd.endpoints });
  t.after(async () => {
    await reader.close();
    await writer.close();
  });
  // A long history, so that the kill may well land while the watch is still replaying.
  const first = await writer.put('/restart/k0000', 'v');
  for (let i = 1; i < 300; i++) await writer.put(`/restart/k${String(i).padStart(4, '0')}`, 'v');
  const watch = reader.watch('/restart/', { fromRevision: first.modRevision });
  t.after(() => watch.close());
  const early = await take(watch, 1);
  await etcd.kill('SIGKILL');
  await etcd.restart();
  for (let i = 300; i < 400; i++)
    await createThrough(writer, `/restart/k${String(i).padStart(4, '0')}`, 'v');
  await etcd.kill('SIGKILL');
  await etcd.restart();
  for (let i = 400; i < 450; i++)
    await createThrough(writer, `/restart/k${String(i).padStart(4, '0')}`, 'v');
  const rest = await take(watch, 449);
  const all = [...early, ...rest];
  assert.deepEqual(
    keysOf(all),
    Array.from({ length: 450 }, (_, i) => `/restart/k${String(i).padStart(4, '0')}`),
  );
  for (let i = 1; i < all.length; i++) {
    const a = all[i - 1]!;
    const b = all[i]!;
    assert.ok(a.type !== 'resync-needed' && b.type !== 'resync-needed');
    assert.ok(BigInt(a.modRevision) < BigInt(b.modRevision));
  }
});

test('three-member cluster, leader killed: writes resume and nothing committed is lost', async (t) => {
  const cluster = await startEtcdCluster(3);
  t.after(() => cluster.stop());
  const db = await openEtcdBackend({ endpoints: cluster.endpoints });
  t.after(() => db.close());
  const watch = db.watch('/ha/', { fromRevision: String(BigInt(await db.currentRevision()) + 1n) });
  t.after(() => watch.close());

  const committed: KeyValue[] = [];
  for (let i = 0; i < 100; i++)
    committed.push(await db.create(`/ha/k${String(i).padStart(3, '0')}`, `v${i}`));
  const leader = await cluster.leaderIndex();
  await cluster.members[leader]!.kill('SIGKILL');
  for (let i = 100; i < 200; i++) {
    committed.push(await createThrough(db, `/ha/k${String(i).padStart(3, '0')}`, `v${i}`));
  }
  const newLeader = await cluster.leaderIndex();
  assert.notEqual(newLeader, leader);

  const listed = await persist(() => db.list('/ha/'));
  assert.deepEqual(
    listed.items.map((kv) => `${kv.key}=${kv.value}@${kv.modRevision}`),
    committed.map((kv) => `${kv.key}=${kv.value}@${kv.modRevision}`),
  );
  const events = await take(watch, 200);
  assert.deepEqual(
    keysOf(events),
    committed.map((kv) => kv.key),
  );
  // The killed member rejoins with its data and catches up.
  await cluster.members[leader]!.start();
  const direct = await openEtcdBackend({ endpoints: [cluster.members[leader]!.clientUrl] });
  try {
    assert.equal((await persist(() => direct.list('/ha/'))).items.length, 200);
  } finally {
    await direct.close();
  }
});

test('close() returns promptly with etcd down and watches active', async (t) => {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const db = await openEtcdBackend({ endpoints: etcd.endpoints, closeTimeoutMs: 1000 });
  const watches = [db.watch('/down/a/'), db.watch('/down/b/', { fromRevision: '1' })];
  await Promise.all(watches.map((w) => w.ready()));
  await etcd.kill('SIGKILL');
  await db.close();
  for (const w of watches) {
    const seen: WatchEvent[] = [];
    for await (const ev of w) seen.push(ev);
    assert.deepEqual(seen, []);
  }
  // Requests against a dead server fail UNAVAILABLE instead of hanging.
  const again = await openEtcdBackend({ endpoints: etcd.endpoints, requestTimeoutMs: 1000 });
  try {
    await assert.rejects(again.get('/down/x'), { code: 'UNAVAILABLE' });
  } finally {
    await again.close();
  }
});

test('TLS with CA and client certificate, configured through the environment', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'calico-ts-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const tls = generateTlsFiles(dir);
  const etcd = await startEtcd({ tls });
  t.after(() => etcd.stop());
  const config = loadDatastoreConfig({
    DATASTORE_TYPE: 'etcdv3',
    ETCD_ENDPOINTS: etcd.endpoints.join(','),
    ETCD_CA_CERT_FILE: tls.caFile,
    ETCD_CERT_FILE: tls.clientCertFile,
    ETCD_KEY_FILE: tls.clientKeyFile,
  });
  assert.equal(config.type, 'etcdv3');
  const db = await openBackend(config);
  try {
    const kv = await db.create('/tls/k', 'secret');
    assert.equal((await db.get('/tls/k'))?.modRevision, kv.modRevision);
    const w = db.watch('/tls/', { fromRevision: kv.modRevision });
    assert.equal((await take(w, 1))[0]?.type, 'put');
    await w.close();
  } finally {
    await db.close();
  }
  // Without the client certificate the server refuses us.
  const anonymous = await openEtcdBackend({
    endpoints: etcd.endpoints,
    caFile: tls.caFile,
    requestTimeoutMs: 3000,
  });
  try {
    await assert.rejects(anonymous.get('/tls/k'), { code: 'UNAVAILABLE' });
  } finally {
    await anonymous.close();
  }
});

test('a watch replaying more history than gRPC carries by default in one message, and a large list, arrive whole', async (t) => {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const db = await openEtcdBackend({ endpoints: etcd.endpoints });
  t.after(() => db.close());
  // 120 values of 100 KB, each overwritten once: with previous values the replay is
  // about 24 MB, far beyond gRPC's default 4 MiB per message.
  const big = (i: number, gen: number) =>
    `${gen}${String(i).padStart(4, '0')}`.padEnd(100_000, 'x');
  const start = BigInt(await db.currentRevision()) + 1n;
  for (let gen = 0; gen < 2; gen++)
    for (let i = 0; i < 120; i++) await db.put(`/big/k${String(i).padStart(4, '0')}`, big(i, gen));
  const watch = db.watch('/big/', { fromRevision: String(start) });
  t.after(() => watch.close());
  const events = await take(watch, 240);
  assert.equal(events.length, 240);
  const last = events.at(-1)!;
  assert.ok(last.type === 'put' && last.value === big(119, 1));
  const listed = await db.list('/big/');
  assert.equal(listed.items.length, 120);
});
