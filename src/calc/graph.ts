// The incremental calculation graph for one host (calico-dataplane.md §2). Every
// resource update adjusts indexes and marks output keys dirty; `flush` turns the dirty
// keys into DesiredStateUpdates in the event sequencer's order. Work per update is
// proportional to what the update touches: the label index finds the selectors an
// endpoint change concerns, and policies are matched only against local endpoints.
import {
  type BackendPolicy,
  type BackendProfile,
  type BackendTier,
  type NamedPort,
  PORT_PROTOCOLS,
  type ResourceLike,
} from '../policy/index.js';
import type { Selector } from '../selector/index.js';
import { classHash, sameViewLabels, sameViewProfiles } from './class-key.js';
import { ContributorTable, ENDPOINT, NETWORK_SET, NONE } from './contributors.js';
import type {
  DesiredStateUpdate,
  EffectiveConfig,
  IpSetType,
  PolicyId,
  PolicyProgram,
  ProfileProgram,
} from './desired-state.js';
import {
  effectiveTiers,
  localEndpointState,
  mergeLabels,
  networkSetProfiles,
  sameLabels,
} from './endpoints.js';
import { IpSetData } from './ip-set.js';
import { mergeConfig, namedPortMembers, poolState } from './oracle.js';
import { parseV4Host, portTag } from './packed-members.js';
import {
  type BlockInput,
  deriveResource,
  type EndpointInput,
  isK8s,
  keyOfResource,
  keyOfUpdate,
  type NodeInput,
  newRemoteEndpoint,
  type PolicyInput,
  type PoolInput,
  type RemoteEndpointInput,
  type ResourceUpdate,
  readWorkloadEndpoint,
  remoteLabelsAndProfiles,
  wepName,
  wepNamespace,
} from './resources.js';
import {
  blockOwner,
  blockRoutes,
  finalizeRoute,
  pickRoute,
  type RouteCandidate,
  workloadRoutes,
} from './routes.js';
import {
  type Compiled,
  compilePolicy,
  compileProfile,
  type IpSetRef,
  policyIdOf,
} from './rules.js';
import { LabelIndex, type Labels, SelectorIndex } from './selectors.js';

export interface CalcGraphOptions {
  /** the node name whose endpoints are local (WorkloadEndpoint/HostEndpoint `spec.node`) */
  readonly hostname: string;
}

/**
 * Endpoints and network sets with the same own labels, profiles and named ports.
 * They match the same selectors, so selectors are matched once per class rather than
 * once per member: the pods of one deployment share a class, so a cluster of a
 * million endpoints has a few tens of thousands of classes. The label index holds
 * classes, and each class knows the active selectors that match it (Felix's
 * SelectorIndex, at class granularity), so an endpoint update only compares two
 * classes' selector lists.
 */
interface LabelClass {
  /** classHash of the own labels, profiles and ports */
  readonly hash: number;
  /** the next class with the same hash */
  next: LabelClass | undefined;
  /** in the graph's class table (the label index drops entries of dead classes lazily) */
  live: boolean;
  readonly ownLabels: Labels;
  readonly profiles: readonly string[];
  readonly ports: readonly NamedPort[];
  /** effective labels; replaced when an inherited profile's labels change */
  labels: Labels;
  /** scratch for the label index */
  stamp: number;
  /** contributor ids, unordered; each knows its slot, so removal is a swap with the last */
  readonly members: number[];
  /** the active selectors whose selector matches `labels` */
  uses: Set<SelectorUse>;
}

const NO_NETS: readonly string[] = [];

/** CIDRs in a contributor's form: a lone IPv4 host CIDR as `v4`. */
function packedNets(nets: readonly string[]): { v4: number; nets: readonly string[] } {
  if (nets.length === 1) {
    const ip = parseV4Host(nets[0]!);
    if (ip >= 0) return { v4: ip, nets: NO_NETS };
  }
  return { v4: -1, nets };
}

/**
 * Adds (sign 1) or takes away one contributor's members of a selector's own set
 * (`v4`, `nets`: as ContributorTable's columns).
 */
function plainMembers(data: IpSetData, v4: number, nets: readonly string[], sign: 1 | -1): void {
  if (v4 >= 0) {
    if (sign > 0) data.incPacked(v4, 0);
    else data.decPacked(v4, 0);
  }
  for (const n of nets) sign > 0 ? data.inc(n) : data.dec(n);
}

/** The same for a named-port set (members as oracle's namedPortMembers). */
function portMembers(
  np: NamedPortSet,
  kind: number,
  ports: readonly NamedPort[],
  v4: number,
  nets: readonly string[],
  sign: 1 | -1,
): void {
  if (kind !== ENDPOINT) return;
  const { protocol, portName } = np.ref;
  const data = np.data;
  if (v4 >= 0) {
    for (const p of ports) {
      if (p.name !== portName || !PORT_PROTOCOLS.has(p.protocol)) continue;
      if (protocol !== undefined && p.protocol !== protocol) continue;
      if (sign > 0) data.incPacked(v4, portTag(p.protocol, p.port));
      else data.decPacked(v4, portTag(p.protocol, p.port));
    }
  }
  if (nets.length === 0) return;
  for (const m of namedPortMembers(addrsOf(nets), ports, protocol, portName)) {
    sign > 0 ? data.inc(m) : data.dec(m);
  }
}

/**
 * Whether two versions of a policy select the same endpoints and order the same in
 * their tier lists: everything an endpoint's desired state takes from a policy
 * (policiesForEndpoint: id, tier, order, selector, directions, chains).
 */
function samePlacement(a: BackendPolicy, b: BackendPolicy): boolean {
  return a.selector.canonical === b.selector.canonical && sameOrdering(a, b);
}

/** samePlacement but for the selector: an endpoint both versions select keeps its state. */
function sameOrdering(a: BackendPolicy, b: BackendPolicy): boolean {
  return (
    a.key.kind === b.key.kind &&
    a.key.namespace === b.key.namespace &&
    a.key.name === b.key.name &&
    a.tier === b.tier &&
    a.order === b.order &&
    a.ingress === b.ingress &&
    a.egress === b.egress &&
    a.staged === b.staged &&
    a.doNotTrack === b.doNotTrack &&
    a.preDNAT === b.preDNAT &&
    a.applyOnForward === b.applyOnForward
  );
}

/**
 * An endpoint's bare addresses but `v4`, for named-port members. Derived when needed
 * rather than kept: it would be one more array per endpoint.
 */
function addrsOf(nets: readonly string[]): string[] {
  return nets.map((n) => n.slice(0, n.lastIndexOf('/')));
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function samePorts(a: readonly NamedPort[], b: readonly NamedPort[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.name !== y.name || x.protocol !== y.protocol || x.port !== y.port) return false;
  }
  return true;
}

