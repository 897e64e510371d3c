// An immutable, indexed view of one set of resources: the backend model plus the
// indexes the evaluator needs (address -> endpoint, address -> selectable objects,
// policy candidates by required label). Building it never depends on the order in
// which resources are given: everything is keyed and sorted.

import { formatFieldError, validateAnyResource } from '../api/index.js';
import { formatIp, type IpAddress } from '../net/index.js';
import type { SelectorNode } from '../selector/index.js';
import {
  applyFelixConfiguration,
  convertHostEndpoint,
  convertNetworkSet,
  convertPolicy,
  convertProfile,
  convertTier,
  convertWorkloadEndpoint,
  DEFAULT_HOST_CONFIG,
  effectiveLabels,
  RESERVED_TIERS,
} from './convert.js';
import { PolicyError } from './errors.js';
import type { K8sNetworkPolicySpec, ResourceLike } from './input.js';
import { convertK8sNamespace, convertK8sNetworkPolicy, convertK8sServiceAccount } from './k8s.js';
import {
  type BackendEndpoint,
  type BackendNetworkSet,
  type BackendPolicy,
  type BackendProfile,
  type BackendTier,
  type Direction,
  endpointKeyString,
  type HostConfig,
  LABEL_NAMESPACE,
  NAMESPACE_PROFILE_PREFIX,
  type NamedPort,
  type PolicyKey,
  type PolicyKind,
} from './model.js';
import {
  comparePolicies,
  type PolicyChain,
  policiesForEndpoint,
  type TierPolicies,
} from './order.js';

/** Something a rule selector can select: an endpoint or a network set. */
export interface Contributor {
  readonly labels: Readonly<Record<string, string>>;
  /** named ports; empty for network sets */
  readonly ports: readonly NamedPort[];
}

export interface ResolvedEndpoint extends BackendEndpoint, Contributor {
  /** stable index into Snapshot.endpoints */
  readonly id: number;
  /** `WorkloadEndpoint/<ns>/<name>` or `HostEndpoint/<name>` */
  readonly key: string;
  /** own + Calico + inherited profile labels (§9); what every selector sees */
  readonly labels: Readonly<Record<string, string>>;
  readonly ownLabels: Readonly<Record<string, string>>;
}

export interface ResolvedNetworkSet extends BackendNetworkSet, Contributor {
  readonly key: string;
}

const K8S_GROUP = 'networking.k8s.io/';

function isK8sCore(res: ResourceLike): boolean {
  return res.apiVersion === 'v1';
}

/** Kinds that carry no policy meaning; accepted and reported as ignored. */
function flatten(resources: Iterable<unknown>, out: ResourceLike[]): ResourceLike[] {
  for (const r of resources) {
    if (r === null || typeof r !== 'object' || typeof (r as ResourceLike).kind !== 'string') {
      throw new PolicyError('INVALID_RESOURCE', `Not a resource (no kind): ${JSON.stringify(r)}`);
    }
    const res = r as ResourceLike & { items?: unknown[] };
    if (res.kind === 'List' || (res.kind.endsWith('List') && Array.isArray(res.items))) {
      flatten(res.items ?? [], out);
    } else {
      out.push(res);
    }
  }
  return out;
}

/** Index keys (label=value) one of which every matching label set must contain. */
function requiredEqualities(node: SelectorNode): string[] | undefined {
  switch (node.kind) {
    case 'eq':
      return [`${node.key}\0${node.value}`];
    case 'in':
      return node.values.map((v) => `${node.key}\0${v}`);
    case 'and': {
      let best: string[] | undefined;
      for (const op of node.operands) {
        const keys = requiredEqualities(op);
        if (keys !== undefined && (best === undefined || keys.length < best.length)) best = keys;
      }
      return best;
    }
    default:
      return undefined;
  }
}

export interface SnapshotOptions {
  /**
   * Validate and default every resource with src/api first (what `calicoctl apply`
   * would accept and store); an invalid resource throws PolicyError naming every
   * field error. Off by default so hand-built fixtures stay cheap.
   */
  readonly validate?: boolean;
}

