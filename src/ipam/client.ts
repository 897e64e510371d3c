import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Backend,
  type Compare,
  DatastoreError,
  type KeyValue,
  type TxnOp,
} from '../datastore/index.js';
import {
  blockContaining,
  blockCount,
  type Cidr,
  cidrContains,
  cidrContainsIp,
  cidrSize,
  formatCidr,
  formatIp,
  type IpAddress,
  type IpFamily,
  mergeToRanges,
  nthBlock,
  tryParseCidr,
  tryParseIp,
} from '../net/index.js';
import { checkTransition, decodeAffinity, encodeAffinity } from './affinity.js';
import {
  type AllocationAttribute,
  affinityHost,
  Block,
  bigMax,
  bigMin,
  hostAffinity,
  type ReleaseOutcome,
  reservedOrdinals,
} from './block.js';
import { type CheckInput, type CheckReport, checkConsistency } from './check.js';
import { IpamError } from './errors.js';
import { adjustHandle, decodeHandle, type HandleData, newHandle } from './handle.js';
import {
  affinityKey,
  blockKey,
  blockPrefix,
  CONFIG_KEY,
  checkHandleId,
  checkNodeName,
  handleKey,
  hostAffinityPrefix,
  IPAM_PREFIX,
  NODE_PREFIX,
  nodeKey,
  POOL_PREFIX,
  parseAffinityKey,
  parseBlockKey,
  RESERVATION_PREFIX,
} from './keys.js';
import {
  DEFAULT_CONFIG,
  decodeConfig,
  decodePool,
  decodeReservation,
  describePool,
  encodeConfig,
  type IpamConfig,
  type PoolInfo,
  type PoolUse,
  poolContaining,
  selectPools,
  validateConfig,
} from './pools.js';
import { buildSnapshot, type IpamSnapshot } from './snapshot.js';

export interface IpamClientOptions {
  backend: Backend;
  /** compare-and-swap attempts per key before TOO_MANY_RETRIES (Calico: 100) */
  maxRetries?: number;
  /** upper bound of the jittered backoff between attempts, in ms */
  maxBackoffMs?: number;
  /**
   * How long pools, reservations and IPAMConfiguration read by one call may be reused
   * by later calls of this client, in ms. 0 (the default) reads them on every call, as
   * a short-lived CNI invocation must; a long-running allocator may trade that much
   * staleness (a pool disabled a moment ago) for three fewer reads per assignment.
   * Safety never depends on it: blocks, affinities and handles are always read fresh.
   */
  resourceCacheMs?: number;
}

export interface AutoAssignRequest {
  node: string;
  handleId: string;
  /** secondary attributes stored with the allocation; `node` is added if absent */
  attributes?: Record<string, string>;
  num4?: number;
  num6?: number;
  /** names or CIDRs of the pools to use, in preference order (default: any that fits) */
  pools?: string[];
  /** default Workload */
  use?: PoolUse;
  /** labels of the workload's namespace, for pools with a namespaceSelector */
  namespaceLabels?: Record<string, string>;
}

export interface AssignedAddress {
  ip: string;
  /** the address with its block's mask ("10.0.0.5/26"), as Calico's AutoAssign returns it */
  cidr: string;
  block: string;
  pool: string;
  /** the block sequence number of this allocation; pass it to releaseIps for ABA safety */
  sequenceNumber: number;
}

export interface AutoAssignResult {
  ipv4: AssignedAddress[];
  ipv6: AssignedAddress[];
}

export interface AssignIpRequest {
  ip: string;
  node: string;
  handleId: string;
  attributes?: Record<string, string>;
}

/** An address to release; handle and sequence number, when given, must still match. */
export type ReleaseRequest = string | { ip: string; handleId?: string; sequenceNumber?: number };

export interface ReleaseResult {
  released: string[];
  /** addresses that were already free (release is idempotent) */
  notAllocated: string[];
  /** addresses re-allocated to someone else since the caller saw them; left alone */
  stale: string[];
}

export interface IpInfo {
  ip: string;
  pool: string | null;
  poolCidr: string | null;
  block: string | null;
  /** "host:<node>", or null for an unaffine or missing block */
  blockAffinity: string | null;
  allocated: boolean;
  reserved: boolean;
  handleId: string | null;
  attributes: Record<string, string>;
  sequenceNumber: number | null;
  /** allocated to a node other than the block's owner */
  borrowed: boolean;
}

export interface BlockUtilisation {
  cidr: string;
  affinity: string | null;
  size: number;
  reserved: number;
  inUse: number;
  free: number;
}

export interface PoolUtilisation {
  name: string;
  cidr: string;
  family: IpFamily;
  blockSize: number;
  disabled: boolean;
  /** addresses in the pool; approximate (float) for very large IPv6 pools */
  size: number;
  reserved: number;
  inUse: number;
  /** size - reserved - inUse */
  free: number;
  blocks: BlockUtilisation[];
}

export interface BorrowedAddress {
  ip: string;
  /** the node that holds the address */
  node: string;
  block: string;
  /** the block's owner (from its affinity), or null if unaffine */
  blockOwner: string | null;
  handleId: string | null;
  type: string | null;
}

export interface ReleaseAffinitiesResult {
  /** blocks whose affinity was removed (and that were deleted when empty) */
  released: string[];
  /** blocks kept because they still hold addresses (onlyEmpty) */
  kept: string[];
}

const RETRY = Symbol('retry');
type Attempt<T> = T | typeof RETRY;

const MAX_ROUNDS = 100;

