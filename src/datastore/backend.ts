/**
 * The key/value contract every datastore backend honours. Revisions are int64 in etcd,
 * so they travel as decimal strings and are compared with {@link compareRevisions},
 * never converted to a JS number.
 */

/** A decimal int64 revision, e.g. "42". "0" means "no such key" in compares. */
export type Revision = string;

export interface KeyValue {
  key: string;
  value: string;
  /** revision of the write that created the current incarnation of the key */
  createRevision: Revision;
  /** revision of the last write to the key; the optimistic-concurrency token */
  modRevision: Revision;
}

export interface ListResult {
  items: KeyValue[];
  /** the store revision this listing reflects: watch from revision + 1 to follow it */
  revision: Revision;
}

/** Condition of a transaction; all must hold for the success ops to run. */
export type Compare =
  /** the key's modRevision equals this one ("0": the key must be absent) */
  | { key: string; modRevision: Revision }
  /** the key exists with exactly this value */
  | { key: string; value: string };

export type TxnOp = { type: 'put'; key: string; value: string } | { type: 'delete'; key: string };

export interface Txn {
  compare: Compare[];
  success: TxnOp[];
  failure?: TxnOp[];
}

export interface TxnResult {
  succeeded: boolean;
  /** revision of the writes if any ran, otherwise the store revision the txn saw */
  revision: Revision;
}

export type WatchEvent =
  | {
      type: 'put';
      key: string;
      value: string;
      /** the value before this write, absent when the key was created */
      prevValue?: string;
      modRevision: Revision;
    }
  | {
      type: 'delete';
      key: string;
      prevValue?: string;
      /** revision of the delete itself */
      modRevision: Revision;
    }
  | {
      /**
       * History the watch needed is gone (compaction). No further events follow on
       * this watch; the consumer lists again and watches from the list revision + 1.
       */
      type: 'resync-needed';
      reason: string;
    };

export interface WatchOptions {
  /**
   * First revision to deliver (inclusive). Omitted: only changes after the watch starts.
   * Older than the retained history: a single resync-needed event.
   */
  fromRevision?: Revision;
}

/**
 * A running watch: an async iterable of ordered events (by modRevision, and in
 * transaction order within one revision) that ends after close() or resync-needed.
 */
export interface Watch extends AsyncIterable<WatchEvent> {
  /**
   * Resolves once the store has registered the watch (embedded: at once; etcd: when the
   * server confirms it). Without fromRevision, writes after this are sure to be seen.
   */
  ready(): Promise<void>;
  /** Stops delivery and ends the iteration; safe to call more than once. */
  close(): Promise<void>;
}

export interface Backend {
  readonly type: 'embedded' | 'etcdv3';
  get(key: string): Promise<KeyValue | undefined>;
  /** Every key starting with prefix, in key order, with the revision it reflects. */
  list(prefix: string): Promise<ListResult>;
  /** Writes a new key; KeyExistsError if it is present. */
  create(key: string, value: string): Promise<KeyValue>;
  /** Replaces a key only if its modRevision is still `modRevision` (ConflictError, NotFoundError). */
  update(key: string, value: string, modRevision: Revision): Promise<KeyValue>;
  /** Unconditional write (create or replace). */
  put(key: string, value: string): Promise<KeyValue>;
  /**
   * Removes a key, only if its modRevision is still `modRevision` when one is given.
   * Returns the removed value. NotFoundError if absent, ConflictError if stale.
   */
  delete(key: string, modRevision?: Revision): Promise<KeyValue>;
  /** Atomic compare-and-ops over a few keys; all puts and deletes share one revision. */
  txn(txn: Txn): Promise<TxnResult>;
  watch(prefix: string, options?: WatchOptions): Watch;
  /** The latest revision of the whole store. */
  currentRevision(): Promise<Revision>;
  /** Discards history strictly before `revision`; watches from older revisions must resync. */
  compact(revision: Revision): Promise<void>;
  /** Stops every watch, then releases connections; resolves promptly even if the store is down. */
  close(): Promise<void>;
}

/** Orders two revisions numerically without leaving int64 territory. */
export function compareRevisions(a: Revision, b: Revision): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

const REVISION = /^(0|[1-9][0-9]{0,18})$/;

export function isRevision(s: unknown): s is Revision {
  return typeof s === 'string' && REVISION.test(s) && BigInt(s) <= 9223372036854775807n;
}

/** The smallest key greater than every key starting with prefix (etcd's range_end). */
export function prefixEnd(prefix: string): string {
  // Bump the last UTF-16 code unit; keys are compared as UTF-8 bytes by etcd and by
  // SQLite's BINARY collation, and for the ASCII keys Calico uses both orders agree.
  for (let i = prefix.length - 1; i >= 0; i--) {
    const c = prefix.charCodeAt(i);
    if (c < 0xffff) return prefix.slice(0, i) + String.fromCharCode(c + 1);
  }
  return '\0';
}
