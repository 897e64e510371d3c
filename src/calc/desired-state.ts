// The contract between the calculation graph (which computes, for one host, what the
// kernel should contain) and the dataplane drivers (which make the kernel so).
// Modelled on Felix's calc → dataplane messages (calico-dataplane.md §2): the calc
// graph emits a stream of DesiredStateUpdate, the dataplane folds them into a
// DesiredState and reconciles the kernel to it. Everything here is plain data so it
// can be logged, diffed and sent over a socket.

/** Selector IP sets hold CIDRs; named-port sets hold "ip,proto:port" members. */
export type IpSetType = 'net' | 'ip-port';

/**
 * IP set member encoding:
 * - `net`: a canonical CIDR string (`10.0.0.1/32`, `fd00::/64`);
 * - `ip-port`: `<ip>,<tcp|udp|sctp>:<port>` (`10.0.0.1,tcp:8080`, `fd00::1,udp:53`).
 */
export type IpSetMember = string;

export interface IpSetState {
  /** stable id derived from the canonical selector (and port name), e.g. `s:…` or `n:…` */
  readonly id: string;
  readonly type: IpSetType;
  readonly members: ReadonlySet<IpSetMember>;
}

/** Inclusive port range; a single port has first === last. */
export interface PortRange {
  readonly first: number;
  readonly last: number;
}

/**
 * The packet-side matches for one end (source or destination) of a rule. Within a
 * field, entries are ORed; across fields everything is ANDed, except that `ports`
 * and `namedPortIpSetIds` together form one OR group (a numeric port or a named
 * port), and likewise their `not…` counterparts form one "matches none" group.
 */
export interface EndpointMatch {
  /** CIDRs; the address must be in at least one */
  readonly nets?: readonly string[];
  /** CIDRs; the address must be in none */
  readonly notNets?: readonly string[];
  /** selector IP sets; the address must be in every one (Calico renders one per selector) */
  readonly ipSetIds?: readonly string[];
  /** selector IP sets; the address must be in none */
  readonly notIpSetIds?: readonly string[];
  readonly ports?: readonly PortRange[];
  /** `ip-port` sets: (address, protocol, port) must be in at least one */
  readonly namedPortIpSetIds?: readonly string[];
  readonly notPorts?: readonly PortRange[];
  readonly notNamedPortIpSetIds?: readonly string[];
}

export type RuleAction = 'allow' | 'deny' | 'log' | 'pass';

export interface IcmpMatch {
  readonly type: number;
  readonly code?: number;
}

export interface RuleProgram {
  /** stable per rule content and position; used in kernel comments and counters */
  readonly id: string;
  readonly action: RuleAction;
  /** rule applies to one family only; absent means both */
  readonly ipVersion?: 4 | 6;
  /** IP protocol number (6 tcp, 17 udp, 1 icmp, 58 icmpv6, 132 sctp, 136 udplite, …) */
  readonly protocol?: number;
  readonly notProtocol?: number;
  readonly icmp?: IcmpMatch;
  readonly notIcmp?: IcmpMatch;
  readonly src: EndpointMatch;
  readonly dst: EndpointMatch;
  /** for `log`: the prefix to log with (Felix's logPrefix, expanded) */
  readonly logPrefix?: string;
}

/** `gnp/<name>`, `np/<namespace>/<name>`, … (kind prefixes as in calico-dataplane.md §4). */
export type PolicyId = string;
/** the Profile's name, e.g. `kns.prod`. */
export type ProfileId = string;

export interface PolicyProgram {
  readonly id: PolicyId;
  readonly tier: string;
  /** rules applied to traffic arriving at the endpoint */
  readonly inbound: readonly RuleProgram[];
  /** rules applied to traffic leaving the endpoint */
  readonly outbound: readonly RuleProgram[];
  readonly untracked: boolean;
  readonly preDnat: boolean;
  readonly applyOnForward: boolean;
}