/** FNV-1a: a stable, well-spread 32-bit hash of a hostname for block ordering. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** mulberry32: a small seeded PRNG, so a host visits blocks to borrow from in a stable order. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function checkCount(n: unknown, what: string): number {
  if (n === undefined) return 0;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 4096) {
    throw new IpamError(
      'INVALID_ARGUMENT',
      `${what} must be an integer from 0 to 4096, got ${String(n)}`,
      {
        [what]: n,
      },
    );
  }
  return n;
}

function parseAddress(text: unknown): IpAddress {
  const ip = typeof text === 'string' ? tryParseIp(text) : undefined;
  if (ip === undefined) {
    throw new IpamError('INVALID_ARGUMENT', `Invalid IP address ${JSON.stringify(text)}`, {
      ip: text,
    });
  }
  return ip;
}

function checkAttributes(attrs: unknown): Record<string, string> {
  if (attrs === undefined) return {};
  if (
    typeof attrs !== 'object' ||
    attrs === null ||
    Array.isArray(attrs) ||
    !Object.values(attrs).every((v) => typeof v === 'string')
  ) {
    throw new IpamError('INVALID_ARGUMENT', 'attributes must be a map of strings', {});
  }
  return { ...(attrs as Record<string, string>) };
}

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? '' : 'es'}`;
}

interface Context {
  config: IpamConfig;
  pools: PoolInfo[];
  reserved: Cidr[];
}

/**
 * Calico's block-based IPAM over a datastore backend. Every write is a compare-and-swap
 * on the keys it depends on, so any number of clients in any number of processes may
 * share one store; no address is ever held twice.
 */
export class IpamClient {
  readonly backend: Backend;
  private readonly maxRetries: number;
  private readonly maxBackoffMs: number;
  private readonly resourceCacheMs: number;
  private cached: { at: number; ctx: Promise<Context> } | undefined;
  /** "<node>/<family>" → the affine block that last had a free address */
  private readonly lastBlock = new Map<string, string>();

  constructor(options: IpamClientOptions) {
    this.backend = options.backend;
    this.maxRetries = options.maxRetries ?? 100;
    this.maxBackoffMs = options.maxBackoffMs ?? 50;
    this.resourceCacheMs = options.resourceCacheMs ?? 0;
  }

  // ---- retries ----------------------------------------------------------------------

  /**
   * Runs one optimistic attempt until it stops asking for a retry. The backoff is
   * jittered so writers that collided once do not collide again in lockstep.
   */
  private async retry<T>(
    what: string,
    key: string,
    attempt: () => Promise<Attempt<T>>,
  ): Promise<T> {
    for (let i = 0; i < this.maxRetries; i++) {
      let result: Attempt<T>;
      try {
        result = await attempt();
      } catch (err) {
        // A create that lost a race or a CAS on a key someone just changed is the same
        // situation as a failed txn compare: read again and decide again.
        if (
          err instanceof DatastoreError &&
          (err.code === 'CONFLICT' || err.code === 'KEY_EXISTS' || err.code === 'NOT_FOUND')
        ) {
          result = RETRY;
        } else throw err;
      }
      if (result !== RETRY) return result;
      const cap = Math.min(this.maxBackoffMs, 2 ** Math.min(i, 10));
      await sleep(Math.random() * cap);
    }
    throw new IpamError(
      'TOO_MANY_RETRIES',
      `Gave up on ${what}: ${key} kept changing under us for ${this.maxRetries} attempts`,
      { key, attempts: this.maxRetries },
    );
  }

  // ---- resources --------------------------------------------------------------------

  async getConfig(): Promise<IpamConfig> {
    const kv = await this.backend.get(CONFIG_KEY);
    return kv === undefined ? { ...DEFAULT_CONFIG } : decodeConfig(kv.value);
  }

  /** Changes IPAMConfiguration (calicoctl ipam configure); returns the new settings. */
  async configure(patch: Partial<IpamConfig>): Promise<IpamConfig> {
    for (const k of Object.keys(patch)) {
      if (!(k in DEFAULT_CONFIG)) {
        throw new IpamError(
          'INVALID_ARGUMENT',
          `Unknown IPAM configuration field ${JSON.stringify(k)}`,
          {
            field: k,
          },
        );
      }
    }
    return this.retry('configuring IPAM', CONFIG_KEY, async () => {
      const kv = await this.backend.get(CONFIG_KEY);
      const current = kv === undefined ? { ...DEFAULT_CONFIG } : decodeConfig(kv.value);
      const next: IpamConfig = { ...current };
      if (patch.strictAffinity !== undefined) next.strictAffinity = patch.strictAffinity;
      if (patch.autoAllocateBlocks !== undefined)
        next.autoAllocateBlocks = patch.autoAllocateBlocks;
      if (patch.maxBlocksPerHost !== undefined) next.maxBlocksPerHost = patch.maxBlocksPerHost;
      validateConfig(next);
      this.cached = undefined;
      if (kv === undefined) await this.backend.create(CONFIG_KEY, encodeConfig(next));
      else await this.backend.update(CONFIG_KEY, encodeConfig(next), kv.modRevision);
      return next;
    });
  }

  /** Every stored IPPool (undecodable ones are skipped: one bad pool must not stop IPAM). */
  async listPools(): Promise<PoolInfo[]> {
    const { items } = await this.backend.list(POOL_PREFIX);
    const pools: PoolInfo[] = [];
    for (const kv of items) {
      try {
        pools.push(decodePool(kv.value, kv.key));
      } catch {
        // validated on write; a corrupt one shows up in calicoctl get, not here
      }
    }
    return pools;
  }

  async listReservations(): Promise<Cidr[]> {
    const { items } = await this.backend.list(RESERVATION_PREFIX);
    return items.flatMap((kv) => decodeReservation(kv.value, kv.key));
  }

  private async nodeLabels(node: string): Promise<Record<string, string>> {
    const kv = await this.backend.get(nodeKey(node));
    if (kv === undefined) return {};
    try {
      const labels = (JSON.parse(kv.value) as { metadata?: { labels?: unknown } }).metadata?.labels;
      return typeof labels === 'object' && labels !== null
        ? (labels as Record<string, string>)
        : {};
    } catch {
      return {};
    }
  }