interface LocalEndpoint {
  readonly key: string;
  readonly input: EndpointInput;
  /** its id in the contributor table */
  readonly contributor: number;
  /** non-staged policies whose selector matches the endpoint's effective labels */
  readonly policies: Set<PolicyEntry>;
}

interface PolicyEntry {
  readonly key: string;
  /** without its rules while `rules` is set */
  backend: BackendPolicy;
  /** converts the rules: called once, when the policy first becomes active */
  rules: PolicyInput['rules'];
  readonly id: PolicyId;
  readonly everywhere: boolean;
  readonly matched: Set<LocalEndpoint>;
  compiled: Compiled<PolicyProgram> | undefined;
}

interface ProfileUse {
  count: number;
  compiled: Compiled<ProfileProgram>;
}

interface NamedPortSet {
  readonly ref: Extract<IpSetRef, { kind: 'namedPort' }>;
  refs: number;
  readonly data: IpSetData;
}

/** The selector-matching state shared by a selector's own set and its named-port sets. */
interface SelectorUse {
  readonly selector: Selector;
  plainRefs: number;
  plain: IpSetData | undefined;
  readonly namedPorts: Map<string, NamedPortSet>;
  /** the label classes the selector matches */
  readonly classes: Set<LabelClass>;
}

interface BlockEntry {
  readonly input: BlockInput;
  readonly routes: readonly RouteCandidate[];
}

type Source = { readonly candidate: RouteCandidate; readonly source: string };

function jsonKey(v: unknown): string {
  return JSON.stringify(v);
}

export class CalcGraph {
  readonly hostname: string;

  private inSync = false;
  private sentInSync = false;

  // --- inputs, by resource key
  /**
   * The derived kind of every resource, by key; for endpoints and network sets the
   * contributor's id (the table knows its kind), so the one lookup per endpoint
   * update finds both.
   */
  private readonly derivedKind = new Map<string, string | number>();
  /** endpoints and network sets; an update keeps the contributor's id */
  private readonly cs = new ContributorTable<LabelClass, LocalEndpoint>();
  /**
   * Workload endpoints (Calico's), by name, as contributor ids; endpoints of one name
   * in several namespaces are chained through `nextWep`. They are not in derivedKind.
   */
  private readonly weps = new Map<string, number>();
  /** where setWep reads a remote endpoint (nothing of it is kept but what it copies out) */
  private readonly remoteScratch = newRemoteEndpoint();
  private readonly userTiers = new Map<string, BackendTier>();
  private tiers: Map<string, BackendTier> = effectiveTiers([]);
  private readonly policies = new Map<string, PolicyEntry>();
  private readonly policiesByTier = new Map<string, Set<PolicyEntry>>();
  private readonly policyIndex = new SelectorIndex<PolicyEntry>();
  private readonly profiles = new Map<string, { key: string; value: BackendProfile }>();
  private readonly profileNames = new Map<string, string>();
  /** label classes by classHash, chained through `next` */
  private readonly classes = new Map<number, LabelClass>();
  private classCount = 0;
  private readonly profileUsers = new Map<string, Set<LabelClass>>();
  private readonly labelIndex = new LabelIndex<LabelClass>(
    (c) => c.live,
    () => this.allClasses(),
  );
  private readonly locals = new Map<string, LocalEndpoint>();
  private readonly pools = new Map<string, PoolInput>();
  private readonly nodes = new Map<string, NodeInput>();
  private readonly blocks = new Map<string, BlockEntry>();
  private readonly blocksByCidr = new Map<string, Set<string>>();
  private readonly claims = new Map<string, Map<string, string>>();
  private readonly felix = new Map<string, Readonly<Record<string, unknown>>>();

  // --- derived state
  private readonly selectorUses = new Map<string, SelectorUse>();
  private readonly selectorIndex = new SelectorIndex<SelectorUse>();
  private readonly scratchUses = new Set<SelectorUse>();
  private readonly ipSets = new Map<string, IpSetData>();
  private readonly activePolicies = new Map<PolicyId, PolicyEntry>();
  private readonly profileUses = new Map<string, ProfileUse>();
  private readonly routeSources = new Map<string, Map<string, RouteCandidate>>();
  private readonly routesByNode = new Map<string, Map<string, number>>();

  // --- output bookkeeping
  private readonly dirtyIpSets = new Set<string>();
  private readonly dirtyPolicies = new Set<PolicyId>();
  private readonly dirtyProfiles = new Set<string>();
  private readonly dirtyEndpoints = new Set<string>();
  private readonly dirtyRoutes = new Set<string>();
  private readonly dirtyPools = new Set<string>();
  private configDirty = true;
  private readonly sentIpSets = new Set<string>();
  private readonly sentPolicies = new Map<PolicyId, string>();
  private readonly sentProfiles = new Map<string, string>();
  private readonly sentEndpoints = new Map<
    string,
    { kind: 'workload' | 'host'; id: string; json: string }
  >();
  private readonly sentRoutes = new Map<string, string>();
  private readonly sentPools = new Map<string, string>();
  private sentConfig: string | undefined;

  private readonly markIpSetDirty = (s: IpSetData) => {
    this.dirtyIpSets.add(s.id);
  };

  constructor(options: CalcGraphOptions) {
    this.hostname = options.hostname;
  }

  // ================================================================ input

  /** Applies one update; cheap, and nothing is emitted until `flush`. */
  onUpdate(update: ResourceUpdate): void {
    if (update.type === 'set') {
      const res = update.resource;
      if (res.kind === 'WorkloadEndpoint' && !isK8s(res.apiVersion)) {
        const m = res.metadata;
        this.setWep(wepNamespace(m?.namespace), wepName(m?.name), res);
        return;
      }
      this.set(keyOfResource(res), res);
      return;
    }
    if (update.kind === 'WorkloadEndpoint' && !isK8s(update.apiVersion)) {
      this.removeWep(wepNamespace(update.namespace), wepName(update.name));
      return;
    }
    this.remove(keyOfUpdate(update));
  }

  /** Convenience for a batch of updates, in order. */
  onUpdates(updates: Iterable<ResourceUpdate>): void {
    for (const u of updates) this.onUpdate(u);
  }

  /** The datastore has delivered its snapshot; the next flush emits the full state. */
  onInSync(): void {
    this.inSync = true;
  }