function validated(res: ResourceLike): ResourceLike {
  // ServiceAccounts are read for their labels only; src/api has no schema for them.
  if (res.apiVersion === 'v1' && res.kind === 'ServiceAccount') return res;
  const r = validateAnyResource(res);
  if (r.ok) return r.value as ResourceLike;
  const m = res.metadata ?? {};
  const who = `${res.kind} ${m.namespace ? `${m.namespace}/` : ''}${m.name ?? '(unnamed)'}`;
  throw new PolicyError(
    'INVALID_RESOURCE',
    `${who} is invalid: ${r.errors.map(formatFieldError).join('; ')}`,
  );
}

export class Snapshot {
  readonly tiers: ReadonlyMap<string, BackendTier>;
  /** every policy, enforced and staged, sorted by tier order then policy order */
  readonly policies: readonly BackendPolicy[];
  readonly profiles: ReadonlyMap<string, BackendProfile>;
  /** sorted by key */
  readonly endpoints: readonly ResolvedEndpoint[];
  readonly networkSets: readonly ResolvedNetworkSet[];
  /** resources of kinds without policy meaning (IPPool, Node, ...), as `Kind/name` */
  readonly ignored: readonly string[];
  /** problems that do not stop evaluation (e.g. two endpoints claiming one address) */
  readonly warnings: readonly string[];
  /** whether any staged policy exists (the what-if evaluation is skipped otherwise) */
  readonly hasStaged: boolean;

  private readonly defaultHostConfig: HostConfig;
  private readonly nodeHostConfig: ReadonlyMap<string, HostConfig>;
  // BigInt map keys compare by value, so addresses need no string conversion.
  private readonly byAddressV4 = new Map<bigint, ResolvedEndpoint>();
  private readonly byAddressV6 = new Map<bigint, ResolvedEndpoint>();
  private readonly byKey = new Map<string, ResolvedEndpoint>();
  private readonly policyIndex = new Map<string, BackendPolicy[]>();
  private readonly unindexedPolicies: BackendPolicy[] = [];
  private readonly stagedByTarget = new Map<string, BackendPolicy>();
  /** memo of `applicable`, indexed by endpoint id, direction and chain */
  private readonly applicableCache: (TierPolicies[] | undefined)[] = [];
  private readonly hepsByNode = new Map<string, ResolvedEndpoint[]>();
  /** network sets by prefix length, then by the address bits above it */
  private readonly netsV4 = new Map<number, Map<bigint, ResolvedNetworkSet[]>>();
  private readonly netsV6 = new Map<number, Map<bigint, ResolvedNetworkSet[]>>();