  private async context(): Promise<Context> {
    const now = Date.now();
    if (this.cached !== undefined && now - this.cached.at < this.resourceCacheMs) {
      return this.cached.ctx;
    }
    const ctx = Promise.all([this.getConfig(), this.listPools(), this.listReservations()]).then(
      ([config, pools, reserved]) => ({ config, pools, reserved }),
    );
    if (this.resourceCacheMs > 0) {
      this.cached = { at: now, ctx };
      // A failed read must not be served from the cache.
      ctx.catch(() => {
        if (this.cached?.ctx === ctx) this.cached = undefined;
      });
    }
    return ctx;
  }

  private reservedPredicate(ctx: Context, cidr: Cidr): ((o: number) => boolean) | undefined {
    if (ctx.reserved.length === 0) return undefined;
    const set = reservedOrdinals(cidr, ctx.reserved);
    return set.size === 0 ? undefined : (o) => set.has(o);
  }

  // ---- allocation within one block ----------------------------------------------------

  /**
   * Allocates up to n addresses from one block and records them in the handle, both in
   * one transaction so a crash can never leave one without the other.
   */
  private async allocateInBlock(
    ctx: Context,
    cidr: Cidr,
    n: number,
    handleId: string,
    secondary: Record<string, string>,
    requireAffinity: string | undefined,
  ): Promise<AssignedAddress[]> {
    const bkey = blockKey(cidr);
    const hkey = handleKey(handleId);
    const pool = poolContaining(ctx.pools, cidr);
    const isReserved = this.reservedPredicate(ctx, cidr);
    return this.retry('allocating', bkey, async () => {
      const [bkv, hkv] = await Promise.all([this.backend.get(bkey), this.backend.get(hkey)]);
      if (bkv === undefined) return [];
      const block = Block.decode(bkv.value, bkey);
      if (block.data.deleted) return [];
      if (requireAffinity !== undefined && block.affinity !== requireAffinity) return [];
      const got = block.allocate(n, handleId, secondary, isReserved);
      if (got.length === 0) return [];
      const handle = adjustHandle(
        hkv === undefined ? newHandle(handleId) : decodeHandle(hkv.value, hkey),
        block.data.cidr,
        got.length,
      );
      const res = await this.backend.txn({
        compare: [
          { key: bkey, modRevision: bkv.modRevision },
          { key: hkey, modRevision: hkv?.modRevision ?? '0' },
        ],
        success: [
          { type: 'put', key: bkey, value: block.encode() },
          { type: 'put', key: hkey, value: JSON.stringify(handle) },
        ],
      });
      if (!res.succeeded) return RETRY;
      return got.map((g) => ({
        ip: formatIp(g.ip),
        cidr: block.maskedAt(g.ordinal),
        block: block.data.cidr,
        pool: pool?.name ?? '',
        sequenceNumber: g.sequenceNumber,
      }));
    });
  }

  // ---- affinities and the block claim --------------------------------------------------

  private async hostAffinities(node: string, family: IpFamily) {
    const { items } = await this.backend.list(hostAffinityPrefix(node, family));
    const out: { kv: KeyValue; cidr: Cidr; state: string }[] = [];
    for (const kv of items) {
      const parsed = parseAffinityKey(kv.key);
      if (parsed === undefined) continue;
      out.push({ kv, cidr: parsed.cidr, state: decodeAffinity(kv.value, kv.key).state });
    }
    return out;
  }

  /**
   * The two-phase claim: write the affinity pending, then create the block with that
   * affinity and confirm the affinity in one transaction that only succeeds while the
   * block is absent and the pending claim untouched. If the block exists, the pending
   * affinity is removed. Another process of the same host may hold the same pending
   * key; resuming it is safe because only one transaction can create the block.
   */
  private async tryClaim(
    ctx: Context,
    node: string,
    cidr: Cidr,
  ): Promise<'claimed' | 'taken' | 'max'> {
    const akey = affinityKey(node, cidr);
    const bkey = blockKey(cidr);
    const mine = hostAffinity(node);
    return this.retry('claiming a block', akey, async () => {
      let aff = await this.backend.get(akey);
      if (aff === undefined) {
        checkTransition(undefined, 'pending', akey);
        aff = await this.backend.create(akey, encodeAffinity('pending'));
      } else {
        const state = decodeAffinity(aff.value, akey).state;
        if (state === 'confirmed') {
          const bkv = await this.backend.get(bkey);
          if (bkv !== undefined && Block.decode(bkv.value, bkey).affinity === mine)
            return 'claimed';
          return 'taken';
        }
        if (state === 'pendingDeletion') return 'taken';
      }
      const max = ctx.config.maxBlocksPerHost;
      if (max > 0) {
        // Ranking claims by creation revision gives every racer the same answer: only
        // the oldest max claims of a host may proceed, so the limit holds under races.
        const affs = await this.hostAffinities(node, cidr.family);
        const ranked = affs
          .filter((a) => a.state !== 'pendingDeletion')
          .sort((a, b) => {
            const x = BigInt(a.kv.createRevision);
            const y = BigInt(b.kv.createRevision);
            return x < y ? -1 : x > y ? 1 : a.kv.key < b.kv.key ? -1 : 1;
          });
        const rank = ranked.findIndex((a) => a.kv.key === akey);
        if (rank < 0) return RETRY;
        if (rank >= max) {
          await this.deletePending(akey, aff.modRevision);
          return 'max';
        }
      }
      checkTransition('pending', 'confirmed', akey);
      const block = Block.create(cidr, mine, ctx.config.strictAffinity);
      const res = await this.backend.txn({
        compare: [
          { key: bkey, modRevision: '0' },
          { key: akey, modRevision: aff.modRevision },
        ],
        success: [
          { type: 'put', key: bkey, value: block.encode() },
          { type: 'put', key: akey, value: encodeAffinity('confirmed') },
        ],
      });
      if (res.succeeded) return 'claimed';
      const bkv = await this.backend.get(bkey);
      if (bkv === undefined) return RETRY;
      if (Block.decode(bkv.value, bkey).affinity === mine) {
        // A sibling process of this host created it; our shared affinity is confirmed.
        return 'claimed';
      }
      checkTransition('pending', undefined, akey);
      await this.deletePending(akey, aff.modRevision);
      return 'taken';
    });
  }

