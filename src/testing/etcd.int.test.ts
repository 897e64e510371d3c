// The etcd test helper itself: real processes on free ports, restartable, and leaving
// nothing behind (process gone, data directory removed).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { freePort, startEtcd, startEtcdCluster } from './etcd.js';

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function put(endpoint: string, key: string, value: string): Promise<Response> {
  return fetch(`${endpoint}/v3/kv/put`, {
    method: 'POST',
    body: JSON.stringify({
      key: Buffer.from(key).toString('base64'),
      value: Buffer.from(value).toString('base64'),
    }),
  });
}

async function get(endpoint: string, key: string): Promise<string | undefined> {
  const res = await fetch(`${endpoint}/v3/kv/range`, {
    method: 'POST',
    body: JSON.stringify({ key: Buffer.from(key).toString('base64') }),
  });
  const body = (await res.json()) as { kvs?: { value: string }[] };
  const v = body.kvs?.[0]?.value;
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString();
}

test('freePort returns distinct usable loopback ports', async () => {
  const a = await freePort();
  const b = await freePort();
  assert.ok(a > 1024 && b > 1024);
});

test('startEtcd: serves on loopback, survives kill + restart with its data, stop cleans up', async (t) => {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  assert.match(etcd.endpoints[0]!, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.ok((await put(etcd.endpoints[0]!, '/helper/k', 'v')).ok);
  const pid = etcd.member.pid;
  assert.ok(alive(pid));
  await etcd.kill();
  assert.ok(!alive(pid));
  await etcd.restart();
  assert.equal(await get(etcd.endpoints[0]!, '/helper/k'), 'v');
  const pid2 = etcd.member.pid;
  await etcd.stop();
  assert.ok(!alive(pid2));
  assert.ok(!existsSync(etcd.dataDir));
  await etcd.stop(); // idempotent
});

test('startEtcdCluster(3): a leader, replication, and full cleanup', async (t) => {
  const cluster = await startEtcdCluster(3);
  t.after(() => cluster.stop());
  assert.equal(new Set(cluster.endpoints).size, 3);
  const leader = await cluster.leaderIndex();
  assert.ok(leader >= 0 && leader < 3);
  assert.ok((await put(cluster.endpoints[leader]!, '/helper/c', 'replicated')).ok);
  const follower = (leader + 1) % 3;
  assert.equal(await get(cluster.endpoints[follower]!, '/helper/c'), 'replicated');
  const pids = cluster.members.map((m) => m.pid);
  await cluster.stop();
  for (const pid of pids) assert.ok(!alive(pid));
  assert.ok(!existsSync(cluster.dataDir));
});
