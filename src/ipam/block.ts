import {
  bitLength,
  type Cidr,
  cidrContainsIp,
  cidrSize,
  formatCidr,
  formatIp,
  type IpAddress,
  ipOffset,
  nthAddress,
} from '../net/index.js';
import { IpamError } from './errors.js';
import { parseStoredCidr } from './keys.js';

/** One entry of a block's attribute table; allocations point at these by index. */
export interface AllocationAttribute {
  handle_id?: string;
  /** node, namespace, pod, type (ipipTunnelAddress, …), timestamp, … */
  secondary?: Record<string, string>;
  /** set on release while an ipCooldownSeconds cooldown is in force */
  releasedAt?: string;
}

/** The stored JSON of an IPAM block, field for field as libcalico-go writes it. */
export interface BlockData {
  cidr: string;
  /** "host:<node>", "virtual:<name>", or absent when no host owns the block */
  affinity?: string;
  strictAffinity: boolean;
  /** per ordinal: index into attributes, or null when free */
  allocations: (number | null)[];
  /** free ordinals, oldest-released first */
  unallocated: number[];
  attributes: AllocationAttribute[];
  /** bumped by every write, so each allocation can be stamped with a unique value */
  sequenceNumber: number;
  /** ordinal (as a decimal string) → sequenceNumber of the write that allocated it */
  sequenceNumberForAllocation: Record<string, number>;
  deleted: boolean;
}

export type ReleaseOutcome = 'released' | 'not-allocated' | 'stale';

export interface AllocatedOrdinal {
  ordinal: number;
  ip: IpAddress;
  sequenceNumber: number;
}

/** Largest block we accept: pool validation caps blockSize at /20 (v4) and /116 (v6). */
const MAX_ORDINALS = 4096;

export function hostAffinity(node: string): string {
  return `host:${node}`;
}

/** The node of a "host:<node>" affinity, or undefined for none / virtual. */
export function affinityHost(affinity: string | undefined): string | undefined {
  return affinity?.startsWith('host:') ? affinity.slice(5) : undefined;
}

function sameSecondary(
  a: Record<string, string> | undefined,
  b: Record<string, string> | undefined,
): boolean {
  const x = a ?? {};
  const y = b ?? {};
  const keys = Object.keys(x);
  if (keys.length !== Object.keys(y).length) return false;
  return keys.every((k) => Object.hasOwn(y, k) && y[k] === x[k]);
}

function corrupt(where: string, why: string): IpamError {
  return new IpamError('CORRUPT_DATA', `IPAM block ${where} is corrupt: ${why}`, { block: where });
}

function isRecordOfStrings(x: unknown): x is Record<string, string> {
  return (
    typeof x === 'object' &&
    x !== null &&
    !Array.isArray(x) &&
    Object.values(x).every((v) => typeof v === 'string')
  );
}

/**
 * An allocation block: pure, in-memory; the client reads one, mutates it and writes
 * it back with compare-and-swap. Ordinal i is the i-th address of the block's CIDR.
 */
export class Block {
  readonly cidr: Cidr;
  readonly data: BlockData;

  private constructor(cidr: Cidr, data: BlockData) {
    this.cidr = cidr;
    this.data = data;
  }

  static create(cidr: Cidr, affinity?: string, strictAffinity = false): Block {
    const size = Number(cidrSize(cidr));
    if (size > MAX_ORDINALS) {
      throw new IpamError(
        'INVALID_ARGUMENT',
        `Block ${formatCidr(cidr)} holds ${size} addresses; at most ${MAX_ORDINALS} are supported`,
        { block: formatCidr(cidr) },
      );
    }
    const data: BlockData = {
      cidr: formatCidr(cidr),
      strictAffinity,
      allocations: new Array<number | null>(size).fill(null),
      unallocated: Array.from({ length: size }, (_, i) => i),
      attributes: [],
      sequenceNumber: 0,
      sequenceNumberForAllocation: {},
      deleted: false,
    };
    if (affinity !== undefined) data.affinity = affinity;
    return new Block(cidr, data);
  }

