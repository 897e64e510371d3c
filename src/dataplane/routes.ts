// Route-table driver: owns the routes tagged with our protocol number (Felix uses 80),
// programs them with `ip -batch`, and never touches routes with any other protocol.
import { SpawnRunner, type ToolRunner } from './exec.js';

export const CALICO_ROUTE_PROTOCOL = 80;

export interface NextHop {
  via: string;
  dev?: string;
  weight?: number;
}

export type RouteSpec =
  /** directly attached (a local workload): `<dst> dev <dev> scope link` */
  | { readonly dst: string; readonly kind: 'device'; readonly dev: string }
  | { readonly dst: string; readonly kind: 'blackhole' }
  /** one next hop, or several for ECMP */
  | { readonly dst: string; readonly kind: 'nexthops'; readonly nextHops: readonly NextHop[] };

interface KernelRoute {
  dst: string;
  type?: string;
  dev?: string;
  gateway?: string;
  protocol?: string;
  nexthops?: { gateway?: string; dev?: string; weight?: number }[];
}

export interface RouteTableOptions {
  netns?: string;
  protocol?: number;
  /** routing table number; main when absent */
  table?: number;
  /** runs `ip` (default: a process per call) */
  runner?: ToolRunner;
}

export interface RouteApplyResult {
  replaced: number;
  deleted: number;
  failed: string[];
}

function family(dst: string): 4 | 6 {
  return dst.includes(':') ? 6 : 4;
}

function canonicalDst(dst: string): string {
  if (dst === 'default') return '0.0.0.0/0';
  return dst.includes('/') ? dst : `${dst}/${family(dst) === 4 ? 32 : 128}`;
}

function specKey(s: RouteSpec): string {
  switch (s.kind) {
    case 'device':
      return `dev ${s.dev}`;
    case 'blackhole':
      return 'blackhole';
    case 'nexthops':
      return `via ${[...s.nextHops]
        .map((h) => `${h.via}${h.dev ? `@${h.dev}` : ''}*${h.weight ?? 1}`)
        .sort()
        .join(',')}`;
  }
}

/** Whether the kernel route is what the spec asks for (devices unspecified in the spec match any). */
function kernelMatches(s: RouteSpec, k: KernelRoute): boolean {
  switch (s.kind) {
    case 'device':
      return k.type !== 'blackhole' && !k.gateway && !k.nexthops && k.dev === s.dev;
    case 'blackhole':
      return k.type === 'blackhole';
    case 'nexthops': {
      const hops = k.nexthops ?? (k.gateway ? [{ gateway: k.gateway, dev: k.dev, weight: 1 }] : []);
      if (hops.length !== s.nextHops.length) return false;
      return s.nextHops.every((h) =>
        hops.some(
          (kh) =>
            kh.gateway === h.via &&
            (!h.dev || kh.dev === h.dev) &&
            (s.nextHops.length === 1 || (kh.weight ?? 1) === (h.weight ?? 1)),
        ),
      );
    }
  }
}

function command(verb: 'replace' | 'del', s: RouteSpec, proto: number, table?: number): string {
  const t = table !== undefined ? ` table ${table}` : '';
  if (verb === 'del')
    return `route del ${s.kind === 'blackhole' ? 'blackhole ' : ''}${s.dst} proto ${proto}${t}`;
  switch (s.kind) {
    case 'device':
      return `route replace ${s.dst} dev ${s.dev}${family(s.dst) === 4 ? ' scope link' : ''} proto ${proto}${t}`;
    case 'blackhole':
      return `route replace blackhole ${s.dst} proto ${proto}${t}`;
    case 'nexthops': {
      if (s.nextHops.length === 1) {
        const h = s.nextHops[0]!;
        return `route replace ${s.dst} via ${h.via}${h.dev ? ` dev ${h.dev}` : ''} proto ${proto}${t}`;
      }
      const hops = s.nextHops
        .map((h) => `nexthop via ${h.via}${h.dev ? ` dev ${h.dev}` : ''} weight ${h.weight ?? 1}`)
        .join(' ');
      return `route replace ${s.dst} proto ${proto}${t} ${hops}`;
    }
  }
}

/**
 * Desired routes are set with `set`/`delete` and made so by `apply()`, which sends only
 * what changed since the last apply. `resync()` lists our routes back from the kernel
 * (only our protocol) and repairs any difference, deleting strays when `allowDeletes`.
 */
export class RouteTable {
  private readonly desired = new Map<string, RouteSpec>();
  /** dst → key of what we last programmed successfully */
  private readonly programmed = new Map<string, string>();
  private readonly deleting = new Map<string, RouteSpec>();
  private readonly proto: number;
  private readonly runner: ToolRunner;