  private set(key: string, res: ResourceLike): void {
    const d = deriveResource(res, this.hostname);
    const prev = this.derivedKind.get(key);
    const prevKind =
      typeof prev === 'number'
        ? this.cs.kind[prev] === ENDPOINT
          ? 'endpoint'
          : 'networkSet'
        : prev;
    // The contributor this resource had, if it is still of the same kind.
    let old = typeof prev === 'number' ? prev : NONE;
    const kind = d.kind === 'remoteEndpoint' ? 'endpoint' : d.kind;
    if (prevKind !== undefined && prevKind !== kind) {
      this.remove(key);
      old = NONE;
    }
    switch (d.kind) {
      case 'tier':
        this.userTiers.set(key, d.value);
        this.tiersChanged();
        break;
      case 'policy':
        this.setPolicy(key, d.value);
        break;
      case 'profile':
        this.setProfile(key, d.value);
        break;
      case 'endpoint': {
        const c = this.setEndpoint(key, d.value, old, undefined);
        this.derivedKind.set(key, c);
        return;
      }
      case 'remoteEndpoint':
        // Only workload endpoints are remote, and they take setWep's path.
        throw new TypeError(`${key}: a remote endpoint outside setWep`);
      case 'networkSet': {
        const b = d.value.backend;
        const cls = this.classOf(b.labels, networkSetProfiles(b.kind, b.namespace), []);
        const { v4, nets } = packedNets(d.value.nets);
        this.derivedKind.set(key, this.setContributor(NETWORK_SET, undefined, cls, v4, nets, old));
        return;
      }
      case 'pool':
        this.setPool(key, d.value);
        break;
      case 'node':
        this.setNode(key, d.value);
        break;
      case 'block':
        this.setBlock(key, d.value);
        break;
      case 'affinity':
        this.setClaim(key, d.value.confirmed ? d.value.node : undefined, d.value.cidrText);
        break;
      case 'felix':
        this.felix.set(d.name, d.spec);
        this.configDirty = true;
        break;
      case 'staged':
      case 'ignored':
        // Staged policies never reach the dataplane; invalid resources count as absent.
        this.remove(key);
        this.derivedKind.delete(key);
        return;
    }
    this.derivedKind.set(key, d.kind);
  }

  /**
   * A workload endpoint, by namespace and name rather than by resource key: the
   * cluster's endpoints are most of its resources, and a key string built (and
   * hashed, and kept) per endpoint cost more than the rest of its lookup. The key is
   * built for local endpoints only.
   */
  private setWep(ns: string, name: string, res: ResourceLike): void {
    const r = this.remoteScratch;
    const read = readWorkloadEndpoint(res, this.hostname, r);
    const d = read === 'local' ? deriveResource(res, this.hostname) : undefined;
    if (read === 'invalid' || (d !== undefined && d.kind !== 'endpoint')) {
      this.removeWep(ns, name);
      return;
    }
    const cs = this.cs;
    const head = this.weps.get(name) ?? NONE;
    let old = head;
    while (old !== NONE && cs.ns[old] !== ns) old = cs.nextWep[old]!;
    if (d?.kind === 'endpoint') {
      const c = this.setEndpoint(keyOfResource(res), d.value, old, ns);
      if (old === NONE) this.fileWep(name, head, c);
      return;
    }
    const local = old === NONE ? undefined : cs.local.get(old);
    const c = this.setContributor(ENDPOINT, ns, this.classOfRemote(r), r.v4, r.nets, old);
    if (local !== undefined) this.dropLocal(local);
    if (old === NONE) this.fileWep(name, head, c);
  }

  /** A new workload endpoint: first in the chain of its name. */
  private fileWep(name: string, head: number, c: number): void {
    this.cs.nextWep[c] = head;
    this.weps.set(name, c);
  }

  private removeWep(ns: string, name: string): void {
    const cs = this.cs;
    const head = this.weps.get(name);
    if (head === undefined) return;
    let c = head;
    let prev = NONE;
    while (c !== NONE && cs.ns[c] !== ns) {
      prev = c;
      c = cs.nextWep[c]!;
    }
    if (c === NONE) return;
    const next = cs.nextWep[c]!;
    if (prev !== NONE) cs.nextWep[prev] = next;
    else if (next !== NONE) this.weps.set(name, next);
    else this.weps.delete(name);
    const local = cs.local.get(c);
    if (local !== undefined) this.dropLocal(local);
    this.removeContributor(c);
  }

  private remove(key: string): void {
    const entry = this.derivedKind.get(key);
    if (entry === undefined) return;
    this.derivedKind.delete(key);
    if (typeof entry === 'number') {
      const local = this.cs.local.get(entry);
      if (local !== undefined) this.dropLocal(local);
      this.removeContributor(entry);
      return;
    }
    switch (entry) {
      case 'tier':
        this.userTiers.delete(key);
        this.tiersChanged();
        return;
      case 'policy':
        this.removePolicy(key);
        return;
      case 'profile':
        this.removeProfile(key);
        return;
      case 'pool':
        this.removePool(key);
        return;
      case 'node':
        this.removeNode(key);
        return;
      case 'block':
        this.removeBlock(key);
        return;
      case 'affinity':
        this.setClaim(key, undefined, undefined);
        return;
      case 'felix': {
        const name = key.slice(key.lastIndexOf('|') + 1);
        this.felix.delete(name);
        this.configDirty = true;
        return;
      }
    }
  }

  // ================================================================ tiers

  private tiersChanged(): void {
    const next = effectiveTiers(this.userTiers.values());
    const changed = new Set<string>();
    for (const [name, t] of next) {
      const old = this.tiers.get(name);
      if (old === undefined || old.order !== t.order || old.defaultAction !== t.defaultAction) {
        changed.add(name);
      }
    }
    for (const name of this.tiers.keys()) if (!next.has(name)) changed.add(name);
    this.tiers = next;
    for (const name of changed) {
      for (const p of this.policiesByTier.get(name) ?? []) {
        this.refreshPolicy(p);
        for (const ep of p.matched) this.dirtyEndpoints.add(ep.key);
      }
    }
  }

  // ================================================================ policies

  private setPolicy(key: string, input: PolicyInput): void {
    const { backend, everywhere } = input;
    const old = this.policies.get(key);
    if (old !== undefined && samePlacement(old.backend, backend)) {
      this.replacePolicyRules(old, input);
      return;
    }
    const entry: PolicyEntry = {
      key,
      backend,
      rules: input.rules,
      id: policyIdOf(backend.key),
      everywhere,
      matched: new Set(),
      compiled: undefined,
    };
    this.policies.set(key, entry);
    this.policyIndex.add(entry, backend.selector);
    let byTier = this.policiesByTier.get(backend.tier);
    if (byTier === undefined) {
      byTier = new Set();
      this.policiesByTier.set(backend.tier, byTier);
    }
    byTier.add(entry);
    // With only the selector changed, an endpoint both versions select keeps its tier
    // lists: only endpoints that start or stop matching are re-rendered.
    const kept = old !== undefined && sameOrdering(old.backend, backend) ? old.matched : undefined;
    for (const ep of this.locals.values()) {
      if (backend.selector.matches(this.cs.cls[ep.contributor]!.labels)) {
        entry.matched.add(ep);
        ep.policies.add(entry);
        if (kept === undefined || !kept.has(ep)) this.dirtyEndpoints.add(ep.key);
      }
    }
    // Activate the new version before releasing the old one, so IP sets both use
    // survive the swap instead of being torn down and rebuilt.
    this.refreshPolicy(entry);
    if (old !== undefined)
      this.dropPolicyEntry(old, kept !== undefined ? entry.matched : undefined);
  }

