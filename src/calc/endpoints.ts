// Pure pieces shared by the incremental graph and the from-scratch oracle: effective
// labels, the tier set, and a local endpoint's desired state from the policies that
// select it. Ordering is policy's (policiesForEndpoint, sortTiers): one source of truth.
import {
  type BackendPolicy,
  type BackendProfile,
  type BackendTier,
  type PolicyChain,
  policiesForEndpoint,
  RESERVED_TIERS,
  sortTiers,
} from '../policy/index.js';
import type { EndpointTier, HostEndpointState, WorkloadEndpointState } from './desired-state.js';
import type { EndpointInput } from './resources.js';
import { policyIdOf } from './rules.js';
import type { Labels } from './selectors.js';

/**
 * Effective labels (calico-semantics.md §9), the same result as policy's
 * `effectiveLabels`. Written here with a property loop because adding keys to a
 * spread copy falls off V8's fast path (about 10 µs per object), which at a million
 * endpoints is the whole time budget; and when no profile adds a key the own labels
 * are returned as they are, so most label sets are never copied.
 */
export function mergeLabels(
  own: Labels,
  profiles: readonly (BackendProfile | undefined)[],
): Labels {
  let out: Record<string, string> | undefined;
  for (const p of profiles) {
    if (p === undefined) continue;
    const extra = p.labelsToApply;
    for (const k in extra) {
      if (Object.hasOwn(own, k) || (out !== undefined && Object.hasOwn(out, k))) continue;
      if (out === undefined) {
        out = {};
        for (const ok in own) out[ok] = own[ok]!;
      }
      out[k] = extra[k]!;
    }
  }
  return out ?? own;
}

export function sameLabels(a: Labels, b: Labels): boolean {
  if (a === b) return true;
  let n = 0;
  for (const k in a) {
    if (b[k] !== a[k] || !Object.hasOwn(b, k)) return false;
    n++;
  }
  for (const _ in b) n--;
  return n === 0;
}

/**
 * The tiers in force: Calico's reserved tiers always exist with their fixed values
 * (a user Tier of a reserved name can only restate them, as policy's Snapshot
 * treats it); other tiers exist while their resource does.
 */
export function effectiveTiers(userTiers: Iterable<BackendTier>): Map<string, BackendTier> {
  const out = new Map<string, BackendTier>();
  for (const t of userTiers) out.set(t.name, t);
  for (const t of RESERVED_TIERS) out.set(t.name, t);
  return out;
}

/** Ingress and egress tier lists of one chain, merged per tier, in tier order. */
export function endpointTiers(
  tiers: ReadonlyMap<string, BackendTier>,
  policies: readonly BackendPolicy[],
  labels: Labels,
  chain: PolicyChain,
): EndpointTier[] {
  if (policies.length === 0) return [];
  const ingress = policiesForEndpoint(tiers, policies, labels, 'ingress', { chain });
  const egress = policiesForEndpoint(tiers, policies, labels, 'egress', { chain });
  const byName = new Map<string, { tier: BackendTier; in: string[]; out: string[] }>();
  const slot = (t: BackendTier) => {
    let s = byName.get(t.name);
    if (s === undefined) {
      s = { tier: t, in: [], out: [] };
      byName.set(t.name, s);
    }
    return s;
  };
  for (const tp of ingress) {
    if (tp.policies.length > 0) slot(tp.tier).in.push(...tp.policies.map((p) => policyIdOf(p.key)));
  }
  for (const tp of egress) {
    if (tp.policies.length > 0)
      slot(tp.tier).out.push(...tp.policies.map((p) => policyIdOf(p.key)));
  }
  return sortTiers([...byName.values()].map((s) => s.tier)).map((t) => {
    const s = byName.get(t.name)!;
    return {
      name: t.name,
      defaultAction: t.defaultAction,
      ingressPolicies: s.in,
      egressPolicies: s.out,
    };
  });
}

export type LocalEndpointState =
  | { readonly kind: 'workload'; readonly state: WorkloadEndpointState }
  | { readonly kind: 'host'; readonly state: HostEndpointState };

/** A local endpoint's desired state, given the (non-staged) policies whose selector matches it. */
export function localEndpointState(
  ep: EndpointInput,
  labels: Labels,
  matched: readonly BackendPolicy[],
  tiers: ReadonlyMap<string, BackendTier>,
): LocalEndpointState {
  const b = ep.backend;
  const v4 = ep.nets.filter((n) => !n.includes(':'));
  const v6 = ep.nets.filter((n) => n.includes(':'));
  if (b.kind === 'WorkloadEndpoint') {
    return {
      kind: 'workload',
      state: {
        id: `${b.namespace}/${b.name}`,
        interfaceName: b.interfaceName ?? '',
        ...(ep.mac !== undefined ? { mac: ep.mac } : {}),
        ipv4Nets: v4,
        ipv6Nets: v6,
        allowSpoofedSourcePrefixes: ep.allowSpoofedSourcePrefixes,
        tiers: endpointTiers(tiers, matched, labels, 'normal'),
        profileIds: b.profiles,
        adminUp: true,
      },
    };
  }
  return {
    kind: 'host',
    state: {
      id: b.name,
      interfaceName: b.interfaceName ?? '',
      expectedIpv4Addrs: ep.addrs.filter((a) => !a.includes(':')),
      expectedIpv6Addrs: ep.addrs.filter((a) => a.includes(':')),
      profileIds: b.profiles,
      tiers: endpointTiers(tiers, matched, labels, 'normal'),
      untrackedTiers: endpointTiers(tiers, matched, labels, 'untracked'),
      preDnatTiers: endpointTiers(tiers, matched, labels, 'preDNAT'),
      forwardTiers: endpointTiers(tiers, matched, labels, 'forward'),
    },
  };
}

/** Network sets inherit their namespace profile's labels (policy's Snapshot, §2). */
export function networkSetProfiles(kind: string, namespace: string): string[] {
  return kind === 'NetworkSet' ? [`kns.${namespace}`] : [];
}