  constructor(resources: Iterable<unknown>, options: SnapshotOptions = {}) {
    let all = flatten(resources, []);
    if (options.validate) all = all.map(validated);
    const seen = new Set<string>();
    const tiers = new Map<string, BackendTier>(RESERVED_TIERS.map((t) => [t.name, t]));
    const explicitTiers = new Set<string>();
    const policies: BackendPolicy[] = [];
    const profiles = new Map<string, BackendProfile>();
    const rawEndpoints: BackendEndpoint[] = [];
    const rawSets: BackendNetworkSet[] = [];
    const ignored: string[] = [];
    const warnings: string[] = [];
    let defaultHost: HostConfig = DEFAULT_HOST_CONFIG;
    const felixByName = new Map<string, ResourceLike>();

    const claim = (identity: string) => {
      if (seen.has(identity)) {
        throw new PolicyError(
          'DUPLICATE_RESOURCE',
          `${identity} is given more than once; a snapshot holds one version of each resource`,
        );
      }
      seen.add(identity);
    };
    const policyIdentity = (p: BackendPolicy) =>
      `${p.key.kind} ${p.key.namespace ? `${p.key.namespace}/` : ''}${p.key.name}`;

    for (const res of all) {
      const name = res.metadata?.name ?? '';
      if (isK8sCore(res) && res.kind === 'Namespace') {
        const prof = convertProfile(convertK8sNamespace(res));
        claim(`Profile ${prof.name}`);
        profiles.set(prof.name, prof);
        continue;
      }
      if (isK8sCore(res) && res.kind === 'ServiceAccount') {
        const prof = convertProfile(convertK8sServiceAccount(res));
        claim(`Profile ${prof.name}`);
        profiles.set(prof.name, prof);
        continue;
      }
      if (res.apiVersion?.startsWith(K8S_GROUP) && res.kind === 'NetworkPolicy') {
        const p = convertPolicy(convertK8sNetworkPolicy(res as never));
        claim(policyIdentity(p));
        policies.push(p);
        continue;
      }
      if (isK8sCore(res) || res.apiVersion?.startsWith(K8S_GROUP)) {
        ignored.push(`${res.kind}/${name}`);
        continue;
      }
      switch (res.kind) {
        case 'Tier': {
          const t = convertTier(res);
          claim(`Tier ${t.name}`);
          explicitTiers.add(t.name);
          tiers.set(t.name, t);
          break;
        }
        case 'GlobalNetworkPolicy':
        case 'NetworkPolicy':
        case 'StagedGlobalNetworkPolicy':
        case 'StagedNetworkPolicy': {
          const p = convertPolicy(res);
          claim(policyIdentity(p));
          policies.push(p);
          break;
        }
        case 'StagedKubernetesNetworkPolicy': {
          const spec = (res.spec ?? {}) as K8sNetworkPolicySpec & { stagedAction?: string };
          const v3 = convertK8sNetworkPolicy(
            { metadata: res.metadata ?? {}, spec },
            { staged: true, stagedAction: spec.stagedAction ?? 'Set' },
          );
          const p = convertPolicy(v3, 'StagedKubernetesNetworkPolicy');
          claim(policyIdentity(p));
          policies.push(p);
          break;
        }
        case 'Profile': {
          const prof = convertProfile(res);
          claim(`Profile ${prof.name}`);
          profiles.set(prof.name, prof);
          break;
        }
        case 'WorkloadEndpoint': {
          const ep = convertWorkloadEndpoint(res);
          claim(endpointKeyString(ep));
          rawEndpoints.push(ep);
          break;
        }
        case 'HostEndpoint': {
          const ep = convertHostEndpoint(res);
          claim(endpointKeyString(ep));
          rawEndpoints.push(ep);
          break;
        }
        case 'GlobalNetworkSet':
        case 'NetworkSet': {
          const s = convertNetworkSet(res);
          claim(endpointKeyString(s));
          rawSets.push(s);
          break;
        }
        case 'FelixConfiguration': {
          claim(`FelixConfiguration ${name}`);
          felixByName.set(name, res);
          break;
        }
        default:
          ignored.push(`${res.kind}/${name}`);
      }
    }
    // Reserved tiers keep the values Calico's validator enforces; a user Tier of
    // that name may only restate them.
    for (const t of RESERVED_TIERS) {
      if (explicitTiers.has(t.name)) {
        const given = tiers.get(t.name)!;
        if (given.order !== t.order || given.defaultAction !== t.defaultAction) {
          warnings.push(
            `Tier ${t.name} is reserved (order ${t.order}, defaultAction ${t.defaultAction}); the given values are ignored`,
          );
          tiers.set(t.name, t);
        }
      }
    }
    const defaultFelix = felixByName.get('default');
    if (defaultFelix !== undefined)
      defaultHost = applyFelixConfiguration(defaultHost, defaultFelix);
    const nodeHostConfig = new Map<string, HostConfig>();
    for (const [n, res] of felixByName) {
      if (n.startsWith('node.')) {
        nodeHostConfig.set(n.slice(5), applyFelixConfiguration(defaultHost, res));
      }
    }
    this.defaultHostConfig = defaultHost;
    this.nodeHostConfig = nodeHostConfig;

    for (const p of policies) {
      const rules = [...p.inbound, ...p.outbound];
      if (rules.some((r) => r.source.services || r.destination.services)) {
        warnings.push(
          `${p.key.kind} ${p.key.namespace ? `${p.key.namespace}/` : ''}${p.key.name} has rules matching Kubernetes Services; without EndpointSlices those rules never match`,
        );
      }
      if (!tiers.has(p.tier)) {
        warnings.push(
          `${p.key.kind} ${p.key.namespace ? `${p.key.namespace}/` : ''}${p.key.name} names tier ${JSON.stringify(p.tier)}, which does not exist; it is ignored`,
        );
      }
    }
    policies.sort((a, b) => {
      const ta = tiers.get(a.tier);
      const tb = tiers.get(b.tier);
      if (ta !== tb) {
        if (ta === undefined) return 1;
        if (tb === undefined) return -1;
        const oa = ta.order ?? Number.POSITIVE_INFINITY;
        const ob = tb.order ?? Number.POSITIVE_INFINITY;
        if (oa !== ob) return oa < ob ? -1 : 1;
        return ta.name < tb.name ? -1 : 1;
      }
      return comparePolicies(a, b);
    });
    this.tiers = tiers;
    this.policies = policies;
    this.hasStaged = policies.some((p) => p.staged);
    this.profiles = profiles;

    for (const p of policies) {
      const keys = requiredEqualities(p.selector.ast);
      if (keys === undefined) {
        this.unindexedPolicies.push(p);
      } else {
        for (const k of keys) {
          let list = this.policyIndex.get(k);
          if (list === undefined) {
            list = [];
            this.policyIndex.set(k, list);
          }
          list.push(p);
        }
      }
      if (p.staged) {
        const target = stagedTarget(p.key);
        if (target !== undefined) this.stagedByTarget.set(policyKeyId(target), p);
      }
    }

    const profileList = (names: readonly string[]) => names.map((n) => profiles.get(n));
    const keyed = rawEndpoints.map((ep) => ({ ep, key: endpointKeyString(ep) }));
    keyed.sort((a, b) => cmp(a.key, b.key));
    this.endpoints = keyed.map(({ ep, key }, id) => {
      const r: ResolvedEndpoint = {
        ...ep,
        id,
        key,
        ownLabels: ep.labels,
        labels: effectiveLabels(ep.labels, profileList(ep.profiles)),
      };
      return r;
    });
    for (const ep of this.endpoints) {
      this.byKey.set(ep.key, ep);
      for (const a of ep.addresses) {
        const byAddress = a.family === 4 ? this.byAddressV4 : this.byAddressV6;
        const prev = byAddress.get(a.value);
        if (prev === undefined) byAddress.set(a.value, ep);
        else
          warnings.push(
            `${formatIp(a)} belongs to both ${prev.key} and ${ep.key}; flows are attributed to ${prev.key}`,
          );
      }
      if (ep.kind === 'HostEndpoint') {
        let list = this.hepsByNode.get(ep.node);
        if (list === undefined) {
          list = [];
          this.hepsByNode.set(ep.node, list);
        }
        list.push(ep);
      }
    }
    rawSets.sort((a, b) => cmp(endpointKeyString(a), endpointKeyString(b)));
    this.networkSets = rawSets.map((s) => {
      // Namespaced sets inherit the namespace profile's labels (§2).
      const inherited =
        s.kind === 'NetworkSet'
          ? effectiveLabels(s.labels, [profiles.get(NAMESPACE_PROFILE_PREFIX + s.namespace)])
          : s.labels;
      return { ...s, key: endpointKeyString(s), labels: inherited, ports: [] };
    });
    for (const set of this.networkSets) {
      for (const n of set.nets) {
        const byLen = n.family === 4 ? this.netsV4 : this.netsV6;
        let table = byLen.get(n.prefixLength);
        if (table === undefined) {
          table = new Map();
          byLen.set(n.prefixLength, table);
        }
        const key = n.address >> BigInt((n.family === 4 ? 32 : 128) - n.prefixLength);
        const list = table.get(key);
        if (list === undefined) table.set(key, [set]);
        else if (!list.includes(set)) list.push(set);
      }
    }
    this.ignored = ignored.sort();
    this.warnings = warnings;
  }

