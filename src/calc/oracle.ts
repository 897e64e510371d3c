// The from-scratch computation: one host's desired state straight from a set of
// resources, by brute force (every active selector against every endpoint and network
// set). It shares the pure conversion and ordering code with the graph but none of its
// indexes, so it is the graph's test oracle and the benchmark's "full recompute" baseline.
import {
  type BackendProfile,
  type NamedPort,
  PORT_PROTOCOLS,
  type ResourceLike,
} from '../policy/index.js';
import {
  type DesiredState,
  emptyDesiredState,
  type IpSetMember,
  type IpSetType,
  type PoolState,
} from './desired-state.js';
import {
  effectiveTiers,
  localEndpointState,
  mergeLabels,
  networkSetProfiles,
} from './endpoints.js';
import {
  type AffinityInput,
  type BlockInput,
  type Derived,
  deriveResource,
  type EndpointInput,
  keyOfResource,
  type NetworkSetInput,
  type NodeInput,
  type PolicyInput,
  type PoolInput,
} from './resources.js';
import {
  blockOwner,
  blockRoutes,
  finalizeRoute,
  pickRoute,
  type RouteCandidate,
  workloadRoutes,
} from './routes.js';
import { compilePolicy, compileProfile, type IpSetRef, protocolToken } from './rules.js';
import type { Labels } from './selectors.js';

interface Selectable {
  readonly labels: Labels;
  readonly nets: readonly string[];
  readonly addrs: readonly string[];
  readonly ports: readonly NamedPort[];
}

/** The members an endpoint's named ports give a named-port set (`ip,proto:port`). */
export function namedPortMembers(
  addrs: readonly string[],
  ports: readonly NamedPort[],
  protocol: number | undefined,
  portName: string,
): string[] {
  const out: string[] = [];
  for (const p of ports) {
    if (p.name !== portName || !PORT_PROTOCOLS.has(p.protocol)) continue;
    if (protocol !== undefined && p.protocol !== protocol) continue;
    // Flat strings (join): IP sets keep one per endpoint and port.
    for (const a of addrs) out.push([a, ',', protocolToken(p.protocol), ':', p.port].join(''));
  }
  return out;
}

export function poolState(p: PoolInput): PoolState {
  return {
    cidr: p.cidrText,
    natOutgoing: p.natOutgoing,
    disabled: p.disabled,
    disableBGPExport: p.disableBGPExport,
  };
}

/** FelixConfiguration `default`, then `node.<host>` on top (FELIX_* env is the agent's). */
export function mergeConfig(
  global: Readonly<Record<string, unknown>> | undefined,
  node: Readonly<Record<string, unknown>> | undefined,
): Record<string, unknown> {
  return { ...(global ?? {}), ...(node ?? {}) };
}

/**
 * The desired state of `hostname` for a set of resources (later resources with the
 * same identity replace earlier ones). The result is marked in sync.
 */