  /** Decodes and checks a stored block; anything inconsistent is CORRUPT_DATA. */
  static decode(json: string, where: string): Block {
    let raw: unknown;
    try {
      raw = JSON.parse(json);
    } catch {
      throw corrupt(where, 'not JSON');
    }
    if (typeof raw !== 'object' || raw === null) throw corrupt(where, 'not an object');
    const r = raw as Record<string, unknown>;
    if (typeof r.cidr !== 'string') throw corrupt(where, 'no cidr');
    const cidr = parseStoredCidr(r.cidr, where);
    const size = Number(cidrSize(cidr));
    if (size > MAX_ORDINALS) throw corrupt(where, `${size} addresses is too large`);
    const allocations = r.allocations;
    if (!Array.isArray(allocations) || allocations.length !== size) {
      throw corrupt(where, `allocations must have ${size} entries`);
    }
    const attributes = r.attributes ?? [];
    if (!Array.isArray(attributes)) throw corrupt(where, 'attributes is not a list');
    for (const a of attributes) {
      if (typeof a !== 'object' || a === null) throw corrupt(where, 'attribute is not an object');
      const attr = a as Record<string, unknown>;
      if (
        attr.handle_id !== undefined &&
        attr.handle_id !== null &&
        typeof attr.handle_id !== 'string'
      ) {
        throw corrupt(where, 'attribute handle_id is not a string');
      }
      if (
        attr.secondary !== undefined &&
        attr.secondary !== null &&
        !isRecordOfStrings(attr.secondary)
      ) {
        throw corrupt(where, 'attribute secondary is not a string map');
      }
    }
    const seen = new Set<number>();
    for (let i = 0; i < size; i++) {
      const a = allocations[i];
      if (a === null || a === undefined) continue;
      if (!Number.isInteger(a) || a < 0 || a >= attributes.length) {
        throw corrupt(where, `allocation ${i} points at missing attribute ${String(a)}`);
      }
    }
    const unallocated = r.unallocated ?? [];
    if (!Array.isArray(unallocated)) throw corrupt(where, 'unallocated is not a list');
    for (const o of unallocated) {
      if (!Number.isInteger(o) || o < 0 || o >= size || seen.has(o)) {
        throw corrupt(where, `unallocated holds bad or repeated ordinal ${String(o)}`);
      }
      if (allocations[o] !== null && allocations[o] !== undefined) {
        throw corrupt(where, `ordinal ${o} is both allocated and unallocated`);
      }
      seen.add(o);
    }
    const seqFor = r.sequenceNumberForAllocation ?? {};
    if (typeof seqFor !== 'object' || seqFor === null || Array.isArray(seqFor)) {
      throw corrupt(where, 'sequenceNumberForAllocation is not a map');
    }
    const data: BlockData = {
      cidr: r.cidr,
      strictAffinity: r.strictAffinity === true,
      allocations: allocations.map((a) => (a === undefined || a === null ? null : (a as number))),
      unallocated: unallocated as number[],
      attributes: attributes as AllocationAttribute[],
      sequenceNumber: typeof r.sequenceNumber === 'number' ? r.sequenceNumber : 0,
      sequenceNumberForAllocation: seqFor as Record<string, number>,
      deleted: r.deleted === true,
    };
    if (typeof r.affinity === 'string' && r.affinity !== '') data.affinity = r.affinity;
    const block = new Block(cidr, data);
    // Ordinals neither allocated nor queued would be lost for good; requeue them so a
    // block written by an older or buggy writer heals instead of leaking.
    if (seen.size + block.inUse() !== size) {
      for (let i = 0; i < size; i++) {
        if (data.allocations[i] === null && !seen.has(i)) data.unallocated.push(i);
      }
    }
    return block;
  }

  encode(): string {
    return JSON.stringify(this.data);
  }

  get size(): number {
    return this.data.allocations.length;
  }

  get affinity(): string | undefined {
    return this.data.affinity;
  }

  set affinity(affinity: string | undefined) {
    if (affinity === undefined) delete this.data.affinity;
    else this.data.affinity = affinity;
  }

  get sequenceNumber(): number {
    return this.data.sequenceNumber;
  }

