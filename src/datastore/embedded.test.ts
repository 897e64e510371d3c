// Embedded-store behaviour beyond the shared conformance suite: crash safety against a
// real SIGKILLed writer process, history retention, and both change-notification paths.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { terminate } from '../testing/processes.js';
import { EmbeddedBackend } from './index.js';
import { expectCode, lineMatching, spawnWorker, take } from './testdata/conformance.js';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'calico-ts-embedded-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Frames of the current WAL generation written after its last commit frame: the remains
 * of a transaction that was being committed when the writer died (diagnostic only).
 */
function uncommittedWalFrames(walPath: string): number {
  if (!existsSync(walPath)) return 0;
  const wal = readFileSync(walPath);
  if (wal.length < 32) return 0;
  const pageSize = wal.readUInt32BE(8);
  const salt1 = wal.readUInt32BE(16);
  const salt2 = wal.readUInt32BE(20);
  let tail = 0;
  for (let off = 32; off + 24 + pageSize <= wal.length; off += 24 + pageSize) {
    if (wal.readUInt32BE(off + 8) !== salt1 || wal.readUInt32BE(off + 12) !== salt2) break;
    tail = wal.readUInt32BE(off + 4) !== 0 ? 0 : tail + 1;
  }
  return tail;
}

test('kill -9 of a writer mid-transaction: database intact, every acknowledged commit present, no partial txn', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'calico.db');
  const keysPerTxn = 500;
  for (let round = 0; round < 3; round++) {
    const child = spawnWorker('src/datastore/testdata/crash-writer.ts', {
      DATASTORE_TYPE: 'embedded',
      CALICO_DATA_DIR: dir,
      TXN_KEYS: String(keysPerTxn),
    });
    t.after(() => terminate(child, 'SIGKILL'));
    const acked = new Map<number, string>();
    let buf = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        const [i, rev] = l.split(' ');
        acked.set(Number(i), rev!);
      }
    });
    // Round 0 kills at an arbitrary moment. Later rounds probe the write lock from a
    // second connection and kill the instant it is held: the writer is then inside
    // BEGIN IMMEDIATE ... COMMIT.
    await lineMatching(child, new RegExp(`^${1 + round} `));
    let insideTxn = false;
    if (round === 0) await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 100)));
    else {
      const probe = new Database(path, { timeout: 0 });
      try {
        for (let polls = 0; polls < 10_000 && !insideTxn; polls++) {
          try {
            probe.exec('BEGIN IMMEDIATE');
            probe.exec('ROLLBACK');
            await new Promise((r) => setTimeout(r, 1));
          } catch (err) {
            if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
            process.kill(child.pid!, 'SIGKILL');
            insideTxn = true;
          }
        }
      } finally {
        probe.close();
      }
    }
    await terminate(child, 'SIGKILL');
    assert.equal(child.signalCode, 'SIGKILL');
    if (round > 0) assert.ok(insideTxn, 'the writer never held the write lock while probed');
    t.diagnostic(
      `round ${round}: ${acked.size} commits acknowledged; killed ${insideTxn ? 'holding the write lock' : 'at a random moment'}; ${uncommittedWalFrames(`${path}-wal`)} uncommitted WAL frames left`,
    );

    const raw = new Database(path, { readonly: true });
    try {
      assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
    } finally {
      raw.close();
    }
    const db = new EmbeddedBackend({ path });
    try {
      const listed = await db.list('/crash/');
      const byTxn = new Map<string, Set<string>>();
      for (const kv of listed.items) {
        const txn = kv.key.split('/')[2]!;
        const revs = byTxn.get(txn) ?? new Set<string>();
        revs.add(kv.modRevision);
        byTxn.set(txn, revs);
        const v = JSON.parse(kv.value) as { txn: number };
        assert.equal(String(v.txn).padStart(6, '0'), txn);
      }
      // Each transaction is all there under one revision, or absent.
      for (const [txn, revs] of byTxn) {
        assert.equal(revs.size, 1, `txn ${txn} spans several revisions`);
        const count = listed.items.filter((kv) => kv.key.split('/')[2] === txn).length;
        assert.equal(count, keysPerTxn, `txn ${txn} is partial`);
      }
      // Every commit the writer reported is durable, at the revision it reported.
      for (const [i, rev] of acked) {
        const revs = byTxn.get(String(i).padStart(6, '0'));
        assert.ok(revs !== undefined, `acknowledged txn ${i} lost`);
        assert.deepEqual([...revs], [rev]);
      }
      // The dead writer's lock is gone: a new write goes through.
      await db.put(`/after-crash/${round}`, 'ok');
    } finally {
      await db.close();
    }
  }
});

