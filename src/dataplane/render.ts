// DesiredState → our nftables table (pure). Layout and evaluation order follow Felix
// (calico-dataplane.md §4–§7, calico-semantics.md §7–§8); docs/dataplane.md has the map.
import type {
  DesiredState,
  EndpointTier,
  IpSetType,
  PolicyProgram,
  ProfileProgram,
  RuleProgram,
  WorkloadEndpointState,
} from '../calc/index.js';
import { type Cidr, cidrContains, formatIp, minimalCidrs, parseCidr } from '../net/index.js';
import { type FailsafePort, parseRenderConfig, type RenderConfig } from './config.js';
import type { NftChain, NftMap, NftSet, RenderedTable } from './model.js';
import { chain, hex, ipSetName, quoteString, TABLE_NAME, withComment } from './names.js';
import { familyOf, type RuleContext, renderRule, type SetRole } from './rules.js';

const C = (body: string, desc?: string) => withComment(body, desc);

export const BASE = {
  rawPrerouting: 'cali-raw-prerouting',
  rawOutput: 'cali-raw-output',
  manglePrerouting: 'cali-mangle-prerouting',
  input: 'cali-input',
  forward: 'cali-forward',
  output: 'cali-output',
  natPostrouting: 'cali-nat-postrouting',
} as const;

export const MAP = {
  wlSource: 'cali-wl-source',
  fromWl: 'cali-from-wl',
  toWl: 'cali-to-wl',
  hepIn: 'cali-hep-in',
  hepOut: 'cali-hep-out',
  hepFwdIn: 'cali-hep-fwd-in',
  hepFwdOut: 'cali-hep-fwd-out',
  hepUntrackedIn: 'cali-hep-untracked-in',
  hepUntrackedOut: 'cali-hep-untracked-out',
  hepPreDnat: 'cali-hep-prednat',
} as const;

export const SETS = {
  downIfs: 'cali-down-ifs',
  /** interfaces with their own host endpoint, so `*` endpoints skip them */
  hepIfs: 'cali-hep-ifs',
  allPools4: 'cali4-all-pools',
  allPools6: 'cali6-all-pools',
  masqPools4: 'cali4-masq-pools',
  masqPools6: 'cali6-masq-pools',
} as const;

const FROM_WL_DISPATCH = 'cali-from-wl-dispatch';
const TO_WL_DISPATCH = 'cali-to-wl-dispatch';
const WL_TO_HOST = 'cali-wl-to-host';
const FAILSAFE_IN = 'cali-failsafe-in';
const FAILSAFE_OUT = 'cali-failsafe-out';

interface CachedRules {
  cfg: RenderConfig;
  chains: [string, NftChain][];
  refs: Map<string, SetRole>;
}

/** The verdict for `interfaceName: "*"` host endpoints, per hook (absent = none). */
type HepStars = Partial<
  Record<'in' | 'out' | 'fwdIn' | 'fwdOut' | 'untrackedIn' | 'untrackedOut' | 'preDnat', string>
>;

interface CachedSet {
  members: number;
  v4: NftSet;
  v6: NftSet;
}

function ruleChain(
  rules: readonly RuleProgram[],
  ownerId: string,
  kind: 'policy' | 'profile',
  cfg: RenderConfig,
  refs: Map<string, SetRole>,
): NftChain {
  const ctx: RuleContext = { cfg, ownerId, kind, refs };
  return { rules: rules.flatMap((r) => renderRule(r, ctx)) };
}

/**
 * Canonical, non-overlapping set elements (interval sets reject overlaps). Members are
 * canonical CIDRs per the calc contract; host routes are taken as they are, and only a
 * set holding real prefixes that overlap something pays for aggregation.
 */
export function netElements(members: Iterable<string>, family: 4 | 6): string[] {
  const hostLen = family === 4 ? '/32' : '/128';
  const out = new Set<string>();
  const nets: string[] = [];
  for (const m of members) {
    if (familyOf(m) !== family) continue;
    if (m.endsWith(hostLen)) out.add(m.slice(0, -hostLen.length));
    else if (!m.includes('/')) out.add(m);
    else nets.push(m);
  }
  if (nets.length === 0) return [...out].sort();
  const parsed: Cidr[] = [...out, ...nets].map((m) =>
    parseCidr(m.includes('/') ? m : `${m}${hostLen}`, { strict: false }),
  );
  const prefixes = parsed.filter((c) => c.prefixLength < (family === 4 ? 32 : 128));
  const overlaps = prefixes.some((p) => parsed.some((c) => c !== p && cidrContains(p, c)));
  const list = overlaps ? minimalCidrs(parsed) : parsed;
  const fmt = list.map((c) => {
    const ip = formatIp({ family: c.family, value: c.address });
    return c.prefixLength === (family === 4 ? 32 : 128) ? ip : `${ip}/${c.prefixLength}`;
  });
  return [...new Set(fmt)].sort();
}

/** `10.0.0.1,tcp:8080` → `10.0.0.1 . tcp . 8080` for the family's set. */
export function ipPortElements(members: Iterable<string>, family: 4 | 6): string[] {
  const out = new Set<string>();
  for (const m of members) {
    const comma = m.lastIndexOf(',');
    if (comma < 0) continue;
    const ip = m.slice(0, comma);
    if (familyOf(ip) !== family) continue;
    const [proto, port] = m.slice(comma + 1).split(':');
    if (!proto || !port) continue;
    out.add(`${ip} . ${proto} . ${Number(port)}`);
  }
  return [...out].sort();
}

