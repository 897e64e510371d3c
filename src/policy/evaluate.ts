// The evaluator (calico-semantics.md §7, §8): decides one flow and explains the
// decision. A flow is judged on the source side (the sender's egress and whatever
// host-endpoint policy the packet meets leaving the source node) and on the
// destination side (host-endpoint policy entering the destination node, then the
// receiver's ingress); both must allow.
//
// Attribution of addresses (documented in docs of `Flow`):
//  - an address in some WorkloadEndpoint's ipNetworks is that workload;
//  - else an address in some HostEndpoint's expectedIPs is that HEP's host (node);
//  - else `srcNode` / `dstNode` name the host the packet leaves / reaches;
//  - else the address is outside Calico ("not a Calico endpoint").
// A host is policed through its "policing" host endpoint: the HEP with an
// interfaceName holding the address, else the node's `interfaceName: "*"` HEP,
// else the node's only HEP with an interfaceName; with none, no host policy applies.
// A flow between two outside addresses is transit only when it names `viaNode`.
import { formatIp, type IpAddress, tryParseIp } from '../net/index.js';
import { PORT_PROTOCOLS, parseProtocol, protocolName, v3Action } from './convert.js';
import { PolicyError } from './errors.js';
import { type Packet, type PacketSide, ruleMatches } from './match.js';
import type { BackendPolicy, BackendRule, Direction, FailsafePort, PolicyKind } from './model.js';
import { comparePolicies, type PolicyChain, type TierPolicies } from './order.js';
import type { ResolvedEndpoint, Snapshot } from './snapshot.js';

/** A new flow (the first packet of a connection). */
export interface Flow {
  srcIp: string;
  dstIp: string;
  /** name (TCP, udp, ICMPv6, ...) or number */
  protocol: string | number;
  /** ignored for protocols without ports */
  srcPort?: number;
  dstPort?: number;
  icmpType?: number;
  icmpCode?: number;
  /** optional; must agree with the addresses */
  ipVersion?: 4 | 6;
  /** the source is a process on this node's host (when srcIp is not a HEP address) */
  srcNode?: string;
  /** the destination is this node's host itself (when dstIp is not a HEP address) */
  dstNode?: string;
  /**
   * Transit: the packet is routed through this node's host with no Calico endpoint
   * at either end; only the node's applyOnForward host-endpoint policy applies.
   */
  viaNode?: string;
}

export type Verdict = 'Allow' | 'Deny';
export type StageVerdict = 'Allow' | 'Deny' | 'Pass';
export type RuleAction = 'Allow' | 'Deny' | 'Log' | 'Pass';

/** One thing that happened while evaluating; the last one of a stage decided it. */
export type Step =
  | {
      kind: 'rule';
      tier: string;
      policy: string;
      policyKind: PolicyKind;
      namespace?: string;
      ruleIndex: number;
      action: RuleAction;
      /** a staged policy (only in the `staged` what-if trace) */
      staged?: true;
    }
  | { kind: 'end-of-tier'; tier: string; action: 'Deny' }
  | { kind: 'tier-pass'; tier: string }
  | { kind: 'profile-rule'; profile: string; ruleIndex: number; action: RuleAction }
  | { kind: 'missing-profile'; profile: string }
  | { kind: 'no-profile-accepted' }
  | { kind: 'no-policy' }
  | { kind: 'failsafe'; direction: 'inbound' | 'outbound'; protocol: string; port: number }
  | { kind: 'default-endpoint-to-host-action'; action: 'Drop' | 'Accept' | 'Return' }
  | { kind: 'icmpv6-neighbour-discovery'; icmpType: number }
  | { kind: 'not-calico-endpoint'; ip: string }
  | { kind: 'host-to-local-workload' }
  | { kind: 'local-host-traffic' }
  | { kind: 'no-host-endpoint'; node: string }
  | { kind: 'forward-default-allow' };