  ordinalOf(ip: IpAddress): number {
    if (!cidrContainsIp(this.cidr, ip)) {
      throw new IpamError(
        'INVALID_ARGUMENT',
        `${formatIp(ip)} is not inside block ${formatCidr(this.cidr)}`,
        { ip: formatIp(ip), block: formatCidr(this.cidr) },
      );
    }
    return Number(ipOffset(this.cidr, ip));
  }

  ipAt(ordinal: number): IpAddress {
    return nthAddress(this.cidr, ordinal);
  }

  /** "10.0.0.5/26": the address with the block's mask, as Calico's AutoAssign returns it. */
  maskedAt(ordinal: number): string {
    return `${formatIp(this.ipAt(ordinal))}/${this.cidr.prefixLength}`;
  }

  isAllocated(ordinal: number): boolean {
    return this.data.allocations[ordinal] !== null;
  }

  attributeOf(ordinal: number): AllocationAttribute | undefined {
    const a = this.data.allocations[ordinal];
    return a === null || a === undefined ? undefined : this.data.attributes[a];
  }

  handleOf(ordinal: number): string | undefined {
    return this.attributeOf(ordinal)?.handle_id;
  }

  sequenceNumberOf(ordinal: number): number | undefined {
    return this.data.sequenceNumberForAllocation[String(ordinal)];
  }

  inUse(): number {
    let n = 0;
    for (const a of this.data.allocations) if (a !== null) n++;
    return n;
  }

  isEmpty(): boolean {
    return this.data.allocations.every((a) => a === null);
  }

  /** Free ordinals that may be handed out (not covered by a reservation). */
  freeCount(isReserved?: (ordinal: number) => boolean): number {
    if (isReserved === undefined) return this.data.unallocated.length;
    let n = 0;
    for (const o of this.data.unallocated) if (!isReserved(o)) n++;
    return n;
  }

  *allocatedOrdinals(): Generator<number> {
    for (let i = 0; i < this.data.allocations.length; i++) {
      if (this.data.allocations[i] !== null) yield i;
    }
  }

