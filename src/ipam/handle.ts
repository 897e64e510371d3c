import { IpamError } from './errors.js';

/**
 * Stored value of `/calico/ipam/v2/handle/<id>`: which blocks hold how many of the
 * handle's addresses, so a release by handle touches only those blocks.
 */
export interface HandleData {
  handleID: string;
  /** block CIDR ("10.0.0.0/26") → number of the handle's addresses in it */
  block: Record<string, number>;
  deleted: boolean;
}

export function newHandle(handleId: string): HandleData {
  return { handleID: handleId, block: {}, deleted: false };
}

export function decodeHandle(json: string, where: string): HandleData {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new IpamError('CORRUPT_DATA', `Handle ${where} is not JSON`, { handle: where });
  }
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const block = r.block ?? {};
  if (
    typeof r.handleID !== 'string' ||
    typeof block !== 'object' ||
    block === null ||
    Array.isArray(block) ||
    !Object.values(block).every((n) => Number.isInteger(n) && (n as number) >= 0)
  ) {
    throw new IpamError('CORRUPT_DATA', `Handle ${where} is malformed`, { handle: where });
  }
  return {
    handleID: r.handleID,
    block: { ...(block as Record<string, number>) },
    deleted: r.deleted === true,
  };
}

/** Adds (or with a negative delta removes) addresses of one block; drops zero counts. */
export function adjustHandle(handle: HandleData, blockCidr: string, delta: number): HandleData {
  const next = Math.max(0, (handle.block[blockCidr] ?? 0) + delta);
  const block = { ...handle.block };
  if (next === 0) delete block[blockCidr];
  else block[blockCidr] = next;
  return { ...handle, block };
}

export function handleTotal(handle: HandleData): number {
  let n = 0;
  for (const c of Object.values(handle.block)) n += c;
  return n;
}
