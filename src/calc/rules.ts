// Backend rules (policy's normalised model) -> the dataplane's RuleProgram, with
// every selector and named port replaced by an IP set id (Felix's RuleScanner,
// calico-dataplane.md §2, §3). The IP sets a program needs are returned alongside so
// the graph can reference-count them.
import { createHash } from 'node:crypto';
import { formatCidr } from '../net/index.js';
import type {
  BackendAction,
  BackendEntityRule,
  BackendPolicy,
  BackendProfile,
  BackendRule,
  PolicyKey,
} from '../policy/index.js';
import type { Selector } from '../selector/index.js';
import type {
  EndpointMatch,
  PolicyId,
  PolicyProgram,
  ProfileProgram,
  RuleAction,
  RuleProgram,
} from './desired-state.js';
import { ALL } from './selectors.js';

/** One IP set a program needs: a selector set, or a named-port set over a selector. */
export type IpSetRef =
  | { readonly kind: 'selector'; readonly id: string; readonly selector: Selector }
  | {
      readonly kind: 'namedPort';
      readonly id: string;
      readonly selector: Selector;
      /** undefined: the port's own protocol, whichever it is */
      readonly protocol: number | undefined;
      readonly portName: string;
    };

const PROTO_TOKEN: Record<number, string> = { 6: 'tcp', 17: 'udp', 132: 'sctp' };

export function protocolToken(protocol: number | undefined): string {
  return protocol === undefined ? 'any' : (PROTO_TOKEN[protocol] ?? String(protocol));
}

/**
 * Named-port set id: Calico's unique-id scheme with prefix `n`, over
 * `selectorId,proto,portName` (calico-dataplane.md §3).
 */
export function namedPortSetId(
  selectorId: string,
  protocol: number | undefined,
  portName: string,
): string {
  const input = `${selectorId},${protocolToken(protocol)},${portName}`;
  return `n:${createHash('sha224').update(`n:${input}`, 'utf8').digest('base64url')}`;
}

const KIND_PREFIX: Record<string, string> = {
  GlobalNetworkPolicy: 'gnp',
  NetworkPolicy: 'np',
  StagedGlobalNetworkPolicy: 'sgnp',
  StagedNetworkPolicy: 'snp',
  StagedKubernetesNetworkPolicy: 'sknp',
};

/** `gnp/<name>`, `np/<namespace>/<name>` (calico-dataplane.md §4 kind prefixes). */
export function policyIdOf(key: PolicyKey): PolicyId {
  const kind = KIND_PREFIX[key.kind] ?? key.kind;
  return key.namespace === '' ? `${kind}/${key.name}` : `${kind}/${key.namespace}/${key.name}`;
}

const ACTION: Record<BackendAction, RuleAction> = {
  allow: 'allow',
  deny: 'deny',
  log: 'log',
  'next-tier': 'pass',
};

class RefCollector {
  readonly refs = new Map<string, IpSetRef>();

  selector(sel: Selector): string {
    if (!this.refs.has(sel.id))
      this.refs.set(sel.id, { kind: 'selector', id: sel.id, selector: sel });
    return sel.id;
  }

  namedPort(sel: Selector, protocol: number | undefined, portName: string): string {
    const id = namedPortSetId(sel.id, protocol, portName);
    if (!this.refs.has(id)) {
      this.refs.set(id, { kind: 'namedPort', id, selector: sel, protocol, portName });
    }
    return id;
  }
}

function endpointMatch(e: BackendEntityRule, protocol: number | undefined, c: RefCollector) {
  const m: {
    -readonly [K in keyof EndpointMatch]: EndpointMatch[K];
  } = {};
  if (e.nets.length > 0) m.nets = e.nets.map(formatCidr);
  if (e.notNets.length > 0) m.notNets = e.notNets.map(formatCidr);
  if (e.selector !== undefined) m.ipSetIds = [c.selector(e.selector)];
  if (e.notSelector !== undefined) m.notIpSetIds = [c.selector(e.notSelector)];
  if (e.ports.length > 0) m.ports = e.ports.map((r) => ({ first: r.min, last: r.max }));
  if (e.notPorts.length > 0) m.notPorts = e.notPorts.map((r) => ({ first: r.min, last: r.max }));
  // Named ports resolve against the peers the positive selector picks, or any
  // Calico-known endpoint when there is none (policy/match.ts namedPortMatches).
  const npSel = e.selector ?? ALL;
  if (e.namedPorts.length > 0) {
    m.namedPortIpSetIds = e.namedPorts.map((n) => c.namedPort(npSel, protocol, n));
  }
  if (e.notNamedPorts.length > 0) {
    m.notNamedPortIpSetIds = e.notNamedPorts.map((n) => c.namedPort(npSel, protocol, n));
  }
  return m;
}