test('revisions stay strictly increasing across independent connections', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'calico.db');
  const clients = [0, 1, 2].map(() => new EmbeddedBackend({ path }));
  t.after(() => Promise.all(clients.map((c) => c.close())));
  const revs = await Promise.all(
    clients.map(async (c, i) => {
      const out: bigint[] = [];
      for (let n = 0; n < 50; n++)
        out.push(BigInt((await c.put(`/rev/${i}`, String(n))).modRevision));
      return out;
    }),
  );
  for (const r of revs) for (let i = 1; i < r.length; i++) assert.ok(r[i]! > r[i - 1]!);
  assert.equal(new Set(revs.flat()).size, 150);
});

test('retention compacts old history automatically; watches below it must resync', async (t) => {
  const dir = tempDir(t);
  const db = new EmbeddedBackend({ path: join(dir, 'calico.db'), historyRevisions: 100 });
  t.after(() => db.close());
  const first = await db.put('/ret/k', '0');
  for (let i = 1; i < 1100; i++) await db.put('/ret/k', String(i));
  const stale = db.watch('/ret/', { fromRevision: first.modRevision });
  const [ev] = await take(stale, 1);
  assert.equal(ev?.type, 'resync-needed');
  const recent = String(BigInt(await db.currentRevision()) - 50n);
  const fine = db.watch('/ret/', { fromRevision: recent });
  const evs = await take(fine, 51);
  assert.ok(evs.every((e) => e.type === 'put'));
  await fine.close();
  await expectCode(
    db.compact(String(BigInt(await db.currentRevision()) + 10n)),
    'INVALID_ARGUMENT',
  );
});

test('a lagging live watch whose history was compacted away gets resync-needed', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'calico.db');
  // The reader never polls on its own (huge fallback interval) and the notify file is
  // removed, so it lags until we make it look.
  const reader = new EmbeddedBackend({ path, pollIntervalMs: 1e9 });
  const writer = new EmbeddedBackend({ path });
  t.after(() => Promise.all([reader.close(), writer.close()]));
  const watch = reader.watch('/lag/');
  unlinkSync(`${path}-notify`);
  for (let i = 0; i < 5; i++) await writer.put('/lag/k', String(i));
  await writer.compact(await writer.currentRevision());
  await reader.put('/other', 'wake the reader up'); // a local write polls immediately
  const [ev] = await take(watch, 1);
  assert.equal(ev?.type, 'resync-needed');
});

test('cross-connection notification: the inotify fast path and the polling fallback both deliver', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'calico.db');
  const writer = new EmbeddedBackend({ path });
  // Fast path only: the fallback timer effectively never fires.
  const fast = new EmbeddedBackend({ path, pollIntervalMs: 1e9 });
  t.after(() => Promise.all([writer.close(), fast.close()]));
  const fw = fast.watch('/notify/');
  const w1 = await writer.put('/notify/a', '1');
  assert.deepEqual(await take(fw, 1), [
    { type: 'put', key: '/notify/a', value: '1', modRevision: w1.modRevision },
  ]);
  await fw.close();

  // Fallback only: with the notify file gone, no inotify event names it.
  const slow = new EmbeddedBackend({ path, pollIntervalMs: 20 });
  t.after(() => slow.close());
  const sw = slow.watch('/notify/');
  unlinkSync(`${path}-notify`);
  const w2 = await writer.put('/notify/b', '2');
  assert.deepEqual(await take(sw, 1), [
    { type: 'put', key: '/notify/b', value: '2', modRevision: w2.modRevision },
  ]);
});

test('CALICO_DATA_DIR locates calico.db; a closed client refuses calls', async (t) => {
  const dir = tempDir(t);
  const { loadDatastoreConfig, openBackend } = await import('./index.js');
  const cfg = loadDatastoreConfig({ CALICO_DATA_DIR: join(dir, 'nested') });
  assert.deepEqual(cfg, { type: 'embedded', path: join(dir, 'nested', 'calico.db') });
  const db = await openBackend(cfg);
  await db.put('/x', 'y');
  await db.close();
  await expectCode(db.get('/x'), 'CLOSED');
  assert.throws(() => db.watch('/'), { code: 'CLOSED' });
  const again = await openBackend(cfg);
  assert.equal((await again.get('/x'))?.value, 'y');
  await again.close();
});