  /**
   * A new version that selects the same endpoints and sits in the same place in
   * their tier lists (most policy edits change only rules): the endpoints' states
   * cannot change, so they are neither rematched nor re-rendered; only the program
   * and the IP sets whose references changed are.
   */
  private replacePolicyRules(old: PolicyEntry, input: PolicyInput): void {
    const { backend, everywhere } = input;
    const entry: PolicyEntry = {
      key: old.key,
      backend,
      rules: input.rules,
      id: old.id,
      everywhere,
      matched: old.matched,
      compiled: undefined,
    };
    this.policies.set(old.key, entry);
    this.policyIndex.remove(old);
    this.policyIndex.add(entry, backend.selector);
    const byTier = this.policiesByTier.get(backend.tier)!;
    byTier.delete(old);
    byTier.add(entry);
    for (const ep of old.matched) {
      ep.policies.delete(old);
      ep.policies.add(entry);
    }
    // Activate the new version before releasing the old one, so IP sets both use
    // survive the swap instead of being torn down and rebuilt.
    this.refreshPolicy(entry);
    this.deactivatePolicy(old);
  }

  private removePolicy(key: string): void {
    const old = this.policies.get(key);
    if (old === undefined) return;
    this.policies.delete(key);
    this.dropPolicyEntry(old);
  }

  /** `unchanged`: endpoints whose state the drop does not change (the new version selects them). */
  private dropPolicyEntry(old: PolicyEntry, unchanged?: ReadonlySet<LocalEndpoint>): void {
    this.policyIndex.remove(old);
    const byTier = this.policiesByTier.get(old.backend.tier);
    if (byTier !== undefined) {
      byTier.delete(old);
      if (byTier.size === 0) this.policiesByTier.delete(old.backend.tier);
    }
    for (const ep of old.matched) {
      ep.policies.delete(old);
      if (unchanged === undefined || !unchanged.has(ep)) this.dirtyEndpoints.add(ep.key);
    }
    old.matched.clear();
    this.deactivatePolicy(old);
  }

  private refreshPolicy(p: PolicyEntry): void {
    if (this.policies.get(p.key) !== p) return;
    const active = this.tiers.has(p.backend.tier) && (p.everywhere || p.matched.size > 0);
    if (active && p.compiled === undefined) {
      if (p.rules !== undefined) {
        let rules: ReturnType<NonNullable<PolicyInput['rules']>>;
        try {
          rules = p.rules();
        } catch {
          // An invalid rule makes the whole policy absent, as if its update had been
          // rejected on arrival: while inactive, absent and present look the same.
          this.removePolicy(p.key);
          return;
        }
        p.backend = { ...p.backend, inbound: rules.inbound, outbound: rules.outbound };
        p.rules = undefined;
      }
      p.compiled = compilePolicy(p.backend);
      for (const r of p.compiled.refs) this.acquire(r);
      this.activePolicies.set(p.id, p);
      this.dirtyPolicies.add(p.id);
    } else if (!active) {
      this.deactivatePolicy(p);
    }
  }

  private deactivatePolicy(p: PolicyEntry): void {
    if (p.compiled === undefined) return;
    for (const r of p.compiled.refs) this.release(r);
    p.compiled = undefined;
    if (this.activePolicies.get(p.id) === p) this.activePolicies.delete(p.id);
    this.dirtyPolicies.add(p.id);
  }

  // ================================================================ profiles

  private setProfile(key: string, value: BackendProfile): void {
    // A Namespace and a Profile could both claim `kns.x`; the latest write wins and
    // a delete only removes the version it wrote.
    const oldName = this.profileNames.get(key);
    if (oldName !== undefined && oldName !== value.name) this.removeProfile(key);
    const prev = this.profiles.get(value.name);
    this.profiles.set(value.name, { key, value });
    this.profileNames.set(key, value.name);
    this.profileChanged(value.name, prev?.value, value);
  }

  private removeProfile(key: string): void {
    const name = this.profileNames.get(key);
    if (name === undefined) return;
    this.profileNames.delete(key);
    const v = this.profiles.get(name);
    if (v === undefined || v.key !== key) return;
    this.profiles.delete(name);
    this.profileChanged(name, v.value, undefined);
  }

  private profileChanged(
    name: string,
    prev: BackendProfile | undefined,
    next: BackendProfile | undefined,
  ): void {
    const use = this.profileUses.get(name);
    if (use !== undefined) {
      const compiled = compileProfile(name, next);
      for (const r of compiled.refs) this.acquire(r);
      for (const r of use.compiled.refs) this.release(r);
      use.compiled = compiled;
      this.dirtyProfiles.add(name);
    }
    if (!sameLabels(prev?.labelsToApply ?? {}, next?.labelsToApply ?? {})) {
      for (const c of this.profileUsers.get(name) ?? []) this.relabel(c);
    }
  }

  private useProfile(name: string): void {
    const use = this.profileUses.get(name);
    if (use !== undefined) {
      use.count++;
      return;
    }
    const compiled = compileProfile(name, this.profiles.get(name)?.value);
    for (const r of compiled.refs) this.acquire(r);
    this.profileUses.set(name, { count: 1, compiled });
    this.dirtyProfiles.add(name);
  }

  private unuseProfile(name: string): void {
    const use = this.profileUses.get(name);
    if (use === undefined) return;
    if (--use.count > 0) return;
    for (const r of use.compiled.refs) this.release(r);
    this.profileUses.delete(name);
    this.dirtyProfiles.add(name);
  }

  // ================================================================ endpoints

  private profileList(names: readonly string[]): (BackendProfile | undefined)[] {
    return names.map((n) => this.profiles.get(n)?.value);
  }

