// The datastore component: one key/value contract (revisions, CAS, ordered watches)
// over an embedded SQLite store or etcd v3, and the Calico resource client on top.
export type {
  Backend,
  Compare,
  KeyValue,
  ListResult,
  Revision,
  Txn,
  TxnOp,
  TxnResult,
  Watch,
  WatchEvent,
  WatchOptions,
} from './backend.js';
export { compareRevisions, isRevision, prefixEnd } from './backend.js';
export {
  type DatastoreConfig,
  DEFAULT_DATA_DIR,
  EMBEDDED_DB_FILE,
  loadDatastoreConfig,
  openBackend,
  parseEndpoints,
} from './config.js';
export { EmbeddedBackend, type EmbeddedOptions } from './embedded.js';
export {
  ClosedError,
  CompactedError,
  ConflictError,
  DatastoreError,
  type DatastoreErrorCode,
  KeyExistsError,
  NotFoundError,
  UnavailableError,
} from './errors.js';
export { EtcdBackend, type EtcdOptions, openEtcdBackend } from './etcd.js';
export {
  blockAffinityKey,
  blockAffinityPrefix,
  IPAM_CONFIG_KEY,
  IPAM_HANDLE_PREFIX,
  IPAM_PREFIX,
  ipamBlockKey,
  ipamBlockPrefix,
  ipamHandleKey,
  RESOURCES_PREFIX,
  resourceKey,
  resourcePrefix,
} from './keys.js';
export {
  DEFAULT_NAMESPACE,
  type DeleteOptions,
  ResourceClient,
  type ResourceEvent,
  type ResourceListResult,
  type ResourceOf,
  type ResourceWatch,
  type ScopeOptions,
} from './resources.js';