export type StageName =
  | 'workload-egress'
  | 'workload-ingress'
  | 'failsafe-out'
  | 'failsafe-in'
  | 'host-untracked-egress'
  | 'host-untracked-ingress'
  | 'host-pre-dnat'
  | 'host-egress'
  | 'host-ingress'
  | 'forward-egress'
  | 'forward-ingress'
  | 'endpoint-to-host';

export interface StageTrace {
  stage: StageName;
  /** `WorkloadEndpoint/<ns>/<name>` or `HostEndpoint/<name>`; null when none */
  endpoint: string | null;
  direction: Direction;
  verdict: StageVerdict;
  decidedBy: Step;
  /** matched rules and tier ends, in order; ends with decidedBy */
  steps: Step[];
}

export interface SideTrace {
  /** the Calico endpoint on this side, if any */
  endpoint: string | null;
  /** the node whose policy judged this side, if any */
  node: string | null;
  verdict: Verdict;
  decidedBy: Step;
  stages: StageTrace[];
}

export interface NormalisedFlow {
  srcIp: string;
  dstIp: string;
  ipVersion: 4 | 6;
  protocol: string;
  srcPort?: number;
  dstPort?: number;
  icmpType?: number;
  icmpCode?: number;
}

export interface StagedTrace {
  verdict: Verdict;
  egress: SideTrace;
  ingress: SideTrace;
}

/** Stable JSON shape, as `calicoctl policy trace -o json` prints it. */
export interface Trace {
  verdict: Verdict;
  flow: NormalisedFlow;
  egress: SideTrace;
  ingress: SideTrace;
  /**
   * Present when a staged policy applies on the flow's path: what the verdict would
   * be with every staged policy enforced (Set replaces or adds, Delete removes).
   * Never influences `verdict`.
   */
  staged?: StagedTrace;
}

// ---------------------------------------------------------------- flow input

function checkPort(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) {
    throw new PolicyError('INVALID_FLOW', `flow.${field}: ${JSON.stringify(v)} is not in 0-65535`);
  }
  return v;
}

function checkIcmp(v: unknown, field: string, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw new PolicyError('INVALID_FLOW', `flow.${field}: ${JSON.stringify(v)} is not in 0-${max}`);
  }
  return v;
}

export interface ParsedFlow {
  readonly normalised: NormalisedFlow;
  readonly src: IpAddress;
  readonly dst: IpAddress;
  readonly protocol: number;
  readonly srcPort: number | undefined;
  readonly dstPort: number | undefined;
  readonly icmpType: number | undefined;
  readonly icmpCode: number | undefined;
  readonly srcNode: string | undefined;
  readonly dstNode: string | undefined;
  readonly viaNode: string | undefined;
}

