// The normalised backend model: what Calico's update processors hand to Felix
// (calico-semantics.md §1). Every namespace, service-account and global() rewrite
// has already happened, protocols are numbers, ports are ranges, CIDRs are parsed,
// and each selector is a compiled Selector whose canonical text is the IP set's.
import type { Cidr, IpAddress } from '../net/index.js';
import type { Selector } from '../selector/index.js';

export type Direction = 'ingress' | 'egress';

/** Backend actions; `next-tier` is v3 `Pass`. */
export type BackendAction = 'allow' | 'deny' | 'log' | 'next-tier';

export interface PortRange {
  readonly min: number;
  readonly max: number;
}

export interface IcmpMatch {
  readonly type: number;
  /** absent: any code of that type */
  readonly code?: number;
}

export interface BackendEntityRule {
  readonly nets: readonly Cidr[];
  readonly notNets: readonly Cidr[];
  /**
   * The fully expanded positive selector (namespace part, service-account part and
   * the user's selector ANDed, §10), or undefined when the peer is not restricted by
   * selector at all. `all()` here still means "a Calico-known address".
   */
  readonly selector?: Selector;
  /** Passed through unprefixed and unscoped (§10 point 4). */
  readonly notSelector?: Selector;
  readonly ports: readonly PortRange[];
  readonly namedPorts: readonly string[];
  readonly notPorts: readonly PortRange[];
  readonly notNamedPorts: readonly string[];
  /**
   * A Kubernetes Service match. Its members come from EndpointSlices, which a
   * snapshot of Calico resources does not hold, so such a rule never matches here.
   */
  readonly services?: { readonly name: string; readonly namespace: string };
}

export interface BackendRule {
  readonly action: BackendAction;
  readonly ipVersion?: 4 | 6;
  readonly protocol?: number;
  readonly notProtocol?: number;
  readonly icmp?: IcmpMatch;
  readonly notIcmp?: IcmpMatch;
  readonly source: BackendEntityRule;
  readonly destination: BackendEntityRule;
  /** position in the v3 rule list, reported in explanations */
  readonly index: number;
}

export type PolicyKind =
  | 'GlobalNetworkPolicy'
  | 'NetworkPolicy'
  | 'StagedGlobalNetworkPolicy'
  | 'StagedNetworkPolicy'
  | 'StagedKubernetesNetworkPolicy';

export interface PolicyKey {
  readonly kind: PolicyKind;
  /** '' for cluster-scoped kinds */
  readonly namespace: string;
  readonly name: string;
}

export type StagedAction = 'Set' | 'Delete' | 'Learn' | 'Ignore';

export interface BackendPolicy {
  readonly key: PolicyKey;
  readonly tier: string;
  /** undefined sorts as +Inf */
  readonly order: number | undefined;
  /** policy selector after namespace / namespaceSelector / serviceAccountSelector scoping */
  readonly selector: Selector;
  readonly ingress: boolean;
  readonly egress: boolean;
  readonly inbound: readonly BackendRule[];
  readonly outbound: readonly BackendRule[];
  readonly staged: boolean;
  /** only for staged kinds */
  readonly stagedAction?: StagedAction;
  readonly doNotTrack: boolean;
  readonly preDNAT: boolean;
  readonly applyOnForward: boolean;
}

export interface BackendTier {
  readonly name: string;
  readonly order: number | undefined;
  readonly defaultAction: 'Deny' | 'Pass';
}

export interface BackendProfile {
  readonly name: string;
  readonly labelsToApply: Readonly<Record<string, string>>;
  readonly inbound: readonly BackendRule[];
  readonly outbound: readonly BackendRule[];
}

export interface NamedPort {
  readonly name: string;
  readonly protocol: number;
  readonly port: number;
}

export type EndpointKind = 'WorkloadEndpoint' | 'HostEndpoint';

export interface BackendEndpoint {
  readonly kind: EndpointKind;
  /** '' for host endpoints */
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
  /** own labels plus the ones Calico adds (namespace, orchestrator, serviceaccount) */
  readonly labels: Readonly<Record<string, string>>;
  readonly profiles: readonly string[];
  /** WEP ipNetworks (single addresses) or HEP expectedIPs */
  readonly addresses: readonly IpAddress[];
  readonly ports: readonly NamedPort[];
  /** host endpoints: the interface it polices; '*' = all; undefined = none */
  readonly interfaceName?: string;
}

export interface BackendNetworkSet {
  readonly kind: 'GlobalNetworkSet' | 'NetworkSet';
  readonly namespace: string;
  readonly name: string;
  /** own labels plus `projectcalico.org/namespace` for namespaced sets */
  readonly labels: Readonly<Record<string, string>>;
  readonly nets: readonly Cidr[];
}

export interface FailsafePort {
  readonly protocol: number;
  readonly port: number;
  readonly net?: Cidr;
}

export type EndpointToHostAction = 'Drop' | 'Return' | 'Accept';

export interface HostConfig {
  readonly failsafeInbound: readonly FailsafePort[];
  readonly failsafeOutbound: readonly FailsafePort[];
  readonly defaultEndpointToHostAction: EndpointToHostAction;
}

export const LABEL_NAMESPACE = 'projectcalico.org/namespace';
export const LABEL_ORCHESTRATOR = 'projectcalico.org/orchestrator';
export const LABEL_SERVICE_ACCOUNT = 'projectcalico.org/serviceaccount';
export const LABEL_NAME = 'projectcalico.org/name';
export const NAMESPACE_LABEL_PREFIX = 'pcns.';
export const SERVICE_ACCOUNT_LABEL_PREFIX = 'pcsa.';
export const NAMESPACE_PROFILE_PREFIX = 'kns.';
export const SERVICE_ACCOUNT_PROFILE_PREFIX = 'ksa.';
export const K8S_POLICY_PREFIX = 'knp.default.';
export const K8S_POLICY_ORDER = 1000;

export function policyKeyString(key: PolicyKey): string {
  return key.namespace === '' ? key.name : `${key.namespace}/${key.name}`;
}

export function endpointKeyString(ep: { kind: string; namespace: string; name: string }): string {
  return ep.namespace === '' ? `${ep.kind}/${ep.name}` : `${ep.kind}/${ep.namespace}/${ep.name}`;
}