export interface ProfileProgram {
  readonly id: ProfileId;
  readonly inbound: readonly RuleProgram[];
  readonly outbound: readonly RuleProgram[];
}

/**
 * One tier as it applies to one endpoint. A tier applies to a direction only when its
 * list for that direction is non-empty (calico-semantics.md §7 step 5).
 */
export interface EndpointTier {
  readonly name: string;
  readonly defaultAction: 'Deny' | 'Pass';
  /** ordered policy ids (tier order, then policy order, then name) */
  readonly ingressPolicies: readonly PolicyId[];
  readonly egressPolicies: readonly PolicyId[];
}

export interface WorkloadEndpointState {
  /** `<namespace>/<name>` of the WorkloadEndpoint resource */
  readonly id: string;
  readonly interfaceName: string;
  readonly mac?: string;
  /** `10.0.0.5/32` */
  readonly ipv4Nets: readonly string[];
  /** `fd00::5/128` */
  readonly ipv6Nets: readonly string[];
  /** extra source prefixes the workload may send from (anti-spoofing exceptions) */
  readonly allowSpoofedSourcePrefixes: readonly string[];
  readonly tiers: readonly EndpointTier[];
  readonly profileIds: readonly ProfileId[];
  /** an admin-down endpoint drops everything (§7 step 1) */
  readonly adminUp: boolean;
}

export interface HostEndpointState {
  /** HostEndpoint resource name */
  readonly id: string;
  /** `*` means every host interface */
  readonly interfaceName: string;
  readonly expectedIpv4Addrs: readonly string[];
  readonly expectedIpv6Addrs: readonly string[];
  readonly profileIds: readonly ProfileId[];
  /** normal (tracked, INPUT/OUTPUT) policy */
  readonly tiers: readonly EndpointTier[];
  readonly untrackedTiers: readonly EndpointTier[];
  readonly preDnatTiers: readonly EndpointTier[];
  /** `applyOnForward` policy for traffic routed through the interface */
  readonly forwardTiers: readonly EndpointTier[];
}

export type RouteType =
  /** a workload on this host: `<ip>/32 dev <interface> scope link` */
  | 'local-workload'
  /** a block affine to this host: blackhole for unallocated addresses */
  | 'local-block'
  /** a block affine to another host: via that host's address */
  | 'remote-block'
  /** an address borrowed by another host from a block that is not its own */
  | 'remote-workload';

export interface RouteState {
  /** the destination CIDR, canonical */
  readonly dst: string;
  readonly type: RouteType;
  /** for local-workload */
  readonly interfaceName?: string;
  /** for remote routes: the owning node and its address of the destination's family */
  readonly nodeName?: string;
  readonly nextHop?: string;
  /** the pool the destination belongs to, if any */
  readonly poolCidr?: string;
  readonly natOutgoing?: boolean;
}

export interface PoolState {
  readonly cidr: string;
  readonly natOutgoing: boolean;
  readonly disabled: boolean;
  readonly disableBGPExport: boolean;
}

/** Effective Felix configuration for this host: FelixConfiguration spec fields, camelCase. */
export type EffectiveConfig = Readonly<Record<string, unknown>>;

