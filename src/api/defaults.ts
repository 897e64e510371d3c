// Calico's defaulting (calico-semantics.md §2, §6): applied after validation, on a
// copy, only ever filling fields the user left out (or left empty where Calico
// treats empty as unset). Protocol names are the one rewrite: Calico parses them
// case-insensitively and stores the canonical spelling.
import type { BGPConfiguration } from './bgp.js';
import type { KubeControllersConfiguration, ProtoPort } from './config.js';
import { canonicalProtocol, isProblem, tryParseStrictCidr } from './formats.js';
import { DEFAULT_BLOCK_SIZE, type IPAMConfiguration, type IPPool, type IPPoolUse } from './ipam.js';
import type { K8sNetworkPolicy } from './k8s.js';
import type { AnyResource } from './kinds.js';
import { type PolicyType, RESERVED_TIERS, type Tier } from './policy.js';
import type { Rule } from './rules.js';

export const DEFAULT_TIER = 'default';
export const DEFAULT_ALLOWED_USES: readonly IPPoolUse[] = ['Workload', 'Tunnel'];
export const BGP_DEFAULTS = {
  nodeToNodeMeshEnabled: true,
  asNumber: 64512,
  listenPort: 179,
  logSeverityScreen: 'Info',
} as const;
export const IPAM_CONFIG_DEFAULTS = {
  strictAffinity: false,
  maxBlocksPerHost: 0,
  autoAllocateBlocks: true,
} as const;
/** Felix's failsafeInboundHostPorts and failsafeOutboundHostPorts when the user sets none. */
export const FELIX_FAILSAFE_INBOUND_DEFAULT: readonly ProtoPort[] = protoPorts(
  'TCP:22 UDP:68 TCP:179 TCP:2379 TCP:2380 TCP:5473 TCP:6443 TCP:6666 TCP:6667',
);
export const FELIX_FAILSAFE_OUTBOUND_DEFAULT: readonly ProtoPort[] = protoPorts(
  'UDP:53 UDP:67 TCP:179 TCP:2379 TCP:2380 TCP:5473 TCP:6443 TCP:6666 TCP:6667',
);

function protoPorts(list: string): ProtoPort[] {
  return list.split(' ').map((entry) => {
    const [protocol, port] = entry.split(':') as [ProtoPort['protocol'], string];
    return Object.freeze({ protocol, port: Number(port) });
  });
}
export const KUBE_CONTROLLERS_DEFAULTS = {
  healthChecks: 'Enabled',
  etcdV3CompactionPeriod: '10m',
  prometheusMetricsPort: 9094,
  reconcilerPeriod: '5m',
  leakGracePeriod: '15m',
} as const;

function normaliseRules(rules: Rule[] | undefined): void {
  for (const r of rules ?? []) {
    for (const f of ['protocol', 'notProtocol'] as const) {
      const p = r[f];
      if (p === undefined) continue;
      const c = canonicalProtocol(p);
      if (c !== undefined) r[f] = c;
    }
  }
}

/** Calico's `types` defaulting: Ingress unless only egress rules exist, both if both. */
export function defaultPolicyTypes(
  ingress: unknown[] | undefined,
  egress: unknown[] | undefined,
): PolicyType[] {
  const hasIn = (ingress?.length ?? 0) > 0;
  const hasEg = (egress?.length ?? 0) > 0;
  if (hasIn && hasEg) return ['Ingress', 'Egress'];
  if (hasEg) return ['Egress'];
  return ['Ingress'];
}

interface PolicySpecLike {
  tier?: string | undefined;
  types?: PolicyType[] | undefined;
  ingress?: Rule[] | undefined;
  egress?: Rule[] | undefined;
  stagedAction?: string | undefined;
}

function defaultPolicySpec(spec: PolicySpecLike, staged: boolean): void {
  if (staged && spec.stagedAction === undefined) spec.stagedAction = 'Set';
  if (spec.tier === undefined || spec.tier === '') spec.tier = DEFAULT_TIER;
  // A staged Delete names a policy and its tier; anything more would make it invalid.
  if (spec.stagedAction === 'Delete') return;
  if (spec.types === undefined || spec.types.length === 0)
    spec.types = defaultPolicyTypes(spec.ingress, spec.egress);
  normaliseRules(spec.ingress);
  normaliseRules(spec.egress);
}

type K8sSpecLike = Partial<K8sNetworkPolicy['spec']> & { stagedAction?: string | undefined };

/** What the Kubernetes API server fills in for a NetworkPolicy. */
function defaultK8sPolicySpec(spec: K8sSpecLike): void {
  if (spec.policyTypes === undefined || spec.policyTypes.length === 0) {
    spec.policyTypes = (spec.egress?.length ?? 0) > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
  }
  for (const r of [...(spec.ingress ?? []), ...(spec.egress ?? [])]) {
    for (const p of r.ports ?? []) if (p.protocol === undefined) p.protocol = 'TCP';
  }
}

