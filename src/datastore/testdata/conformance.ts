// The one conformance suite every datastore backend must pass. A test file supplies a
// factory for its backend (a real SQLite file or a real etcd) and calls
// runConformance(); nothing here knows which backend it is testing.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { spawnTracked, tail, terminate } from '../../testing/processes.js';
import { type Backend, compareRevisions, DatastoreError, type WatchEvent } from '../index.js';

export interface Store {
  /** a new, independent client (connection) to the same store */
  open(): Promise<Backend>;
  /** environment that makes loadDatastoreConfig() in a child select the same store */
  childEnv: Record<string, string>;
  teardown(): Promise<void>;
}

const REPO = new URL('../../../', import.meta.url).pathname;

/** Reads exactly n events; a hang guard (not a timing assertion) turns a stall into a failure. */
export async function take<T>(watch: AsyncIterable<T>, n: number, guardMs = 60_000): Promise<T[]> {
  const out: T[] = [];
  const it = watch[Symbol.asyncIterator]();
  let timer: NodeJS.Timeout | undefined;
  const stall = new Promise<'stall'>((resolve) => {
    timer = setTimeout(() => resolve('stall'), guardMs);
  });
  try {
    while (out.length < n) {
      const r = await Promise.race([it.next(), stall]);
      if (r === 'stall') {
        assert.fail(
          `watch stalled after ${out.length} of ${n} events: ${JSON.stringify(out.slice(-3))}`,
        );
      }
      if (r.done)
        assert.fail(
          `watch ended after ${out.length} of ${n} events: ${JSON.stringify(out.slice(-3))}`,
        );
      out.push(r.value);
    }
  } finally {
    clearTimeout(timer);
  }
  return out;
}