function setType(role: SetRole | IpSetType, family: 4 | 6): { type: string; interval: boolean } {
  const addr = family === 4 ? 'ipv4_addr' : 'ipv6_addr';
  return role === 'net'
    ? { type: addr, interval: true }
    : { type: `${addr} . inet_proto . inet_service`, interval: false };
}

function failsafeRules(ports: readonly FailsafePort[], dir: 'in' | 'out'): string[] {
  const out: string[] = [];
  const grouped = new Map<string, number[]>();
  for (const p of ports) {
    if (p.net) {
      const f = familyOf(p.net);
      const addr = `${f === 4 ? 'ip' : 'ip6'} ${dir === 'in' ? 'saddr' : 'daddr'}`;
      out.push(
        C(
          `${addr} ${p.net} meta l4proto ${p.protocol} th dport ${p.port} counter accept`,
          'failsafe',
        ),
      );
      continue;
    }
    const list = grouped.get(p.protocol) ?? [];
    list.push(p.port);
    grouped.set(p.protocol, list);
  }
  for (const [proto, list] of grouped) {
    const ports =
      list.length === 1
        ? `${list[0]}`
        : `{ ${[...new Set(list)].sort((a, b) => a - b).join(', ')} }`;
    out.unshift(C(`meta l4proto ${proto} th dport ${ports} counter accept`, 'failsafe'));
  }
  return out;
}

/** Names in a rendered table that may differ from the previous render. */
export interface Touched {
  readonly chains: Set<string>;
  readonly sets: Set<string>;
  readonly maps: Set<string>;
}

/** What changed in the DesiredState since the previous render, by object id. */
export interface DirtyKeys {
  readonly endpoints: ReadonlySet<string>;
  readonly policies: ReadonlySet<string>;
  readonly profiles: ReadonlySet<string>;
  readonly sets: ReadonlySet<string>;
}

/** A workload endpoint's share of the last render. */
interface EndpointRecord {
  readonly iface: string;
  /** the endpoint's own chains (none when admin down or shadowed by another endpoint) */
  readonly chains: readonly string[];
  /** `pol:<id>` / `pro:<id>` of the policies and profiles its chains refer to */
  readonly refs: readonly string[];
}

const WL_MAPS = [MAP.wlSource, MAP.fromWl, MAP.toWl] as const;

export interface TierRenderOptions {
  dir: 'in' | 'out';
  /** profiles to run after the tiers; undefined = none (forward/untracked/preDNAT chains) */
  profiles?: readonly string[];
  /** untracked and preDNAT tiers never end in a drop (calico-semantics.md §7) */
  forcePass?: boolean;
  /** what to do once a policy or profile accepted */
  onAccept: string;
  /** final rule when nothing accepted */
  final?: string;
}

export class Renderer {
  private readonly policyCache = new WeakMap<PolicyProgram, CachedRules>();
  private readonly profileCache = new WeakMap<ProfileProgram, CachedRules>();
  private readonly setCache = new Map<string, CachedSet>();
  private readonly endpointCache = new WeakMap<
    object,
    { cfg: RenderConfig; presence: string; chains: [string, NftChain][] }
  >();
  private cfgSource: object | undefined;
  private cfg: RenderConfig | undefined;

  // The last render and the indexes that let renderChanges() touch only what a change
  // concerns; render() rebuilds all of them.
  private last: { table: RenderedTable; cfg: RenderConfig } | undefined;
  private endpoints = new Map<string, EndpointRecord>();
  /** `pol:<id>` / `pro:<id>` → endpoint ids whose chains refer to it */
  private users = new Map<string, Set<string>>();
  private ifaceUsers = new Map<string, Set<string>>();
  /** set id → owner (`pol:<id>` / `pro:<id>`) → the role the owner's rules use it in */
  private setRefs = new Map<string, Map<string, SetRole>>();
  private ownerRefs = new Map<string, ReadonlyMap<string, SetRole>>();
  private renderedPolicies = new Set<string>();
  private renderedProfiles = new Set<string>();

  constructor(readonly tableName = TABLE_NAME) {}

  config(state: DesiredState): RenderConfig {
    if (!this.cfg || this.cfgSource !== state.config) {
      this.cfg = parseRenderConfig(state.config);
      this.cfgSource = state.config;
    }
    return this.cfg;
  }

