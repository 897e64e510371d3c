/**
 * The etcd v3 backend, on the `etcd3` client. The client is imported lazily (it costs
 * about 200 ms and loads its .proto at run time), so programs on the embedded store
 * never pay for it; construct this backend with {@link openEtcdBackend}.
 *
 * Watches. etcd3's watcher reconnects by itself but resumes from the revision in the
 * last response header, which is the store's revision, not the last event delivered:
 * a watch still replaying history would silently skip the rest. We therefore keep our
 * own cursor (the last delivered event's revision + 1), write it back into the watch
 * request after every response, and drop any event below it, so a reconnect resumes
 * exactly where delivery stopped. A server-side cancel (compaction) becomes
 * `resync-needed`. Watches of one prefix share one server-side watch (see watch()), so
 * many local watchers do not multiply etcd's sends. close() cancels every watcher before closing the client, because
 * closing with a live watcher hangs the process.
 */
import { readFileSync } from 'node:fs';
import type {
  Etcd3,
  IEvent,
  IKeyValue,
  IOptions,
  IRequestOp,
  IWatchResponse,
  Watcher,
} from 'etcd3';
import type {
  Backend,
  Compare,
  KeyValue,
  ListResult,
  Revision,
  Txn,
  TxnOp,
  TxnResult,
  Watch,
  WatchEvent,
  WatchOptions,
} from './backend.js';
import { prefixEnd } from './backend.js';
import {
  ClosedError,
  CompactedError,
  ConflictError,
  DatastoreError,
  KeyExistsError,
  NotFoundError,
  UnavailableError,
} from './errors.js';
import { checkExistingRevision, checkKey, checkRevision, checkTxn, checkValue, kv } from './ops.js';
import { QueueWatch } from './watch-queue.js';

export interface EtcdOptions {
  /** e.g. ["http://127.0.0.1:2379"]; https:// endpoints need caFile */
  endpoints: string[];
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** deadline for each unary request; a request that outlives it fails UNAVAILABLE */
  requestTimeoutMs?: number;
  /** upper bound of the reconnect backoff for watch streams */
  maxWatchBackoffMs?: number;
  /** how long close() waits for each watcher to be cancelled before giving up on it */
  closeTimeoutMs?: number;
}

type Etcd3Module = typeof import('etcd3');

/** A capped doubling backoff in the shape etcd3's watch manager expects. */
function backoff(
  ms: number,
  maxMs: number,
): { duration: number; next(): ReturnType<typeof backoff> } {
  return { duration: ms, next: () => backoff(Math.min(maxMs, ms * 2), maxMs) };
}