  /** `ns`: as ContributorTable's; `old`: the endpoint's id, or NONE */
  private setEndpoint(
    key: string,
    input: EndpointInput,
    old: number,
    ns: string | undefined,
  ): number {
    const b = input.backend;
    const { v4, nets } = packedNets(input.nets);
    const cls = this.classOf(b.labels, b.profiles, b.ports);
    const oldLocal = old === NONE ? undefined : this.cs.local.get(old);
    const c = this.setContributor(ENDPOINT, ns, cls, v4, nets, old);
    if (b.node !== this.hostname) {
      if (oldLocal !== undefined) this.dropLocal(oldLocal);
      return c;
    }
    const ep: LocalEndpoint = { key, input, contributor: c, policies: new Set() };
    for (const name of b.profiles) this.useProfile(name);
    this.locals.set(key, ep);
    this.cs.local.set(c, ep);
    const previous = oldLocal?.policies ?? new Set<PolicyEntry>();
    if (oldLocal !== undefined) for (const p of previous) p.matched.delete(oldLocal);
    this.rematch(ep, previous);
    if (oldLocal !== undefined) {
      for (const name of oldLocal.input.backend.profiles) this.unuseProfile(name);
      this.setWorkloadRoutes(oldLocal, false);
    }
    this.setWorkloadRoutes(ep, true);
    this.dirtyEndpoints.add(key);
    return c;
  }

  private dropLocal(ep: LocalEndpoint): void {
    this.locals.delete(ep.key);
    if (this.cs.local.get(ep.contributor) === ep) this.cs.local.delete(ep.contributor);
    const touched = [...ep.policies];
    for (const p of touched) p.matched.delete(ep);
    ep.policies.clear();
    for (const p of touched) this.refreshPolicy(p);
    for (const name of ep.input.backend.profiles) this.unuseProfile(name);
    this.setWorkloadRoutes(ep, false);
    this.dirtyEndpoints.add(ep.key);
  }

  /**
   * Recomputes which policies select a local endpoint. `previous` is the set before
   * a relabel or an update; its policies must no longer list the endpoint. Only the
   * policies whose match changed are refreshed.
   */
  private rematch(ep: LocalEndpoint, previous: ReadonlySet<PolicyEntry>): void {
    const labels = this.cs.cls[ep.contributor]!.labels;
    const candidates = new Set<PolicyEntry>();
    this.policyIndex.candidates(labels, candidates);
    ep.policies.clear();
    for (const p of candidates) {
      if (!p.backend.selector.matches(labels)) continue;
      p.matched.add(ep);
      ep.policies.add(p);
    }
    for (const p of previous) if (!ep.policies.has(p)) this.refreshPolicy(p);
    for (const p of ep.policies) if (!previous.has(p)) this.refreshPolicy(p);
    this.dirtyEndpoints.add(ep.key);
  }

  // ================================================================ contributors

  /** The class of a label set, created (and matched against active selectors) on first use. */
  private classOf(
    ownLabels: Labels,
    profiles: readonly string[],
    ports: readonly NamedPort[],
  ): LabelClass {
    const hash = classHash(ownLabels, profiles, ports);
    for (let c = this.classes.get(hash); c !== undefined; c = c.next) {
      if (
        sameLabels(c.ownLabels, ownLabels) &&
        sameStrings(c.profiles, profiles) &&
        samePorts(c.ports, ports)
      ) {
        return c;
      }
    }
    return this.newClass(hash, ownLabels, profiles, ports);
  }

  /**
   * The class of a remote endpoint: found from its raw labels and profiles, which are
   * built only when it starts a new class (class-key.ts).
   */
  private classOfRemote(r: RemoteEndpointInput): LabelClass {
    for (let c = this.classes.get(r.hash); c !== undefined; c = c.next) {
      if (
        sameViewLabels(c.ownLabels, r) &&
        sameViewProfiles(c.profiles, r) &&
        samePorts(c.ports, r.ports)
      ) {
        return c;
      }
    }
    const { labels, profiles } = remoteLabelsAndProfiles(r);
    return this.newClass(r.hash, labels, profiles, r.ports);
  }

  private newClass(
    hash: number,
    ownLabels: Labels,
    profiles: readonly string[],
    ports: readonly NamedPort[],
  ): LabelClass {
    const cls: LabelClass = {
      hash,
      next: this.classes.get(hash),
      live: true,
      ownLabels,
      profiles,
      ports,
      labels: mergeLabels(ownLabels, this.profileList(profiles)),
      stamp: 0,
      members: [],
      uses: new Set(),
    };
    this.classes.set(hash, cls);
    this.classCount++;
    this.labelIndex.add(cls);
    for (const name of profiles) {
      let users = this.profileUsers.get(name);
      if (users === undefined) {
        users = new Set();
        this.profileUsers.set(name, users);
      }
      users.add(cls);
    }
    this.matchUses(cls, cls.uses);
    return cls;
  }

  /** Adds to `out` the active selectors matching the class's labels, and files the class under them. */
  private matchUses(cls: LabelClass, out: Set<SelectorUse>): void {
    if (this.selectorUses.size === 0) return;
    // One scratch set for every call: this runs once per new class.
    const candidates = this.scratchUses;
    this.selectorIndex.candidates(cls.labels, candidates);
    for (const use of candidates) {
      if (!use.selector.matches(cls.labels)) continue;
      out.add(use);
      use.classes.add(cls);
    }
    candidates.clear();
  }

  private *allClasses(): Generator<LabelClass> {
    for (const head of this.classes.values()) {
      for (let c: LabelClass | undefined = head; c !== undefined; c = c.next) yield c;
    }
  }

  private dropClassIfEmpty(cls: LabelClass): void {
    if (cls.members.length > 0 || !cls.live) return;
    cls.live = false;
    this.classCount--;
    const head = this.classes.get(cls.hash);
    if (head === cls) {
      if (cls.next === undefined) this.classes.delete(cls.hash);
      else this.classes.set(cls.hash, cls.next);
    } else {
      let prev = head;
      while (prev !== undefined && prev.next !== cls) prev = prev.next;
      if (prev !== undefined) prev.next = cls.next;
    }
    cls.next = undefined;
    this.labelIndex.remove(cls.labels);
    for (const name of cls.profiles) this.unindexProfileUser(name, cls);
    for (const use of cls.uses) use.classes.delete(cls);
    cls.uses.clear();
  }