  private async deletePending(akey: string, modRevision: string): Promise<void> {
    try {
      await this.backend.delete(akey, modRevision);
    } catch (err) {
      // Someone else resolved this claim already (sibling process or a release).
      if (!(err instanceof DatastoreError && (err.code === 'NOT_FOUND' || err.code === 'CONFLICT')))
        throw err;
    }
  }

  /**
   * Finds and claims an unclaimed block in the pools. Pending claims of this host come
   * first (finishing a crashed claim heals it); then each pool is walked from an offset
   * derived from the hostname so hosts rarely race for the same block.
   */
  private async claimBlock(
    ctx: Context,
    node: string,
    pools: PoolInfo[],
    pendings: Cidr[],
  ): Promise<Cidr | 'max' | undefined> {
    for (const cidr of pendings) {
      const r = await this.tryClaim(ctx, node, cidr);
      if (r === 'claimed') return cidr;
      if (r === 'max') return 'max';
    }
    const family = pools[0]!.cidr.family;
    const { items } = await this.backend.list(blockPrefix(family));
    const existing = new Set(items.map((kv) => kv.key));
    for (const pool of pools) {
      const count = blockCount(pool.cidr, pool.blockSize);
      const start = BigInt(hash32(node)) % count;
      // Past existing + reserved-out blocks + 1 candidates a free one must have shown
      // up; the cap keeps a huge, mostly reserved IPv6 pool from spinning.
      const limit = BigInt(existing.size) + 65_536n;
      for (let i = 0n; i < count && i < limit; i++) {
        const cidr = nthBlock(pool.cidr, pool.blockSize, (start + i) % count);
        const key = blockKey(cidr);
        if (existing.has(key)) continue;
        if (reservedOrdinals(cidr, ctx.reserved).size === Number(cidrSize(cidr))) continue;
        const r = await this.tryClaim(ctx, node, cidr);
        if (r === 'claimed') return cidr;
        if (r === 'max') return 'max';
        existing.add(key);
      }
    }
    return undefined;
  }

  // ---- auto-assign -----------------------------------------------------------------------

  /**
   * Assigns num4 IPv4 and num6 IPv6 addresses to a handle on a node: from the node's
   * own blocks, then a newly claimed block, then (unless strictAffinity) borrowed from
   * other hosts' blocks. All or nothing: on failure whatever this call took is released.
   */
  async autoAssign(req: AutoAssignRequest): Promise<AutoAssignResult> {
    const node = checkNodeName(req.node);
    const handleId = checkHandleId(req.handleId);
    const num4 = checkCount(req.num4, 'num4');
    const num6 = checkCount(req.num6, 'num6');
    const secondary = checkAttributes(req.attributes);
    if (secondary.node === undefined) secondary.node = node;
    const result: AutoAssignResult = { ipv4: [], ipv6: [] };
    if (num4 === 0 && num6 === 0) return result;
    const ctx = await this.context();
    const needLabels = ctx.pools.some((p) => p.nodeSelector.trim() !== 'all()');
    const nodeLabels = needLabels ? await this.nodeLabels(node) : {};
    try {
      for (const [family, n] of [
        [4, num4],
        [6, num6],
      ] as const) {
        if (n === 0) continue;
        const { pools, rejected } = selectPools(ctx.pools, {
          family,
          use: req.use ?? 'Workload',
          nodeLabels,
          ...(req.namespaceLabels === undefined ? {} : { namespaceLabels: req.namespaceLabels }),
          ...(req.pools === undefined ? {} : { requested: req.pools }),
        });
        if (pools.length === 0) {
          const why = rejected.map((r) => `${r.pool}: ${r.reason}`).join('; ');
          throw new IpamError(
            'NO_MATCHING_POOL',
            `No IPv${family} pool can assign addresses to node ${node}${why === '' ? ' (no IPv' + family + ' pools exist)' : ` (${why})`}`,
            { node, family, rejected },
          );
        }
        const out = family === 4 ? result.ipv4 : result.ipv6;
        await this.assignFamily(ctx, node, handleId, secondary, family, n, pools, out);
      }
    } catch (err) {
      const taken = [...result.ipv4, ...result.ipv6];
      if (taken.length > 0) {
        await this.releaseIps(
          taken.map((a) => ({ ip: a.ip, handleId, sequenceNumber: a.sequenceNumber })),
        );
      }
      throw err;
    }
    return result;
  }