export async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof DatastoreError, `expected a DatastoreError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

/** Spawns a test worker script with tsx, in the repository root. */
export function spawnWorker(script: string, env: Record<string, string>): ChildProcess {
  return spawnTracked(process.execPath, ['--import', 'tsx', script], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Resolves with the first stdout line matching re (rejects if the child exits first). */
export function lineMatching(child: ChildProcess, re: RegExp): Promise<string> {
  const err = tail(child.stderr);
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (chunk: Buffer) => {
      buf += chunk.toString();
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (re.test(line)) {
          child.stdout?.off('data', onData);
          resolve(line);
          return;
        }
        nl = buf.indexOf('\n');
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code, signal) =>
      reject(new Error(`worker exited (${code ?? signal}) before printing ${re}:\n${err()}`)),
    );
  });
}

export function runConformance(name: string, setup: () => Promise<Store>): void {
  describe(`datastore conformance: ${name}`, () => {
    let store: Store;
    let db: Backend;

    before(async () => {
      store = await setup();
      db = await store.open();
    });
    after(async () => {
      await db?.close();
      await store?.teardown();
    });

    test('create, get, update, put and delete, with revisions as strings', async () => {
      const k = '/conf/basic/a';
      assert.equal(await db.get(k), undefined);
      const c = await db.create(k, 'v1');
      assert.equal(typeof c.modRevision, 'string');
      assert.equal(c.createRevision, c.modRevision);
      assert.deepEqual(await db.get(k), c);
      const u = await db.update(k, 'v2', c.modRevision);
      assert.equal(compareRevisions(u.modRevision, c.modRevision), 1);
      assert.equal(u.createRevision, c.createRevision);
      const p = await db.put(k, 'v3');
      assert.equal(p.createRevision, c.createRevision);
      const fresh = await db.put('/conf/basic/b', 'b');
      assert.equal(fresh.createRevision, fresh.modRevision);
      const d = await db.delete(k);
      assert.equal(d.value, 'v3');
      assert.equal(d.modRevision, p.modRevision);
      assert.equal(await db.get(k), undefined);
      assert.equal(compareRevisions(await db.currentRevision(), p.modRevision), 1);
    });

    test('CAS failures carry stable codes', async () => {
      const k = '/conf/cas/a';
      const c = await db.create(k, '1');
      await expectCode(db.create(k, '2'), 'KEY_EXISTS');
      const u = await db.update(k, '2', c.modRevision);
      // The stale writer loses and the stored value is untouched.
      await expectCode(db.update(k, 'stale', c.modRevision), 'CONFLICT');
      assert.equal((await db.get(k))?.value, '2');
      await expectCode(db.delete(k, c.modRevision), 'CONFLICT');
      await expectCode(db.update('/conf/cas/missing', 'x', '5'), 'NOT_FOUND');
      await expectCode(db.delete('/conf/cas/missing'), 'NOT_FOUND');
      await expectCode(db.update(k, 'x', 'not-a-number'), 'INVALID_ARGUMENT');
      await expectCode(db.update(k, 'x', '0'), 'INVALID_ARGUMENT');
      await expectCode(db.create('', 'x'), 'INVALID_ARGUMENT');
      const d = await db.delete(k, u.modRevision);
      assert.equal(d.value, '2');
    });

    test('list returns the keys under a prefix in order and the revision it reflects', async () => {
      await db.put('/conf/list/b', '2');
      await db.put('/conf/list/a', '1');
      await db.put('/conf/listx', 'sibling, not under the prefix');
      const last = await db.put('/conf/list/c/d', '3');
      const l = await db.list('/conf/list/');
      assert.deepEqual(
        l.items.map((i) => i.key),
        ['/conf/list/a', '/conf/list/b', '/conf/list/c/d'],
      );
      assert.ok(compareRevisions(l.revision, last.modRevision) >= 0);
      assert.deepEqual((await db.list('/conf/nothing-here/')).items, []);
    });

    test('txn: all compares must hold, all ops share one revision', async () => {
      const a = await db.create('/conf/txn/a', 'a1');
      const b = await db.create('/conf/txn/b', 'b1');
      const ok = await db.txn({
        compare: [
          { key: '/conf/txn/a', modRevision: a.modRevision },
          { key: '/conf/txn/b', value: 'b1' },
          { key: '/conf/txn/new', modRevision: '0' },
        ],
        success: [
          { type: 'put', key: '/conf/txn/a', value: 'a2' },
          { type: 'delete', key: '/conf/txn/b' },
          { type: 'put', key: '/conf/txn/new', value: 'n' },
        ],
      });
      assert.equal(ok.succeeded, true);
      const a2 = await db.get('/conf/txn/a');
      const n = await db.get('/conf/txn/new');
      assert.equal(a2?.modRevision, ok.revision);
      assert.equal(n?.modRevision, ok.revision);
      assert.equal(await db.get('/conf/txn/b'), undefined);

      const failed = await db.txn({
        compare: [{ key: '/conf/txn/a', modRevision: a.modRevision }],
        success: [{ type: 'put', key: '/conf/txn/a', value: 'never' }],
        failure: [{ type: 'put', key: '/conf/txn/failed', value: 'yes' }],
      });
      assert.equal(failed.succeeded, false);
      assert.equal((await db.get('/conf/txn/a'))?.value, 'a2');
      assert.equal((await db.get('/conf/txn/failed'))?.value, 'yes');

      // A value compare on an absent key fails rather than matching "".
      const absent = await db.txn({
        compare: [{ key: '/conf/txn/b', value: '' }],
        success: [{ type: 'put', key: '/conf/txn/b', value: 'x' }],
      });
      assert.equal(absent.succeeded, false);
      assert.equal(b.value, 'b1');
      await expectCode(
        db.txn({
          compare: [],
          success: [
            { type: 'put', key: '/conf/txn/dup', value: '1' },
            { type: 'put', key: '/conf/txn/dup', value: '2' },
          ],
        }),
        'INVALID_ARGUMENT',
      );
    });

    test('16 processes incrementing one counter by CAS: final value = successful increments', async () => {
      const key = '/conf/counter';
      const start = await db.create(key, JSON.stringify({ n: 0, by: 'parent' }));
      const watch = db.watch(key, { fromRevision: String(BigInt(start.modRevision) + 1n) });
      const workers: ChildProcess[] = [];
      try {
        for (let i = 0; i < 16; i++) {
          workers.push(
            spawnWorker('src/datastore/testdata/cas-worker.ts', {
              ...store.childEnv,
              CAS_KEY: key,
              CAS_WORKER: `w${i}`,
              CAS_ATTEMPTS: '25',
            }),
          );
        }
        await Promise.all(workers.map((w) => lineMatching(w, /^ready$/)));
        const results = workers.map((w) => lineMatching(w, /^\{/));
        for (const w of workers) w.stdin?.write('go\n');
        const outcomes = (await Promise.all(results)).map(
          (l) => JSON.parse(l) as { won: number; conflicts: number; unavailable: number },
        );
        const final = JSON.parse((await db.get(key))!.value) as { n: number };
        // Every increment is observed exactly once, in order: 1, 2, ..., final.
        const events = await take(watch, final.n);
        const seq = events.map((e) => {
          assert.equal(e.type, 'put');
          return JSON.parse(e.type === 'put' ? e.value : '{}') as { n: number; by: string };
        });
        assert.deepEqual(
          seq.map((v) => v.n),
          Array.from({ length: final.n }, (_, i) => i + 1),
        );
        // The counter equals the successful increments: each worker's acknowledged wins
        // are in the history, plus at most its timed-out (unknown outcome) attempts.
        const won = outcomes.reduce((s, o) => s + o.won, 0);
        const unknown = outcomes.reduce((s, o) => s + o.unavailable, 0);
        assert.ok(won > 0);
        outcomes.forEach((o, i) => {
          const seen = seq.filter((v) => v.by === `w${i}`).length;
          assert.ok(
            seen >= o.won && seen <= o.won + o.unavailable,
            `worker w${i}: ${o.won} acknowledged wins + ${o.unavailable} unknown, but ${seen} in history`,
          );
          assert.equal(o.won + o.conflicts + o.unavailable, 25);
        });
        assert.ok(final.n >= won && final.n <= won + unknown);
      } finally {
        await Promise.all(workers.map((w) => terminate(w, 'SIGKILL')));
        await watch.close();
      }
    });

    test('watch under concurrent writers: every write once, in revision order', async () => {
      const writers = await Promise.all(Array.from({ length: 4 }, () => store.open()));
      const watch = db.watch('/conf/concurrent/');
      await watch.ready();
      const perWriter = 50;
      try {
        await Promise.all(
          writers.map(async (w, wi) => {
            for (let i = 0; i < perWriter; i++) {
              const k = `/conf/concurrent/w${wi}/${i % 7}`;
              if (i % 5 === 4) await w.delete(k).catch(() => w.put(k, `${wi}:${i}`));
              else await w.put(k, `${wi}:${i}`);
            }
          }),
        );
        const events = await take(watch, writers.length * perWriter);
        for (let i = 1; i < events.length; i++) {
          const a = events[i - 1]!;
          const b = events[i]!;
          assert.ok(a.type !== 'resync-needed' && b.type !== 'resync-needed');
          assert.equal(compareRevisions(a.modRevision, b.modRevision), -1, 'strictly increasing');
        }
        // Replaying the same range from history gives the identical sequence.
        const first = events[0]!;
        assert.ok(first.type !== 'resync-needed');
        const replay = db.watch('/conf/concurrent/', { fromRevision: first.modRevision });
        try {
          assert.deepEqual(await take(replay, events.length), events);
        } finally {
          await replay.close();
        }
      } finally {
        await watch.close();
        await Promise.all(writers.map((w) => w.close()));
      }
    });

    test('watch from an old revision replays history, then continues live', async () => {
      const revs: string[] = [];
      for (let i = 0; i < 10; i++)
        revs.push((await db.put(`/conf/replay/k${i}`, `v${i}`)).modRevision);
      await db.delete('/conf/replay/k0');
      const watch = db.watch('/conf/replay/', { fromRevision: revs[3]! });
      try {
        const history = await take(watch, 8);
        assert.deepEqual(
          history.map((e) =>
            e.type === 'resync-needed' ? e.type : `${e.type} ${e.key}@${e.modRevision}`,
          ),
          [3, 4, 5, 6, 7, 8, 9]
            .map((i) => `put /conf/replay/k${i}@${revs[i]}`)
            .concat([`delete /conf/replay/k0@${BigInt(revs[9]!) + 1n}`]),
        );
        const del = history[7]!;
        assert.equal(del.type, 'delete');
        assert.equal(del.type === 'delete' ? del.prevValue : '', 'v0');
        const live = await db.put('/conf/replay/k1', 'again');
        const [ev] = await take(watch, 1);
        assert.deepEqual(ev, {
          type: 'put',
          key: '/conf/replay/k1',
          value: 'again',
          prevValue: 'v1',
          modRevision: live.modRevision,
        });
      } finally {
        await watch.close();
      }
    });

    test('compaction: a watch from before it gets resync-needed; relist + watch recovers', async () => {
      const old = await db.put('/conf/compact/a', '1');
      await db.put('/conf/compact/a', '2');
      const now = await db.currentRevision();
      await db.compact(now);
      await db.compact(old.modRevision); // already compacted past: a no-op
      const stale = db.watch('/conf/compact/', { fromRevision: old.modRevision });
      const events: WatchEvent[] = [];
      for await (const ev of stale) events.push(ev);
      assert.equal(events.length, 1);
      assert.equal(events[0]!.type, 'resync-needed');

      const listed = await db.list('/conf/compact/');
      assert.deepEqual(
        listed.items.map((i) => i.value),
        ['2'],
      );
      const resumed = db.watch('/conf/compact/', {
        fromRevision: String(BigInt(listed.revision) + 1n),
      });
      try {
        const w = await db.put('/conf/compact/a', '3');
        const [ev] = await take(resumed, 1);
        assert.equal(ev?.type === 'put' ? ev.modRevision : undefined, w.modRevision);
      } finally {
        await resumed.close();
      }
    });

    test('several watches of one prefix: each from its own start, closing one leaves the rest', async () => {
      const vals = (evs: WatchEvent[]) => evs.map((e) => (e.type === 'put' ? e.value : e.type));
      const a = db.watch('/conf/multi/');
      await a.ready();
      const p1 = await db.put('/conf/multi/k', '1');
      const b = db.watch('/conf/multi/');
      await b.ready();
      const c = db.watch('/conf/multi/', { fromRevision: p1.modRevision });
      await db.put('/conf/multi/k', '2');
      try {
        assert.deepEqual(vals(await take(a, 2)), ['1', '2']);
        // b started after the first write completed, so its first event is the second.
        assert.deepEqual(vals(await take(b, 1)), ['2']);
        assert.deepEqual(vals(await take(c, 2)), ['1', '2']);
        await a.close();
        await db.put('/conf/multi/k', '3');
        assert.deepEqual(vals(await take(b, 1)), ['3']);
        assert.deepEqual(vals(await take(c, 1)), ['3']);
      } finally {
        await Promise.all([a.close(), b.close(), c.close()]);
      }
    });

    test('close() ends every watch and never hangs', async () => {
      const other = await store.open();
      const watches = Array.from({ length: 5 }, (_, i) => other.watch(`/conf/close/${i}/`));
      await Promise.all(watches.map((w) => w.ready()));
      const drained = watches.map(async (w) => {
        const seen: WatchEvent[] = [];
        for await (const ev of w) seen.push(ev);
        return seen;
      });
      await other.close();
      for (const seen of await Promise.all(drained)) assert.deepEqual(seen, []);
      await expectCode(other.get('/conf/close/x'), 'CLOSED');
      await other.close();
    });
  });
}