  /**
   * The new version of a contributor, in the old one's id if it had one (so whatever
   * files it by id keeps it), else in a new id that the caller files.
   */
  private setContributor(
    kind: number,
    ns: string | undefined,
    cls: LabelClass,
    v4: number,
    nets: readonly string[],
    /** the contributor's id (the caller has looked it up), or NONE */
    old: number,
  ): number {
    const cs = this.cs;
    if (old === NONE) {
      const c = cs.add(kind, ns, cls, v4, nets);
      cs.slot[c] = cls.members.length;
      cls.members.push(c);
      for (const use of cls.uses) this.contribute(use, cls, kind, v4, nets, 1);
      return c;
    }
    const oldCls = cs.cls[old]!;
    const oldV4 = cs.v4[old]!;
    const oldNets = cs.nets[old]!;
    cs.ns[old] = ns;
    cs.v4[old] = v4;
    cs.nets[old] = nets;
    if (oldCls !== cls) {
      this.leave(old);
      cs.cls[old] = cls;
      cs.slot[old] = cls.members.length;
      cls.members.push(old);
    }
    // An update that keeps the addresses and ports only moves between the IP sets
    // of selectors that match one class and not the other.
    const sameData =
      oldV4 === v4 && sameStrings(oldNets, nets) && samePorts(oldCls.ports, cls.ports);
    for (const use of oldCls.uses) {
      if (!sameData || !cls.uses.has(use)) this.contribute(use, oldCls, kind, oldV4, oldNets, -1);
    }
    for (const use of cls.uses) {
      if (!sameData || !oldCls.uses.has(use)) this.contribute(use, cls, kind, v4, nets, 1);
    }
    this.dropClassIfEmpty(oldCls);
    return old;
  }

  /** Takes a contributor out of its class's member list. */
  private leave(c: number): void {
    const cs = this.cs;
    const members = cs.cls[c]!.members;
    const last = members.pop()!;
    if (last !== c) {
      const slot = cs.slot[c]!;
      members[slot] = last;
      cs.slot[last] = slot;
    }
  }

  private unindexProfileUser(name: string, c: LabelClass): void {
    const users = this.profileUsers.get(name);
    if (users === undefined) return;
    users.delete(c);
    if (users.size === 0) this.profileUsers.delete(name);
  }

  /** The resource is gone (its derivedKind entry already removed). */
  private removeContributor(old: number): void {
    const cs = this.cs;
    const cls = cs.cls[old]!;
    this.leave(old);
    for (const use of cls.uses)
      this.contribute(use, cls, cs.kind[old]!, cs.v4[old]!, cs.nets[old]!, -1);
    cs.delete(old);
    this.dropClassIfEmpty(cls);
  }

  /** An inherited profile's labels changed: recompute the class's effective labels. */
  private relabel(cls: LabelClass): void {
    const labels = mergeLabels(cls.ownLabels, this.profileList(cls.profiles));
    if (sameLabels(labels, cls.labels)) return;
    this.labelIndex.remove(cls.labels);
    cls.labels = labels;
    this.labelIndex.add(cls);
    const before = cls.uses;
    for (const use of before) use.classes.delete(cls);
    cls.uses = new Set();
    this.matchUses(cls, cls.uses);
    const cs = this.cs;
    for (const use of before) {
      if (cls.uses.has(use)) continue;
      for (const m of cls.members)
        this.contribute(use, cls, cs.kind[m]!, cs.v4[m]!, cs.nets[m]!, -1);
    }
    for (const use of cls.uses) {
      if (before.has(use)) continue;
      for (const m of cls.members)
        this.contribute(use, cls, cs.kind[m]!, cs.v4[m]!, cs.nets[m]!, 1);
    }
    for (const m of cls.members) {
      const local = cs.local.get(m);
      if (local === undefined) continue;
      const previous = new Set(local.policies);
      for (const p of previous) p.matched.delete(local);
      this.rematch(local, previous);
    }
  }

  /** One contributor's members of a selector's sets, given its columns' values. */
  private contribute(
    use: SelectorUse,
    cls: LabelClass,
    kind: number,
    v4: number,
    nets: readonly string[],
    sign: 1 | -1,
  ): void {
    if (use.plain !== undefined) plainMembers(use.plain, v4, nets, sign);
    if (cls.ports.length === 0 || use.namedPorts.size === 0) return;
    for (const np of use.namedPorts.values()) portMembers(np, kind, cls.ports, v4, nets, sign);
  }

  // ================================================================ IP sets

  private newIpSet(id: string, type: IpSetType): IpSetData {
    const data = new IpSetData(id, type, this.markIpSetDirty);
    this.ipSets.set(id, data);
    this.dirtyIpSets.add(id);
    return data;
  }

  private dropIpSet(data: IpSetData): void {
    if (this.ipSets.get(data.id) === data) this.ipSets.delete(data.id);
    this.dirtyIpSets.add(data.id);
  }

  private acquire(ref: IpSetRef): void {
    const sel = ref.selector;
    let use = this.selectorUses.get(sel.id);
    if (use === undefined) {
      const fresh: SelectorUse = {
        selector: sel,
        plainRefs: 0,
        plain: undefined,
        namedPorts: new Map(),
        classes: new Set(),
      };
      use = fresh;
      this.selectorUses.set(sel.id, use);
      this.selectorIndex.add(use, sel);
      this.labelIndex.matching(sel, (cls) => {
        fresh.classes.add(cls);
        cls.uses.add(fresh);
      });
    }
    if (ref.kind === 'selector') {
      if (use.plainRefs++ > 0) return;
      const data = this.newIpSet(ref.id, 'net');
      use.plain = data;
      const cs = this.cs;
      for (const cls of use.classes) {
        for (const c of cls.members) plainMembers(data, cs.v4[c]!, cs.nets[c]!, 1);
      }
      return;
    }
    const existing = use.namedPorts.get(ref.id);
    if (existing !== undefined) {
      existing.refs++;
      return;
    }
    const np: NamedPortSet = { ref, refs: 1, data: this.newIpSet(ref.id, 'ip-port') };
    use.namedPorts.set(ref.id, np);
    const cs = this.cs;
    for (const cls of use.classes) {
      if (cls.ports.length === 0) continue;
      for (const c of cls.members)
        portMembers(np, cs.kind[c]!, cls.ports, cs.v4[c]!, cs.nets[c]!, 1);
    }
  }

  private release(ref: IpSetRef): void {
    const use = this.selectorUses.get(ref.selector.id);
    if (use === undefined) return;
    if (ref.kind === 'selector') {
      if (use.plainRefs === 0) return;
      if (--use.plainRefs === 0 && use.plain !== undefined) {
        this.dropIpSet(use.plain);
        use.plain = undefined;
      }
    } else {
      const np = use.namedPorts.get(ref.id);
      if (np === undefined) return;
      if (--np.refs === 0) {
        use.namedPorts.delete(ref.id);
        this.dropIpSet(np.data);
      }
    }
    if (use.plainRefs === 0 && use.namedPorts.size === 0) {
      this.selectorUses.delete(ref.selector.id);
      this.selectorIndex.remove(use);
      for (const cls of use.classes) cls.uses.delete(use);
      use.classes.clear();
    }
  }

  // ================================================================ routes, pools, nodes

