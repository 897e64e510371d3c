/**
 * Stable reasons an IPAM call fails. Callers (CNI, calicoctl, the node agent) branch on
 * these codes, never on message text; messages name the pool, node, address or key.
 */
export type IpamErrorCode =
  /** every candidate pool is full (the message names the pools) */
  | 'POOL_EXHAUSTED'
  /** no enabled pool of the family selects this node / fits this use */
  | 'NO_MATCHING_POOL'
  /** strictAffinity forbids borrowing and no unclaimed block is left to claim */
  | 'STRICT_AFFINITY_NO_BLOCK'
  /** the host already owns maxBlocksPerHost blocks and they are full */
  | 'MAX_BLOCKS_PER_HOST'
  /** assignIp: the address is already allocated */
  | 'ADDRESS_IN_USE'
  /** assignIp / ipInfo: the address is in no configured pool */
  | 'ADDRESS_NOT_IN_POOL'
  /** assignIp: an IPReservation covers the address */
  | 'ADDRESS_RESERVED'
  /** a compare-and-swap kept losing to other writers for the whole retry budget */
  | 'TOO_MANY_RETRIES'
  | 'INVALID_ARGUMENT'
  /** an IPAMConfiguration combination Calico rejects */
  | 'INVALID_CONFIG'
  /** a stored IPAM object failed to decode */
  | 'CORRUPT_DATA'
  /** an affinity state change the claim protocol does not allow */
  | 'INVALID_TRANSITION';

export class IpamError extends Error {
  override readonly name = 'IpamError';
  readonly code: IpamErrorCode;
  /** machine-readable context (pool names, node, address, key) for JSON output */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: IpamErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: IpamErrorCode; message: string; details: Readonly<Record<string, unknown>> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}
