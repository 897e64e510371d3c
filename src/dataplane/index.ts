// Linux dataplane: renders the calculation graph's desired state into one nftables
// table (`table inet calico`), reconciles it atomically, and drives routes and
// workload interface settings. Never reads the datastore.
export {
  allocateMarks,
  DataplaneConfigError,
  DEFAULT_FAILSAFE_IN,
  DEFAULT_FAILSAFE_OUT,
  type FailsafePort,
  type Marks,
  parseRenderConfig,
  type RenderConfig,
} from './config.js';
export {
  type ApplyMetrics,
  Dataplane,
  type DataplaneMetrics,
  type DataplaneOptions,
  routeSpecFor,
} from './dataplane.js';
export { type ExecResult, NFT_GLIBC_TUNABLES, ToolError } from './exec.js';
export { configureInterfaces, GLOBAL_SYSCTLS, WORKLOAD_SYSCTLS } from './interfaces.js';
export {
  countTable,
  type Delta,
  diffTables,
  type NftChain,
  type NftMap,
  type NftSet,
  type RenderedTable,
  serializeFull,
  TABLE_FAMILY,
  type TableCounts,
} from './model.js';
export { chain as chainNames, ipSetName, TABLE_NAME } from './names.js';
export { type NftStats, NftTable, type NftTableOptions, type SyncResult } from './nft.js';
export { BASE, MAP, Renderer, renderTable, SETS } from './render.js';
export {
  CALICO_ROUTE_PROTOCOL,
  type NextHop,
  type RouteApplyResult,
  type RouteSpec,
  RouteTable,
  type RouteTableOptions,
} from './routes.js';