export function parseFlow(flow: Flow): ParsedFlow {
  const src = tryParseIp(flow.srcIp);
  if (src === undefined) {
    throw new PolicyError(
      'INVALID_FLOW',
      `flow.srcIp: ${JSON.stringify(flow.srcIp)} is not an IP address`,
    );
  }
  const dst = tryParseIp(flow.dstIp);
  if (dst === undefined) {
    throw new PolicyError(
      'INVALID_FLOW',
      `flow.dstIp: ${JSON.stringify(flow.dstIp)} is not an IP address`,
    );
  }
  if (src.family !== dst.family) {
    throw new PolicyError(
      'INVALID_FLOW',
      `flow: srcIp is IPv${src.family} but dstIp is IPv${dst.family}`,
    );
  }
  if (flow.ipVersion !== undefined && flow.ipVersion !== src.family) {
    throw new PolicyError(
      'INVALID_FLOW',
      `flow.ipVersion ${flow.ipVersion} does not match IPv${src.family} addresses`,
    );
  }
  let protocol: number;
  try {
    protocol = parseProtocol(flow.protocol, 'flow.protocol');
  } catch (err) {
    throw new PolicyError('INVALID_FLOW', (err as Error).message, { cause: err });
  }
  const ported = PORT_PROTOCOLS.has(protocol);
  const icmp = protocol === 1 || protocol === 58;
  const srcPort =
    ported && flow.srcPort !== undefined ? checkPort(flow.srcPort, 'srcPort') : undefined;
  const dstPort =
    ported && flow.dstPort !== undefined ? checkPort(flow.dstPort, 'dstPort') : undefined;
  const icmpType =
    icmp && flow.icmpType !== undefined ? checkIcmp(flow.icmpType, 'icmpType', 255) : undefined;
  const icmpCode =
    icmp && flow.icmpCode !== undefined ? checkIcmp(flow.icmpCode, 'icmpCode', 255) : undefined;
  const normalised: NormalisedFlow = {
    srcIp: formatIp(src),
    dstIp: formatIp(dst),
    ipVersion: src.family,
    protocol: protocolName(protocol),
    ...(srcPort !== undefined ? { srcPort } : {}),
    ...(dstPort !== undefined ? { dstPort } : {}),
    ...(icmpType !== undefined ? { icmpType } : {}),
    ...(icmpCode !== undefined ? { icmpCode } : {}),
  };
  return {
    normalised,
    src,
    dst,
    protocol,
    srcPort,
    dstPort,
    icmpType,
    icmpCode,
    srcNode: flow.srcNode,
    dstNode: flow.dstNode,
    viaNode: flow.viaNode,
  };
}

export function makePacket(snap: Snapshot, f: ParsedFlow): Packet {
  const src: PacketSide = { ip: f.src, contributors: snap.contributorsOf(f.src), port: f.srcPort };
  const dst: PacketSide = { ip: f.dst, contributors: snap.contributorsOf(f.dst), port: f.dstPort };
  return {
    family: f.src.family,
    protocol: f.protocol,
    ...(f.icmpType !== undefined ? { icmpType: f.icmpType } : {}),
    ...(f.icmpCode !== undefined ? { icmpCode: f.icmpCode } : {}),
    src,
    dst,
  };
}

// ---------------------------------------------------------------- one chain

interface ChainResult {
  verdict: StageVerdict;
  decidedBy: Step;
  steps: Step[];
}

/** What the end of a chain does when every applied tier passed (or none applied). */
type ChainEnd = 'profiles' | 'pass' | 'forward-allow';

function ruleStep(tier: string, p: BackendPolicy, r: BackendRule): Step {
  const s: Step = {
    kind: 'rule',
    tier,
    policy: p.key.name,
    policyKind: p.key.kind,
    ...(p.key.namespace !== '' ? { namespace: p.key.namespace } : {}),
    ruleIndex: r.index,
    action: v3Action(r.action),
  };
  if (p.staged) s.staged = true;
  return s;
}

/**
 * The enforced policies of each tier after staged policies take effect: a staged
 * Set replaces its enforced namesake (or adds itself), a staged Delete removes it;
 * Learn and Ignore change nothing. Returns undefined when nothing changes.
 */
export function promoteStaged(snap: Snapshot, groups: readonly TierPolicies[]) {
  let changed = false;
  const out: TierPolicies[] = groups.map((g) => {
    const kept = g.policies.filter((p) => {
      const s = snap.stagedFor(p.key);
      const drop = s !== undefined && (s.stagedAction === 'Set' || s.stagedAction === 'Delete');
      if (drop) changed = true;
      return !drop;
    });
    const added = g.staged.filter((s) => s.stagedAction === 'Set');
    if (added.length > 0) changed = true;
    return { tier: g.tier, policies: [...kept, ...added].sort(comparePolicies), staged: [] };
  });
  return changed ? out : undefined;
}

