// Reconciles our one nftables table in a namespace: an atomic full replacement for the
// first sync (and as the repair of last resort), small incremental transactions after,
// and an occasional read-back that detects drift without listing on every change.
import { NftSession, nftEnv, SpawnRunner, ToolError, type ToolRunner } from './exec.js';
import {
  diffTables,
  type RenderedTable,
  serializeFull,
  TABLE_FAMILY,
  type TouchedNames,
} from './model.js';

export interface NftTableOptions {
  netns?: string;
  tableName: string;
  /** incremental attempts before falling back to a full rewrite */
  retries?: number;
  backoffMs?: number;
  /** `nft` binary */
  nft?: string;
  /** runs full loads and listings (default: a process per call) */
  runner?: ToolRunner;
  /** send incremental transactions through one long-lived `nft -i` (default true) */
  session?: boolean;
}

export interface SyncResult {
  kind: 'none' | 'delta' | 'full';
  attempts: number;
  /** nft commands sent (lines) */
  lines: number;
}

export interface NftStats {
  calls: number;
  errors: number;
  listCalls: number;
  fullSyncs: number;
  deltaSyncs: number;
  driftRepairs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class NftTable {
  /** what we believe the kernel holds; undefined until our first successful full sync */
  private programmed: RenderedTable | undefined;
  readonly stats: NftStats = {
    calls: 0,
    errors: 0,
    listCalls: 0,
    fullSyncs: 0,
    deltaSyncs: 0,
    driftRepairs: 0,
  };
  private forceFull = true;
  private readonly runner: ToolRunner;
  private session: NftSession | undefined;
  private closed = false;

  constructor(private readonly opts: NftTableOptions) {
    this.runner = opts.runner ?? new SpawnRunner(opts.netns);
  }

  get inSyncOnce(): boolean {
    return this.programmed !== undefined;
  }

  /** The next sync will rewrite the whole table (used after detected drift). */
  markDirty(): void {
    this.forceFull = true;
  }

  /**
   * One transaction. Small ones go through the long-lived `nft -i` (no process start-up
   * per change); full loads get a process of their own, as does everything once the
   * session has died or the table was closed.
   */
  async run(script: string, incremental = false): Promise<void> {
    this.stats.calls++;
    try {
      if (incremental && !this.closed && this.opts.session !== false) {
        this.session ??= new NftSession(this.opts.netns, this.opts.nft);
        try {
          await this.session.run(script);
          return;
        } catch (e) {
          if (e instanceof ToolError) throw e;
          // the session itself failed (not the transaction): start afresh next time
          const s = this.session;
          this.session = undefined;
          await s.close().catch(() => undefined);
        }
      }
      await this.runner.exec([this.opts.nft ?? 'nft', '-f', '-'], script, false, nftEnv());
    } catch (e) {
      this.stats.errors++;
      throw e;
    }
  }

  /** Ends the long-lived nft; the table stays as programmed. */
  async close(): Promise<void> {
    this.closed = true;
    const s = this.session;
    this.session = undefined;
    await s?.close();
  }

  /**
   * Brings the kernel to `desired`. `changes` says which names differ from `base`; it is
   * used only when `base` is what we last programmed, otherwise the whole table is diffed.
   */
  async sync(
    desired: RenderedTable,
    changes?: { base: RenderedTable; touched: TouchedNames },
  ): Promise<SyncResult> {
    if (this.forceFull || !this.programmed) return this.full(desired, 0);
    const delta = diffTables(
      this.programmed,
      desired,
      changes?.base === this.programmed ? changes.touched : undefined,
    );
    if (delta.needsFull) return this.full(desired, 0);
    if (delta.script === '') {
      this.programmed = desired;
      return { kind: 'none', attempts: 0, lines: 0 };
    }
    const retries = this.opts.retries ?? 3;
    const backoff = this.opts.backoffMs ?? 20;
    let attempts = 0;
    for (let i = 0; i < retries; i++) {
      attempts++;
      try {
        await this.run(delta.script, true);
        this.programmed = desired;
        this.stats.deltaSyncs++;
        return { kind: 'delta', attempts, lines: delta.changes };
      } catch (e) {
        if (!(e instanceof ToolError)) throw e;
        // A failing delta usually means the kernel no longer holds what we think
        // (someone edited our table); retrying the same delta rarely helps, so back off
        // briefly and then rewrite everything.
        await sleep(backoff * 2 ** i);
      }
    }
    return this.full(desired, attempts);
  }

  private async full(desired: RenderedTable, priorAttempts: number): Promise<SyncResult> {
    const script = serializeFull(desired);
    const retries = this.opts.retries ?? 3;
    const backoff = this.opts.backoffMs ?? 20;
    let last: unknown;
    for (let i = 0; i < retries; i++) {
      try {
        await this.run(script);
        this.programmed = desired;
        this.forceFull = false;
        this.stats.fullSyncs++;
        return {
          kind: 'full',
          attempts: priorAttempts + i + 1,
          lines: script.length === 0 ? 0 : script.split('\n').length - 1,
        };
      } catch (e) {
        last = e;
        await sleep(backoff * 2 ** i);
      }
    }
    throw last;
  }

  /**
   * Lists the table back and compares it with what we programmed: chain names, each
   * chain's sequence of rule tags (`cali:<hash>` comments), and set/map sizes. Returns
   * a description of the first difference, or undefined when the kernel matches.
   */
  async readBack(): Promise<string | undefined> {
    const want = this.programmed;
    if (!want) return undefined;
    this.stats.listCalls++;
    const r = await this.runner.exec(
      [this.opts.nft ?? 'nft', '-j', 'list', 'table', TABLE_FAMILY, want.name],
      undefined,
      true,
      nftEnv(),
    );
    if (r.code !== 0) return `table ${want.name} is missing: ${r.stderr.trim()}`;
    const doc = JSON.parse(r.stdout) as { nftables: Record<string, Record<string, unknown>>[] };
    const chains = new Map<string, string[]>();
    const sizes = new Map<string, number>();
    for (const item of doc.nftables) {
      if (item.chain) chains.set(String(item.chain.name), []);
      else if (item.rule) {
        const tag = /^cali:([0-9a-z]+)/.exec(String(item.rule.comment ?? ''))?.[1] ?? '?';
        chains.get(String(item.rule.chain))?.push(tag);
      } else if (item.set || item.map) {
        const s = (item.set ?? item.map) as { name: string; elem?: unknown[] };
        sizes.set(s.name, s.elem?.length ?? 0);
      }
    }
    for (const [name, c] of want.chains) {
      const got = chains.get(name);
      if (!got) return `chain ${name} is missing`;
      const tags = c.rules.map((rule) => /comment "cali:([0-9a-z]+)/.exec(rule)?.[1] ?? '?');
      if (got.length !== tags.length || got.some((t, i) => t !== tags[i]))
        return `chain ${name} differs (${got.length} rules, want ${tags.length})`;
    }
    for (const name of chains.keys()) if (!want.chains.has(name)) return `unexpected chain ${name}`;
    for (const [name, s] of want.sets)
      if (sizes.get(name) !== s.elements.length)
        return `set ${name} has ${sizes.get(name) ?? 'no'} elements, want ${s.elements.length}`;
    for (const [name, m] of want.maps)
      if (sizes.get(name) !== m.elements.size)
        return `map ${name} has ${sizes.get(name) ?? 'no'} elements, want ${m.elements.size}`;
    return undefined;
  }

  /** Read back; on drift rewrite the table atomically. Returns the drift found, if any. */
  async repairDrift(): Promise<string | undefined> {
    const drift = await this.readBack();
    if (drift && this.programmed) {
      this.stats.driftRepairs++;
      this.forceFull = true;
      await this.sync(this.programmed);
    }
    return drift;
  }

  /** Deletes our table (tests and `calico-node` teardown); nothing else is touched. */
  async delete(): Promise<void> {
    await this.run(
      `add table ${TABLE_FAMILY} ${this.opts.tableName}\ndelete table ${TABLE_FAMILY} ${this.opts.tableName}\n`,
    );
    this.programmed = undefined;
    this.forceFull = true;
  }
}