function buf(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

function toKv(k: IKeyValue): KeyValue {
  return kv(k.key.toString('utf8'), k.value.toString('utf8'), k.create_revision, k.mod_revision);
}

/**
 * One server-side watch of a prefix, shared by every local watch that can use it: etcd
 * then sends each event once per client instead of once per local watcher.
 */
interface Stream {
  prefix: string;
  watcher: Watcher;
  /** the first revision not yet delivered; undefined until the server says where "now" is */
  next: bigint | undefined;
  /** started "from now" (shareable before it connects) rather than replaying history */
  live: boolean;
  subs: Set<Sub>;
}

interface Sub {
  queue: Pick<QueueWatch, 'push' | 'resync' | 'close' | 'markReady'>;
  /** deliver only events at or after this revision (undefined: everything the stream sends) */
  from: bigint | undefined;
}

export class EtcdBackend implements Backend {
  readonly type = 'etcdv3' as const;
  private readonly streams = new Set<Stream>();
  private closed = false;
  private closing: Promise<void> | undefined;

  /** @internal use openEtcdBackend */
  constructor(
    private readonly mod: Etcd3Module,
    readonly client: Etcd3,
    private readonly closeTimeoutMs: number,
  ) {}

  // ---- reads -------------------------------------------------------------------------

  async get(key: string): Promise<KeyValue | undefined> {
    this.open('get');
    checkKey(key, 'get');
    const res = await this.call(() => this.client.kv.range({ key: buf(key) }));
    const k = res.kvs[0];
    return k === undefined ? undefined : toKv(k);
  }

  async list(prefix: string): Promise<ListResult> {
    this.open('list');
    if (typeof prefix !== 'string') {
      throw new DatastoreError('INVALID_ARGUMENT', 'Cannot list: prefix must be a string');
    }
    const res = await this.call(() =>
      this.client.kv.range({
        key: buf(prefix === '' ? '\0' : prefix),
        range_end: buf(prefix === '' ? '\0' : prefixEnd(prefix)),
        sort_order: 'Ascend',
        sort_target: 'Key',
      }),
    );
    return { items: res.kvs.map(toKv), revision: res.header.revision };
  }

  async currentRevision(): Promise<Revision> {
    this.open('read the revision');
    const res = await this.call(() => this.client.kv.range({ key: buf('\0'), count_only: true }));
    return res.header.revision;
  }

  // ---- writes ------------------------------------------------------------------------

  async create(key: string, value: string): Promise<KeyValue> {
    this.open('create');
    checkKey(key, 'create');
    checkValue(value, key, 'create');
    const res = await this.call(() =>
      this.client.kv.txn({
        compare: [{ key: buf(key), target: 'Create', result: 'Equal', create_revision: 0 }],
        success: [{ request_put: { key: buf(key), value: buf(value) } }],
      }),
    );
    if (!res.succeeded) throw new KeyExistsError(key);
    return kv(key, value, res.header.revision, res.header.revision);
  }

  async update(key: string, value: string, modRevision: Revision): Promise<KeyValue> {
    this.open('update');
    checkKey(key, 'update');
    checkValue(value, key, 'update');
    checkExistingRevision(modRevision, key, 'update');
    const res = await this.call(() =>
      this.client.kv.txn({
        compare: [{ key: buf(key), target: 'Mod', result: 'Equal', mod_revision: modRevision }],
        success: [{ request_put: { key: buf(key), value: buf(value), prev_kv: true } }],
        failure: [{ request_range: { key: buf(key) } }],
      }),
    );
    if (!res.succeeded) {
      const cur = res.responses[0]?.response_range.kvs[0];
      if (cur === undefined) throw new NotFoundError(key);
      throw new ConflictError(key, modRevision, cur.mod_revision);
    }
    const prev = res.responses[0]?.response_put.prev_kv;
    return kv(key, value, prev?.create_revision ?? res.header.revision, res.header.revision);
  }

  async put(key: string, value: string): Promise<KeyValue> {
    this.open('put');
    checkKey(key, 'put');
    checkValue(value, key, 'put');
    const res = await this.call(() =>
      this.client.kv.put({ key: buf(key), value: buf(value), prev_kv: true }),
    );
    return kv(key, value, res.prev_kv?.create_revision ?? res.header.revision, res.header.revision);
  }

  async delete(key: string, modRevision?: Revision): Promise<KeyValue> {
    this.open('delete');
    checkKey(key, 'delete');
    if (modRevision !== undefined) checkExistingRevision(modRevision, key, 'delete');
    const res = await this.call(() =>
      this.client.kv.txn({
        compare:
          modRevision === undefined
            ? [{ key: buf(key), target: 'Version', result: 'Greater', version: 0 }]
            : [{ key: buf(key), target: 'Mod', result: 'Equal', mod_revision: modRevision }],
        success: [{ request_delete_range: { key: buf(key), prev_kv: true } }],
        failure: [{ request_range: { key: buf(key) } }],
      }),
    );
    if (!res.succeeded) {
      const cur = res.responses[0]?.response_range.kvs[0];
      if (cur === undefined) throw new NotFoundError(key, 'delete');
      throw new ConflictError(key, modRevision ?? '?', cur.mod_revision, 'delete');
    }
    const prev = res.responses[0]?.response_delete_range.prev_kvs[0];
    if (prev === undefined) throw new NotFoundError(key, 'delete');
    return toKv(prev);
  }

  async txn(txn: Txn): Promise<TxnResult> {
    this.open('run txn');
    checkTxn(txn);
    const res = await this.call(() =>
      this.client.kv.txn({
        compare: txn.compare.map(toCompare),
        success: txn.success.map(toOp),
        failure: (txn.failure ?? []).map(toOp),
      }),
    );
    return { succeeded: res.succeeded, revision: res.header.revision };
  }

  async compact(revision: Revision): Promise<void> {
    this.open('compact');
    checkRevision(revision, '(store)', 'compact');
    try {
      await this.call(() => this.client.kv.compact({ revision, physical: true }));
    } catch (err) {
      // Compacting to a point already compacted is a no-op, as on the embedded store.
      if (err instanceof CompactedError) return;
      throw err;
    }
  }

  // ---- watches -----------------------------------------------------------------------

  watch(prefix: string, options: WatchOptions = {}): Watch {
    this.open('watch');
    if (typeof prefix !== 'string') {
      throw new DatastoreError('INVALID_ARGUMENT', 'Cannot watch: prefix must be a string');
    }
    if (options.fromRevision !== undefined) checkRevision(options.fromRevision, prefix, 'watch');
    const from = options.fromRevision === undefined ? undefined : BigInt(options.fromRevision);
    // Join a running stream when it delivers exactly what this watch needs: "from now"
    // joins a stream that itself started "from now" (never one still replaying
    // history); "from F" joins any stream that has not yet delivered past F.
    for (const stream of this.streams) {
      if (stream.prefix !== prefix) continue;
      const fits =
        from === undefined ? stream.live : stream.next !== undefined && from >= stream.next;
      if (!fits) continue;
      if (from !== undefined || stream.next === undefined) return this.subscribe(stream, from);
      return this.subscribeNow(stream);
    }
    const stream = this.openStream(prefix, from);
    return this.subscribe(stream, from);
  }

  private subscribe(stream: Stream, from: bigint | undefined): Watch {
    const queue = this.subQueue(stream, () => sub);
    const sub: Sub = { from, queue };
    stream.subs.add(sub);
    if (stream.next !== undefined) queue.markReady();
    return queue;
  }

  /**
   * Joins a running live stream "from now". The stream may still be about to deliver
   * writes that completed before this call, so "now" is the store revision read after
   * the call; events the stream delivers meanwhile are held back and filtered by it.
   */
  private subscribeNow(stream: Stream): Watch {
    const held: WatchEvent[] = [];
    const queue = this.subQueue(stream, () => sub);
    const sub: Sub = { from: undefined, queue };
    let resolved = false;
    const hold: Sub = {
      from: undefined,
      queue: {
        push: (ev) => held.push(ev),
        resync: (reason) => sub.queue.resync(reason),
        close: () => sub.queue.close(),
        markReady: () => {},
      },
    };
    stream.subs.add(hold);
    const settle = (from: bigint) => {
      if (resolved) return;
      resolved = true;
      stream.subs.delete(hold);
      sub.from = from;
      for (const ev of held) {
        if (ev.type !== 'resync-needed' && BigInt(ev.modRevision) >= from) sub.queue.push(ev);
      }
      if (!queue.isEnded) stream.subs.add(sub);
      else if (stream.subs.size === 0 && this.streams.delete(stream))
        void this.cancel(stream.watcher);
      sub.queue.markReady();
    };
    const fallback = stream.next!;
    this.currentRevision().then(
      (rev) => settle(BigInt(rev) + 1n),
      // etcd unreachable: nothing can have been written since, the stream's cursor is now.
      () => settle(fallback),
    );
    return queue;
  }

  /** A subscriber's queue; closing the last one of a stream cancels the server watch. */
  private subQueue(stream: Stream, sub: () => Sub): QueueWatch {
    return new QueueWatch(async () => {
      stream.subs.delete(sub());
      if (stream.subs.size === 0 && this.streams.delete(stream)) await this.cancel(stream.watcher);
    }, false);
  }

  private openStream(prefix: string, from: bigint | undefined): Stream {
    let builder = this.client.watch().withPreviousKV();
    builder = prefix === '' ? builder.inRange({ start: '\0', end: '\0' }) : builder.prefix(prefix);
    if (from !== undefined) builder = builder.startRevision(String(from));
    const watcher = builder.watcher();
    const stream: Stream = {
      prefix,
      watcher,
      next: from,
      live: from === undefined,
      subs: new Set(),
    };
    this.streams.add(stream);
    // etcd3 rewrites start_revision from response headers in its own listeners, which
    // run before ours; we overwrite it with our delivery cursor after each response.
    const request = (watcher as unknown as { request: { start_revision?: string } }).request;
    const pin = () => {
      if (stream.next !== undefined) request.start_revision = String(stream.next);
    };
    watcher.on('connected', (res: IWatchResponse) => {
      if (stream.next === undefined) stream.next = BigInt(res.header.revision) + 1n;
      pin();
      for (const sub of stream.subs) sub.queue.markReady();
    });
    watcher.on('data', (res: IWatchResponse) => {
      const floor = stream.next ?? 0n;
      let last: bigint | undefined;
      for (const ev of res.events) {
        const rev = BigInt(ev.kv.mod_revision);
        // A resumed stream may repeat a revision we already delivered.
        if (rev < floor) continue;
        last = rev;
        const event = toEvent(ev);
        for (const sub of stream.subs)
          if (sub.from === undefined || rev >= sub.from) sub.queue.push(event);
      }
      if (last !== undefined) stream.next = last + 1n;
      pin();
    });
    watcher.on('error', (err: Error) => {
      // The only server-side cancel of a watch we request is for compacted history.
      this.streams.delete(stream);
      for (const sub of stream.subs) {
        sub.queue.resync(`etcd cancelled the watch (${err.message || 'compacted'}); list again`);
      }
    });
    return stream;
  }

  private async cancel(watcher: Watcher | undefined): Promise<void> {
    if (watcher === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      watcher.cancel().catch(() => {}),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.closeTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  // ---- lifecycle ---------------------------------------------------------------------

  close(): Promise<void> {
    if (this.closing === undefined) {
      this.closed = true;
      this.closing = (async () => {
        const all = [...this.streams];
        this.streams.clear();
        await Promise.all(
          all.flatMap((stream) => [
            ...[...stream.subs].map((sub) => sub.queue.close()),
            this.cancel(stream.watcher),
          ]),
        );
        this.client.close();
      })();
    }
    return this.closing;
  }

  private open(what: string): void {
    if (this.closed) throw new ClosedError(what);
  }

  /** Runs one request and maps etcd3's error classes to ours. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.mapError(err);
    }
  }

  private mapError(err: unknown): Error {
    if (err instanceof DatastoreError) return err;
    const m = this.mod;
    const msg = err instanceof Error ? err.message : String(err);
    if (err instanceof m.ClientClosedError) return new ClosedError('talk to etcd');
    if (err instanceof m.GRPCOutOfRangeError || /compacted/.test(msg)) {
      return new CompactedError('?', undefined);
    }
    if (err instanceof m.GRPCInvalidArgumentError || /future revision/.test(msg)) {
      return new DatastoreError('INVALID_ARGUMENT', `etcd rejected the request: ${msg}`, {
        cause: err,
      });
    }
    return new UnavailableError(`etcd request failed: ${msg}`, err);
  }
}

function toEvent(ev: IEvent): WatchEvent {
  const key = ev.kv.key.toString('utf8');
  const prevValue = ev.prev_kv?.value.toString('utf8');
  const base = prevValue === undefined ? {} : { prevValue };
  return ev.type === 'Put'
    ? {
        type: 'put',
        key,
        value: ev.kv.value.toString('utf8'),
        ...base,
        modRevision: ev.kv.mod_revision,
      }
    : { type: 'delete', key, ...base, modRevision: ev.kv.mod_revision };
}

function toCompare(c: Compare) {
  if ('modRevision' in c) {
    return {
      key: buf(c.key),
      target: 'Mod' as const,
      result: 'Equal' as const,
      mod_revision: c.modRevision,
    };
  }
  return {
    key: buf(c.key),
    target: 'Value' as const,
    result: 'Equal' as const,
    value: buf(c.value),
  };
}

function toOp(op: TxnOp): IRequestOp {
  return op.type === 'put'
    ? { request_put: { key: buf(op.key), value: buf(op.value) } }
    : { request_delete_range: { key: buf(op.key) } };
}

/** Connects lazily-imported etcd3 to the given endpoints (with TLS when files are given). */
export async function openEtcdBackend(options: EtcdOptions): Promise<EtcdBackend> {
  if (!Array.isArray(options.endpoints) || options.endpoints.length === 0) {
    throw new DatastoreError('INVALID_CONFIG', 'Cannot open etcd datastore: no endpoints given');
  }
  const mod: Etcd3Module = await import('etcd3');
  const timeout = options.requestTimeoutMs ?? 10_000;
  const opts: IOptions = {
    hosts: options.endpoints,
    dialTimeout: timeout,
    // Watch streams live indefinitely; only unary requests get a deadline.
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
    faultHandling: {
      watchBackoff: backoff(100, options.maxWatchBackoffMs ?? 1000) as never,
    },
    // gRPC's default 4 MiB receive limit is below what etcd sends in one message when a
    // watch replays history (up to 1000 revisions per response, with previous values)
    // or a list returns many blocks. Over the limit the client drops the stream and
    // etcd3 reconnects from the same revision, forever; the server is the limit here.
    grpcOptions: { 'grpc.max_receive_message_length': -1 },
  };
  if (
    options.caFile !== undefined ||
    options.certFile !== undefined ||
    options.keyFile !== undefined
  ) {
    if (options.caFile === undefined) {
      throw new DatastoreError(
        'INVALID_CONFIG',
        'Cannot open etcd datastore: a client certificate needs a CA file (ETCD_CA_CERT_FILE)',
      );
    }
    if ((options.certFile === undefined) !== (options.keyFile === undefined)) {
      throw new DatastoreError(
        'INVALID_CONFIG',
        'Cannot open etcd datastore: give both ETCD_CERT_FILE and ETCD_KEY_FILE, or neither',
      );
    }
    const read = (f: string, what: string) => {
      try {
        return readFileSync(f);
      } catch (err) {
        throw new DatastoreError(
          'INVALID_CONFIG',
          `Cannot read etcd ${what} file ${f}: ${String(err)}`,
          {
            cause: err,
          },
        );
      }
    };
    opts.credentials = {
      rootCertificate: read(options.caFile, 'CA'),
      ...(options.keyFile === undefined ? {} : { privateKey: read(options.keyFile, 'key') }),
      ...(options.certFile === undefined
        ? {}
        : { certChain: read(options.certFile, 'certificate') }),
    };
  }
  const client = new mod.Etcd3(opts);
  return new EtcdBackend(mod, client, options.closeTimeoutMs ?? 2000);
}