function defaultTier(t: Tier): void {
  const reserved = Object.hasOwn(RESERVED_TIERS, t.metadata.name)
    ? RESERVED_TIERS[t.metadata.name]
    : undefined;
  if (t.spec.defaultAction === undefined) t.spec.defaultAction = reserved?.defaultAction ?? 'Deny';
  if (t.spec.order === undefined && reserved !== undefined) t.spec.order = reserved.order;
}

function defaultPool(p: IPPool): void {
  const s = p.spec;
  const c = tryParseStrictCidr(s.cidr);
  if (s.blockSize === undefined && !isProblem(c)) s.blockSize = DEFAULT_BLOCK_SIZE[c.family];
  if (s.nodeSelector === undefined || s.nodeSelector.trim() === '') s.nodeSelector = 'all()';
  if (s.allowedUses === undefined || s.allowedUses.length === 0)
    s.allowedUses = [...DEFAULT_ALLOWED_USES];
  if (s.ipipMode === undefined) s.ipipMode = 'Never';
  if (s.vxlanMode === undefined) s.vxlanMode = 'Never';
  if (s.assignmentMode === undefined) s.assignmentMode = 'Automatic';
}

function defaultIpamConfig(c: IPAMConfiguration): void {
  const s = c.spec;
  s.strictAffinity ??= IPAM_CONFIG_DEFAULTS.strictAffinity;
  s.maxBlocksPerHost ??= IPAM_CONFIG_DEFAULTS.maxBlocksPerHost;
  s.autoAllocateBlocks ??= IPAM_CONFIG_DEFAULTS.autoAllocateBlocks;
}

/**
 * Only the cluster-wide `default` resource gets the global defaults: a per-node
 * `node.<name>` resource overrides field by field, so filling it would mask the
 * global values.
 */
function defaultBgpConfig(b: BGPConfiguration): void {
  if (b.metadata.name !== 'default') return;
  const s = b.spec;
  s.nodeToNodeMeshEnabled ??= BGP_DEFAULTS.nodeToNodeMeshEnabled;
  s.asNumber ??= BGP_DEFAULTS.asNumber;
  s.listenPort ??= BGP_DEFAULTS.listenPort;
  s.logSeverityScreen ??= BGP_DEFAULTS.logSeverityScreen;
}

/** A controller runs only when its section is present, so sections are never added. */
function defaultKubeControllers(k: KubeControllersConfiguration): void {
  const s = k.spec;
  s.healthChecks ??= KUBE_CONTROLLERS_DEFAULTS.healthChecks;
  s.etcdV3CompactionPeriod ??= KUBE_CONTROLLERS_DEFAULTS.etcdV3CompactionPeriod;
  s.prometheusMetricsPort ??= KUBE_CONTROLLERS_DEFAULTS.prometheusMetricsPort;
  const c = s.controllers;
  if (c === undefined) return;
  for (const section of [c.node, c.policy, c.workloadEndpoint, c.serviceAccount, c.namespace]) {
    if (section !== undefined)
      section.reconcilerPeriod ??= KUBE_CONTROLLERS_DEFAULTS.reconcilerPeriod;
  }
  if (c.node !== undefined) c.node.leakGracePeriod ??= KUBE_CONTROLLERS_DEFAULTS.leakGracePeriod;
}

function normalisePorts(ports: { protocol: string | number }[] | undefined): void {
  for (const p of ports ?? []) p.protocol = canonicalProtocol(p.protocol) ?? p.protocol;
}

/**
 * Calico's defaults for one valid resource, returned as a new object; the input is
 * not modified. Unknown-but-kept fields (annotations, status, extra metadata) pass
 * through untouched.
 */
export function applyDefaults<T extends AnyResource>(resource: T): T {
  const r = structuredClone(resource) as AnyResource;
  if (r.apiVersion === 'networking.k8s.io/v1') {
    defaultK8sPolicySpec(r.spec);
    return r as T;
  }
  switch (r.kind) {
    case 'GlobalNetworkPolicy':
    case 'NetworkPolicy':
      defaultPolicySpec(r.spec, false);
      break;
    case 'StagedGlobalNetworkPolicy':
    case 'StagedNetworkPolicy':
      defaultPolicySpec(r.spec, true);
      break;
    case 'StagedKubernetesNetworkPolicy':
      r.spec.stagedAction ??= 'Set';
      if (r.spec.stagedAction !== 'Delete') defaultK8sPolicySpec(r.spec);
      break;
    case 'Profile':
      normaliseRules(r.spec.ingress);
      normaliseRules(r.spec.egress);
      break;
    case 'Tier':
      defaultTier(r);
      break;
    case 'IPPool':
      defaultPool(r);
      break;
    case 'IPAMConfiguration':
      defaultIpamConfig(r);
      break;
    case 'BGPConfiguration':
      defaultBgpConfig(r);
      break;
    case 'KubeControllersConfiguration':
      defaultKubeControllers(r);
      break;
    case 'HostEndpoint':
    case 'WorkloadEndpoint':
      normalisePorts(r.spec.ports);
      break;
    default:
      break;
  }
  return r as T;
}