  private addRouteSource(source: string, c: RouteCandidate): void {
    let m = this.routeSources.get(c.dst);
    if (m === undefined) {
      m = new Map();
      this.routeSources.set(c.dst, m);
    }
    m.set(source, c);
    this.dirtyRoutes.add(c.dst);
    if (c.nodeName !== undefined) {
      let byDst = this.routesByNode.get(c.nodeName);
      if (byDst === undefined) {
        byDst = new Map();
        this.routesByNode.set(c.nodeName, byDst);
      }
      byDst.set(c.dst, (byDst.get(c.dst) ?? 0) + 1);
    }
  }

  private removeRouteSource(source: string, c: RouteCandidate): void {
    const m = this.routeSources.get(c.dst);
    if (m === undefined || !m.delete(source)) return;
    if (m.size === 0) this.routeSources.delete(c.dst);
    this.dirtyRoutes.add(c.dst);
    if (c.nodeName !== undefined) {
      const byDst = this.routesByNode.get(c.nodeName);
      const n = byDst?.get(c.dst);
      if (byDst === undefined || n === undefined) return;
      if (n > 1) byDst.set(c.dst, n - 1);
      else {
        byDst.delete(c.dst);
        if (byDst.size === 0) this.routesByNode.delete(c.nodeName);
      }
    }
  }

  private setWorkloadRoutes(ep: LocalEndpoint, add: boolean): void {
    const b = ep.input.backend;
    if (b.kind !== 'WorkloadEndpoint') return;
    for (const c of workloadRoutes(b.interfaceName, ep.input.nets)) {
      if (add) this.addRouteSource(`wep:${ep.key}`, c);
      else this.removeRouteSource(`wep:${ep.key}`, c);
    }
  }

  private setBlock(key: string, input: BlockInput): void {
    this.removeBlock(key);
    const owner = blockOwner(input, this.claims.get(input.cidrText)?.values());
    const entry: BlockEntry = { input, routes: blockRoutes(input, owner, this.hostname) };
    this.blocks.set(key, entry);
    let keys = this.blocksByCidr.get(input.cidrText);
    if (keys === undefined) {
      keys = new Set();
      this.blocksByCidr.set(input.cidrText, keys);
    }
    keys.add(key);
    for (const c of entry.routes) this.addRouteSource(`block:${key}`, c);
  }

  private removeBlock(key: string): void {
    const entry = this.blocks.get(key);
    if (entry === undefined) return;
    this.blocks.delete(key);
    const keys = this.blocksByCidr.get(entry.input.cidrText);
    if (keys !== undefined) {
      keys.delete(key);
      if (keys.size === 0) this.blocksByCidr.delete(entry.input.cidrText);
    }
    for (const c of entry.routes) this.removeRouteSource(`block:${key}`, c);
  }

  /** A BlockAffinity changed: blocks without their own affinity may change owner. */
  private setClaim(key: string, node: string | undefined, cidrText: string | undefined): void {
    const touched = new Set<string>();
    for (const [cidr, m] of this.claims) {
      if (m.delete(key)) {
        touched.add(cidr);
        if (m.size === 0) this.claims.delete(cidr);
      }
    }
    if (node !== undefined && cidrText !== undefined) {
      let m = this.claims.get(cidrText);
      if (m === undefined) {
        m = new Map();
        this.claims.set(cidrText, m);
      }
      m.set(key, node);
      touched.add(cidrText);
    }
    for (const cidr of touched) {
      for (const bk of [...(this.blocksByCidr.get(cidr) ?? [])]) {
        this.setBlock(bk, this.blocks.get(bk)!.input);
      }
    }
  }

  private setNode(key: string, value: NodeInput): void {
    const old = this.nodes.get(value.name);
    this.nodes.set(value.name, value);
    this.nodeKeys.set(key, value.name);
    if (old?.ipv4 !== value.ipv4 || old?.ipv6 !== value.ipv6) this.nodeChanged(value.name);
  }

  private readonly nodeKeys = new Map<string, string>();

  private removeNode(key: string): void {
    const name = this.nodeKeys.get(key);
    if (name === undefined) return;
    this.nodeKeys.delete(key);
    this.nodes.delete(name);
    this.nodeChanged(name);
  }

  private nodeChanged(name: string): void {
    for (const dst of this.routesByNode.get(name)?.keys() ?? []) this.dirtyRoutes.add(dst);
  }

  private setPool(key: string, value: PoolInput): void {
    const old = this.pools.get(key);
    this.pools.set(key, value);
    if (old !== undefined) this.poolChanged(old);
    this.poolChanged(value);
  }

  private removePool(key: string): void {
    const old = this.pools.get(key);
    if (old === undefined) return;
    this.pools.delete(key);
    this.poolChanged(old);
  }

  private poolChanged(p: PoolInput): void {
    this.dirtyPools.add(p.cidrText);
    // Routes carry their pool's NAT setting: re-finalise those of the pool's family.
    // Pools change rarely, so a scan of the route table is acceptable here.
    const v6 = p.cidr.family === 6;
    for (const dst of this.routeSources.keys()) {
      if (dst.includes(':') === v6) this.dirtyRoutes.add(dst);
    }
  }

  // ================================================================ output