function runChain(
  snap: Snapshot,
  groups: readonly TierPolicies[],
  profiles: readonly string[],
  direction: Direction,
  pkt: Packet,
  end: ChainEnd,
): ChainResult {
  const steps: Step[] = [];
  const decide = (verdict: StageVerdict, step: Step): ChainResult => {
    if (steps[steps.length - 1] !== step) steps.push(step);
    return { verdict, decidedBy: step, steps };
  };
  // Untracked and preDNAT tiers are rendered with a Pass default (§7).
  const forcePass = end === 'pass';
  for (const g of groups) {
    // A tier whose only applicable policies are staged ends in pass (§2).
    if (g.policies.length === 0) continue;
    let passed = false;
    for (const p of g.policies) {
      const rules = direction === 'ingress' ? p.inbound : p.outbound;
      for (const r of rules) {
        if (!ruleMatches(r, pkt)) continue;
        const step = ruleStep(g.tier.name, p, r);
        steps.push(step);
        if (r.action === 'allow') return decide('Allow', step);
        if (r.action === 'deny') return decide('Deny', step);
        if (r.action === 'next-tier') {
          passed = true;
          break;
        }
      }
      if (passed) break;
    }
    if (!passed) {
      if (g.tier.defaultAction === 'Deny' && !forcePass) {
        return decide('Deny', { kind: 'end-of-tier', tier: g.tier.name, action: 'Deny' });
      }
      steps.push({ kind: 'tier-pass', tier: g.tier.name });
    }
  }
  if (end === 'pass') return decide('Pass', { kind: 'no-policy' });
  if (end === 'forward-allow') return decide('Allow', { kind: 'forward-default-allow' });
  for (const name of profiles) {
    const prof = snap.profiles.get(name);
    if (prof === undefined) {
      // Felix replaces a missing profile with fail-closed deny-all rules.
      return decide('Deny', { kind: 'missing-profile', profile: name });
    }
    const rules = direction === 'ingress' ? prof.inbound : prof.outbound;
    for (const r of rules) {
      if (!ruleMatches(r, pkt)) continue;
      const step: Step = {
        kind: 'profile-rule',
        profile: name,
        ruleIndex: r.index,
        action: v3Action(r.action),
      };
      steps.push(step);
      if (r.action === 'allow') return decide('Allow', step);
      if (r.action === 'deny') return decide('Deny', step);
      if (r.action === 'next-tier') break;
    }
  }
  return decide('Deny', { kind: 'no-profile-accepted' });
}

// ---------------------------------------------------------------- paths

type Place =
  | { kind: 'workload'; ep: ResolvedEndpoint; node: string }
  | { kind: 'host'; node: string; ip: IpAddress }
  | { kind: 'external' };

/** ICMPv6 types Felix always accepts from workloads to their host (ND, MLD). */
const ND_TYPES: ReadonlySet<number> = new Set([130, 131, 132, 133, 135, 136]);

function locate(snap: Snapshot, ip: IpAddress, node: string | undefined): Place {
  const ep = snap.endpointByAddress(ip);
  if (ep !== undefined && ep.kind === 'WorkloadEndpoint')
    return { kind: 'workload', ep, node: ep.node };
  if (ep !== undefined) return { kind: 'host', node: ep.node, ip };
  if (node !== undefined && node !== '') return { kind: 'host', node, ip };
  return { kind: 'external' };
}

export function policingHostEndpoint(
  snap: Snapshot,
  node: string,
  ip: IpAddress | undefined,
): ResolvedEndpoint | undefined {
  const heps = snap.hostEndpointsOf(node).filter((h) => h.interfaceName !== undefined);
  if (ip !== undefined) {
    const own = heps.find((h) =>
      h.addresses.some((a) => a.family === ip.family && a.value === ip.value),
    );
    if (own !== undefined) return own;
  }
  const star = heps.find((h) => h.interfaceName === '*');
  if (star !== undefined) return star;
  return heps.length === 1 ? heps[0] : undefined;
}

