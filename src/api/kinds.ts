// The kind registry: every kind calico-ts reads, with the names calicoctl accepts
// for it and its datastore plural (calico-dataplane.md §14).

import {
  type BGPConfiguration,
  BGPConfigurationSchema,
  type BGPFilter,
  BGPFilterSchema,
  type BGPPeer,
  BGPPeerSchema,
  type Node,
  NodeSchema,
} from './bgp.js';
import {
  type CalicoNodeStatus,
  CalicoNodeStatusSchema,
  type ClusterInformation,
  ClusterInformationSchema,
  type FelixConfiguration,
  FelixConfigurationSchema,
  type KubeControllersConfiguration,
  KubeControllersConfigurationSchema,
} from './config.js';
import {
  type GlobalNetworkSet,
  GlobalNetworkSetSchema,
  type HostEndpoint,
  HostEndpointSchema,
  type NetworkSet,
  NetworkSetSchema,
  type WorkloadEndpoint,
  WorkloadEndpointSchema,
} from './endpoints.js';
import {
  type BlockAffinity,
  BlockAffinitySchema,
  type IPAMBlock,
  IPAMBlockSchema,
  type IPAMConfiguration,
  IPAMConfigurationSchema,
  type IPAMHandle,
  IPAMHandleSchema,
  type IPPool,
  IPPoolSchema,
  type IPReservation,
  IPReservationSchema,
} from './ipam.js';
import {
  type K8sNamespace,
  K8sNamespaceSchema,
  type K8sNetworkPolicy,
  K8sNetworkPolicySchema,
} from './k8s.js';
import { API_VERSION } from './meta.js';
import {
  type GlobalNetworkPolicy,
  GlobalNetworkPolicySchema,
  type NetworkPolicy,
  NetworkPolicySchema,
  type Profile,
  ProfileSchema,
  type StagedGlobalNetworkPolicy,
  StagedGlobalNetworkPolicySchema,
  type StagedKubernetesNetworkPolicy,
  StagedKubernetesNetworkPolicySchema,
  type StagedNetworkPolicy,
  StagedNetworkPolicySchema,
  type Tier,
  TierSchema,
} from './policy.js';
import type * as z from './schema.js';

/** Calico resources by kind, for code that is generic over the kind. */
export interface CalicoResourceByKind {
  GlobalNetworkPolicy: GlobalNetworkPolicy;
  NetworkPolicy: NetworkPolicy;
  StagedGlobalNetworkPolicy: StagedGlobalNetworkPolicy;
  StagedNetworkPolicy: StagedNetworkPolicy;
  StagedKubernetesNetworkPolicy: StagedKubernetesNetworkPolicy;
  Tier: Tier;
  Profile: Profile;
  WorkloadEndpoint: WorkloadEndpoint;
  HostEndpoint: HostEndpoint;
  GlobalNetworkSet: GlobalNetworkSet;
  NetworkSet: NetworkSet;
  IPPool: IPPool;
  IPReservation: IPReservation;
  IPAMConfiguration: IPAMConfiguration;
  Node: Node;
  BGPConfiguration: BGPConfiguration;
  BGPPeer: BGPPeer;
  BGPFilter: BGPFilter;
  FelixConfiguration: FelixConfiguration;
  ClusterInformation: ClusterInformation;
  KubeControllersConfiguration: KubeControllersConfiguration;
  CalicoNodeStatus: CalicoNodeStatus;
  IPAMBlock: IPAMBlock;
  BlockAffinity: BlockAffinity;
  IPAMHandle: IPAMHandle;
}
export type CalicoKind = keyof CalicoResourceByKind;
export type CalicoResource = CalicoResourceByKind[CalicoKind];
export type K8sResource = K8sNamespace | K8sNetworkPolicy;
export type AnyResource = CalicoResource | K8sResource;

export interface KindInfo {
  kind: string;
  apiVersion: string;
  /** datastore plural, e.g. `ippools` */
  plural: string;
  /** lower-case kind */
  singular: string;
  /** further names calicoctl accepts, lower case */
  shortNames: readonly string[];
  namespaced: boolean;
  schema: z.ZodType;
}

function calico(
  kind: CalicoKind,
  plural: string,
  namespaced: boolean,
  schema: z.ZodType,
  shortNames: string[] = [],
): KindInfo {
  return {
    kind,
    apiVersion: API_VERSION,
    plural,
    singular: kind.toLowerCase(),
    shortNames,
    namespaced,
    schema,
  };
}

