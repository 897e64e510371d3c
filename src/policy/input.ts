// The v3 and Kubernetes resource shapes the engine reads. They are deliberately
// loose (every field optional, plain JSON values) so that objects validated by
// src/api, parsed straight from YAML, or built in tests are all accepted; the
// conversion layer checks each value it interprets and names the field when it
// is wrong.

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface ResourceLike {
  apiVersion?: string;
  kind: string;
  metadata?: ObjectMeta;
  spec?: unknown;
}

export type V3Action = 'Allow' | 'Deny' | 'Log' | 'Pass';
export type V3Port = number | string;
export type V3Protocol = number | string;

export interface V3ICMPFields {
  type?: number;
  code?: number;
}

export interface V3ServiceAccountMatch {
  names?: string[];
  selector?: string;
}

export interface V3EntityRule {
  nets?: string[];
  notNets?: string[];
  selector?: string;
  notSelector?: string;
  namespaceSelector?: string;
  ports?: V3Port[];
  notPorts?: V3Port[];
  serviceAccounts?: V3ServiceAccountMatch;
  services?: { name: string; namespace?: string };
}

export interface V3Rule {
  action: V3Action | string;
  ipVersion?: number;
  protocol?: V3Protocol;
  notProtocol?: V3Protocol;
  icmp?: V3ICMPFields;
  notICMP?: V3ICMPFields;
  source?: V3EntityRule;
  destination?: V3EntityRule;
  http?: unknown;
  metadata?: unknown;
}

export type V3PolicyType = 'Ingress' | 'Egress';

export interface V3PolicySpec {
  tier?: string;
  order?: number | null;
  selector?: string;
  namespaceSelector?: string;
  serviceAccountSelector?: string;
  types?: (V3PolicyType | string)[];
  ingress?: V3Rule[];
  egress?: V3Rule[];
  doNotTrack?: boolean;
  preDNAT?: boolean;
  applyOnForward?: boolean;
  stagedAction?: 'Set' | 'Delete' | 'Learn' | 'Ignore' | string;
  performanceHints?: string[];
}

export interface V3TierSpec {
  order?: number | null;
  defaultAction?: 'Deny' | 'Pass' | string;
}

export interface V3ProfileSpec {
  ingress?: V3Rule[];
  egress?: V3Rule[];
  labelsToApply?: Record<string, string>;
}

export interface V3EndpointPort {
  name: string;
  protocol?: V3Protocol;
  port: number;
  hostPort?: number;
  hostIP?: string;
}

export interface V3WorkloadEndpointSpec {
  orchestrator?: string;
  workload?: string;
  node?: string;
  containerID?: string;
  pod?: string;
  endpoint?: string;
  serviceAccountName?: string;
  ipNetworks?: string[];
  profiles?: string[];
  interfaceName?: string;
  ports?: V3EndpointPort[];
}

export interface V3HostEndpointSpec {
  node?: string;
  interfaceName?: string;
  expectedIPs?: string[];
  profiles?: string[];
  ports?: V3EndpointPort[];
}

export interface V3NetworkSetSpec {
  nets?: string[];
}

export interface V3ProtoPort {
  protocol: string;
  port: number;
  net?: string;
}

export interface V3FelixConfigurationSpec {
  failsafeInboundHostPorts?: V3ProtoPort[] | null;
  failsafeOutboundHostPorts?: V3ProtoPort[] | null;
  defaultEndpointToHostAction?: 'Drop' | 'Return' | 'Accept' | string;
}

// --- Kubernetes (networking.k8s.io/v1, v1) ---

export interface K8sLabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | string;
  values?: string[];
}

export interface K8sLabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: K8sLabelSelectorRequirement[];
}

export interface K8sIPBlock {
  cidr: string;
  except?: string[];
}

export interface K8sNetworkPolicyPeer {
  podSelector?: K8sLabelSelector | null;
  namespaceSelector?: K8sLabelSelector | null;
  ipBlock?: K8sIPBlock | null;
}

export interface K8sNetworkPolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}

export interface K8sNetworkPolicyIngressRule {
  from?: K8sNetworkPolicyPeer[] | null;
  ports?: K8sNetworkPolicyPort[] | null;
}

export interface K8sNetworkPolicyEgressRule {
  to?: K8sNetworkPolicyPeer[] | null;
  ports?: K8sNetworkPolicyPort[] | null;
}

export interface K8sNetworkPolicySpec {
  podSelector?: K8sLabelSelector | null;
  policyTypes?: ('Ingress' | 'Egress' | string)[] | null;
  ingress?: K8sNetworkPolicyIngressRule[] | null;
  egress?: K8sNetworkPolicyEgressRule[] | null;
}

export interface K8sNetworkPolicyLike {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: K8sNetworkPolicySpec;
}

export interface K8sNamespaceLike {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

export interface K8sServiceAccountLike {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}