function failsafeMatch(list: readonly FailsafePort[], pkt: Packet, peer: IpAddress) {
  if (pkt.dst.port === undefined) return undefined;
  for (const f of list) {
    if (f.protocol !== pkt.protocol || f.port !== pkt.dst.port) continue;
    if (f.net !== undefined) {
      if (f.net.family !== peer.family) continue;
      const shift = BigInt((f.net.family === 4 ? 32 : 128) - f.net.prefixLength);
      if (peer.value >> shift !== f.net.address >> shift) continue;
    }
    return f;
  }
  return undefined;
}

class PathEvaluator {
  /** set when a staged policy changed some chain in staged mode */
  stagedRelevant = false;

  constructor(
    private readonly snap: Snapshot,
    private readonly pkt: Packet,
    private readonly staged: boolean,
  ) {}

  private groups(ep: ResolvedEndpoint, direction: Direction, chain: PolicyChain) {
    const groups = this.snap.applicable(ep, direction, chain);
    if (!this.staged) return groups;
    const promoted = promoteStaged(this.snap, groups);
    if (promoted === undefined) return groups;
    this.stagedRelevant = true;
    return promoted;
  }

  stage(
    stage: StageName,
    ep: ResolvedEndpoint,
    direction: Direction,
    chain: PolicyChain,
    end: ChainEnd,
  ): StageTrace | undefined {
    const groups = this.groups(ep, direction, chain);
    // Untracked and preDNAT stages exist only when some policy of theirs applies.
    if (end === 'pass' && groups.every((g) => g.policies.length === 0)) return undefined;
    const r = runChain(
      this.snap,
      groups,
      end === 'profiles' ? ep.profiles : [],
      direction,
      this.pkt,
      end,
    );
    return { stage, endpoint: ep.key, direction, ...r };
  }

  fixed(
    stage: StageName,
    endpoint: string | null,
    direction: Direction,
    verdict: StageVerdict,
    step: Step,
  ): StageTrace {
    return { stage, endpoint, direction, verdict, decidedBy: step, steps: [step] };
  }

  /** Host endpoint stages on one node: failsafe, untracked, preDNAT, then normal or forward. */
  hostStages(
    hep: ResolvedEndpoint,
    direction: Direction,
    kind: 'host' | 'forward',
    peer: IpAddress,
  ): StageTrace[] {
    const out: StageTrace[] = [];
    if (kind === 'host') {
      const cfg = this.snap.hostConfig(hep.node);
      const list = direction === 'ingress' ? cfg.failsafeInbound : cfg.failsafeOutbound;
      const f = failsafeMatch(list, this.pkt, peer);
      if (f !== undefined) {
        const step: Step = {
          kind: 'failsafe',
          direction: direction === 'ingress' ? 'inbound' : 'outbound',
          protocol: protocolName(f.protocol),
          port: f.port,
        };
        out.push(
          this.fixed(
            direction === 'ingress' ? 'failsafe-in' : 'failsafe-out',
            hep.key,
            direction,
            'Allow',
            step,
          ),
        );
        return out;
      }
    }
    // Raw-table (untracked) policy sees incoming packets of every kind but outgoing
    // ones only when the host itself sends them.
    const untracked =
      direction === 'ingress' || kind === 'host'
        ? this.stage(
            direction === 'ingress' ? 'host-untracked-ingress' : 'host-untracked-egress',
            hep,
            direction,
            'untracked',
            'pass',
          )
        : undefined;
    if (untracked !== undefined) {
      out.push(untracked);
      if (untracked.verdict !== 'Pass') return out;
    }
    if (direction === 'ingress') {
      const pre = this.stage('host-pre-dnat', hep, direction, 'preDNAT', 'pass');
      if (pre !== undefined) {
        out.push(pre);
        if (pre.verdict !== 'Pass') return out;
      }
    }
    const main =
      kind === 'host'
        ? this.stage(
            direction === 'ingress' ? 'host-ingress' : 'host-egress',
            hep,
            direction,
            'normal',
            'profiles',
          )
        : this.stage(
            direction === 'ingress' ? 'forward-ingress' : 'forward-egress',
            hep,
            direction,
            'forward',
            'forward-allow',
          );
    out.push(main!);
    return out;
  }
}

