import { type Cidr, formatCidr, type IpFamily, parseCidr, tryParseCidr } from '../net/index.js';
import { parseSelector } from '../selector/index.js';
import { IpamError } from './errors.js';

export type PoolUse = 'Workload' | 'Tunnel' | 'LoadBalancer';
const USES = new Set<string>(['Workload', 'Tunnel', 'LoadBalancer']);

/** What IPAM needs of an IPPool, decoded from the stored v3 resource. */
export interface PoolInfo {
  name: string;
  cidr: Cidr;
  blockSize: number;
  disabled: boolean;
  nodeSelector: string;
  namespaceSelector: string;
  allowedUses: PoolUse[];
  /** Manual pools are only used when a caller names them */
  assignmentMode: 'Automatic' | 'Manual';
}

function bad(where: string, why: string): IpamError {
  return new IpamError('CORRUPT_DATA', `IPPool ${where} is invalid: ${why}`, { pool: where });
}

/** Decodes a stored `projectcalico.org/v3` IPPool, applying Calico's defaults. */
export function decodePool(json: string, where: string): PoolInfo {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw bad(where, 'not JSON');
  }
  const r = (raw ?? {}) as { metadata?: { name?: unknown }; spec?: Record<string, unknown> };
  const name = r.metadata?.name;
  const spec = r.spec;
  if (typeof name !== 'string' || name === '') throw bad(where, 'no metadata.name');
  if (typeof spec !== 'object' || spec === null) throw bad(name, 'no spec');
  if (typeof spec.cidr !== 'string') throw bad(name, 'no spec.cidr');
  const cidr = tryParseCidr(spec.cidr);
  if (cidr === undefined)
    throw bad(name, `spec.cidr ${JSON.stringify(spec.cidr)} is not a masked CIDR`);
  const [min, max, dflt] = cidr.family === 4 ? [20, 32, 26] : [116, 128, 122];
  const blockSize = spec.blockSize ?? dflt;
  if (
    typeof blockSize !== 'number' ||
    !Number.isInteger(blockSize) ||
    blockSize < min ||
    blockSize > max
  ) {
    throw bad(name, `blockSize ${String(blockSize)} is outside ${min}-${max}`);
  }
  const uses = spec.allowedUses ?? ['Workload', 'Tunnel'];
  if (!Array.isArray(uses) || !uses.every((u) => typeof u === 'string' && USES.has(u))) {
    throw bad(
      name,
      `allowedUses ${JSON.stringify(uses)} must list Workload, Tunnel or LoadBalancer`,
    );
  }
  const str = (v: unknown, d: string) => (typeof v === 'string' && v.trim() !== '' ? v : d);
  return {
    name,
    cidr,
    blockSize,
    disabled: spec.disabled === true,
    nodeSelector: str(spec.nodeSelector, 'all()'),
    namespaceSelector: str(spec.namespaceSelector, ''),
    allowedUses: uses as PoolUse[],
    assignmentMode: spec.assignmentMode === 'Manual' ? 'Manual' : 'Automatic',
  };
}

/** Builds the stored v3 IPPool JSON (for tests, benchmarks and tools that seed pools). */
export function encodePool(pool: {
  name: string;
  cidr: string;
  blockSize?: number;
  disabled?: boolean;
  nodeSelector?: string;
  allowedUses?: PoolUse[];
  assignmentMode?: 'Automatic' | 'Manual';
}): string {
  const cidr = parseCidr(pool.cidr);
  const spec: Record<string, unknown> = {
    cidr: formatCidr(cidr),
    blockSize: pool.blockSize ?? (cidr.family === 4 ? 26 : 122),
    nodeSelector: pool.nodeSelector ?? 'all()',
    allowedUses: pool.allowedUses ?? ['Workload', 'Tunnel'],
    ipipMode: 'Never',
    vxlanMode: 'Never',
    natOutgoing: false,
    disabled: pool.disabled ?? false,
    assignmentMode: pool.assignmentMode ?? 'Automatic',
  };
  return JSON.stringify({
    apiVersion: 'projectcalico.org/v3',
    kind: 'IPPool',
    metadata: { name: pool.name },
    spec,
  });
}

/** Decodes a stored IPReservation's reservedCIDRs (single addresses become /32, /128). */
export function decodeReservation(json: string, where: string): Cidr[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new IpamError('CORRUPT_DATA', `IPReservation ${where} is not JSON`, {
      reservation: where,
    });
  }
  const list = (raw as { spec?: { reservedCIDRs?: unknown } } | null)?.spec?.reservedCIDRs ?? [];
  if (!Array.isArray(list)) {
    throw new IpamError('CORRUPT_DATA', `IPReservation ${where}: reservedCIDRs is not a list`, {
      reservation: where,
    });
  }
  return list.map((c) => {
    const text =
      typeof c === 'string' && !c.includes('/') ? `${c}/${c.includes(':') ? 128 : 32}` : c;
    const cidr = typeof text === 'string' ? tryParseCidr(text, { strict: false }) : undefined;
    if (cidr === undefined) {
      throw new IpamError(
        'CORRUPT_DATA',
        `IPReservation ${where}: ${JSON.stringify(c)} is not a CIDR`,
        {
          reservation: where,
        },
      );
    }
    return cidr;
  });
}

export function encodeReservation(name: string, cidrs: string[]): string {
  return JSON.stringify({
    apiVersion: 'projectcalico.org/v3',
    kind: 'IPReservation',
    metadata: { name },
    spec: { reservedCIDRs: cidrs },
  });
}

export interface PoolSelection {
  family: IpFamily;
  use: PoolUse;
  nodeLabels: Readonly<Record<string, string>>;
  /** when given, pools with a namespaceSelector must match these */
  namespaceLabels?: Readonly<Record<string, string>>;
  /** pool names or CIDRs the caller asked for; empty/undefined means "any automatic pool" */
  requested?: readonly string[];
}