  /**
   * Renders the whole table. `dirtySets` names the IP sets whose members may have changed
   * since the previous call (undefined = all): members are mutated in place by deltas,
   * so identity cannot tell.
   */
  render(state: DesiredState, dirtySets?: ReadonlySet<string>): RenderedTable {
    const cfg = this.config(state);
    const chains = new Map<string, NftChain>();
    const sets = new Map<string, NftSet>();
    const maps = new Map<string, NftMap>();
    const refs = new Map<string, SetRole>();

    this.setRefs = new Map();
    this.ownerRefs = new Map();
    this.renderedPolicies = new Set(state.policies.keys());
    this.renderedProfiles = new Set(state.profiles.keys());
    for (const p of state.policies.values()) {
      const cached = this.policyRules(p, cfg);
      for (const [n, c] of cached.chains) chains.set(n, c);
      for (const [id, role] of cached.refs) refs.set(id, role);
      this.setOwnerRefs(`pol:${p.id}`, cached.refs);
    }
    for (const p of state.profiles.values()) {
      const cached = this.profileRules(p, cfg);
      for (const [n, c] of cached.chains) chains.set(n, c);
      for (const [id, role] of cached.refs) refs.set(id, role);
      this.setOwnerRefs(`pro:${p.id}`, cached.refs);
    }

    this.renderIpSets(state, refs, sets, dirtySets, cfg);
    this.renderWorkloads(state, cfg, chains, maps, sets);
    const stars = this.renderHostEndpoints(state, cfg, chains, maps, sets);
    this.renderBaseChains(state, cfg, chains, sets, stars);
    const table = { name: this.tableName, chains, sets, maps };
    this.last = { table, cfg };
    return table;
  }

  private policyRules(p: PolicyProgram, cfg: RenderConfig): CachedRules {
    let cached = this.policyCache.get(p);
    if (!cached || cached.cfg !== cfg) {
      const r = new Map<string, SetRole>();
      cached = {
        cfg,
        refs: r,
        chains: [
          [chain.policyIn(p.id), ruleChain(p.inbound, p.id, 'policy', cfg, r)],
          [chain.policyOut(p.id), ruleChain(p.outbound, p.id, 'policy', cfg, r)],
        ],
      };
      this.policyCache.set(p, cached);
    }
    return cached;
  }

  private profileRules(p: ProfileProgram, cfg: RenderConfig): CachedRules {
    let cached = this.profileCache.get(p);
    if (!cached || cached.cfg !== cfg) {
      const r = new Map<string, SetRole>();
      cached = {
        cfg,
        refs: r,
        chains: [
          [chain.profileIn(p.id), ruleChain(p.inbound, p.id, 'profile', cfg, r)],
          [chain.profileOut(p.id), ruleChain(p.outbound, p.id, 'profile', cfg, r)],
        ],
      };
      this.profileCache.set(p, cached);
    }
    return cached;
  }

  /** Records which sets `owner` refers to; returns the set ids whose referrers changed. */
  private setOwnerRefs(owner: string, refs: ReadonlyMap<string, SetRole> | undefined): string[] {
    const old = this.ownerRefs.get(owner);
    if (old === refs) return [];
    const changed: string[] = [];
    if (old)
      for (const id of old.keys()) {
        const m = this.setRefs.get(id);
        m?.delete(owner);
        if (m?.size === 0) this.setRefs.delete(id);
        changed.push(id);
      }
    if (refs && refs.size > 0) {
      this.ownerRefs.set(owner, refs);
      for (const [id, role] of refs) {
        let m = this.setRefs.get(id);
        if (!m) {
          m = new Map();
          this.setRefs.set(id, m);
        }
        m.set(owner, role);
        changed.push(id);
      }
    } else this.ownerRefs.delete(owner);
    return changed;
  }