  private async assignFamily(
    ctx: Context,
    node: string,
    handleId: string,
    secondary: Record<string, string>,
    family: IpFamily,
    n: number,
    pools: PoolInfo[],
    out: AssignedAddress[],
  ): Promise<void> {
    const mine = hostAffinity(node);
    const inPools = (cidr: Cidr) => pools.some((p) => cidrContains(p.cidr, cidr));
    let stop: 'max' | 'none' | 'no-auto' = 'none';
    let owned: string[] = [];
    for (let round = 0; round < MAX_ROUNDS && out.length < n; round++) {
      const affs = await this.hostAffinities(node, family);
      const confirmed = affs.filter((a) => a.state === 'confirmed').map((a) => a.cidr);
      owned = confirmed.map(formatCidr);
      // The block that last had room goes first: a host with many full blocks would
      // otherwise read every one of them on every assignment.
      const hint = this.lastBlock.get(`${node}/${family}`);
      const ordered = confirmed
        .filter(inPools)
        .sort((a, b) => Number(formatCidr(b) === hint) - Number(formatCidr(a) === hint));
      for (const cidr of ordered) {
        const got = await this.allocateInBlock(
          ctx,
          cidr,
          n - out.length,
          handleId,
          secondary,
          mine,
        );
        out.push(...got);
        if (got.length > 0) this.lastBlock.set(`${node}/${family}`, formatCidr(cidr));
        if (out.length >= n) return;
      }
      if (!ctx.config.autoAllocateBlocks) {
        stop = 'no-auto';
        break;
      }
      if (ctx.config.maxBlocksPerHost > 0 && confirmed.length >= ctx.config.maxBlocksPerHost) {
        stop = 'max';
        break;
      }
      const pendings = affs
        .filter((a) => a.state === 'pending')
        .map((a) => a.cidr)
        .filter(inPools);
      const claimed = await this.claimBlock(ctx, node, pools, pendings);
      if (claimed === undefined || claimed === 'max') {
        stop = claimed === 'max' ? 'max' : 'none';
        break;
      }
      out.push(
        ...(await this.allocateInBlock(ctx, claimed, n - out.length, handleId, secondary, mine)),
      );
    }
    if (out.length >= n) return;
    if (!ctx.config.strictAffinity) {
      await this.borrow(ctx, node, handleId, secondary, family, n, pools, out);
      if (out.length >= n) return;
    }
    const names = pools.map(describePool).join(', ');
    const need = `${plural(n, 'IPv' + family + ' address')} (got ${out.length})`;
    const details = {
      node,
      family,
      pools: pools.map((p) => p.name),
      requested: n,
      assigned: out.length,
    };
    if (ctx.config.strictAffinity && stop === 'max') {
      throw new IpamError(
        'MAX_BLOCKS_PER_HOST',
        `Cannot assign ${need} to node ${node} from IP pool ${names}: the node already owns maxBlocksPerHost=${ctx.config.maxBlocksPerHost} blocks (${owned.join(', ')}), they are full, and strictAffinity forbids borrowing`,
        details,
      );
    }
    if (ctx.config.strictAffinity) {
      throw new IpamError(
        'STRICT_AFFINITY_NO_BLOCK',
        `Cannot assign ${need} to node ${node} from IP pool ${names}: the node's blocks are full, no unclaimed block is left${stop === 'no-auto' ? ' (autoAllocateBlocks is off)' : ''}, and strictAffinity forbids borrowing from other nodes' blocks`,
        details,
      );
    }
    throw new IpamError(
      'POOL_EXHAUSTED',
      `Cannot assign ${need} to node ${node}: IP pool ${names} has no free address left`,
      details,
    );
  }

  /** Takes free addresses from other hosts' blocks, in a per-host shuffled order. */
  private async borrow(
    ctx: Context,
    node: string,
    handleId: string,
    secondary: Record<string, string>,
    family: IpFamily,
    n: number,
    pools: PoolInfo[],
    out: AssignedAddress[],
  ): Promise<void> {
    const { items } = await this.backend.list(blockPrefix(family));
    const candidates: Cidr[] = [];
    for (const kv of items) {
      const cidr = parseBlockKey(kv.key);
      if (cidr === undefined || !pools.some((p) => cidrContains(p.cidr, cidr))) continue;
      const block = Block.decode(kv.value, kv.key);
      if (block.freeCount(this.reservedPredicate(ctx, cidr)) > 0) candidates.push(cidr);
    }
    const rand = seeded(hash32(node));
    for (let i = candidates.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
    }
    for (const cidr of candidates) {
      out.push(
        ...(await this.allocateInBlock(ctx, cidr, n - out.length, handleId, secondary, undefined)),
      );
      if (out.length >= n) return;
    }
  }

  // ---- assign a specific address -----------------------------------------------------------

  /**
   * Assigns one given address. The block is claimed for the node if nobody has it yet;
   * an address in another host's block is still assigned (the caller asked for it).
   */
  async assignIp(req: AssignIpRequest): Promise<AssignedAddress> {
    const node = checkNodeName(req.node);
    const handleId = checkHandleId(req.handleId);
    const ip = parseAddress(req.ip);
    const secondary = checkAttributes(req.attributes);
    if (secondary.node === undefined) secondary.node = node;
    const ctx = await this.context();
    const text = formatIp(ip);
    const pool = poolContaining(ctx.pools, {
      family: ip.family,
      address: ip.value,
      prefixLength: ip.family === 4 ? 32 : 128,
    });
    if (pool === undefined) {
      throw new IpamError(
        'ADDRESS_NOT_IN_POOL',
        `Cannot assign ${text}: it is not in any configured IP pool`,
        {
          ip: text,
        },
      );
    }
    if (ctx.reserved.some((r) => cidrContainsIp(r, ip))) {
      throw new IpamError('ADDRESS_RESERVED', `Cannot assign ${text}: an IPReservation covers it`, {
        ip: text,
      });
    }
    const cidr = blockContaining(ip, pool.blockSize);
    const bkey = blockKey(cidr);
    const hkey = handleKey(handleId);
    return this.retry('assigning an address', bkey, async () => {
      const [bkv, hkv] = await Promise.all([this.backend.get(bkey), this.backend.get(hkey)]);
      if (bkv === undefined) {
        const claim = await this.tryClaim(ctx, node, cidr);
        if (claim === 'max' && !(await this.backend.get(bkey))) {
          // Over the host's block limit: create the block without affinity instead, as
          // an explicit address must not be refused for the host's sake.
          await this.backend.create(
            bkey,
            Block.create(cidr, undefined, ctx.config.strictAffinity).encode(),
          );
        }
        return RETRY;
      }
      const block = Block.decode(bkv.value, bkey);
      const got = block.assign(block.ordinalOf(ip), handleId, secondary);
      const handle = adjustHandle(
        hkv === undefined ? newHandle(handleId) : decodeHandle(hkv.value, hkey),
        block.data.cidr,
        1,
      );
      const res = await this.backend.txn({
        compare: [
          { key: bkey, modRevision: bkv.modRevision },
          { key: hkey, modRevision: hkv?.modRevision ?? '0' },
        ],
        success: [
          { type: 'put', key: bkey, value: block.encode() },
          { type: 'put', key: hkey, value: JSON.stringify(handle) },
        ],
      });
      if (!res.succeeded) return RETRY;
      return {
        ip: text,
        cidr: block.maskedAt(got.ordinal),
        block: block.data.cidr,
        pool: pool.name,
        sequenceNumber: got.sequenceNumber,
      };
    });
  }