/** Every projectcalico.org/v3 kind, in the order calicoctl lists them. */
export const KINDS: readonly KindInfo[] = Object.freeze([
  calico('BGPConfiguration', 'bgpconfigurations', false, BGPConfigurationSchema, [
    'bgpconfig',
    'bgpconfigs',
  ]),
  calico('BGPPeer', 'bgppeers', false, BGPPeerSchema, ['bgpp', 'bgpps', 'bp', 'bps']),
  calico('BGPFilter', 'bgpfilters', false, BGPFilterSchema),
  calico('FelixConfiguration', 'felixconfigurations', false, FelixConfigurationSchema, [
    'felixconfig',
    'felixconfigs',
  ]),
  calico(
    'KubeControllersConfiguration',
    'kubecontrollersconfigurations',
    false,
    KubeControllersConfigurationSchema,
  ),
  calico('GlobalNetworkPolicy', 'globalnetworkpolicies', false, GlobalNetworkPolicySchema, [
    'gnp',
    'gnps',
    'globalpolicy',
    'globalpolicies',
  ]),
  calico(
    'StagedGlobalNetworkPolicy',
    'stagedglobalnetworkpolicies',
    false,
    StagedGlobalNetworkPolicySchema,
    ['sgnp', 'sgnps'],
  ),
  calico('GlobalNetworkSet', 'globalnetworksets', false, GlobalNetworkSetSchema, ['gns']),
  calico('HostEndpoint', 'hostendpoints', false, HostEndpointSchema, ['hep', 'heps']),
  calico('IPPool', 'ippools', false, IPPoolSchema, ['ipp', 'ipps', 'pool', 'pools']),
  calico('IPReservation', 'ipreservations', false, IPReservationSchema),
  calico('IPAMConfiguration', 'ipamconfigurations', false, IPAMConfigurationSchema, [
    'ipamconfig',
    'ipamconfigs',
  ]),
  calico('NetworkPolicy', 'networkpolicies', true, NetworkPolicySchema, [
    'cnp',
    'cnps',
    'np',
    'nps',
    'policy',
    'policies',
    'pol',
    'pols',
  ]),
  calico('StagedNetworkPolicy', 'stagednetworkpolicies', true, StagedNetworkPolicySchema, [
    'snp',
    'snps',
  ]),
  calico(
    'StagedKubernetesNetworkPolicy',
    'stagedkubernetesnetworkpolicies',
    true,
    StagedKubernetesNetworkPolicySchema,
    ['sknp', 'sknps'],
  ),
  calico('NetworkSet', 'networksets', true, NetworkSetSchema, ['netset', 'netsets']),
  calico('Node', 'nodes', false, NodeSchema, ['no', 'nos']),
  calico('Profile', 'profiles', false, ProfileSchema, ['pro', 'pros']),
  calico('Tier', 'tiers', false, TierSchema),
  calico('WorkloadEndpoint', 'workloadendpoints', true, WorkloadEndpointSchema, ['wep', 'weps']),
  calico('ClusterInformation', 'clusterinformations', false, ClusterInformationSchema, [
    'clusterinfo',
    'clusterinfos',
  ]),
  calico('CalicoNodeStatus', 'caliconodestatuses', false, CalicoNodeStatusSchema, ['cns']),
  calico('IPAMBlock', 'ipamblocks', false, IPAMBlockSchema),
  calico('BlockAffinity', 'blockaffinities', false, BlockAffinitySchema),
  calico('IPAMHandle', 'ipamhandles', false, IPAMHandleSchema),
]);

/** Kubernetes documents calico-ts reads; not addressable by calicoctl kind names. */
export const K8S_KINDS: readonly KindInfo[] = Object.freeze([
  {
    kind: 'Namespace',
    apiVersion: 'v1',
    plural: 'namespaces',
    singular: 'namespace',
    shortNames: ['ns'],
    namespaced: false,
    schema: K8sNamespaceSchema,
  },
  {
    kind: 'NetworkPolicy',
    apiVersion: 'networking.k8s.io/v1',
    plural: 'networkpolicies',
    singular: 'networkpolicy',
    shortNames: ['netpol'],
    namespaced: true,
    schema: K8sNetworkPolicySchema,
  },
]);

const byName = new Map<string, KindInfo>();
for (const k of KINDS) {
  for (const n of [k.kind.toLowerCase(), k.plural, ...k.shortNames]) {
    if (byName.has(n)) throw new Error(`kind alias "${n}" is registered twice`);
    byName.set(n, k);
  }
}

/** A Calico kind by kind, lower-case kind, plural or short name; case-insensitive. */
export function lookupKind(nameOrAlias: string): KindInfo | undefined {
  return byName.get(nameOrAlias.trim().toLowerCase());
}

/** The registered kind of a document's exact `apiVersion` and `kind` (case-sensitive, as Kubernetes). */
export function findKind(apiVersion: string, kind: string): KindInfo | undefined {
  return [...KINDS, ...K8S_KINDS].find((k) => k.apiVersion === apiVersion && k.kind === kind);
}