  /**
   * Renders only what `dirty` names, on top of the previous render: the per-change cost
   * is proportional to the change, not to the table. Returns the new table and the names
   * that may differ, or undefined when the change needs a full render (no previous
   * render, config or host endpoints involved, two endpoints sharing an interface).
   */
  renderChanges(
    state: DesiredState,
    dirty: DirtyKeys,
  ): { table: RenderedTable; touched: Touched; base: RenderedTable } | undefined {
    const last = this.last;
    if (!last) return undefined;
    const cfg = this.config(state);
    if (cfg !== last.cfg) return undefined;
    // Host endpoint chains embed policy and profile jumps (and untracked/preDNAT copies);
    // they are rare enough to take the full path.
    if (state.hostEndpoints.size > 0 && (dirty.policies.size > 0 || dirty.profiles.size > 0))
      return undefined;

    // Endpoints whose chains must be re-rendered: the dirty ones, and users of a policy
    // or profile that appeared or disappeared (a missing one renders as a drop).
    const eps = new Set(dirty.endpoints);
    for (const id of dirty.policies)
      if (this.renderedPolicies.has(id) !== state.policies.has(id))
        for (const e of this.users.get(`pol:${id}`) ?? []) eps.add(e);
    for (const id of dirty.profiles)
      if (this.renderedProfiles.has(id) !== state.profiles.has(id))
        for (const e of this.users.get(`pro:${id}`) ?? []) eps.add(e);
    // Two changed endpoints may move onto one interface in the same batch; the previous
    // render's users cannot show that, so check the new state among the changed ones too.
    const newIfaces = new Set<string>();
    for (const id of eps) {
      const i = state.workloadEndpoints.get(id)?.interfaceName;
      if (i === undefined) continue;
      if (newIfaces.has(i)) return undefined;
      newIfaces.add(i);
    }
    for (const id of eps) {
      const ifaces = [
        this.endpoints.get(id)?.iface,
        state.workloadEndpoints.get(id)?.interfaceName,
      ];
      for (const i of ifaces) {
        if (i === undefined) continue;
        const u = this.ifaceUsers.get(i);
        if (u && (u.size > 1 || !u.has(id))) return undefined;
      }
    }

    const chains = new Map(last.table.chains);
    const sets = new Map(last.table.sets);
    const maps = new Map(last.table.maps);
    const touched: Touched = { chains: new Set(), sets: new Set(), maps: new Set() };
    const setIds = new Set(dirty.sets);

    const owners = (
      ids: ReadonlySet<string>,
      prefix: 'pol' | 'pro',
      programs: ReadonlyMap<string, PolicyProgram | ProfileProgram>,
      rendered: Set<string>,
    ) => {
      for (const id of ids) {
        const p = programs.get(id);
        const names =
          prefix === 'pol'
            ? [chain.policyIn(id), chain.policyOut(id)]
            : [chain.profileIn(id), chain.profileOut(id)];
        for (const n of names) {
          chains.delete(n);
          touched.chains.add(n);
        }
        let refs: ReadonlyMap<string, SetRole> | undefined;
        if (p) {
          const cached =
            prefix === 'pol'
              ? this.policyRules(p as PolicyProgram, cfg)
              : this.profileRules(p as ProfileProgram, cfg);
          for (const [n, c] of cached.chains) chains.set(n, c);
          refs = cached.refs;
          rendered.add(id);
        } else rendered.delete(id);
        for (const s of this.setOwnerRefs(`${prefix}:${id}`, refs)) setIds.add(s);
      }
    };
    owners(dirty.policies, 'pol', state.policies, this.renderedPolicies);
    owners(dirty.profiles, 'pro', state.profiles, this.renderedProfiles);

    for (const id of setIds) {
      const s = state.ipSets.get(id);
      const role = s ? s.type : this.setRefs.get(id)?.values().next().value;
      const names = [ipSetName(id, 4), ipSetName(id, 6)];
      for (const n of names) {
        sets.delete(n);
        touched.sets.add(n);
      }
      if (role === undefined) {
        this.setCache.delete(id);
        continue;
      }
      const cached = this.buildSet(role, s?.members);
      this.setCache.set(id, cached);
      sets.set(names[0]!, cached.v4);
      if (cfg.ipv6) sets.set(names[1]!, cached.v6);
    }

    if (eps.size > 0) {
      const elements = WL_MAPS.map(
        (m) => new Map((last.table.maps.get(m)?.elements ?? new Map()) as Map<string, string>),
      ) as [Map<string, string>, Map<string, string>, Map<string, string>];
      let downChanged = false;
      for (const id of eps) {
        const old = this.endpoints.get(id);
        if (old) {
          const key = quoteString(old.iface, 15);
          if (elements[1].get(key) === 'drop') downChanged = true;
          for (const e of elements) e.delete(key);
          for (const n of old.chains) {
            chains.delete(n);
            touched.chains.add(n);
          }
          this.forgetEndpoint(id, old);
        }
        const ep = state.workloadEndpoints.get(id);
        if (!ep) continue;
        const rec = this.renderEndpoint(state, cfg, ep, elements, chains);
        if (!ep.adminUp) downChanged = true;
        for (const n of rec.chains) touched.chains.add(n);
        this.recordEndpoint(ep.id, rec);
      }
      WL_MAPS.forEach((m, i) => {
        maps.set(m, { type: 'ifname : verdict', elements: elements[i]! });
        touched.maps.add(m);
      });
      if (downChanged) {
        const down = [...elements[1]].filter(([, v]) => v === 'drop').map(([k]) => k);
        sets.set(SETS.downIfs, { type: 'ifname', interval: false, elements: down.sort() });
        touched.sets.add(SETS.downIfs);
      }
    }

    const table = { name: this.tableName, chains, sets, maps };
    this.last = { table, cfg };
    return { table, touched, base: last.table };
  }

  private buildSet(role: SetRole | IpSetType, members: ReadonlySet<string> | undefined): CachedSet {
    const m = members ?? new Set<string>();
    const el = role === 'net' ? netElements : ipPortElements;
    return {
      members: m.size,
      v4: { ...setType(role, 4), elements: el(m, 4) },
      v6: { ...setType(role, 6), elements: el(m, 6) },
    };
  }

  private recordEndpoint(id: string, rec: EndpointRecord): void {
    this.endpoints.set(id, rec);
    let u = this.ifaceUsers.get(rec.iface);
    if (!u) {
      u = new Set();
      this.ifaceUsers.set(rec.iface, u);
    }
    u.add(id);
    for (const r of rec.refs) {
      let s = this.users.get(r);
      if (!s) {
        s = new Set();
        this.users.set(r, s);
      }
      s.add(id);
    }
  }

  private forgetEndpoint(id: string, rec: EndpointRecord): void {
    this.endpoints.delete(id);
    const u = this.ifaceUsers.get(rec.iface);
    u?.delete(id);
    if (u?.size === 0) this.ifaceUsers.delete(rec.iface);
    for (const r of rec.refs) {
      const s = this.users.get(r);
      s?.delete(id);
      if (s?.size === 0) this.users.delete(r);
    }
  }