export interface PoolRejection {
  pool: string;
  reason: string;
}

function selectorMatches(text: string, labels: Readonly<Record<string, string>>): boolean {
  try {
    return parseSelector(text).matches(labels);
  } catch {
    // Pools are validated on write; one that slipped through selects nothing rather
    // than breaking assignment from every other pool.
    return false;
  }
}

/** "pool-a (10.0.0.0/16)" */
export function describePool(pool: PoolInfo): string {
  return `${pool.name} (${formatCidr(pool.cidr)})`;
}

/**
 * The pools an assignment may use, in the order to try them (requested order first,
 * otherwise by name), plus why each other pool of the family was passed over.
 */
export function selectPools(
  all: readonly PoolInfo[],
  sel: PoolSelection,
): { pools: PoolInfo[]; rejected: PoolRejection[] } {
  const rejected: PoolRejection[] = [];
  const family = all.filter((p) => p.cidr.family === sel.family);
  let ordered: PoolInfo[];
  if (sel.requested !== undefined && sel.requested.length > 0) {
    ordered = [];
    for (const want of sel.requested) {
      const asCidr = tryParseCidr(want);
      const match = all.find(
        (p) =>
          p.name === want || (asCidr !== undefined && formatCidr(p.cidr) === formatCidr(asCidr)),
      );
      if (match === undefined) {
        throw new IpamError(
          'NO_MATCHING_POOL',
          `Requested IP pool ${JSON.stringify(want)} does not exist`,
          {
            pool: want,
          },
        );
      }
      if (match.cidr.family === sel.family && !ordered.includes(match)) ordered.push(match);
    }
  } else {
    ordered = [...family].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
  const explicit = sel.requested !== undefined && sel.requested.length > 0;
  const pools: PoolInfo[] = [];
  for (const p of ordered) {
    let reason: string | undefined;
    if (p.disabled) reason = 'disabled';
    else if (!p.allowedUses.includes(sel.use))
      reason = `allowedUses ${p.allowedUses.join(',')} excludes ${sel.use}`;
    else if (!explicit && p.assignmentMode === 'Manual')
      reason = 'assignmentMode Manual and not requested';
    else if (!selectorMatches(p.nodeSelector, sel.nodeLabels)) {
      reason = `nodeSelector ${JSON.stringify(p.nodeSelector)} does not select the node`;
    } else if (
      sel.namespaceLabels !== undefined &&
      p.namespaceSelector !== '' &&
      !selectorMatches(p.namespaceSelector, sel.namespaceLabels)
    ) {
      reason = `namespaceSelector ${JSON.stringify(p.namespaceSelector)} does not select the namespace`;
    }
    if (reason === undefined) pools.push(p);
    else rejected.push({ pool: describePool(p), reason });
  }
  return { pools, rejected };
}

/** The enabled-or-not pool whose CIDR holds the address, if any (most specific wins). */
export function poolContaining(all: readonly PoolInfo[], block: Cidr): PoolInfo | undefined {
  let best: PoolInfo | undefined;
  for (const p of all) {
    if (p.cidr.family !== block.family || p.cidr.prefixLength > block.prefixLength) continue;
    const shift = BigInt((block.family === 4 ? 32 : 128) - p.cidr.prefixLength);
    if (block.address >> shift !== p.cidr.address >> shift) continue;
    if (best === undefined || p.cidr.prefixLength > best.cidr.prefixLength) best = p;
  }
  return best;
}

/** IPAMConfiguration, stored at /calico/ipam/v2/config in libcalico-go's field names. */
export interface IpamConfig {
  strictAffinity: boolean;
  autoAllocateBlocks: boolean;
  /** 0: no limit */
  maxBlocksPerHost: number;
}

export const DEFAULT_CONFIG: Readonly<IpamConfig> = Object.freeze({
  strictAffinity: false,
  autoAllocateBlocks: true,
  maxBlocksPerHost: 0,
});

export function validateConfig(c: IpamConfig): void {
  if (!Number.isInteger(c.maxBlocksPerHost) || c.maxBlocksPerHost < 0) {
    throw new IpamError(
      'INVALID_CONFIG',
      `maxBlocksPerHost must be a non-negative integer, got ${c.maxBlocksPerHost}`,
      {
        maxBlocksPerHost: c.maxBlocksPerHost,
      },
    );
  }
  if (c.maxBlocksPerHost > 0 && !c.strictAffinity) {
    throw new IpamError('INVALID_CONFIG', 'maxBlocksPerHost > 0 requires strictAffinity: true', {
      maxBlocksPerHost: c.maxBlocksPerHost,
    });
  }
  if (!c.strictAffinity && !c.autoAllocateBlocks) {
    throw new IpamError(
      'INVALID_CONFIG',
      'strictAffinity and autoAllocateBlocks cannot both be false (no address could ever be assigned)',
      {},
    );
  }
}

export function encodeConfig(c: IpamConfig): string {
  return JSON.stringify({
    strict_affinity: c.strictAffinity,
    auto_allocate_blocks: c.autoAllocateBlocks,
    max_blocks_per_host: c.maxBlocksPerHost,
  });
}

export function decodeConfig(json: string): IpamConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new IpamError('CORRUPT_DATA', `IPAM config ${'/calico/ipam/v2/config'} is not JSON`, {});
  }
  const r = (raw ?? {}) as Record<string, unknown>;
  return {
    strictAffinity: r.strict_affinity === true,
    autoAllocateBlocks: r.auto_allocate_blocks !== false,
    maxBlocksPerHost: typeof r.max_blocks_per_host === 'number' ? r.max_blocks_per_host : 0,
  };
}
