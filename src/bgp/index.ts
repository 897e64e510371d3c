// Public face of the BGP speaker: codec, RIB selection, speaker, kernel route programmer.
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
export { canonicalPrefix, type Family } from './prefix.js';
export { comparePaths, LocRib, type Path, type PathSource } from './rib.js';
export { BgpSpeaker, type BgpSpeakerEvents } from './speaker.js';
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
