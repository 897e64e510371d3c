// Public face of the BGP speaker: codec, RIB selection, speaker, kernel route programmers.
//
// Wiring (for the agent): bgpConfigForNode(node, resources) gives the SpeakerConfig and
// the prefixes to originate; diffBgpConfig/applyBgpDiff move a running speaker to the next
// one; speaker-process writes a status file that readNodeStatus/formatNodeStatus print.
// (PeerConfig carries type/name for `node status`, passive, keepalive/hold, maxRestartTime,
// routeReflectorClient, nextHopMode, families; clusterId on the speaker), give it a
// RouteProgrammer (NetlinkRouteProgrammer here, or the dataplane's route driver), call
// start(), then originate()/withdraw() blocks as IPAM changes and read status() for
// `calicoctl node status`. A speaker must run in the host's network namespace; tests and
// the benchmark run it as a process via speaker-process.ts.
export {
  AS_TRANS,
  type AsPathSegment,
  type BgpMessage,
  type Capabilities,
  type CodecContext,
  decodeMessage,
  encodeAnnounce,
  encodeEndOfRib,
  encodeKeepalive,
  encodeNotification,
  encodeOpen,
  encodeRouteRefresh,
  encodeUpdateMessage,
  encodeWithdraw,
  endOfRibFamily,
  type OpenMessage,
  type PathAttributes,
  type UpdateMessage,
} from './codec.js';
export { BgpError, CeaseSub, describeNotification, ErrCode, OpenSub, UpdateSub } from './errors.js';
export {
  BGP_ROUTE_PROTOCOL,
  IpRouteProgrammer,
  type IpRouteProgrammerOptions,
  listKernelRoutes,
} from './kernel.js';
export {
  type BgpModelInput,
  bgpConfigForNode,
  DEFAULT_AS_NUMBER,
  DEFAULT_LISTEN_PORT,
  durationSeconds,
  exportedPrefixes,
  type NodeBgpConfig,
  parseAsNumber,
  protocolName,
  type SpeakerSettings,
} from './model.js';
export {
  applyBgpDiff,
  type BgpConfigDiff,
  diffBgpConfig,
  isEmptyDiff,
  type SpeakerControl,
} from './model-diff.js';
export { NetlinkRouteProgrammer, type NetlinkRouteProgrammerOptions } from './netlink.js';
export {
  DEFAULT_STATUS_FILE,
  type FormatNodeStatusOptions,
  formatNodeStatus,
  formatSince,
  type NodeStatusFile,
  readNodeStatus,
  removeNodeStatus,
  writeNodeStatus,
} from './node-status.js';
export { canonicalPrefix, type Family } from './prefix.js';
export { comparePaths, LocRib, type Path, type PathSource } from './rib.js';
export { BgpSpeaker, type BgpSpeakerEvents } from './speaker.js';
export {
  type SpeakerClientOptions,
  SpeakerProcessClient,
} from './speaker-client.js';
export { runSpeakerService, type SpeakerProcessConfig } from './speaker-service.js';
export type {
  BestRouteEvent,
  BgpState,
  ExportContext,
  Logger,
  OriginateOptions,
  PeerConfig,
  PeerStatus,
  PeerType,
  RouteProgrammer,
  RouteSnapshot,
  SpeakerConfig,
} from './types.js';
