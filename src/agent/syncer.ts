// The agent's view of the datastore: one list + ordered watch of `/calico/`, turned into
// calc-graph ResourceUpdates. After a watch ends (compaction, outage, error) it lists
// again with back-off and replays only what differs from what it already delivered
// (changed modRevisions as sets, vanished keys as deletes), so a resync after an outage
// costs the calc graph and the kernel only the difference.
import type { ResourceUpdate } from '../calc/index.js';
import type { Backend, KeyValue, Watch } from '../datastore/index.js';
import { RESOURCES_PREFIX } from '../datastore/index.js';
import type { ResourceLike } from '../policy/index.js';

const SYNC_PREFIX = '/calico/';
const BLOCK_KEY = /^\/calico\/ipam\/v2\/assignment\/ipv[46]\/block\/([^/]+)$/;
const AFFINITY_KEY = /^\/calico\/ipam\/v2\/host\/([^/]+)\/ipv[46]\/block\/([^/]+)$/;
const V3 = 'projectcalico.org/v3';

type DeleteUpdate = Extract<ResourceUpdate, { type: 'delete' }>;

interface Known {
  readonly modRevision: string;
  readonly del: DeleteUpdate;
}

function segmentCidr(seg: string): string {
  const dash = seg.lastIndexOf('-');
  return `${seg.slice(0, dash)}/${seg.slice(dash + 1)}`;
}

/**
 * A datastore key/value as the resource the calc graph understands, or undefined for
 * keys the graph does not consume (handles, status, IPAM config, unparsable values).
 */
export function toResource(key: string, value: string): ResourceLike | undefined {
  let parsed: unknown;
  if (key.startsWith(RESOURCES_PREFIX)) {
    try {
      parsed = JSON.parse(value);
    } catch {
      return undefined;
    }
    const r = parsed as ResourceLike;
    return r !== null && typeof r === 'object' && typeof r.kind === 'string' ? r : undefined;
  }
  const block = BLOCK_KEY.exec(key);
  if (block) {
    try {
      parsed = JSON.parse(value);
    } catch {
      return undefined;
    }
    return { apiVersion: V3, kind: 'IPAMBlock', metadata: { name: block[1]! }, spec: parsed };
  }
  const aff = AFFINITY_KEY.exec(key);
  if (aff) {
    let data: Record<string, unknown> = {};
    try {
      data = (JSON.parse(value) ?? {}) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    // libcalico-go wrote "" for affinities confirmed before the state field existed
    const state = data.state === undefined || data.state === '' ? 'confirmed' : data.state;
    return {
      apiVersion: V3,
      kind: 'BlockAffinity',
      metadata: { name: `${aff[1]}-${aff[2]}` },
      spec: { node: aff[1]!, cidr: segmentCidr(aff[2]!), state, deleted: data.deleted === true },
    };
  }
  return undefined;
}

function deleteOf(r: ResourceLike): DeleteUpdate {
  const ns = r.metadata?.namespace;
  return {
    type: 'delete',
    kind: r.kind,
    ...(r.apiVersion !== undefined ? { apiVersion: r.apiVersion } : {}),
    ...(ns !== undefined ? { namespace: ns } : {}),
    name: r.metadata?.name ?? '',
  };
}

export type SyncStatus = 'wait-for-ready' | 'resync' | 'in-sync';

export interface SyncerCallbacks {
  /** a batch of updates; the batch ends at a consistent revision */
  onUpdates(updates: ResourceUpdate[]): void;
  /** the first complete snapshot has been delivered (called once) */
  onInSync(): void;
  onStatus(status: SyncStatus): void;
  onResyncStarted(): void;
  onError(err: unknown, retryInMs: number): void;
}

export interface SyncerOptions {
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

export class Syncer {
  private readonly known = new Map<string, Known>();
  private stopped = false;
  private watch: Watch | undefined;
  private wake: (() => void) | undefined;
  private done: Promise<void> | undefined;
  private sentInSync = false;
  /** what the last relist cost, for the agent's log */
  lastResync: Readonly<Record<string, number>> = {};

  constructor(
    private readonly backend: Backend,
    private readonly cb: SyncerCallbacks,
    private readonly opts: SyncerOptions = {},
  ) {}

  start(): void {
    this.done ??= this.loop();
  }

  get size(): number {
    return this.known.size;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.watch?.close();
    await this.done;
  }

  private async loop(): Promise<void> {
    const min = this.opts.minBackoffMs ?? 100;
    const max = this.opts.maxBackoffMs ?? 5000;
    let backoff = min;
    while (!this.stopped) {
      try {
        this.cb.onStatus('resync');
        this.cb.onResyncStarted();
        const t0 = performance.now();
        const listed = await this.backend.list(SYNC_PREFIX);
        if (this.stopped) return;
        const t1 = performance.now();
        const updates = this.replay(listed.items);
        const t2 = performance.now();
        this.cb.onUpdates(updates);
        this.lastResync = {
          keys: listed.items.length,
          updates: updates.length,
          listMs: Math.round(t1 - t0),
          decodeMs: Math.round(t2 - t1),
          calcMs: Math.round(performance.now() - t2),
        };
        if (!this.sentInSync) {
          this.sentInSync = true;
          this.cb.onInSync();
        }
        this.cb.onStatus('in-sync');
        backoff = min;
        const from = (BigInt(listed.revision) + 1n).toString();
        this.watch = this.backend.watch(SYNC_PREFIX, { fromRevision: from });
        for await (const ev of this.watch) {
          if (ev.type === 'resync-needed') break;
          const u = this.event(ev.key, ev.type === 'put' ? ev.value : undefined, ev.modRevision);
          if (u !== undefined) this.cb.onUpdates([u]);
        }
        this.watch = undefined;
      } catch (err) {
        this.watch = undefined;
        if (this.stopped) return;
        this.cb.onError(err, backoff);
        await this.sleep(backoff);
        backoff = Math.min(max, backoff * 2);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((res) => {
      const t = setTimeout(res, ms);
      this.wake = () => {
        clearTimeout(t);
        res();
      };
    });
  }

  /** A fresh listing as the difference from what was delivered before. */
  private replay(items: readonly KeyValue[]): ResourceUpdate[] {
    const out: ResourceUpdate[] = [];
    const seen = new Set<string>();
    for (const kv of items) {
      seen.add(kv.key);
      const u = this.event(kv.key, kv.value, kv.modRevision);
      if (u !== undefined) out.push(u);
    }
    for (const [key, k] of this.known) {
      if (!seen.has(key)) {
        this.known.delete(key);
        out.push(k.del);
      }
    }
    return out;
  }

  private event(key: string, value: string | undefined, modRevision: string) {
    if (value === undefined) {
      const k = this.known.get(key);
      if (k === undefined) return undefined;
      this.known.delete(key);
      return k.del;
    }
    const prev = this.known.get(key);
    if (prev !== undefined && prev.modRevision === modRevision) return undefined;
    const res = toResource(key, value);
    if (res === undefined) {
      // a value that no longer parses counts as deleted, like Felix's validation filter
      if (prev === undefined) return undefined;
      this.known.delete(key);
      return prev.del;
    }
    this.known.set(key, { modRevision, del: deleteOf(res) });
    return { type: 'set', resource: res } as ResourceUpdate;
  }
}
