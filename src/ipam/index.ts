// Calico's block-based, host-affine IPAM over the datastore: pools split into blocks,
// blocks claimed by hosts, addresses handed out FIFO and recorded per handle, every
// write a compare-and-swap.
export {
  type AffinityData,
  type AffinityState,
  canTransition,
  checkTransition,
} from './affinity.js';
export {
  type AllocatedOrdinal,
  type AllocationAttribute,
  affinityHost,
  Block,
  type BlockData,
  hostAffinity,
  type ReleaseOutcome,
  reservedOrdinals,
} from './block.js';
export {
  type AffinityProblem,
  type CheckInput,
  type CheckReport,
  checkConsistency,
  type HandleMismatch,
  type LeakedHandle,
  type MissingAllocation,
} from './check.js';
export {
  type AssignedAddress,
  type AssignIpRequest,
  type AutoAssignRequest,
  type AutoAssignResult,
  type BlockUtilisation,
  type BorrowedAddress,
  IpamClient,
  type IpamClientOptions,
  type IpInfo,
  type PoolUtilisation,
  type ReleaseAffinitiesResult,
  type ReleaseRequest,
  type ReleaseResult,
} from './client.js';
export { IpamError, type IpamErrorCode } from './errors.js';
export type { HandleData } from './handle.js';
export {
  affinityKey,
  blockKey,
  CONFIG_KEY,
  HANDLE_PREFIX,
  handleKey,
  IPAM_PREFIX,
  NODE_PREFIX,
  nodeKey,
  POOL_PREFIX,
  parseAffinityKey,
  parseBlockKey,
  RESERVATION_PREFIX,
} from './keys.js';
export {
  DEFAULT_CONFIG,
  encodePool,
  encodeReservation,
  type IpamConfig,
  type PoolInfo,
  type PoolUse,
  selectPools,
  validateConfig,
} from './pools.js';
export { buildSnapshot, type IpamSnapshot } from './snapshot.js';