  hostConfig(node: string): HostConfig {
    return this.nodeHostConfig.get(node) ?? this.defaultHostConfig;
  }

  endpoint(key: string): ResolvedEndpoint | undefined {
    return this.byKey.get(key);
  }

  /** The endpoint a flow address is attributed to (WEP ipNetworks, HEP expectedIPs). */
  endpointByAddress(ip: IpAddress): ResolvedEndpoint | undefined {
    return (ip.family === 4 ? this.byAddressV4 : this.byAddressV6).get(ip.value);
  }

  /**
   * Every selectable object holding `ip`: the endpoint with that address and every
   * network set whose nets contain it. A rule selector matches the address when it
   * matches any of them, because each contributes the address to the IP set.
   */
  contributorsOf(ip: IpAddress): Contributor[] {
    const out: Contributor[] = [];
    const ep = this.endpointByAddress(ip);
    if (ep !== undefined) out.push(ep);
    const byLen = ip.family === 4 ? this.netsV4 : this.netsV6;
    const bits = ip.family === 4 ? 32n : 128n;
    let seen: Set<ResolvedNetworkSet> | undefined;
    for (const [len, table] of byLen) {
      const hits = table.get(ip.value >> (bits - BigInt(len)));
      if (hits === undefined) continue;
      for (const s of hits) {
        // A set with several nets containing the address contributes it once.
        if (seen?.has(s)) continue;
        if (seen === undefined) seen = new Set();
        seen.add(s);
        out.push(s);
      }
    }
    return out;
  }