function side(
  endpoint: string | null,
  node: string | null,
  stages: StageTrace[],
  fallback: Step,
): SideTrace {
  const denied = stages.find((s) => s.verdict === 'Deny');
  const last = denied ?? stages[stages.length - 1];
  return {
    endpoint,
    node,
    verdict: denied === undefined ? 'Allow' : 'Deny',
    decidedBy: last?.decidedBy ?? fallback,
    stages,
  };
}

/** Runs stages in order until one denies (later ones are never reached). */
function sequence(stages: (() => StageTrace[])[]): StageTrace[] {
  const out: StageTrace[] = [];
  for (const s of stages) {
    const got = s();
    out.push(...got);
    if (got.some((g) => g.verdict === 'Deny')) break;
  }
  return out;
}

function evaluatePath(snap: Snapshot, f: ParsedFlow, pkt: Packet, staged: boolean) {
  const ev = new PathEvaluator(snap, pkt, staged);
  const src = locate(snap, f.src, f.srcNode);
  const dst = locate(snap, f.dst, f.dstNode);
  const nd =
    pkt.protocol === 58 && pkt.icmpType !== undefined && ND_TYPES.has(pkt.icmpType)
      ? pkt.icmpType
      : undefined;

  // ---- source side
  let egress: SideTrace;
  if (src.kind === 'workload') {
    const toOwnHost = dst.kind === 'host' && dst.node === src.node;
    const staysOnNode = toOwnHost || (dst.kind === 'workload' && dst.node === src.node);
    const stages = sequence([
      () =>
        toOwnHost && nd !== undefined
          ? [
              ev.fixed('workload-egress', src.ep.key, 'egress', 'Allow', {
                kind: 'icmpv6-neighbour-discovery',
                icmpType: nd,
              }),
            ]
          : [ev.stage('workload-egress', src.ep, 'egress', 'normal', 'profiles')!],
      () => {
        if (staysOnNode) return [];
        const hep = policingHostEndpoint(snap, src.node, undefined);
        return hep === undefined ? [] : ev.hostStages(hep, 'egress', 'forward', f.dst);
      },
    ]);
    egress = side(src.ep.key, src.node, stages, { kind: 'no-policy' });
  } else if (src.kind === 'host') {
    if (dst.kind === 'workload' && dst.node === src.node) {
      const step: Step = { kind: 'host-to-local-workload' };
      egress = side(null, src.node, [ev.fixed('host-egress', null, 'egress', 'Allow', step)], step);
    } else if (dst.kind === 'host' && dst.node === src.node) {
      const step: Step = { kind: 'local-host-traffic' };
      egress = side(null, src.node, [ev.fixed('host-egress', null, 'egress', 'Allow', step)], step);
    } else {
      const hep = policingHostEndpoint(snap, src.node, f.src);
      const step: Step = { kind: 'no-host-endpoint', node: src.node };
      egress =
        hep === undefined
          ? side(null, src.node, [], step)
          : side(hep.key, src.node, ev.hostStages(hep, 'egress', 'host', f.dst), step);
    }
  } else {
    egress = side(null, null, [], { kind: 'not-calico-endpoint', ip: formatIp(f.src) });
  }

  // ---- destination side
  let ingress: SideTrace;
  if (dst.kind === 'workload') {
    if (src.kind === 'host' && src.node === dst.node) {
      // Felix returns early for host -> local workload packets (§7).
      const step: Step = { kind: 'host-to-local-workload' };
      ingress = side(
        dst.ep.key,
        dst.node,
        [ev.fixed('workload-ingress', dst.ep.key, 'ingress', 'Allow', step)],
        step,
      );
    } else {
      const local = src.kind === 'workload' && src.node === dst.node;
      const hep = local ? undefined : policingHostEndpoint(snap, dst.node, undefined);
      const stages = sequence([
        () => (hep === undefined ? [] : ev.hostStages(hep, 'ingress', 'forward', f.src)),
        () => [ev.stage('workload-ingress', dst.ep, 'ingress', 'normal', 'profiles')!],
      ]);
      ingress = side(dst.ep.key, dst.node, stages, { kind: 'no-policy' });
    }
  } else if (dst.kind === 'host') {
    const hep = policingHostEndpoint(snap, dst.node, f.dst);
    const noHep: Step = { kind: 'no-host-endpoint', node: dst.node };
    if (src.kind === 'workload' && src.node === dst.node) {
      if (nd !== undefined) {
        const step: Step = { kind: 'icmpv6-neighbour-discovery', icmpType: nd };
        ingress = side(
          hep?.key ?? null,
          dst.node,
          [ev.fixed('endpoint-to-host', hep?.key ?? null, 'ingress', 'Allow', step)],
          step,
        );
      } else {
        const action = snap.hostConfig(dst.node).defaultEndpointToHostAction;
        const step: Step = { kind: 'default-endpoint-to-host-action', action };
        const verdict: StageVerdict =
          action === 'Drop' ? 'Deny' : action === 'Accept' ? 'Allow' : 'Pass';
        const first = ev.fixed('endpoint-to-host', hep?.key ?? null, 'ingress', verdict, step);
        const rest =
          action === 'Return' && hep !== undefined
            ? ev.hostStages(hep, 'ingress', 'host', f.src)
            : [];
        ingress = side(hep?.key ?? null, dst.node, [first, ...rest], step);
      }
    } else if (src.kind === 'host' && src.node === dst.node) {
      const step: Step = { kind: 'local-host-traffic' };
      ingress = side(
        null,
        dst.node,
        [ev.fixed('host-ingress', null, 'ingress', 'Allow', step)],
        step,
      );
    } else {
      ingress =
        hep === undefined
          ? side(null, dst.node, [], noHep)
          : side(hep.key, dst.node, ev.hostStages(hep, 'ingress', 'host', f.src), noHep);
    }
  } else if (src.kind === 'external' && f.viaNode !== undefined && f.viaNode !== '') {
    // Transit through a host: its forward chains in and out, nothing else (§7 table).
    const hep = policingHostEndpoint(snap, f.viaNode, undefined);
    const stages =
      hep === undefined
        ? []
        : sequence([
            () => ev.hostStages(hep, 'ingress', 'forward', f.src),
            () => ev.hostStages(hep, 'egress', 'forward', f.dst),
          ]);
    ingress = side(hep?.key ?? null, f.viaNode, stages, {
      kind: 'no-host-endpoint',
      node: f.viaNode,
    });
  } else {
    ingress = side(null, null, [], { kind: 'not-calico-endpoint', ip: formatIp(f.dst) });
  }
  const verdict: Verdict =
    egress.verdict === 'Allow' && ingress.verdict === 'Allow' ? 'Allow' : 'Deny';
  return { verdict, egress, ingress, stagedRelevant: ev.stagedRelevant };
}

/** Decides one flow against a snapshot and explains the decision. */
export function evaluateFlow(snap: Snapshot, flow: Flow): Trace {
  const f = parseFlow(flow);
  const pkt = makePacket(snap, f);
  const enforced = evaluatePath(snap, f, pkt, false);
  const trace: Trace = {
    verdict: enforced.verdict,
    flow: f.normalised,
    egress: enforced.egress,
    ingress: enforced.ingress,
  };
  if (snap.hasStaged) {
    const staged = evaluatePath(snap, f, pkt, true);
    if (staged.stagedRelevant) {
      trace.staged = { verdict: staged.verdict, egress: staged.egress, ingress: staged.ingress };
    }
  }
  return trace;
}

/** Just the verdict (no explanation is kept). */
export function decide(snap: Snapshot, flow: Flow): Verdict {
  const f = parseFlow(flow);
  return evaluatePath(snap, f, makePacket(snap, f), false).verdict;
}
