// Public configuration and snapshot types of the speaker. The shape follows what Calico
// renders into bird.cfg (calico-dataplane.md §11), so the agent can map BGPConfiguration,
// BGPPeer and the node-to-node mesh onto it one to one.
import type { PathAttributes } from './codec.js';
import type { Family } from './prefix.js';

export type BgpState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

/** How `calicoctl node status` labels a peer. */
export type PeerType = 'node-to-node mesh' | 'global' | 'node specific';

export interface PeerConfig {
  address: string;
  asNumber: number;
  /** BIRD-style protocol name, e.g. Mesh_10_0_0_2; defaults from type and address */
  name?: string;
  type?: PeerType;
  /** remote TCP port (default 179) */
  port?: number;
  /** source address for outgoing connections */
  localAddress?: string;
  /** never initiate; wait for the peer (Calico: the lexically smaller mesh IP is passive) */
  passive?: boolean;
  /** seconds; default holdTime / 3 */
  keepaliveTime?: number;
  /** seconds; default 90; 0 = no keepalives */
  holdTime?: number;
  /** seconds between connection attempts; default 5 (Calico's `connect retry time`) */
  connectRetryTime?: number;
  /** advertise and honour graceful restart (default true, as Calico's template does) */
  gracefulRestart?: boolean;
  /**
   * restart time we advertise to this peer, seconds (Calico BGPPeer maxRestartTime, which
   * confd renders as BIRD's `graceful restart time`); default the speaker's restartTime
   */
  maxRestartTime?: number;
  /** this peer is our route-reflector client */
  routeReflectorClient?: boolean;
  /** 'self' always, 'keep' never; default: self for eBGP and local routes only */
  nextHopMode?: 'auto' | 'self' | 'keep';
  /** address families to negotiate; default the family of `address` */
  families?: Family[];
  /** extra copies of our AS prepended towards eBGP peers */
  asPathPrepend?: number;
  /** our AS towards this peer when not the speaker's (Calico BGPPeer localASNumber) */
  localAsNumber?: number;
  /** accept paths containing our own AS this many times (Calico numAllowedLocalASNumbers) */
  allowLocalAs?: number;
  /**
   * RFC 7911 ADD-PATH: offer to receive several paths per prefix from this peer, to send
   * it every path we have (not only the best), or both; default off
   */
  addPath?: 'receive' | 'send' | 'both';
}

export interface ExportContext {
  peer: string;
  prefix: string;
  attrs: PathAttributes;
}

export interface Logger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Installs best routes in the kernel. The agent will back this with the dataplane's
 * route driver; IpRouteProgrammer is the stand-alone implementation.
 */
export interface RouteProgrammer {
  /** Route `prefix` via exactly these next hops (ECMP when several). */
  replaceRoute(prefix: string, nextHops: string[]): void;
  deleteRoute(prefix: string): void;
  /**
   * The speaker has relearned its routes after starting (immediately on a cold start,
   * after End-of-RIB or the deferral timer on a graceful restart): routes of ours that
   * were not replaced since the programmer started are leftovers and can go.
   */
  resyncDone(): void;
}

export interface SpeakerConfig {
  routerId: string;
  asNumber: number;
  /** default '::' (both families); null = do not listen (outgoing only) */
  listenAddress?: string | null;
  /** default 179 */
  listenPort?: number;
  /** route-reflector cluster id (default: router id), used when any peer is an RR client */
  clusterId?: string;
  peers?: PeerConfig[];
  /** equal paths give an ECMP route (default true) */
  multipath?: boolean;
  gracefulRestart?: {
    /** we are coming back from a graceful restart: set the R and F bits, defer cleanup */
    restarting?: boolean;
    /** restart time we advertise, seconds (default 120, BIRD's and Calico's default) */
    restartTime?: number;
    /** how long to wait for End-of-RIB from a peer that came back (default 360 s) */
    stalePathTime?: number;
    /** how long a restarting speaker waits for End-of-RIB from all peers (default 60 s) */
    selectionDeferralTime?: number;
  };
  /** next hop for a family the session's transport address can't provide */
  nextHopSelf?: { ipv4?: string; ipv6?: string };
  /** export policy: return the attributes to send, or null to filter; keep identity to batch */
  exportPolicy?: (ctx: ExportContext) => PathAttributes | null;
  /** import policy: return the attributes to keep, or null to reject */
  importPolicy?: (ctx: ExportContext) => PathAttributes | null;
  routeProgrammer?: RouteProgrammer;
  logger?: Logger;
}

/** One row of `calicoctl node status`. */
export interface PeerStatus {
  address: string;
  name: string;
  type: PeerType;
  asNumber: number;
  /** BIRD's protocol state column: 'up' when Established, 'start' otherwise */
  state: 'up' | 'start' | 'down';
  /** when the BGP state last changed */
  since: Date;
  bgpState: BgpState;
  /** BGP state plus the last error, like BIRD's info column */
  info: string;
  routesReceived: number;
  routesExported: number;
  families: Family[];
}

export interface OriginateOptions {
  communities?: number[];
  largeCommunities?: Array<[number, number, number]>;
  med?: number;
  localPref?: number;
}

export interface BestRouteEvent {
  prefix: string;
  /** kernel next hops (ECMP set); empty when the best route is local or there is none */
  nextHops: string[];
  /** false when no route remains */
  reachable: boolean;
  local: boolean;
}

export interface RouteSnapshot {
  prefix: string;
  nextHops: string[];
  local: boolean;
  from: string;
  asPath: number[];
  paths: number;
  stale: boolean;
}