export function computeFromScratch(
  resources: Iterable<ResourceLike>,
  hostname: string,
): DesiredState {
  const byKey = new Map<string, Derived>();
  for (const r of resources) byKey.set(keyOfResource(r), deriveResource(r));

  const userTiers = [];
  const policies: PolicyInput[] = [];
  const profiles = new Map<string, BackendProfile>();
  const endpoints: EndpointInput[] = [];
  const sets: NetworkSetInput[] = [];
  const pools: PoolInput[] = [];
  const nodes = new Map<string, NodeInput>();
  const blocks: [string, BlockInput][] = [];
  const affinities: AffinityInput[] = [];
  const felix = new Map<string, Readonly<Record<string, unknown>>>();
  const endpointKeys = new Map<EndpointInput, string>();
  for (const [key, d] of byKey) {
    switch (d.kind) {
      case 'tier':
        userTiers.push(d.value);
        break;
      case 'policy':
        policies.push(d.value);
        break;
      case 'profile':
        profiles.set(d.value.name, d.value);
        break;
      case 'endpoint':
        endpoints.push(d.value);
        endpointKeys.set(d.value, key);
        break;
      case 'networkSet':
        sets.push(d.value);
        break;
      case 'pool':
        pools.push(d.value);
        break;
      case 'node':
        nodes.set(d.value.name, d.value);
        break;
      case 'block':
        blocks.push([key, d.value]);
        break;
      case 'affinity':
        affinities.push(d.value);
        break;
      case 'felix':
        felix.set(d.name, d.spec);
        break;
      default:
        break;
    }
  }
  const tiers = effectiveTiers(userTiers);
  const profileList = (names: readonly string[]) => names.map((n) => profiles.get(n));

  const selectables: Selectable[] = [];
  const local: { ep: EndpointInput; labels: Labels; key: string }[] = [];
  for (const ep of endpoints) {
    const labels = mergeLabels(ep.backend.labels, profileList(ep.backend.profiles));
    selectables.push({ labels, nets: ep.nets, addrs: ep.addrs, ports: ep.backend.ports });
    if (ep.backend.node === hostname) local.push({ ep, labels, key: endpointKeys.get(ep)! });
  }
  for (const s of sets) {
    const labels = mergeLabels(
      s.backend.labels,
      profileList(networkSetProfiles(s.backend.kind, s.backend.namespace)),
    );
    selectables.push({ labels, nets: s.nets, addrs: [], ports: [] });
  }

  const state = emptyDesiredState();
  state.inSync = true;
  state.config = mergeConfig(felix.get('default'), felix.get(`node.${hostname}`));

  const refs = new Map<string, IpSetRef>();
  const matchedOf = new Map<string, PolicyInput[]>();
  for (const p of policies) {
    if (!tiers.has(p.backend.tier)) continue;
    let active = p.everywhere;
    for (const l of local) {
      if (p.backend.selector.matches(l.labels)) {
        active = true;
        let list = matchedOf.get(l.key);
        if (list === undefined) {
          list = [];
          matchedOf.set(l.key, list);
        }
        list.push(p);
      }
    }
    if (!active) continue;
    const c = compilePolicy(p.backend);
    state.policies.set(c.program.id, c.program);
    for (const r of c.refs) refs.set(r.id, r);
  }
  for (const l of local) {
    const matched = (matchedOf.get(l.key) ?? []).map((p) => p.backend);
    const s = localEndpointState(l.ep, l.labels, matched, tiers);
    if (s.kind === 'workload') state.workloadEndpoints.set(s.state.id, s.state);
    else state.hostEndpoints.set(s.state.id, s.state);
    for (const name of l.ep.backend.profiles) {
      if (state.profiles.has(name)) continue;
      const c = compileProfile(name, profiles.get(name));
      state.profiles.set(name, c.program);
      for (const r of c.refs) refs.set(r.id, r);
    }
  }

  for (const r of refs.values()) {
    const members = new Set<IpSetMember>();
    let type: IpSetType = 'net';
    for (const s of selectables) {
      if (!r.selector.matches(s.labels)) continue;
      if (r.kind === 'selector') for (const n of s.nets) members.add(n);
      else {
        type = 'ip-port';
        for (const m of namedPortMembers(s.addrs, s.ports, r.protocol, r.portName)) members.add(m);
      }
    }
    if (r.kind === 'namedPort') type = 'ip-port';
    state.ipSets.set(r.id, { type, members });
  }

  for (const p of pools) state.pools.set(p.cidrText, poolState(p));

  const claims = new Map<string, string[]>();
  for (const a of affinities) {
    if (!a.confirmed) continue;
    const list = claims.get(a.cidrText) ?? [];
    list.push(a.node);
    claims.set(a.cidrText, list);
  }
  const candidates = new Map<string, { candidate: RouteCandidate; source: string }[]>();
  const addCandidate = (source: string, candidate: RouteCandidate) => {
    const list = candidates.get(candidate.dst) ?? [];
    list.push({ candidate, source });
    candidates.set(candidate.dst, list);
  };
  for (const [key, b] of blocks) {
    for (const c of blockRoutes(b, blockOwner(b, claims.get(b.cidrText)), hostname)) {
      addCandidate(`block:${key}`, c);
    }
  }
  for (const l of local) {
    if (l.ep.backend.kind !== 'WorkloadEndpoint') continue;
    for (const c of workloadRoutes(l.ep.backend.interfaceName, l.ep.nets)) {
      addCandidate(`wep:${l.key}`, c);
    }
  }
  for (const [dst, list] of candidates) {
    const route = finalizeRoute(pickRoute(list)!.candidate, nodes, pools);
    if (route !== undefined) state.routes.set(dst, route);
  }
  return state;
}