  private renderIpSets(
    state: DesiredState,
    refs: Map<string, SetRole>,
    sets: Map<string, NftSet>,
    dirty: ReadonlySet<string> | undefined,
    cfg: RenderConfig,
  ): void {
    const ids = new Set<string>([...state.ipSets.keys(), ...refs.keys()]);
    for (const id of [...this.setCache.keys()]) if (!ids.has(id)) this.setCache.delete(id);
    for (const id of [...ids].sort()) {
      const s = state.ipSets.get(id);
      const role: SetRole = s ? s.type : refs.get(id)!;
      let cached = this.setCache.get(id);
      const stale =
        !cached ||
        dirty === undefined ||
        dirty.has(id) ||
        cached.members !== (s?.members.size ?? 0) ||
        cached.v4.type !== setType(role, 4).type;
      if (stale) {
        cached = this.buildSet(role, s?.members);
        this.setCache.set(id, cached);
      }
      sets.set(ipSetName(id, 4), cached!.v4);
      if (cfg.ipv6) sets.set(ipSetName(id, 6), cached!.v6);
    }
  }

  /** Which of the endpoint's referenced policies and profiles exist, as a bit string. */
  private presence(
    state: DesiredState,
    tiers: readonly EndpointTier[],
    profiles: readonly string[],
  ): string {
    let out = '';
    for (const t of tiers) {
      for (const p of t.ingressPolicies) out += state.policies.has(p) ? '1' : '0';
      for (const p of t.egressPolicies) out += state.policies.has(p) ? '1' : '0';
    }
    for (const p of profiles) out += state.profiles.has(p) ? '1' : '0';
    return out;
  }

  /** Tiers, then profiles, then the final verdict, as Felix's endpoint chains do. */
  tierRules(
    state: DesiredState,
    cfg: RenderConfig,
    tiers: readonly EndpointTier[],
    o: TierRenderOptions,
  ): string[] {
    const { accept, pass } = cfg.marks;
    const out: string[] = [];
    const accepted = `meta mark & ${hex(accept)} == ${hex(accept)}`;
    for (const tier of tiers) {
      const pols = o.dir === 'in' ? tier.ingressPolicies : tier.egressPolicies;
      if (pols.length === 0) continue;
      out.push(C(`meta mark set meta mark & ${hex(~pass >>> 0)}`, `tier ${tier.name}`));
      pols.forEach((pid, i) => {
        const guard = i === 0 ? '' : `meta mark & ${hex(pass)} == 0x00000000 `;
        if (!state.policies.has(pid)) {
          out.push(C(`${guard}counter drop`, `missing policy ${pid}`));
          return;
        }
        const target = o.dir === 'in' ? chain.policyIn(pid) : chain.policyOut(pid);
        out.push(C(`${guard}jump ${target}`, pid));
        out.push(C(`${accepted} ${o.onAccept}`));
      });
      if (tier.defaultAction === 'Deny' && !o.forcePass)
        out.push(
          C(`meta mark & ${hex(pass)} == 0x00000000 counter drop`, `end of tier ${tier.name}`),
        );
    }
    if (o.profiles) {
      for (const pid of o.profiles) {
        if (!state.profiles.has(pid)) {
          out.push(C('counter drop', `missing profile ${pid}`));
          continue;
        }
        out.push(C(`jump ${o.dir === 'in' ? chain.profileIn(pid) : chain.profileOut(pid)}`, pid));
        out.push(C(`${accepted} ${o.onAccept}`));
      }
    }
    if (o.final) out.push(o.final);
    return out;
  }

  private renderWorkloads(
    state: DesiredState,
    cfg: RenderConfig,
    chains: Map<string, NftChain>,
    maps: Map<string, NftMap>,
    sets: Map<string, NftSet>,
  ): void {
    const elements: [Map<string, string>, Map<string, string>, Map<string, string>] = [
      new Map(),
      new Map(),
      new Map(),
    ];
    this.endpoints = new Map();
    this.users = new Map();
    this.ifaceUsers = new Map();
    const eps = [...state.workloadEndpoints.values()].sort((a, b) =>
      a.interfaceName < b.interfaceName ? -1 : a.interfaceName > b.interfaceName ? 1 : 0,
    );
    for (const ep of eps)
      this.recordEndpoint(ep.id, this.renderEndpoint(state, cfg, ep, elements, chains));
    WL_MAPS.forEach((m, i) => {
      maps.set(m, { type: 'ifname : verdict', elements: elements[i]! });
    });
    const down = [...elements[1]].filter(([, v]) => v === 'drop').map(([k]) => k);
    sets.set(SETS.downIfs, { type: 'ifname', interval: false, elements: down.sort() });
  }

