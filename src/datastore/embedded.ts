/**
 * The embedded backend: one SQLite file (WAL mode) shared by every process on a host.
 *
 * Revisions. A single `meta.rev` counter is bumped inside the same `BEGIN IMMEDIATE`
 * transaction as the writes it numbers, so revisions are strictly increasing across all
 * processes and a transaction's writes share one revision (as in etcd).
 *
 * History. Every change is also appended to `events(rev, seq, key, type, value,
 * prev_value)`. Watches replay from this log; `compact(rev)` (and automatic retention,
 * `historyRevisions`) deletes entries older than `rev` and records `meta.compact_rev`,
 * below which a watch gets `resync-needed`.
 *
 * Cross-process change notification. SQLite tells no one about commits, so:
 *  1. after each commit a writer touches `<db>-notify` (one futimes(2) syscall);
 *  2. every process with an active watch has an inotify watch (fs.watch) on the data
 *     directory and, on any event for that file, runs a poll;
 *  3. a poll first reads `PRAGMA data_version` (changes iff another connection committed;
 *     it costs about a microsecond), and only then reads `events` after the last revision
 *     it delivered, in one read transaction;
 *  4. a fallback timer (`pollIntervalMs`, default 50 ms) runs the same poll, covering a
 *     writer killed between commit and touch, an inotify queue overflow, or a filesystem
 *     without inotify. Local writes poll on the next tick without waiting for either.
 * The touch happens after COMMIT returns, so a woken reader always finds the commit
 * visible; latency is one inotify wake-up plus one query (sub-millisecond when idle).
 *
 * Crash safety. WAL with `synchronous=FULL` (default) fsyncs the WAL at every commit,
 * so neither kill -9 nor power loss loses an acknowledged write; `NORMAL` survives
 * kill -9 but may drop the last commits on power loss. A killed writer's open transaction
 * never reaches the WAL commit frame and is discarded by the next opener.
 */
import {
  closeSync,
  type FSWatcher,
  watch as fsWatch,
  futimesSync,
  mkdirSync,
  openSync,
} from 'node:fs';
import { basename, dirname } from 'node:path';
import Database from 'better-sqlite3';
import type {
  Backend,
  KeyValue,
  ListResult,
  Revision,
  Txn,
  TxnOp,
  TxnResult,
  Watch,
  WatchOptions,
} from './backend.js';
import { prefixEnd } from './backend.js';
import {
  ClosedError,
  ConflictError,
  DatastoreError,
  KeyExistsError,
  NotFoundError,
  UnavailableError,
} from './errors.js';
import { checkExistingRevision, checkKey, checkRevision, checkTxn, checkValue, kv } from './ops.js';
import { QueueWatch } from './watch-queue.js';

export interface EmbeddedOptions {
  /** the database file; its directory is created if missing */
  path: string;
  /** fallback poll period while watches are active (the notify file is the fast path) */
  pollIntervalMs?: number;
  /** how many revisions of history to keep for watch replay before compacting automatically */
  historyRevisions?: number;
  /** FULL: durable across power loss; NORMAL: durable across process crashes only */
  synchronous?: 'FULL' | 'NORMAL';
  /** how long a call waits for another process's lock before UNAVAILABLE (default 30 s) */
  busyTimeoutMs?: number;
}

const PUT = 0n;
const DELETE = 1n;
/** longest SQLite may block the event loop waiting for a lock before we retry asynchronously */
const BUSY_SLICE_MS = 20;
/** how often (in revisions) automatic retention considers compacting */
const RETENTION_CHECK_EVERY = 1024n;

interface KvRow {
  value: string;
  create_rev: bigint;
  mod_rev: bigint;
}

interface EventRow {
  rev: bigint;
  key: string;
  type: bigint;
  value: string | null;
  prev_value: string | null;
}

interface MetaRow {
  rev: bigint;
  compact_rev: bigint;
}