  // ---- release ------------------------------------------------------------------------------

  /** Finds the block CIDR holding an address: via its pool, else by listing blocks. */
  private async blockOf(ip: IpAddress, pools: PoolInfo[]): Promise<Cidr | undefined> {
    const pool = poolContaining(pools, {
      family: ip.family,
      address: ip.value,
      prefixLength: ip.family === 4 ? 32 : 128,
    });
    if (pool !== undefined) {
      const cidr = blockContaining(ip, pool.blockSize);
      if ((await this.backend.get(blockKey(cidr))) !== undefined) return cidr;
    }
    // The pool was deleted or resized; blocks outlive pools, so look at the blocks.
    const { items } = await this.backend.list(blockPrefix(ip.family));
    for (const kv of items) {
      const cidr = parseBlockKey(kv.key);
      if (cidr !== undefined && cidrContainsIp(cidr, ip)) return cidr;
    }
    return undefined;
  }

  /**
   * Releases addresses; idempotent (already-free ones are reported, not errors). With a
   * handle or sequence number an address is only freed if it is still that allocation.
   */
  async releaseIps(requests: readonly ReleaseRequest[]): Promise<ReleaseResult> {
    const parsed = requests.map((r) => {
      const o = typeof r === 'string' ? { ip: r } : r;
      if (o.handleId !== undefined) checkHandleId(o.handleId);
      return { ...o, addr: parseAddress(o.ip) };
    });
    const result: ReleaseResult = { released: [], notAllocated: [], stale: [] };
    if (parsed.length === 0) return result;
    const { pools } = await this.context();
    const groups = new Map<string, { cidr: Cidr; items: typeof parsed }>();
    for (const p of parsed) {
      const cidr = await this.blockOf(p.addr, pools);
      if (cidr === undefined) {
        result.notAllocated.push(formatIp(p.addr));
        continue;
      }
      const key = blockKey(cidr);
      const g = groups.get(key) ?? { cidr, items: [] };
      groups.set(key, g);
      g.items.push(p);
    }
    for (const [bkey, g] of groups) {
      const outcomes = await this.releaseInBlock(bkey, (block) =>
        block.release(
          g.items.map((p) => ({
            ordinal: block.ordinalOf(p.addr),
            ...(p.handleId === undefined ? {} : { handleId: p.handleId }),
            ...(p.sequenceNumber === undefined ? {} : { sequenceNumber: p.sequenceNumber }),
          })),
        ),
      );
      g.items.forEach((p, i) => {
        const o: ReleaseOutcome = outcomes?.[i] ?? 'not-allocated';
        const text = formatIp(p.addr);
        if (o === 'released') result.released.push(text);
        else if (o === 'stale') result.stale.push(text);
        else result.notAllocated.push(text);
      });
    }
    return result;
  }

  /**
   * One CAS transaction over a block and the handles whose addresses it frees. An empty
   * block that no host owns is deleted in the same transaction.
   */
  private async releaseInBlock<T>(
    bkey: string,
    mutate: (block: Block) => T,
    extraHandle?: string,
  ): Promise<T | undefined> {
    return this.retry('releasing', bkey, async () => {
      const bkv = await this.backend.get(bkey);
      if (bkv === undefined) return undefined;
      const block = Block.decode(bkv.value, bkey);
      const before = new Map<number, string>();
      for (const o of block.allocatedOrdinals()) before.set(o, block.handleOf(o) ?? '');
      const outcome = mutate(block);
      const freed = new Map<string, number>();
      for (const [o, h] of before) {
        if (!block.isAllocated(o) && h !== '') freed.set(h, (freed.get(h) ?? 0) + 1);
      }
      if (freed.size === 0 && extraHandle === undefined) return outcome;
      const handleIds = [
        ...new Set([...freed.keys(), ...(extraHandle === undefined ? [] : [extraHandle])]),
      ];
      const hkvs = await Promise.all(handleIds.map((h) => this.backend.get(handleKey(h))));
      const compare: Compare[] = [{ key: bkey, modRevision: bkv.modRevision }];
      const ops: TxnOp[] = [];
      if (freed.size > 0) {
        if (block.isEmpty() && block.affinity === undefined)
          ops.push({ type: 'delete', key: bkey });
        else ops.push({ type: 'put', key: bkey, value: block.encode() });
      }
      handleIds.forEach((h, i) => {
        const hkv = hkvs[i];
        const hkey = handleKey(h);
        compare.push({ key: hkey, modRevision: hkv?.modRevision ?? '0' });
        if (hkv === undefined) return;
        let handle: HandleData = decodeHandle(hkv.value, hkey);
        const remaining = block.countsByHandle().get(h) ?? 0;
        // Set the block's count to what it now holds rather than subtracting, so a
        // record that had drifted heals itself on the next release.
        handle = adjustHandle(
          handle,
          block.data.cidr,
          remaining - (handle.block[block.data.cidr] ?? 0),
        );
        if (Object.keys(handle.block).length === 0) ops.push({ type: 'delete', key: hkey });
        else ops.push({ type: 'put', key: hkey, value: JSON.stringify(handle) });
      });
      if (ops.length === 0) return outcome;
      const res = await this.backend.txn({ compare, success: ops });
      return res.succeeded ? outcome : RETRY;
    });
  }