  /**
   * One workload's chains into `chains` and its dispatch entries into `elements`
   * (source, from-workload, to-workload maps).
   */
  private renderEndpoint(
    state: DesiredState,
    cfg: RenderConfig,
    ep: WorkloadEndpointState,
    elements: readonly [Map<string, string>, Map<string, string>, Map<string, string>],
    chains: Map<string, NftChain>,
  ): EndpointRecord {
    const [source, fromWl, toWl] = elements;
    const refs: string[] = [];
    for (const t of ep.tiers)
      for (const p of [...t.ingressPolicies, ...t.egressPolicies]) refs.push(`pol:${p}`);
    for (const p of ep.profileIds) refs.push(`pro:${p}`);
    const key = quoteString(ep.interfaceName, 15);
    // two endpoints on one interface: the first (by id order) wins
    if (fromWl.has(key)) return { iface: ep.interfaceName, chains: [], refs };
    if (!ep.adminUp) {
      fromWl.set(key, 'drop');
      toWl.set(key, 'drop');
      source.set(key, 'drop');
      return { iface: ep.interfaceName, chains: [], refs };
    }
    const fw = chain.fromWorkload(ep.interfaceName);
    const tw = chain.toWorkload(ep.interfaceName);
    const sp = chain.spoof(ep.interfaceName);
    fromWl.set(key, `goto ${fw}`);
    toWl.set(key, `goto ${tw}`);
    source.set(key, `goto ${sp}`);
    // Endpoint chains depend on the endpoint, the config and which referenced policies
    // and profiles exist; re-rendering all of them on every flush would dominate a
    // one-workload change.
    const presence = this.presence(state, ep.tiers, ep.profileIds);
    let cached = this.endpointCache.get(ep);
    if (!cached || cached.cfg !== cfg || cached.presence !== presence) {
      const clear = C(
        `meta mark set meta mark & ${hex(~(cfg.marks.accept | cfg.marks.pass) >>> 0)}`,
      );
      const invalid = cfg.invalidCheck
        ? [C('ct state invalid counter drop', 'conntrack invalid')]
        : [];
      const egressExtras: string[] = [];
      if (!cfg.allowIpipFromWorkloads)
        egressExtras.push(C('meta l4proto 4 counter drop', 'IPIP from workload'));
      if (!cfg.allowVxlanFromWorkloads)
        egressExtras.push(C(`udp dport ${cfg.vxlanPort} counter drop`, 'VXLAN from workload'));
      cached = {
        cfg,
        presence,
        chains: [
          [sp, { rules: this.spoofRules(ep, cfg) }],
          [
            fw,
            {
              rules: [
                ...invalid,
                clear,
                ...egressExtras,
                ...this.tierRules(state, cfg, ep.tiers, {
                  dir: 'out',
                  profiles: ep.profileIds,
                  onAccept: 'return',
                  final: C('counter drop', `${ep.id} egress: no profile accepted`),
                }),
              ],
            },
          ],
          [
            tw,
            {
              rules: [
                ...invalid,
                clear,
                ...this.tierRules(state, cfg, ep.tiers, {
                  dir: 'in',
                  profiles: ep.profileIds,
                  onAccept: 'return',
                  final: C('counter drop', `${ep.id} ingress: no profile accepted`),
                }),
              ],
            },
          ],
        ],
      };
      this.endpointCache.set(ep, cached);
    }
    for (const [n, c] of cached.chains) chains.set(n, c);
    return { iface: ep.interfaceName, chains: [sp, fw, tw], refs };
  }

  private spoofRules(ep: WorkloadEndpointState, cfg: RenderConfig): string[] {
    const extra = cfg.allowSpoofing ? ep.allowSpoofedSourcePrefixes : [];
    const v4 = netElements([...ep.ipv4Nets, ...extra], 4);
    // Link-local and unspecified sources carry neighbour discovery, DAD and MLD.
    const v6 = netElements([...ep.ipv6Nets, ...extra, 'fe80::/10', '::/128'], 6);
    const out: string[] = [];
    if (v4.length > 0) out.push(C(`ip saddr { ${v4.join(', ')} } return`));
    if (cfg.ipv6) out.push(C(`ip6 saddr { ${v6.join(', ')} } return`));
    out.push(C('counter drop', `${ep.id}: spoofed source`));
    return out;
  }