interface LocalWatcher {
  prefix: string;
  /** first revision this watcher has not been given yet */
  next: bigint;
  queue: QueueWatch;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  rev INTEGER NOT NULL,
  compact_rev INTEGER NOT NULL,
  schema_version INTEGER NOT NULL
);
INSERT OR IGNORE INTO meta (id, rev, compact_rev, schema_version) VALUES (1, 1, 0, 1);
CREATE TABLE IF NOT EXISTS kv (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  create_rev INTEGER NOT NULL,
  mod_rev INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
  rev INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  key TEXT NOT NULL,
  type INTEGER NOT NULL,
  value TEXT,
  prev_value TEXT,
  PRIMARY KEY (rev, seq)
) WITHOUT ROWID;
`;

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code === 'SQLITE_BUSY_SNAPSHOT';
}

/** Range bounds for a prefix scan, or undefined when only a substring test is exact. */
function rangeOf(prefix: string): [string, string] | undefined {
  if (prefix === '') return ['', '\u{10ffff}'];
  // For ASCII, bumping the last char gives the same bound in UTF-8 byte order (which
  // SQLite's BINARY collation uses) as in JS string order.
  const last = prefix.charCodeAt(prefix.length - 1);
  if (last < 0x7f) return [prefix, prefixEnd(prefix)];
  return undefined;
}

export class EmbeddedBackend implements Backend {
  readonly type = 'embedded' as const;
  readonly path: string;
  private readonly db: Database.Database;
  private readonly pollIntervalMs: number;
  private readonly historyRevisions: bigint;
  private readonly busyTimeoutMs: number;
  private readonly notifyPath: string;
  private notifyFd: number | undefined;
  private closed = false;

  private readonly watchers = new Set<LocalWatcher>();
  /** highest revision whose events have been dispatched to live watchers */
  private lastPolled = 0n;
  private lastDataVersion = -1n;
  private localDirty = false;
  private pollScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private dirWatcher: FSWatcher | undefined;

  private readonly stmt: ReturnType<EmbeddedBackend['prepare']>;

  constructor(options: EmbeddedOptions) {
    this.path = options.path;
    this.pollIntervalMs = options.pollIntervalMs ?? 50;
    this.historyRevisions = BigInt(options.historyRevisions ?? 10_000);
    this.notifyPath = `${options.path}-notify`;
    this.busyTimeoutMs = options.busyTimeoutMs ?? 30_000;
    mkdirSync(dirname(options.path), { recursive: true });
    try {
      this.db = new Database(options.path, { timeout: BUSY_SLICE_MS });
    } catch (err) {
      throw new UnavailableError(
        `Cannot open embedded datastore ${options.path}: ${String(err)}`,
        err,
      );
    }
    try {
      this.db.defaultSafeIntegers(true);
      this.retryingSync(() => this.db.pragma('journal_mode = WAL'));
      this.db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
      this.initSchema();
      this.stmt = this.prepare();
      this.notifyFd = openSync(this.notifyPath, 'a');
    } catch (err) {
      this.db.close();
      if (isBusy(err)) {
        throw new UnavailableError(
          `Cannot open embedded datastore ${options.path}: database is locked`,
          err,
        );
      }
      throw err;
    }
  }

  /** Creates the tables unless they exist; only the very first opener needs the write lock. */
  private initSchema(): void {
    const present = this.db.prepare(
      "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'",
    );
    if (present.get() !== undefined) return;
    this.retryingSync(() => this.db.transaction(() => this.db.exec(SCHEMA)).immediate());
  }

  /**
   * Start-up steps that may need a lock while many processes open the store at once;
   * a constructor cannot await, so the losers wait here in short synchronous slices.
   */
  private retryingSync<T>(fn: () => T): T {
    const deadline = Date.now() + this.busyTimeoutMs;
    const pause = new Int32Array(new SharedArrayBuffer(4));
    for (;;) {
      try {
        return fn();
      } catch (err) {
        if (!isBusy(err) || Date.now() >= deadline) throw err;
        Atomics.wait(pause, 0, 0, 5 + Math.random() * 20);
      }
    }
  }

  private prepare() {
    const db = this.db;
    return {
      meta: db.prepare<[], MetaRow>('SELECT rev, compact_rev FROM meta WHERE id = 1'),
      bump: db.prepare<[], { rev: bigint }>(
        'UPDATE meta SET rev = rev + 1 WHERE id = 1 RETURNING rev',
      ),
      setCompact: db.prepare<[bigint]>('UPDATE meta SET compact_rev = ? WHERE id = 1'),
      get: db.prepare<[string], KvRow>('SELECT value, create_rev, mod_rev FROM kv WHERE key = ?'),
      listRange: db.prepare<[string, string], KvRow & { key: string }>(
        'SELECT key, value, create_rev, mod_rev FROM kv WHERE key >= ? AND key < ? ORDER BY key',
      ),
      listAll: db.prepare<[], KvRow & { key: string }>(
        'SELECT key, value, create_rev, mod_rev FROM kv ORDER BY key',
      ),
      insert: db.prepare<[string, string, bigint, bigint]>(
        'INSERT INTO kv (key, value, create_rev, mod_rev) VALUES (?, ?, ?, ?)',
      ),
      replace: db.prepare<[string, bigint, string]>(
        'UPDATE kv SET value = ?, mod_rev = ? WHERE key = ?',
      ),
      remove: db.prepare<[string]>('DELETE FROM kv WHERE key = ?'),
      event: db.prepare<[bigint, number, string, bigint, string | null, string | null]>(
        'INSERT INTO events (rev, seq, key, type, value, prev_value) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      eventsAfter: db.prepare<[bigint, bigint], EventRow>(
        'SELECT rev, key, type, value, prev_value FROM events WHERE rev > ? AND rev <= ? ORDER BY rev, seq',
      ),
      replayRange: db.prepare<[bigint, bigint, string, string], EventRow>(
        'SELECT rev, key, type, value, prev_value FROM events WHERE rev >= ? AND rev <= ? AND key >= ? AND key < ? ORDER BY rev, seq',
      ),
      replayAll: db.prepare<[bigint, bigint], EventRow>(
        'SELECT rev, key, type, value, prev_value FROM events WHERE rev >= ? AND rev <= ? ORDER BY rev, seq',
      ),
      dropHistory: db.prepare<[bigint]>('DELETE FROM events WHERE rev < ?'),
      dataVersion: db.prepare<[], bigint>('PRAGMA data_version').pluck(),
    };
  }

  // ---- reads -------------------------------------------------------------------------

  async get(key: string): Promise<KeyValue | undefined> {
    this.open('get');
    checkKey(key, 'get');
    const row = await this.retrying(() => this.stmt.get.get(key));
    return row === undefined
      ? undefined
      : kv(key, row.value, String(row.create_rev), String(row.mod_rev));
  }

  async list(prefix: string): Promise<ListResult> {
    this.open('list');
    if (typeof prefix !== 'string') {
      throw new DatastoreError('INVALID_ARGUMENT', 'Cannot list: prefix must be a string');
    }
    return this.retrying(() =>
      this.db.transaction(() => {
        const meta = this.stmt.meta.get()!;
        const range = rangeOf(prefix);
        const rows =
          range === undefined
            ? this.stmt.listAll.all().filter((r) => r.key.startsWith(prefix))
            : this.stmt.listRange.all(range[0], range[1]);
        return {
          items: rows.map((r) => kv(r.key, r.value, String(r.create_rev), String(r.mod_rev))),
          revision: String(meta.rev),
        };
      })(),
    );
  }

  async currentRevision(): Promise<Revision> {
    this.open('read the revision');
    return String(await this.retrying(() => this.stmt.meta.get()!.rev));
  }

  // ---- writes ------------------------------------------------------------------------

  async create(key: string, value: string): Promise<KeyValue> {
    this.open('create');
    checkKey(key, 'create');
    checkValue(value, key, 'create');
    const rev = await this.write(() => {
      if (this.stmt.get.get(key) !== undefined) throw new KeyExistsError(key);
      return this.apply([{ type: 'put', key, value }])!;
    });
    return kv(key, value, String(rev), String(rev));
  }

  async update(key: string, value: string, modRevision: Revision): Promise<KeyValue> {
    this.open('update');
    checkKey(key, 'update');
    checkValue(value, key, 'update');
    checkExistingRevision(modRevision, key, 'update');
    return await this.write(() => {
      const cur = this.stmt.get.get(key);
      if (cur === undefined) throw new NotFoundError(key);
      if (String(cur.mod_rev) !== modRevision) {
        throw new ConflictError(key, modRevision, String(cur.mod_rev));
      }
      const rev = this.apply([{ type: 'put', key, value }])!;
      return kv(key, value, String(cur.create_rev), String(rev));
    });
  }

  async put(key: string, value: string): Promise<KeyValue> {
    this.open('put');
    checkKey(key, 'put');
    checkValue(value, key, 'put');
    return await this.write(() => {
      const cur = this.stmt.get.get(key);
      const rev = this.apply([{ type: 'put', key, value }])!;
      return kv(key, value, String(cur?.create_rev ?? rev), String(rev));
    });
  }

  async delete(key: string, modRevision?: Revision): Promise<KeyValue> {
    this.open('delete');
    checkKey(key, 'delete');
    if (modRevision !== undefined) checkExistingRevision(modRevision, key, 'delete');
    return await this.write(() => {
      const cur = this.stmt.get.get(key);
      if (cur === undefined) throw new NotFoundError(key, 'delete');
      if (modRevision !== undefined && String(cur.mod_rev) !== modRevision) {
        throw new ConflictError(key, modRevision, String(cur.mod_rev), 'delete');
      }
      this.apply([{ type: 'delete', key }]);
      return kv(key, cur.value, String(cur.create_rev), String(cur.mod_rev));
    });
  }

  async txn(txn: Txn): Promise<TxnResult> {
    this.open('run txn');
    checkTxn(txn);
    return await this.write(() => {
      let ok = true;
      for (const c of txn.compare) {
        const cur = this.stmt.get.get(c.key);
        if ('modRevision' in c) {
          if (String(cur?.mod_rev ?? 0n) !== c.modRevision) ok = false;
        } else if (cur === undefined || cur.value !== c.value) {
          ok = false;
        }
        if (!ok) break;
      }
      const rev = this.apply(ok ? txn.success : (txn.failure ?? []));
      return {
        succeeded: ok,
        revision: String(rev ?? this.stmt.meta.get()!.rev),
      };
    });
  }

  async compact(revision: Revision): Promise<void> {
    this.open('compact');
    checkRevision(revision, '(store)', 'compact');
    const target = BigInt(revision);
    await this.write(() => {
      const meta = this.stmt.meta.get()!;
      if (target > meta.rev) {
        throw new DatastoreError(
          'INVALID_ARGUMENT',
          `Cannot compact to revision ${revision}: the store is only at ${meta.rev}`,
        );
      }
      if (target > meta.compact_rev) this.compactTo(target);
    });
    this.schedulePoll();
  }

  /**
   * Applies ops inside the caller's write transaction, numbering them with one new
   * revision (only if something actually changes: deleting an absent key is a no-op).
   */
  private apply(ops: TxnOp[]): bigint | undefined {
    let rev: bigint | undefined;
    let seq = 0;
    for (const op of ops) {
      const cur = this.stmt.get.get(op.key);
      if (op.type === 'delete' && cur === undefined) continue;
      rev ??= this.stmt.bump.get()!.rev;
      if (op.type === 'put') {
        if (cur === undefined) this.stmt.insert.run(op.key, op.value, rev, rev);
        else this.stmt.replace.run(op.value, rev, op.key);
        this.stmt.event.run(rev, seq++, op.key, PUT, op.value, cur?.value ?? null);
      } else {
        this.stmt.remove.run(op.key);
        this.stmt.event.run(rev, seq++, op.key, DELETE, null, cur!.value);
      }
    }
    if (rev !== undefined && rev % RETENTION_CHECK_EVERY === 0n && rev > this.historyRevisions) {
      const floor = rev - this.historyRevisions;
      if (floor > this.stmt.meta.get()!.compact_rev) this.compactTo(floor);
    }
    return rev;
  }

  private compactTo(rev: bigint): void {
    this.stmt.dropHistory.run(rev);
    this.stmt.setCompact.run(rev);
  }

  /** Runs fn in BEGIN IMMEDIATE so concurrent writers serialise on the write lock, not on retries. */
  private async write<T>(fn: () => T): Promise<T> {
    const result = await this.retrying(() => this.db.transaction(fn).immediate());
    this.localDirty = true;
    this.notify();
    this.schedulePoll();
    return result;
  }

  /**
   * Runs fn, retrying while another process holds the lock it needs. SQLite's own busy
   * handler sleeps synchronously, which would freeze this process's event loop (and every
   * watch in it) behind a busy writer elsewhere; so it is kept short (BUSY_SLICE_MS) and
   * the waiting happens here, asynchronously, until busyTimeoutMs has passed.
   */
  private async retrying<T>(fn: () => T): Promise<T> {
    const deadline = Date.now() + this.busyTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return this.guard(fn);
      } catch (err) {
        const busy = err instanceof UnavailableError && isBusy(err.cause);
        if (!busy || Date.now() >= deadline || this.closed) throw err;
        // Jittered, growing pause: many waiting processes must not retry in lockstep.
        const pause = Math.random() * Math.min(50, 1 + attempt * 2);
        await new Promise((r) => setTimeout(r, pause));
      }
    }
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof DatastoreError) throw err;
      if (isBusy(err)) {
        throw new UnavailableError(
          `Embedded datastore ${this.path} is locked by another writer`,
          err,
        );
      }
      if (!this.db.open) throw new ClosedError('use the embedded datastore');
      throw new UnavailableError(`Embedded datastore ${this.path} failed: ${String(err)}`, err);
    }
  }

  private notify(): void {
    if (this.notifyFd === undefined) return;
    try {
      const now = Date.now() / 1000;
      futimesSync(this.notifyFd, now, now);
    } catch {
      // Only latency depends on the touch; the fallback poll still finds the commit.
    }
  }

  // ---- watches -----------------------------------------------------------------------

  watch(prefix: string, options: WatchOptions = {}): Watch {
    this.open('watch');
    if (typeof prefix !== 'string') {
      throw new DatastoreError('INVALID_ARGUMENT', 'Cannot watch: prefix must be a string');
    }
    if (options.fromRevision !== undefined) checkRevision(options.fromRevision, prefix, 'watch');
    const w: LocalWatcher = {
      prefix,
      next: 0n,
      queue: new QueueWatch(() => this.removeWatcher(w)),
    };
    // Bring the shared cursor up to date first, so that "from now" means now and the
    // replay below and live dispatch meet exactly at lastPolled.
    this.guard(() => this.syncCursor());
    if (options.fromRevision === undefined) {
      w.next = this.lastPolled + 1n;
    } else {
      const from = BigInt(options.fromRevision);
      const replayed = this.guard(() => this.replay(w, from));
      if (!replayed) return w.queue;
      w.next = from > this.lastPolled ? from : this.lastPolled + 1n;
    }
    this.watchers.add(w);
    this.startPolling();
    return w.queue;
  }

  /** Delivers history [from, lastPolled] to a new watcher; false if it was compacted away. */
  private replay(w: LocalWatcher, from: bigint): boolean {
    return this.db.transaction(() => {
      const meta = this.stmt.meta.get()!;
      if (from < meta.compact_rev) {
        w.queue.resync(
          `revision ${from} has been compacted (history starts at ${meta.compact_rev}); list again`,
        );
        return false;
      }
      if (from > this.lastPolled) return true;
      const range = rangeOf(w.prefix);
      const rows =
        range === undefined
          ? this.stmt.replayAll.all(from, this.lastPolled).filter((r) => r.key.startsWith(w.prefix))
          : this.stmt.replayRange.all(from, this.lastPolled, range[0], range[1]);
      for (const r of rows) w.queue.push(toEvent(r));
      return true;
    })();
  }

  private syncCursor(): void {
    if (this.watchers.size === 0) {
      this.lastDataVersion = this.stmt.dataVersion.get()!;
      this.lastPolled = this.stmt.meta.get()!.rev;
      this.localDirty = false;
    } else {
      this.poll(true);
    }
  }

  private startPolling(): void {
    if (this.timer !== undefined) return;
    // setInterval treats anything above 2^31-1 ms as 1 ms; clamp instead.
    this.timer = setInterval(() => this.pollSafely(), Math.min(this.pollIntervalMs, 2 ** 31 - 1));
    try {
      const file = basename(this.notifyPath);
      this.dirWatcher = fsWatch(dirname(this.notifyPath), (_event, name) => {
        if (name === null || name === file) this.schedulePoll();
      });
      this.dirWatcher.on('error', () => {
        // inotify is only the fast path; the timer keeps watches correct without it.
        this.dirWatcher?.close();
        this.dirWatcher = undefined;
      });
    } catch {
      this.dirWatcher = undefined;
    }
  }

  private stopPolling(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.dirWatcher?.close();
    this.dirWatcher = undefined;
  }

  private schedulePoll(): void {
    if (this.pollScheduled || this.watchers.size === 0) return;
    this.pollScheduled = true;
    setImmediate(() => {
      this.pollScheduled = false;
      this.pollSafely();
    });
  }

  private pollSafely(): void {
    try {
      this.poll(false);
    } catch {
      // A busy or briefly unreadable database is retried on the next wake-up; the
      // cursor only advances after a successful read, so nothing is skipped.
    }
  }

  /** Dispatches every event after lastPolled to the live watchers, in revision order. */
  private poll(force: boolean): void {
    if (this.closed || this.watchers.size === 0) return;
    const dv = this.stmt.dataVersion.get()!;
    if (!force && dv === this.lastDataVersion && !this.localDirty) return;
    this.lastDataVersion = dv;
    this.localDirty = false;
    this.db.transaction(() => {
      const meta = this.stmt.meta.get()!;
      if (meta.rev <= this.lastPolled) return;
      if (meta.compact_rev > this.lastPolled + 1n) {
        for (const w of this.watchers) {
          if (w.next < meta.compact_rev) {
            this.watchers.delete(w);
            w.queue.resync(
              `events from revision ${w.next} were compacted before delivery (history starts at ${meta.compact_rev}); list again`,
            );
          }
        }
      }
      const rows = this.stmt.eventsAfter.all(this.lastPolled, meta.rev);
      for (const r of rows) {
        let ev: ReturnType<typeof toEvent> | undefined;
        for (const w of this.watchers) {
          if (r.rev >= w.next && r.key.startsWith(w.prefix)) {
            ev ??= toEvent(r);
            w.queue.push(ev);
          }
        }
      }
      this.lastPolled = meta.rev;
    })();
    if (this.watchers.size === 0) this.stopPolling();
  }

  private removeWatcher(w: LocalWatcher): void {
    this.watchers.delete(w);
    if (this.watchers.size === 0) this.stopPolling();
  }

  // ---- lifecycle ---------------------------------------------------------------------

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const all = [...this.watchers];
    this.watchers.clear();
    this.stopPolling();
    await Promise.all(all.map((w) => w.queue.close()));
    if (this.notifyFd !== undefined) {
      try {
        closeSync(this.notifyFd);
      } catch {
        // already closed
      }
      this.notifyFd = undefined;
    }
    this.db.close();
  }

  private open(what: string): void {
    if (this.closed) throw new ClosedError(what);
  }
}

function toEvent(r: EventRow) {
  const modRevision = String(r.rev);
  if (r.type === PUT) {
    return r.prev_value === null
      ? { type: 'put' as const, key: r.key, value: r.value!, modRevision }
      : { type: 'put' as const, key: r.key, value: r.value!, prevValue: r.prev_value, modRevision };
  }
  return { type: 'delete' as const, key: r.key, prevValue: r.prev_value!, modRevision };
}