  /** Releases every address of a handle and deletes the handle; idempotent. */
  async releaseByHandle(handleIdIn: string): Promise<ReleaseResult> {
    const handleId = checkHandleId(handleIdIn);
    const hkey = handleKey(handleId);
    const result: ReleaseResult = { released: [], notAllocated: [], stale: [] };
    const hkv = await this.backend.get(hkey);
    if (hkv === undefined) return result;
    const handle = decodeHandle(hkv.value, hkey);
    for (const cidrText of Object.keys(handle.block)) {
      const cidr = tryParseCidr(cidrText);
      if (cidr === undefined) continue;
      const bkey = blockKey(cidr);
      const freed = await this.releaseInBlock(
        bkey,
        (block) => block.releaseHandle(handleId).map((o) => formatIp(block.ipAt(o))),
        handleId,
      );
      if (freed === undefined) {
        // The block is gone; drop it from the handle so the record can be deleted.
        await this.retry('updating a handle', hkey, async () => {
          const cur = await this.backend.get(hkey);
          if (cur === undefined) return undefined;
          const h = decodeHandle(cur.value, hkey);
          if (h.block[cidrText] === undefined) return undefined;
          const next = adjustHandle(h, cidrText, -(h.block[cidrText] ?? 0));
          if (Object.keys(next.block).length === 0)
            await this.backend.delete(hkey, cur.modRevision);
          else await this.backend.update(hkey, JSON.stringify(next), cur.modRevision);
          return undefined;
        });
      } else result.released.push(...freed);
    }
    // A record with no blocks at all (written by some other tool) would never be
    // deleted by the per-block transactions above.
    if (Object.keys(handle.block).length === 0) {
      try {
        await this.backend.delete(hkey, hkv.modRevision);
      } catch (err) {
        if (
          !(err instanceof DatastoreError && (err.code === 'NOT_FOUND' || err.code === 'CONFLICT'))
        ) {
          throw err;
        }
      }
    }
    return result;
  }

  /** Addresses currently held by a handle (Calico's IPsByHandle). */
  async addressesOf(handleIdIn: string): Promise<string[]> {
    const handleId = checkHandleId(handleIdIn);
    const hkv = await this.backend.get(handleKey(handleId));
    if (hkv === undefined) return [];
    const handle = decodeHandle(hkv.value, handleKey(handleId));
    const out: string[] = [];
    for (const cidrText of Object.keys(handle.block)) {
      const cidr = tryParseCidr(cidrText);
      if (cidr === undefined) continue;
      const bkv = await this.backend.get(blockKey(cidr));
      if (bkv === undefined) continue;
      const block = Block.decode(bkv.value, bkv.key);
      for (const o of block.allocatedOrdinals())
        if (block.handleOf(o) === handleId) out.push(formatIp(block.ipAt(o)));
    }
    return out;
  }

  /**
   * Gives up a node's blocks: each affinity goes confirmed → pendingDeletion, then the
   * block is deleted if empty; a block still in use either keeps its affinity
   * (onlyEmpty, the default) or loses it and stays as an unaffine block.
   */
  async releaseHostAffinities(
    nodeIn: string,
    options: { onlyEmpty?: boolean } = {},
  ): Promise<ReleaseAffinitiesResult> {
    const node = checkNodeName(nodeIn);
    const onlyEmpty = options.onlyEmpty ?? true;
    const result: ReleaseAffinitiesResult = { released: [], kept: [] };
    for (const family of [4, 6] as const) {
      for (const a of await this.hostAffinities(node, family)) {
        const outcome = await this.releaseAffinity(node, a.cidr, onlyEmpty);
        if (outcome === 'released') result.released.push(formatCidr(a.cidr));
        else if (outcome === 'kept') result.kept.push(formatCidr(a.cidr));
      }
    }
    return result;
  }

  private async releaseAffinity(
    node: string,
    cidr: Cidr,
    onlyEmpty: boolean,
  ): Promise<'released' | 'kept' | 'gone'> {
    const akey = affinityKey(node, cidr);
    const bkey = blockKey(cidr);
    const mine = hostAffinity(node);
    return this.retry('releasing a block affinity', akey, async () => {
      let aff = await this.backend.get(akey);
      if (aff === undefined) return 'gone';
      const state = decodeAffinity(aff.value, akey).state;
      const bkv = await this.backend.get(bkey);
      const block = bkv === undefined ? undefined : Block.decode(bkv.value, bkey);
      if (state === 'pending') {
        // A pending claim whose block already exists (someone else's) is dead; one
        // without a block may be a claim in flight, but the caller wants the node gone.
        checkTransition('pending', undefined, akey);
        await this.backend.delete(akey, aff.modRevision);
        return block?.affinity === mine ? RETRY : 'released';
      }
      if (state === 'confirmed') {
        checkTransition('confirmed', 'pendingDeletion', akey);
        aff = await this.backend.update(akey, encodeAffinity('pendingDeletion'), aff.modRevision);
      }
      if (block === undefined || block.affinity !== mine) {
        checkTransition('pendingDeletion', undefined, akey);
        await this.backend.delete(akey, aff.modRevision);
        return 'released';
      }
      const compare: Compare[] = [
        { key: bkey, modRevision: bkv!.modRevision },
        { key: akey, modRevision: aff.modRevision },
      ];
      if (!block.isEmpty() && onlyEmpty) {
        checkTransition('pendingDeletion', 'confirmed', akey);
        await this.backend.update(akey, encodeAffinity('confirmed'), aff.modRevision);
        return 'kept';
      }
      checkTransition('pendingDeletion', undefined, akey);
      const ops: TxnOp[] = [{ type: 'delete', key: akey }];
      if (block.isEmpty()) ops.push({ type: 'delete', key: bkey });
      else {
        block.affinity = undefined;
        ops.push({ type: 'put', key: bkey, value: block.encode() });
      }
      const res = await this.backend.txn({ compare, success: ops });
      if (res.succeeded) return 'released';
      // The block changed (an allocation raced us): put the affinity back and decide again.
      const cur = await this.backend.get(akey);
      if (cur !== undefined && decodeAffinity(cur.value, akey).state === 'pendingDeletion') {
        await this.backend.update(akey, encodeAffinity('confirmed'), cur.modRevision);
      }
      return RETRY;
    });
  }