  /** Host endpoints of a node, sorted by name. */
  hostEndpointsOf(node: string): readonly ResolvedEndpoint[] {
    return this.hepsByNode.get(node) ?? [];
  }

  /** Policies whose selector could match these labels (superset; callers re-check). */
  private candidates(labels: Readonly<Record<string, string>>): BackendPolicy[] {
    const set = new Set<BackendPolicy>(this.unindexedPolicies);
    for (const [k, v] of Object.entries(labels)) {
      const list = this.policyIndex.get(`${k}\0${v}`);
      if (list !== undefined) for (const p of list) set.add(p);
    }
    return [...set];
  }

  /** `policiesForEndpoint` for one endpoint, memoised. */
  applicable(ep: ResolvedEndpoint, direction: Direction, chain: PolicyChain): TierPolicies[] {
    const slot = ep.id * 8 + (direction === 'ingress' ? 4 : 0) + CHAIN_SLOT[chain];
    let hit = this.applicableCache[slot];
    if (hit === undefined) {
      hit = policiesForEndpoint(this.tiers, this.candidates(ep.labels), ep.labels, direction, {
        chain,
      });
      this.applicableCache[slot] = hit;
    }
    return hit;
  }

  /** The staged policy (Set or Delete) that targets an enforced policy, if any. */
  stagedFor(key: PolicyKey): BackendPolicy | undefined {
    return this.stagedByTarget.get(policyKeyId(key));
  }

  /** Whether an endpoint is namespaced (a WEP) and in which namespace. */
  static namespaceOf(c: Contributor): string | undefined {
    return c.labels[LABEL_NAMESPACE];
  }
}

const CHAIN_SLOT: Record<PolicyChain, number> = { normal: 0, forward: 1, untracked: 2, preDNAT: 3 };

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function policyKeyId(key: PolicyKey): string {
  return `${key.kind}|${key.namespace}|${key.name}`;
}

/** The enforced policy a staged policy would replace or delete. */
export function stagedTarget(key: PolicyKey): PolicyKey | undefined {
  const map: Partial<Record<PolicyKind, PolicyKind>> = {
    StagedGlobalNetworkPolicy: 'GlobalNetworkPolicy',
    StagedNetworkPolicy: 'NetworkPolicy',
    StagedKubernetesNetworkPolicy: 'NetworkPolicy',
  };
  const kind = map[key.kind];
  return kind === undefined ? undefined : { kind, namespace: key.namespace, name: key.name };
}

/** Builds a snapshot; see Snapshot. */
export function buildSnapshot(resources: Iterable<unknown>, options?: SnapshotOptions): Snapshot {
  return new Snapshot(resources, options);
}