  /**
   * Everything that changed since the last flush, in the event sequencer's order
   * (calico-dataplane.md §2): config; IP set creations and deltas; policies;
   * profiles; endpoints; then removals in reverse (endpoints, profiles, policies, IP
   * sets); then pools and routes. Before `onInSync` it returns nothing; the first
   * flush after it carries the full state and ends with `inSync`.
   */
  flush(): DesiredStateUpdate[] {
    if (!this.inSync) {
      // Nothing has been sent, so there is nothing to be incremental against: drop
      // the dirty marks (they would otherwise collect every key a long snapshot
      // touches, deleted ones included) and send the whole state at the first flush.
      this.clearDirty();
      return [];
    }
    const out: DesiredStateUpdate[] = [];
    const first = !this.sentInSync;
    if (first) this.markAllDirty();

    if (this.configDirty || first) {
      this.configDirty = false;
      const config: EffectiveConfig = mergeConfig(
        this.felix.get('default'),
        this.felix.get(`node.${this.hostname}`),
      );
      const json = jsonKey(config);
      if (json !== this.sentConfig) {
        this.sentConfig = json;
        out.push({ type: 'config', config });
      }
    }

    const ipSetRemovals: string[] = [];
    for (const id of this.dirtyIpSets) {
      const data = this.ipSets.get(id);
      if (data === undefined) {
        if (this.sentIpSets.delete(id)) ipSetRemovals.push(id);
        continue;
      }
      if (!data.emitted) {
        data.emitted = true;
        data.added.clear();
        data.removed.clear();
        this.sentIpSets.add(id);
        out.push({
          type: 'ipSetUpdate',
          id,
          setType: data.type,
          members: data.members(),
        });
      } else if (data.added.size > 0 || data.removed.size > 0) {
        out.push({ type: 'ipSetDelta', id, added: [...data.added], removed: [...data.removed] });
        data.added.clear();
        data.removed.clear();
      }
    }
    this.dirtyIpSets.clear();

    const policyRemovals: string[] = [];
    for (const id of this.dirtyPolicies) {
      const entry = this.activePolicies.get(id);
      if (entry === undefined || entry.compiled === undefined) {
        if (this.sentPolicies.delete(id)) policyRemovals.push(id);
        continue;
      }
      const json = jsonKey(entry.compiled.program);
      if (this.sentPolicies.get(id) === json) continue;
      this.sentPolicies.set(id, json);
      out.push({ type: 'policyUpdate', policy: entry.compiled.program });
    }
    this.dirtyPolicies.clear();

    const profileRemovals: string[] = [];
    for (const name of this.dirtyProfiles) {
      const use = this.profileUses.get(name);
      if (use === undefined) {
        if (this.sentProfiles.delete(name)) profileRemovals.push(name);
        continue;
      }
      const json = jsonKey(use.compiled.program);
      if (this.sentProfiles.get(name) === json) continue;
      this.sentProfiles.set(name, json);
      out.push({ type: 'profileUpdate', profile: use.compiled.program });
    }
    this.dirtyProfiles.clear();

    const endpointRemovals: DesiredStateUpdate[] = [];
    for (const key of this.dirtyEndpoints) {
      const ep = this.locals.get(key);
      const sent = this.sentEndpoints.get(key);
      if (ep === undefined) {
        if (sent === undefined) continue;
        this.sentEndpoints.delete(key);
        endpointRemovals.push(
          sent.kind === 'workload'
            ? { type: 'workloadEndpointRemove', id: sent.id }
            : { type: 'hostEndpointRemove', id: sent.id },
        );
        continue;
      }
      const s = localEndpointState(
        ep.input,
        this.cs.cls[ep.contributor]!.labels,
        [...ep.policies].map((p) => p.backend),
        this.tiers,
      );
      const json = jsonKey(s);
      if (sent?.json === json) continue;
      if (sent !== undefined && (sent.kind !== s.kind || sent.id !== s.state.id)) {
        endpointRemovals.push(
          sent.kind === 'workload'
            ? { type: 'workloadEndpointRemove', id: sent.id }
            : { type: 'hostEndpointRemove', id: sent.id },
        );
      }
      this.sentEndpoints.set(key, { kind: s.kind, id: s.state.id, json });
      out.push(
        s.kind === 'workload'
          ? { type: 'workloadEndpointUpdate', endpoint: s.state }
          : { type: 'hostEndpointUpdate', endpoint: s.state },
      );
    }
    this.dirtyEndpoints.clear();

    out.push(...endpointRemovals);
    for (const id of profileRemovals) out.push({ type: 'profileRemove', id });
    for (const id of policyRemovals) out.push({ type: 'policyRemove', id });
    for (const id of ipSetRemovals) out.push({ type: 'ipSetRemove', id });

    const poolRemovals: string[] = [];
    const poolsByCidr = new Map<string, PoolInput>();
    if (this.dirtyPools.size > 0)
      for (const p of this.pools.values()) poolsByCidr.set(p.cidrText, p);
    for (const cidr of this.dirtyPools) {
      const p = poolsByCidr.get(cidr);
      if (p === undefined) {
        if (this.sentPools.delete(cidr)) poolRemovals.push(cidr);
        continue;
      }
      const pool = poolState(p);
      const json = jsonKey(pool);
      if (this.sentPools.get(cidr) === json) continue;
      this.sentPools.set(cidr, json);
      out.push({ type: 'poolUpdate', pool });
    }
    this.dirtyPools.clear();

    const routeUpdates: DesiredStateUpdate[] = [];
    for (const dst of this.dirtyRoutes) {
      const sources = this.routeSources.get(dst);
      const entries: Source[] = [];
      for (const [source, candidate] of sources ?? []) entries.push({ source, candidate });
      const winner = pickRoute(entries);
      const route =
        winner === undefined
          ? undefined
          : finalizeRoute(winner.candidate, this.nodes, this.pools.values());
      if (route === undefined) {
        if (this.sentRoutes.delete(dst)) out.push({ type: 'routeRemove', dst });
        continue;
      }
      const json = jsonKey(route);
      if (this.sentRoutes.get(dst) === json) continue;
      this.sentRoutes.set(dst, json);
      routeUpdates.push({ type: 'routeUpdate', route });
    }
    this.dirtyRoutes.clear();
    out.push(...routeUpdates);
    for (const cidr of poolRemovals) out.push({ type: 'poolRemove', cidr });

    if (first) {
      this.sentInSync = true;
      out.push({ type: 'inSync' });
    }
    return out;
  }

  private clearDirty(): void {
    this.dirtyIpSets.clear();
    this.dirtyPolicies.clear();
    this.dirtyProfiles.clear();
    this.dirtyEndpoints.clear();
    this.dirtyRoutes.clear();
    this.dirtyPools.clear();
  }

  private markAllDirty(): void {
    this.clearDirty();
    for (const id of this.ipSets.keys()) this.dirtyIpSets.add(id);
    for (const id of this.activePolicies.keys()) this.dirtyPolicies.add(id);
    for (const name of this.profileUses.keys()) this.dirtyProfiles.add(name);
    for (const key of this.locals.keys()) this.dirtyEndpoints.add(key);
    for (const dst of this.routeSources.keys()) this.dirtyRoutes.add(dst);
    for (const p of this.pools.values()) this.dirtyPools.add(p.cidrText);
  }

  /** Sizes of the main structures, for metrics and for checking memory is returned. */
  stats(): Record<string, number> {
    return {
      contributors: this.cs.size,
      labelClasses: this.classCount,
      localEndpoints: this.locals.size,
      policies: this.policies.size,
      activePolicies: this.activePolicies.size,
      activeProfiles: this.profileUses.size,
      selectors: this.selectorUses.size,
      ipSets: this.ipSets.size,
      ipSetMembers: [...this.ipSets.values()].reduce((n, s) => n + s.size, 0),
      unindexedSelectors: this.selectorIndex.unindexedCount,
      routes: this.routeSources.size,
      blocks: this.blocks.size,
      profileUsers: this.profileUsers.size,
      routesByNode: this.routesByNode.size,
      claims: this.claims.size,
      pending:
        this.dirtyIpSets.size +
        this.dirtyPolicies.size +
        this.dirtyProfiles.size +
        this.dirtyEndpoints.size +
        this.dirtyRoutes.size +
        this.dirtyPools.size,
    };
  }
}