export type DesiredStateUpdate =
  | { readonly type: 'inSync' }
  | { readonly type: 'config'; readonly config: EffectiveConfig }
  | {
      readonly type: 'ipSetUpdate';
      readonly id: string;
      readonly setType: IpSetType;
      readonly members: readonly IpSetMember[];
    }
  | {
      readonly type: 'ipSetDelta';
      readonly id: string;
      readonly added: readonly IpSetMember[];
      readonly removed: readonly IpSetMember[];
    }
  | { readonly type: 'ipSetRemove'; readonly id: string }
  | { readonly type: 'policyUpdate'; readonly policy: PolicyProgram }
  | { readonly type: 'policyRemove'; readonly id: PolicyId }
  | { readonly type: 'profileUpdate'; readonly profile: ProfileProgram }
  | { readonly type: 'profileRemove'; readonly id: ProfileId }
  | { readonly type: 'workloadEndpointUpdate'; readonly endpoint: WorkloadEndpointState }
  | { readonly type: 'workloadEndpointRemove'; readonly id: string }
  | { readonly type: 'hostEndpointUpdate'; readonly endpoint: HostEndpointState }
  | { readonly type: 'hostEndpointRemove'; readonly id: string }
  | { readonly type: 'routeUpdate'; readonly route: RouteState }
  | { readonly type: 'routeRemove'; readonly dst: string }
  | { readonly type: 'poolUpdate'; readonly pool: PoolState }
  | { readonly type: 'poolRemove'; readonly cidr: string };

/** The folded form of the update stream: what the kernel should contain now. */
export interface DesiredState {
  inSync: boolean;
  config: EffectiveConfig;
  readonly ipSets: Map<string, { type: IpSetType; members: Set<IpSetMember> }>;
  readonly policies: Map<PolicyId, PolicyProgram>;
  readonly profiles: Map<ProfileId, ProfileProgram>;
  readonly workloadEndpoints: Map<string, WorkloadEndpointState>;
  readonly hostEndpoints: Map<string, HostEndpointState>;
  readonly routes: Map<string, RouteState>;
  readonly pools: Map<string, PoolState>;
}

export function emptyDesiredState(): DesiredState {
  return {
    inSync: false,
    config: {},
    ipSets: new Map(),
    policies: new Map(),
    profiles: new Map(),
    workloadEndpoints: new Map(),
    hostEndpoints: new Map(),
    routes: new Map(),
    pools: new Map(),
  };
}

export class DesiredStateError extends Error {
  readonly code = 'DESIRED_STATE_SEQUENCE';
}

/**
 * Folds one update into the state. A delta for an IP set that does not exist is a
 * sequencing bug in the producer, so it throws rather than inventing a set.
 */
export function applyDesiredStateUpdate(state: DesiredState, update: DesiredStateUpdate): void {
  switch (update.type) {
    case 'inSync':
      state.inSync = true;
      return;
    case 'config':
      state.config = update.config;
      return;
    case 'ipSetUpdate':
      state.ipSets.set(update.id, { type: update.setType, members: new Set(update.members) });
      return;
    case 'ipSetDelta': {
      const set = state.ipSets.get(update.id);
      if (!set)
        throw new DesiredStateError(`IP set ${update.id} received a delta before it was created`);
      for (const m of update.removed) set.members.delete(m);
      for (const m of update.added) set.members.add(m);
      return;
    }
    case 'ipSetRemove':
      state.ipSets.delete(update.id);
      return;
    case 'policyUpdate':
      state.policies.set(update.policy.id, update.policy);
      return;
    case 'policyRemove':
      state.policies.delete(update.id);
      return;
    case 'profileUpdate':
      state.profiles.set(update.profile.id, update.profile);
      return;
    case 'profileRemove':
      state.profiles.delete(update.id);
      return;
    case 'workloadEndpointUpdate':
      state.workloadEndpoints.set(update.endpoint.id, update.endpoint);
      return;
    case 'workloadEndpointRemove':
      state.workloadEndpoints.delete(update.id);
      return;
    case 'hostEndpointUpdate':
      state.hostEndpoints.set(update.endpoint.id, update.endpoint);
      return;
    case 'hostEndpointRemove':
      state.hostEndpoints.delete(update.id);
      return;
    case 'routeUpdate':
      state.routes.set(update.route.dst, update.route);
      return;
    case 'routeRemove':
      state.routes.delete(update.dst);
      return;
    case 'poolUpdate':
      state.pools.set(update.pool.cidr, update.pool);
      return;
    case 'poolRemove':
      state.pools.delete(update.cidr);
      return;
  }
}