  // ---- read-only views ------------------------------------------------------------------------

  /** One consistent listing of everything IPAM stores. */
  async snapshot(): Promise<IpamSnapshot> {
    const { items, revision } = await this.backend.list(IPAM_PREFIX);
    return buildSnapshot(items, revision);
  }

  /** What IPAM knows about one address (`calicoctl ipam show --ip`). */
  async ipInfo(ipText: string): Promise<IpInfo> {
    const ip = parseAddress(ipText);
    const ctx = await this.context();
    const host = { family: ip.family, address: ip.value, prefixLength: ip.family === 4 ? 32 : 128 };
    const pool = poolContaining(ctx.pools, host);
    const cidr = await this.blockOf(ip, ctx.pools);
    const bkv = cidr === undefined ? undefined : await this.backend.get(blockKey(cidr));
    const block = bkv === undefined ? undefined : Block.decode(bkv.value, bkv.key);
    const ordinal = block?.ordinalOf(ip);
    const attr: AllocationAttribute | undefined =
      ordinal === undefined ? undefined : block?.attributeOf(ordinal);
    const allocated = ordinal !== undefined && block?.isAllocated(ordinal) === true;
    const owner = affinityHost(block?.affinity);
    const holder = attr?.secondary?.node;
    return {
      ip: formatIp(ip),
      pool: pool?.name ?? null,
      poolCidr: pool === undefined ? null : formatCidr(pool.cidr),
      block: block?.data.cidr ?? null,
      blockAffinity: block?.affinity ?? null,
      allocated,
      reserved: ctx.reserved.some((r) => cidrContainsIp(r, ip)),
      handleId: allocated ? (attr?.handle_id ?? null) : null,
      attributes: allocated ? { ...(attr?.secondary ?? {}) } : {},
      sequenceNumber:
        allocated && ordinal !== undefined ? (block?.sequenceNumberOf(ordinal) ?? null) : null,
      borrowed: allocated && holder !== undefined && holder !== owner,
    };
  }

  /** Per pool and per block: size, reserved, in use, free (`calicoctl ipam show`). */
  async utilisation(): Promise<PoolUtilisation[]> {
    const [snap, ctx] = await Promise.all([this.snapshot(), this.context()]);
    const out: PoolUtilisation[] = [];
    for (const pool of [...ctx.pools].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const width = pool.cidr.family === 4 ? 32 : 128;
      const size = 2 ** (width - pool.cidr.prefixLength);
      let reserved = 0;
      for (const r of mergeToRanges(ctx.reserved)) {
        if (r.family !== pool.cidr.family) continue;
        const first = pool.cidr.address;
        const last = first + (1n << BigInt(width - pool.cidr.prefixLength)) - 1n;
        const lo = bigMax(r.first, first);
        const hi = bigMin(r.last, last);
        if (lo <= hi) reserved += Number(hi - lo + 1n);
      }
      const blocks: BlockUtilisation[] = [];
      let inUse = 0;
      for (const { block } of snap.blocks) {
        if (poolContaining(ctx.pools, block.cidr) !== pool) continue;
        const res = reservedOrdinals(block.cidr, ctx.reserved);
        const used = block.inUse();
        let usedReserved = 0;
        for (const o of res) if (block.isAllocated(o)) usedReserved++;
        inUse += used;
        blocks.push({
          cidr: block.data.cidr,
          affinity: block.affinity ?? null,
          size: block.size,
          reserved: res.size,
          inUse: used,
          free: block.size - res.size - used + usedReserved,
        });
      }
      blocks.sort((a, b) => (a.cidr < b.cidr ? -1 : a.cidr > b.cidr ? 1 : 0));
      out.push({
        name: pool.name,
        cidr: formatCidr(pool.cidr),
        family: pool.cidr.family,
        blockSize: pool.blockSize,
        disabled: pool.disabled,
        size,
        reserved,
        inUse,
        free: size - reserved - inUse,
        blocks,
      });
    }
    return out;
  }

  /** Addresses held by a node other than their block's owner (`--show-borrowed`). */
  async listBorrowed(): Promise<BorrowedAddress[]> {
    const snap = await this.snapshot();
    const out: BorrowedAddress[] = [];
    for (const { block } of snap.blocks) {
      const owner = affinityHost(block.affinity) ?? null;
      for (const o of block.allocatedOrdinals()) {
        const attr = block.attributeOf(o);
        const holder = attr?.secondary?.node;
        if (holder === undefined || holder === owner) continue;
        out.push({
          ip: formatIp(block.ipAt(o)),
          node: holder,
          block: block.data.cidr,
          blockOwner: owner,
          handleId: attr?.handle_id ?? null,
          type: attr?.secondary?.type ?? null,
        });
      }
    }
    return out;
  }

  /**
   * The consistency check behind `calicoctl ipam check`: leaks (allocations whose
   * handle has no live owner), endpoints whose addresses are not allocated to them,
   * affinities of unknown nodes or disagreeing with their blocks, and handle records
   * that disagree with the blocks. knownNodes defaults to the stored Node resources.
   */
  async check(input: CheckInput = {}): Promise<CheckReport> {
    const snap = await this.snapshot();
    let knownNodes = input.knownNodes;
    if (knownNodes === undefined) {
      const { items } = await this.backend.list(NODE_PREFIX);
      if (items.length > 0) knownNodes = items.map((kv) => kv.key.slice(NODE_PREFIX.length));
    }
    return checkConsistency(snap, {
      ...input,
      ...(knownNodes === undefined ? {} : { knownNodes }),
    });
  }
}
