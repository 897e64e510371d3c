// Ordering (calico-semantics.md §6, §7): tiers by (order ?? +Inf, name); policies
// within a tier by (order ?? +Inf, name, namespace, kind), as Felix's PolKVLess.
import type { BackendPolicy, BackendTier, Direction } from './model.js';

function orderValue(o: number | undefined): number {
  return o === undefined ? Number.POSITIVE_INFINITY : o;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareTiers(a: BackendTier, b: BackendTier): number {
  const oa = orderValue(a.order);
  const ob = orderValue(b.order);
  if (oa !== ob) return oa < ob ? -1 : 1;
  return compareStrings(a.name, b.name);
}

export function comparePolicies(a: BackendPolicy, b: BackendPolicy): number {
  const oa = orderValue(a.order);
  const ob = orderValue(b.order);
  if (oa !== ob) return oa < ob ? -1 : 1;
  return (
    compareStrings(a.key.name, b.key.name) ||
    compareStrings(a.key.namespace, b.key.namespace) ||
    compareStrings(a.key.kind, b.key.kind)
  );
}

/** A sorted copy; nil order sorts last (assumed to match the policy rule, §6). */
export function sortTiers<T extends BackendTier>(tiers: Iterable<T>): T[] {
  return [...tiers].sort(compareTiers);
}

/** A sorted copy by order (nil = +Inf), then name, namespace and kind. */
export function sortPolicies<T extends BackendPolicy>(policies: Iterable<T>): T[] {
  return [...policies].sort(comparePolicies);
}

/**
 * Which chain a policy is rendered into. Workload endpoints and the normal host
 * chains get neither untracked nor preDNAT policies (those live in the raw and
 * mangle tables and only ever apply to host endpoints); forward chains get only
 * applyOnForward policies.
 */
export type PolicyChain = 'normal' | 'forward' | 'untracked' | 'preDNAT';

export function policyInChain(p: BackendPolicy, chain: PolicyChain, direction: Direction): boolean {
  switch (chain) {
    case 'normal':
      return !p.doNotTrack && !p.preDNAT;
    case 'forward':
      return p.applyOnForward && !p.doNotTrack && !p.preDNAT;
    case 'untracked':
      return p.doNotTrack;
    case 'preDNAT':
      return p.preDNAT && direction === 'ingress';
  }
}

export function governs(p: BackendPolicy, direction: Direction): boolean {
  return direction === 'ingress' ? p.ingress : p.egress;
}

export interface TierPolicies<P extends BackendPolicy = BackendPolicy> {
  readonly tier: BackendTier;
  /** sorted; the enforced policies that select the endpoint and govern the direction */
  readonly policies: readonly P[];
  /** sorted; staged policies that would apply (never part of the verdict) */
  readonly staged: readonly P[];
}

export interface PoliciesForEndpointOptions {
  /** default 'normal' */
  readonly chain?: PolicyChain;
}

/**
 * The tiers that apply to an endpoint in one direction, in evaluation order, each
 * with its applicable policies in order (§7 step 5). A tier appears when at least
 * one enforced or staged policy in it applies; a tier with only staged policies has
 * an empty `policies` list and never decides a verdict. Policies naming a tier that
 * does not exist are ignored, as Felix ignores them.
 */
export function policiesForEndpoint<P extends BackendPolicy>(
  tiers: ReadonlyMap<string, BackendTier> | Iterable<BackendTier>,
  policies: Iterable<P>,
  labels: Readonly<Record<string, string>>,
  direction: Direction,
  options: PoliciesForEndpointOptions = {},
): TierPolicies<P>[] {
  const chain = options.chain ?? 'normal';
  const tierMap =
    tiers instanceof Map
      ? (tiers as ReadonlyMap<string, BackendTier>)
      : new Map([...(tiers as Iterable<BackendTier>)].map((t) => [t.name, t]));
  const byTier = new Map<string, { enforced: P[]; staged: P[] }>();
  for (const p of policies) {
    if (!governs(p, direction) || !policyInChain(p, chain, direction)) continue;
    if (!tierMap.has(p.tier)) continue;
    if (!p.selector.matches(labels)) continue;
    let g = byTier.get(p.tier);
    if (g === undefined) {
      g = { enforced: [], staged: [] };
      byTier.set(p.tier, g);
    }
    (p.staged ? g.staged : g.enforced).push(p);
  }
  const out: TierPolicies<P>[] = [];
  for (const tier of sortTiers([...byTier.keys()].map((n) => tierMap.get(n)!))) {
    const g = byTier.get(tier.name)!;
    out.push({ tier, policies: sortPolicies(g.enforced), staged: sortPolicies(g.staged) });
  }
  return out;
}