  private renderHostEndpoints(
    state: DesiredState,
    cfg: RenderConfig,
    chains: Map<string, NftChain>,
    maps: Map<string, NftMap>,
    sets: Map<string, NftSet>,
  ): HepStars {
    const m = {
      in: new Map<string, string>(),
      out: new Map<string, string>(),
      fwdIn: new Map<string, string>(),
      fwdOut: new Map<string, string>(),
      untrackedIn: new Map<string, string>(),
      untrackedOut: new Map<string, string>(),
      preDnat: new Map<string, string>(),
    };
    const { accept } = cfg.marks;
    const clear = C(`meta mark set meta mark & ${hex(~(accept | cfg.marks.pass) >>> 0)}`);
    const invalid = cfg.invalidCheck
      ? [C('ct state invalid counter drop', 'conntrack invalid')]
      : [];
    const heps = [...state.hostEndpoints.values()]
      .filter((h) => h.interfaceName !== '')
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const h of heps) {
      const key = h.interfaceName === '*' ? '*' : quoteString(h.interfaceName, 15);
      if (m.in.has(key)) continue;
      const fh = chain.fromHost(h.id);
      const th = chain.toHost(h.id);
      const fhfw = chain.fromHostFwd(h.id);
      const thfw = chain.toHostFwd(h.id);
      const fhu = chain.fromHostUntracked(h.id);
      const thu = chain.toHostUntracked(h.id);
      const fhp = chain.fromHostPreDnat(h.id);
      m.in.set(key, `goto ${fh}`);
      m.out.set(key, `goto ${th}`);
      m.fwdIn.set(key, `jump ${fhfw}`);
      m.fwdOut.set(key, `jump ${thfw}`);
      // Untracked and preDNAT hooks cost a lookup per packet; wire them only when used.
      const hasIn = (ts: readonly EndpointTier[]) => ts.some((t) => t.ingressPolicies.length > 0);
      const hasOut = (ts: readonly EndpointTier[]) => ts.some((t) => t.egressPolicies.length > 0);
      if (hasIn(h.untrackedTiers)) m.untrackedIn.set(key, `goto ${fhu}`);
      if (hasOut(h.untrackedTiers)) m.untrackedOut.set(key, `goto ${thu}`);
      if (hasIn(h.preDnatTiers)) m.preDnat.set(key, `goto ${fhp}`);
      const normal = (dir: 'in' | 'out') =>
        this.tierRules(state, cfg, h.tiers, {
          dir,
          profiles: h.profileIds,
          onAccept: 'return',
          final: C(
            'counter drop',
            `${h.id} ${dir === 'in' ? 'ingress' : 'egress'}: no profile accepted`,
          ),
        });
      chains.set(fh, { rules: [...invalid, C(`jump ${FAILSAFE_IN}`), clear, ...normal('in')] });
      chains.set(th, { rules: [...invalid, C(`jump ${FAILSAFE_OUT}`), clear, ...normal('out')] });
      // Forwarded traffic: only applyOnForward tiers; allowed when none applies.
      const fwd = (dir: 'in' | 'out') => [
        clear,
        ...this.tierRules(state, cfg, h.forwardTiers, { dir, onAccept: 'return' }),
      ];
      chains.set(fhfw, { rules: fwd('in') });
      chains.set(thfw, { rules: fwd('out') });
      const untracked = (dir: 'in' | 'out') => [
        C(`jump ${dir === 'in' ? FAILSAFE_IN : FAILSAFE_OUT}`),
        clear,
        ...this.tierRules(state, cfg, h.untrackedTiers, {
          dir,
          forcePass: true,
          onAccept: 'notrack return',
        }),
      ];
      chains.set(fhu, { rules: untracked('in') });
      chains.set(thu, { rules: untracked('out') });
      chains.set(fhp, {
        rules: [
          C(`jump ${FAILSAFE_IN}`),
          clear,
          ...this.tierRules(state, cfg, h.preDnatTiers, {
            dir: 'in',
            forcePass: true,
            onAccept: 'return',
          }),
        ],
      });
    }
    const star = (mm: Map<string, string>) => {
      const v = mm.get('*');
      mm.delete('*');
      return v;
    };
    const stars = {
      in: star(m.in),
      out: star(m.out),
      fwdIn: star(m.fwdIn),
      fwdOut: star(m.fwdOut),
      untrackedIn: star(m.untrackedIn),
      untrackedOut: star(m.untrackedOut),
      preDnat: star(m.preDnat),
    };
    maps.set(MAP.hepIn, { type: 'ifname : verdict', elements: m.in });
    maps.set(MAP.hepOut, { type: 'ifname : verdict', elements: m.out });
    maps.set(MAP.hepFwdIn, { type: 'ifname : verdict', elements: m.fwdIn });
    maps.set(MAP.hepFwdOut, { type: 'ifname : verdict', elements: m.fwdOut });
    maps.set(MAP.hepUntrackedIn, { type: 'ifname : verdict', elements: m.untrackedIn });
    maps.set(MAP.hepUntrackedOut, { type: 'ifname : verdict', elements: m.untrackedOut });
    maps.set(MAP.hepPreDnat, { type: 'ifname : verdict', elements: m.preDnat });
    sets.set(SETS.hepIfs, { type: 'ifname', interval: false, elements: [...m.in.keys()].sort() });
    chains.set(FAILSAFE_IN, { rules: failsafeRules(cfg.failsafeIn, 'in') });
    chains.set(FAILSAFE_OUT, { rules: failsafeRules(cfg.failsafeOut, 'out') });
    return stars;
  }

  private renderBaseChains(
    state: DesiredState,
    cfg: RenderConfig,
    chains: Map<string, NftChain>,
    sets: Map<string, NftSet>,
    s: HepStars,
  ): void {
    const { accept } = cfg.marks;
    const accepted = `meta mark & ${hex(accept)} == ${hex(accept)}`;
    const notAccepted = `meta mark & ${hex(accept)} != ${hex(accept)}`;
    const wl = cfg.interfacePrefixes.map((p) => quoteString(`${p}*`, 15));
    const notWl = [...wl.map((w) => `iifname != ${w}`), `iifname != @${SETS.hepIfs}`].join(' ');
    const notWlOut = [...wl.map((w) => `oifname != ${w}`), `oifname != @${SETS.hepIfs}`].join(' ');

    chains.set(FROM_WL_DISPATCH, {
      rules: [C(`iifname vmap @${MAP.fromWl}`), C('counter drop', 'unknown interface')],
    });
    chains.set(TO_WL_DISPATCH, {
      rules: [C(`oifname vmap @${MAP.toWl}`), C('counter drop', 'unknown interface')],
    });
    const toHostAction =
      cfg.defaultEndpointToHostAction === 'Accept'
        ? 'counter accept'
        : cfg.defaultEndpointToHostAction === 'Return'
          ? 'counter return'
          : 'counter drop';
    chains.set(WL_TO_HOST, {
      rules: [
        C('icmpv6 type { 130, 131, 132, 133, 135, 136 } accept', 'ND and MLD from workloads'),
        C(`jump ${FROM_WL_DISPATCH}`),
        C(toHostAction, 'defaultEndpointToHostAction'),
      ],
    });

    chains.set(BASE.rawPrerouting, {
      hook: 'type filter hook prerouting priority raw; policy accept;',
      rules: [
        C(`meta mark set meta mark & ${hex(~cfg.marks.all >>> 0)}`),
        C(`iifname vmap @${MAP.wlSource}`, 'anti-spoofing'),
        ...wl.map((w) => C(`iifname ${w} counter drop`, 'unknown interface')),
        C(`iifname vmap @${MAP.hepUntrackedIn}`),
        ...(s.untrackedIn ? [C(`iifname != "lo" ${notWl} ${s.untrackedIn}`)] : []),
      ],
    });
    chains.set(BASE.rawOutput, {
      hook: 'type filter hook output priority raw; policy accept;',
      rules: [
        C(`meta mark set meta mark & ${hex(~cfg.marks.all >>> 0)}`),
        C(`oifname vmap @${MAP.hepUntrackedOut}`),
        ...(s.untrackedOut ? [C(`oifname != "lo" ${notWlOut} ${s.untrackedOut}`)] : []),
      ],
    });
    chains.set(BASE.manglePrerouting, {
      hook: 'type filter hook prerouting priority mangle; policy accept;',
      rules: [
        C(`${accepted} accept`),
        C(`iifname vmap @${MAP.hepPreDnat}`),
        ...(s.preDnat ? [C(`iifname != "lo" ${notWl} ${s.preDnat}`)] : []),
      ],
    });
    chains.set(BASE.input, {
      hook: 'type filter hook input priority filter; policy accept;',
      rules: [
        C(`${accepted} counter accept`, 'accepted by untracked or preDNAT policy'),
        C('ct state established,related accept'),
        ...wl.map((w) =>
          C(
            `iifname ${w} ${cfg.defaultEndpointToHostAction === 'Return' ? 'jump' : 'goto'} ${WL_TO_HOST}`,
          ),
        ),
        C(`iifname vmap @${MAP.hepIn}`),
        ...(s.in ? [C(`iifname != "lo" ${notWl} ${s.in}`)] : []),
      ],
    });
    chains.set(BASE.output, {
      hook: 'type filter hook output priority filter; policy accept;',
      rules: [
        C(`${accepted} counter accept`, 'accepted by untracked policy'),
        ...wl.map((w) => C(`oifname ${w} accept`, 'host to workload is not policed')),
        C('ct state established,related accept'),
        C(`oifname vmap @${MAP.hepOut}`),
        ...(s.out ? [C(`oifname != "lo" ${notWlOut} ${s.out}`)] : []),
      ],
    });
    const jumpStar = (v: string | undefined) => v?.replace(/^goto /, 'jump ');
    chains.set(BASE.forward, {
      hook: 'type filter hook forward priority filter; policy accept;',
      rules: [
        C(`oifname @${SETS.downIfs} counter drop`, 'admin-down workload'),
        C('ct state established,related accept'),
        C(`${notAccepted} iifname vmap @${MAP.hepFwdIn}`),
        ...(s.fwdIn ? [C(`${notAccepted} iifname != "lo" ${notWl} ${jumpStar(s.fwdIn)}`)] : []),
        ...wl.map((w) => C(`iifname ${w} jump ${FROM_WL_DISPATCH}`)),
        ...wl.map((w) => C(`oifname ${w} jump ${TO_WL_DISPATCH}`)),
        C(`oifname vmap @${MAP.hepFwdOut}`),
        ...(s.fwdOut ? [C(`oifname != "lo" ${notWlOut} ${jumpStar(s.fwdOut)}`)] : []),
      ],
    });

    // NAT outgoing: sources in natOutgoing pools leaving for anywhere outside every pool.
    const pools = [...state.pools.values()];
    const all = pools.map((p) => p.cidr);
    const masq = pools.filter((p) => p.natOutgoing).map((p) => p.cidr);
    sets.set(SETS.allPools4, { type: 'ipv4_addr', interval: true, elements: netElements(all, 4) });
    sets.set(SETS.masqPools4, {
      type: 'ipv4_addr',
      interval: true,
      elements: netElements(masq, 4),
    });
    const nat = [
      C(
        `ip saddr @${SETS.masqPools4} ip daddr != @${SETS.allPools4} masquerade fully-random`,
        'nat outgoing',
      ),
    ];
    if (cfg.ipv6) {
      sets.set(SETS.allPools6, {
        type: 'ipv6_addr',
        interval: true,
        elements: netElements(all, 6),
      });
      sets.set(SETS.masqPools6, {
        type: 'ipv6_addr',
        interval: true,
        elements: netElements(masq, 6),
      });
      nat.push(
        C(
          `ip6 saddr @${SETS.masqPools6} ip6 daddr != @${SETS.allPools6} masquerade fully-random`,
          'nat outgoing',
        ),
      );
    }
    chains.set(BASE.natPostrouting, {
      hook: 'type nat hook postrouting priority srcnat + 10; policy accept;',
      rules: nat,
    });
  }
}

/** One-shot render, for tests and tools. */
export function renderTable(state: DesiredState, tableName = TABLE_NAME): RenderedTable {
  return new Renderer(tableName).render(state);
}