  constructor(private readonly opts: RouteTableOptions = {}) {
    this.proto = opts.protocol ?? CALICO_ROUTE_PROTOCOL;
    this.runner = opts.runner ?? new SpawnRunner(opts.netns);
  }

  set(spec: RouteSpec): void {
    const dst = canonicalDst(spec.dst);
    const s = { ...spec, dst } as RouteSpec;
    this.desired.set(dst, s);
    this.deleting.delete(dst);
  }

  /** The BGP-facing form: a destination reached via a list of next hops (ECMP when > 1). */
  setNextHops(dst: string, nextHops: readonly NextHop[]): void {
    if (nextHops.length === 0) this.delete(dst);
    else this.set({ dst, kind: 'nexthops', nextHops });
  }

  delete(dst: string): void {
    const d = canonicalDst(dst);
    const old = this.desired.get(d);
    this.desired.delete(d);
    if (this.programmed.has(d)) this.deleting.set(d, old ?? { dst: d, kind: 'blackhole' });
  }

  has(dst: string): boolean {
    return this.desired.has(canonicalDst(dst));
  }

  get size(): number {
    return this.desired.size;
  }

  routes(): RouteSpec[] {
    return [...this.desired.values()];
  }

  private async batch(lines: string[]): Promise<Set<number>> {
    if (lines.length === 0) return new Set();
    const r = await this.runner.ipBatch(lines);
    const failed = new Set<number>();
    for (const m of r.stderr.matchAll(/Command failed -:(\d+)/g)) failed.add(Number(m[1]) - 1);
    if (r.code !== 0 && failed.size === 0)
      throw new Error(`ip -batch failed in ${this.opts.netns ?? 'host'}: ${r.stderr.trim()}`);
    return failed;
  }

  /** Sends the changes since the last apply. Failed lines (e.g. interface not there yet) are retried next time. */
  async apply(): Promise<RouteApplyResult> {
    const lines: string[] = [];
    const ops: { dst: string; key?: string }[] = [];
    for (const [dst, s] of this.deleting) {
      lines.push(command('del', s, this.proto, this.opts.table));
      ops.push({ dst });
    }
    for (const [dst, s] of this.desired) {
      const key = specKey(s);
      if (this.programmed.get(dst) === key) continue;
      lines.push(command('replace', s, this.proto, this.opts.table));
      ops.push({ dst, key });
    }
    const failedIdx = await this.batch(lines);
    const failed: string[] = [];
    let replaced = 0;
    let deleted = 0;
    ops.forEach((op, i) => {
      if (failedIdx.has(i) && op.key !== undefined) {
        failed.push(op.dst);
        this.programmed.delete(op.dst);
        return;
      }
      if (op.key === undefined) {
        // a failed delete means it was already gone
        this.programmed.delete(op.dst);
        this.deleting.delete(op.dst);
        deleted++;
      } else {
        this.programmed.set(op.dst, op.key);
        replaced++;
      }
    });
    return { replaced, deleted, failed };
  }

  async listKernel(): Promise<Map<string, KernelRoute>> {
    const out = new Map<string, KernelRoute>();
    for (const fam of ['-4', '-6']) {
      const argv = ['ip', '-j', fam, 'route', 'show', 'proto', String(this.proto)];
      if (this.opts.table !== undefined) argv.push('table', String(this.opts.table));
      const r = await this.runner.exec(argv);
      const list = JSON.parse(r.stdout || '[]') as KernelRoute[];
      for (const k of list) {
        const dst = fam === '-6' && k.dst === 'default' ? '::/0' : canonicalDst(k.dst);
        out.set(dst, k);
      }
    }
    return out;
  }

  /**
   * Reads our routes back and repairs differences. Strays (ours by protocol, not
   * desired) are deleted only with `allowDeletes` — never before the datastore is in sync.
   */
  async resync(allowDeletes: boolean): Promise<RouteApplyResult> {
    const kernel = await this.listKernel();
    this.programmed.clear();
    for (const [dst, k] of kernel) {
      const want = this.desired.get(dst);
      if (want && kernelMatches(want, k)) this.programmed.set(dst, specKey(want));
      else if (!want && allowDeletes)
        this.deleting.set(
          dst,
          k.type === 'blackhole'
            ? { dst, kind: 'blackhole' }
            : { dst, kind: 'device', dev: k.dev ?? '' },
        );
    }
    for (const d of [...this.deleting.keys()]) if (!kernel.has(d)) this.deleting.delete(d);
    return this.apply();
  }
}
