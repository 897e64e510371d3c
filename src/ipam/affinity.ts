import { IpamError } from './errors.js';

/**
 * A host's claim on a block. Readers treat anything but `confirmed` as "not ours yet /
 * any more": a pending claim may still lose the race to create the block, and a
 * pendingDeletion one is being given up.
 */
export type AffinityState = 'pending' | 'confirmed' | 'pendingDeletion';

/** Stored value of `/calico/ipam/v2/host/<node>/ipv4/block/<cidr>`. */
export interface AffinityData {
  state: AffinityState;
  deleted: boolean;
}

/** `undefined` is "no affinity key". */
type From = AffinityState | undefined;

// The claim protocol: ∅ → pending → confirmed → pendingDeletion → ∅. A pending claim
// that lost the block race goes back to ∅, and a release that finds the block in use
// (onlyEmpty) puts pendingDeletion back to confirmed.
const ALLOWED: ReadonlyArray<readonly [From, From]> = [
  [undefined, 'pending'],
  ['pending', 'confirmed'],
  ['pending', undefined],
  ['confirmed', 'pendingDeletion'],
  ['pendingDeletion', undefined],
  ['pendingDeletion', 'confirmed'],
];

export function canTransition(from: From, to: From): boolean {
  return ALLOWED.some(([f, t]) => f === from && t === to);
}

/** Throws INVALID_TRANSITION for a step outside the protocol. */
export function checkTransition(from: From, to: From, where: string): void {
  if (!canTransition(from, to)) {
    throw new IpamError(
      'INVALID_TRANSITION',
      `Affinity ${where} cannot go from ${from ?? 'absent'} to ${to ?? 'absent'}`,
      { affinity: where, from: from ?? null, to: to ?? null },
    );
  }
}

export function encodeAffinity(state: AffinityState): string {
  const data: AffinityData = { state, deleted: false };
  return JSON.stringify(data);
}

const STATES = new Set<string>(['pending', 'confirmed', 'pendingDeletion']);

export function decodeAffinity(json: string, where: string): AffinityData {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new IpamError('CORRUPT_DATA', `Affinity ${where} is not JSON`, { affinity: where });
  }
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  // libcalico-go writes "" for confirmed affinities created before the state field.
  const state = r.state === undefined || r.state === '' ? 'confirmed' : r.state;
  if (typeof state !== 'string' || !STATES.has(state)) {
    throw new IpamError(
      'CORRUPT_DATA',
      `Affinity ${where} has unknown state ${JSON.stringify(r.state)}`,
      {
        affinity: where,
      },
    );
  }
  return { state: state as AffinityState, deleted: r.deleted === true };
}