  /** handle ID → how many of this block's addresses it holds ("" for none). */
  countsByHandle(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const o of this.allocatedOrdinals()) {
      const h = this.handleOf(o) ?? '';
      counts.set(h, (counts.get(h) ?? 0) + 1);
    }
    return counts;
  }

  /** Marks the block as written once more; every mutation calls this exactly once. */
  private bump(): number {
    this.data.sequenceNumber += 1;
    return this.data.sequenceNumber;
  }

  private attributeIndex(
    handleId: string | undefined,
    secondary: Record<string, string> | undefined,
  ): number {
    const found = this.data.attributes.findIndex(
      (a) =>
        a.handle_id === handleId &&
        a.releasedAt === undefined &&
        sameSecondary(a.secondary, secondary),
    );
    if (found >= 0) return found;
    const attr: AllocationAttribute = {};
    if (handleId !== undefined) attr.handle_id = handleId;
    if (secondary !== undefined && Object.keys(secondary).length > 0)
      attr.secondary = { ...secondary };
    this.data.attributes.push(attr);
    return this.data.attributes.length - 1;
  }

  /**
   * Takes up to n addresses from the head of the free queue, skipping reserved ordinals
   * (they stay queued in place), so the longest-idle address is reused first.
   */
  allocate(
    n: number,
    handleId: string | undefined,
    secondary: Record<string, string> | undefined,
    isReserved?: (ordinal: number) => boolean,
  ): AllocatedOrdinal[] {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`Cannot allocate ${n} addresses`);
    if (n === 0) return [];
    const picked: number[] = [];
    const kept: number[] = [];
    for (const o of this.data.unallocated) {
      if (picked.length < n && !(isReserved?.(o) ?? false)) picked.push(o);
      else kept.push(o);
    }
    if (picked.length === 0) return [];
    const seq = this.bump();
    const attr = this.attributeIndex(handleId, secondary);
    this.data.unallocated = kept;
    for (const o of picked) {
      this.data.allocations[o] = attr;
      this.data.sequenceNumberForAllocation[String(o)] = seq;
    }
    return picked.map((ordinal) => ({ ordinal, ip: this.ipAt(ordinal), sequenceNumber: seq }));
  }

  /** Allocates one specific ordinal; ADDRESS_IN_USE if it is taken. */
  assign(
    ordinal: number,
    handleId: string | undefined,
    secondary: Record<string, string> | undefined,
  ): AllocatedOrdinal {
    if (this.isAllocated(ordinal)) {
      const ip = formatIp(this.ipAt(ordinal));
      const owner = this.handleOf(ordinal);
      throw new IpamError(
        'ADDRESS_IN_USE',
        `Cannot assign ${ip}: it is already allocated${owner === undefined ? '' : ` to handle ${owner}`} in block ${this.data.cidr}`,
        { ip, handleId: owner, block: this.data.cidr },
      );
    }
    const seq = this.bump();
    const attr = this.attributeIndex(handleId, secondary);
    this.data.unallocated = this.data.unallocated.filter((o) => o !== ordinal);
    this.data.allocations[ordinal] = attr;
    this.data.sequenceNumberForAllocation[String(ordinal)] = seq;
    return { ordinal, ip: this.ipAt(ordinal), sequenceNumber: seq };
  }

  /**
   * Frees ordinals, each only if it is still the allocation the caller knows: same
   * handle and same allocation sequence number when those are given (ABA protection).
   * Freed ordinals go to the tail of the queue.
   */
  release(
    requests: ReadonlyArray<{ ordinal: number; handleId?: string; sequenceNumber?: number }>,
  ): ReleaseOutcome[] {
    const outcomes: ReleaseOutcome[] = [];
    let changed = false;
    for (const r of requests) {
      if (!this.isAllocated(r.ordinal)) {
        outcomes.push('not-allocated');
        continue;
      }
      if (
        (r.handleId !== undefined && this.handleOf(r.ordinal) !== r.handleId) ||
        (r.sequenceNumber !== undefined && this.sequenceNumberOf(r.ordinal) !== r.sequenceNumber)
      ) {
        outcomes.push('stale');
        continue;
      }
      this.data.allocations[r.ordinal] = null;
      delete this.data.sequenceNumberForAllocation[String(r.ordinal)];
      this.data.unallocated.push(r.ordinal);
      outcomes.push('released');
      changed = true;
    }
    if (changed) {
      this.bump();
      this.compactAttributes();
    }
    return outcomes;
  }

  /** Frees every address of a handle; returns the freed ordinals. */
  releaseHandle(handleId: string): number[] {
    const ordinals = [...this.allocatedOrdinals()].filter((o) => this.handleOf(o) === handleId);
    this.release(ordinals.map((ordinal) => ({ ordinal })));
    return ordinals;
  }

  /** Drops attributes no allocation references and renumbers the rest. */
  private compactAttributes(): void {
    const used = new Set<number>();
    for (const a of this.data.allocations) if (a !== null) used.add(a);
    if (used.size === this.data.attributes.length) return;
    const remap = new Map<number, number>();
    const kept: AllocationAttribute[] = [];
    this.data.attributes.forEach((attr, i) => {
      if (used.has(i)) {
        remap.set(i, kept.length);
        kept.push(attr);
      }
    });
    this.data.attributes = kept;
    this.data.allocations = this.data.allocations.map((a) => (a === null ? null : remap.get(a)!));
  }
}

// Math.max/min do not take bigint.
export function bigMax(a: bigint, b: bigint): bigint {
  if (a > b) return a;
  return b;
}

export function bigMin(a: bigint, b: bigint): bigint {
  if (a < b) return a;
  return b;
}

/**
 * Ordinals of a block covered by any reserved CIDR. Blocks hold at most 4096 addresses,
 * so a set per block is small; the arithmetic stays in bigint for IPv6.
 */
export function reservedOrdinals(block: Cidr, reserved: readonly Cidr[]): Set<number> {
  const out = new Set<number>();
  const width = BigInt(bitLength(block.family));
  const blockEnd = block.address + (1n << (width - BigInt(block.prefixLength)));
  for (const r of reserved) {
    if (r.family !== block.family) continue;
    const rEnd = r.address + (1n << (width - BigInt(r.prefixLength)));
    for (let v = bigMax(r.address, block.address); v < bigMin(rEnd, blockEnd); v++) {
      out.add(Number(v - block.address));
    }
  }
  return out;
}