/**
 * A rule limited to one family renders only there: explicitly (`ipVersion`), by its
 * ICMP flavour, or because every CIDR it names is of one family (Felix drops such a
 * rule for the other family; naming the family keeps the dataplane from guessing).
 */
function inferIpVersion(r: BackendRule): 4 | 6 | undefined {
  if (r.ipVersion !== undefined) return r.ipVersion;
  if (r.protocol === 1) return 4;
  if (r.protocol === 58) return 6;
  let fam: 4 | 6 | undefined;
  for (const list of [r.source.nets, r.source.notNets, r.destination.nets, r.destination.notNets]) {
    for (const n of list) {
      if (fam === undefined) fam = n.family;
      else if (fam !== n.family) return undefined;
    }
  }
  return fam;
}

function ruleId(owner: string, direction: string, index: number, body: unknown): string {
  const h = createHash('sha1').update(`${owner}|${direction}|${index}|${JSON.stringify(body)}`);
  return h.digest('base64url').slice(0, 16);
}

function convertRuleProgram(
  r: BackendRule,
  owner: string,
  direction: string,
  c: RefCollector,
): RuleProgram {
  const ipVersion = inferIpVersion(r);
  const body = {
    action: ACTION[r.action],
    ...(ipVersion !== undefined ? { ipVersion } : {}),
    ...(r.protocol !== undefined ? { protocol: r.protocol } : {}),
    ...(r.notProtocol !== undefined ? { notProtocol: r.notProtocol } : {}),
    ...(r.icmp !== undefined ? { icmp: { ...r.icmp } } : {}),
    ...(r.notIcmp !== undefined ? { notIcmp: { ...r.notIcmp } } : {}),
    src: endpointMatch(r.source, r.protocol, c),
    dst: endpointMatch(r.destination, r.protocol, c),
  };
  return { id: ruleId(owner, direction, r.index, body), ...body };
}

export interface Compiled<P> {
  readonly program: P;
  readonly refs: readonly IpSetRef[];
}

function compileRules(
  rules: readonly BackendRule[],
  owner: string,
  direction: string,
  c: RefCollector,
): RuleProgram[] {
  // A Kubernetes Service match takes its members from EndpointSlices, which the
  // graph does not receive: like the policy engine, such a rule never matches, and a
  // rule that never matches is left out (its position stays in the other rules' ids).
  return rules
    .filter((r) => r.source.services === undefined && r.destination.services === undefined)
    .map((r) => convertRuleProgram(r, owner, direction, c));
}

/**
 * The program of an active policy. Rules of a direction the policy's `types` leave
 * out can never be reached (calico-semantics.md §6), so they are not rendered and
 * their IP sets are not built.
 */
export function compilePolicy(p: BackendPolicy): Compiled<PolicyProgram> {
  const id = policyIdOf(p.key);
  const c = new RefCollector();
  const program: PolicyProgram = {
    id,
    tier: p.tier,
    inbound: p.ingress ? compileRules(p.inbound, id, 'in', c) : [],
    outbound: p.egress ? compileRules(p.outbound, id, 'out', c) : [],
    untracked: p.doNotTrack,
    preDnat: p.preDNAT,
    applyOnForward: p.applyOnForward,
  };
  return { program, refs: [...c.refs.values()] };
}

/** A profile's program; a referenced profile that does not exist fails closed. */
export function compileProfile(
  name: string,
  p: BackendProfile | undefined,
): Compiled<ProfileProgram> {
  if (p === undefined) return { program: failClosedProfile(name), refs: [] };
  const c = new RefCollector();
  const program: ProfileProgram = {
    id: name,
    inbound: compileRules(p.inbound, `pro/${name}`, 'in', c),
    outbound: compileRules(p.outbound, `pro/${name}`, 'out', c),
  };
  return { program, refs: [...c.refs.values()] };
}

/** Felix's DummyDropRules: a missing profile denies everything in both directions. */
export function failClosedProfile(name: string): ProfileProgram {
  const deny = (dir: string): RuleProgram => ({
    id: ruleId(`pro/${name}`, dir, 0, 'fail-closed'),
    action: 'deny',
    src: {},
    dst: {},
  });
  return { id: name, inbound: [deny('in')], outbound: [deny('out')] };
}
