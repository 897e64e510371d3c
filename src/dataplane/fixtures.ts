// Builders for DesiredState pieces, for tests and benchmarks (the calc graph normally
// produces these). Kept here so tests and bench/dataplane.ts share one vocabulary.
import type {
  DesiredStateUpdate,
  EndpointMatch,
  EndpointTier,
  HostEndpointState,
  PolicyProgram,
  ProfileProgram,
  RuleProgram,
  WorkloadEndpointState,
} from '../calc/index.js';

let ruleSeq = 0;

export function rule(action: RuleProgram['action'], more: Partial<RuleProgram> = {}): RuleProgram {
  return {
    id: more.id ?? `r${ruleSeq++}`,
    action,
    src: more.src ?? {},
    dst: more.dst ?? {},
    ...more,
  };
}

export const TCP = 6;
export const UDP = 17;
export const ICMP = 1;
export const ICMPV6 = 58;

export function ports(...ps: number[]): EndpointMatch['ports'] {
  return ps.map((p) => ({ first: p, last: p }));
}

export function policy(
  id: string,
  inbound: RuleProgram[],
  outbound: RuleProgram[] = [],
  more: Partial<PolicyProgram> = {},
): PolicyProgram {
  return {
    id,
    tier: more.tier ?? 'default',
    inbound,
    outbound,
    untracked: more.untracked ?? false,
    preDnat: more.preDnat ?? false,
    applyOnForward: more.applyOnForward ?? false,
  };
}

export function profile(
  id: string,
  inbound: RuleProgram[],
  outbound: RuleProgram[],
): ProfileProgram {
  return { id, inbound, outbound };
}

export function tier(
  name: string,
  ingressPolicies: string[],
  egressPolicies: string[] = [],
  defaultAction: EndpointTier['defaultAction'] = 'Deny',
): EndpointTier {
  return { name, defaultAction, ingressPolicies, egressPolicies };
}

export function workload(
  id: string,
  interfaceName: string,
  v4: string | undefined,
  v6: string | undefined,
  more: Partial<WorkloadEndpointState> = {},
): WorkloadEndpointState {
  return {
    id,
    interfaceName,
    ipv4Nets: v4 ? [`${v4}/32`] : [],
    ipv6Nets: v6 ? [`${v6}/128`] : [],
    allowSpoofedSourcePrefixes: more.allowSpoofedSourcePrefixes ?? [],
    tiers: more.tiers ?? [],
    profileIds: more.profileIds ?? [],
    adminUp: more.adminUp ?? true,
  };
}

export function hostEndpoint(
  id: string,
  interfaceName: string,
  more: Partial<HostEndpointState> = {},
): HostEndpointState {
  return {
    id,
    interfaceName,
    expectedIpv4Addrs: more.expectedIpv4Addrs ?? [],
    expectedIpv6Addrs: more.expectedIpv6Addrs ?? [],
    profileIds: more.profileIds ?? [],
    tiers: more.tiers ?? [],
    untrackedTiers: more.untrackedTiers ?? [],
    preDnatTiers: more.preDnatTiers ?? [],
    forwardTiers: more.forwardTiers ?? [],
  };
}

/** Updates in the calc graph's sequencing order (sets, policies, profiles, endpoints). */
export function updatesFor(parts: {
  config?: Record<string, unknown>;
  ipSets?: { id: string; type?: 'net' | 'ip-port'; members: string[] }[];
  policies?: PolicyProgram[];
  profiles?: ProfileProgram[];
  workloads?: WorkloadEndpointState[];
  hostEndpoints?: HostEndpointState[];
  pools?: { cidr: string; natOutgoing?: boolean }[];
  inSync?: boolean;
}): DesiredStateUpdate[] {
  const u: DesiredStateUpdate[] = [];
  if (parts.config) u.push({ type: 'config', config: parts.config });
  for (const s of parts.ipSets ?? [])
    u.push({ type: 'ipSetUpdate', id: s.id, setType: s.type ?? 'net', members: s.members });
  for (const p of parts.policies ?? []) u.push({ type: 'policyUpdate', policy: p });
  for (const p of parts.profiles ?? []) u.push({ type: 'profileUpdate', profile: p });
  for (const w of parts.workloads ?? []) {
    u.push({ type: 'workloadEndpointUpdate', endpoint: w });
    for (const net of [...w.ipv4Nets, ...w.ipv6Nets])
      u.push({
        type: 'routeUpdate',
        route: { dst: net, type: 'local-workload', interfaceName: w.interfaceName },
      });
  }
  for (const h of parts.hostEndpoints ?? []) u.push({ type: 'hostEndpointUpdate', endpoint: h });
  for (const p of parts.pools ?? [])
    u.push({
      type: 'poolUpdate',
      pool: {
        cidr: p.cidr,
        natOutgoing: p.natOutgoing ?? false,
        disabled: false,
        disableBGPExport: false,
      },
    });
  if (parts.inSync !== false) u.push({ type: 'inSync' });
  return u;
}

/** A profile that allows everything both ways (like Kubernetes' `kns.<namespace>`). */
export const ALLOW_ALL_PROFILE = profile(
  'kns.default',
  [rule('allow', { id: 'in' })],
  [rule('allow', { id: 'out' })],
);
