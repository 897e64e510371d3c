// Rule matching (calico-semantics.md §5): every criterion of a rule is ANDed, the
// entries of one list are ORed, and a rule without criteria matches everything.
// The peer of each side is described by its address and the selectable objects
// that hold it; selector matching is "is the address in the selector's IP set".
import { cidrContainsIp, type IpAddress } from '../net/index.js';
import type { BackendEntityRule, BackendRule, IcmpMatch, PortRange } from './model.js';
import type { Contributor } from './snapshot.js';

/** One end of a packet as seen by rule matching. */
export interface PacketSide {
  readonly ip: IpAddress;
  /** the selectable objects holding `ip` (endpoint and network sets); empty for unknown peers */
  readonly contributors: readonly Contributor[];
  /** undefined for protocols without ports */
  readonly port: number | undefined;
}

export interface Packet {
  readonly family: 4 | 6;
  readonly protocol: number;
  readonly icmpType?: number;
  readonly icmpCode?: number;
  readonly src: PacketSide;
  readonly dst: PacketSide;
}

interface RuleFamilies {
  readonly v4: boolean;
  readonly v6: boolean;
}
const familiesCache = new WeakMap<BackendRule, RuleFamilies | null>();

/**
 * Families of all CIDRs a rule names, or null when it names none. Felix renders a
 * rule per IP version and drops it for a version none of its CIDRs belong to.
 */
function ruleFamilies(rule: BackendRule): RuleFamilies | null {
  const s = rule.source;
  const d = rule.destination;
  if (s.nets.length + s.notNets.length + d.nets.length + d.notNets.length === 0) return null;
  let f = familiesCache.get(rule);
  if (f === undefined) {
    let v4 = false;
    let v6 = false;
    for (const list of [
      rule.source.nets,
      rule.source.notNets,
      rule.destination.nets,
      rule.destination.notNets,
    ]) {
      for (const c of list) {
        if (c.family === 4) v4 = true;
        else v6 = true;
      }
    }
    f = v4 || v6 ? { v4, v6 } : null;
    familiesCache.set(rule, f);
  }
  return f;
}

function icmpMatches(m: IcmpMatch, pkt: Packet): boolean {
  if (pkt.icmpType !== m.type) return false;
  return m.code === undefined || pkt.icmpCode === m.code;
}

function isIcmp(protocol: number): boolean {
  return protocol === 1 || protocol === 58;
}

/** The parts of a rule that depend on neither peer: version, protocol, ICMP. */
export function l4Matches(rule: BackendRule, pkt: Packet): boolean {
  if (rule.ipVersion !== undefined && rule.ipVersion !== pkt.family) return false;
  const fam = ruleFamilies(rule);
  if (fam !== null && !(pkt.family === 4 ? fam.v4 : fam.v6)) return false;
  if (rule.protocol !== undefined && rule.protocol !== pkt.protocol) return false;
  if (rule.notProtocol !== undefined && rule.notProtocol === pkt.protocol) return false;
  if (rule.icmp !== undefined && !(isIcmp(pkt.protocol) && icmpMatches(rule.icmp, pkt))) {
    return false;
  }
  if (rule.notIcmp !== undefined && isIcmp(pkt.protocol) && icmpMatches(rule.notIcmp, pkt)) {
    return false;
  }
  return true;
}

function inRanges(ranges: readonly PortRange[], port: number): boolean {
  for (const r of ranges) if (port >= r.min && port <= r.max) return true;
  return false;
}

/**
 * Named ports resolve against the peer itself (§5): the address is in the rule's
 * named-port IP set when an endpoint holding it, and matching the side's positive
 * selector (any endpoint when there is none), declares a port of that name with the
 * packet's protocol and port number.
 */
function namedPortMatches(
  names: readonly string[],
  e: BackendEntityRule,
  side: PacketSide,
  protocol: number,
): boolean {
  if (names.length === 0 || side.port === undefined) return false;
  for (const c of side.contributors) {
    if (c.ports.length === 0) continue;
    if (e.selector !== undefined && !e.selector.matches(c.labels)) continue;
    for (const np of c.ports) {
      if (np.port === side.port && np.protocol === protocol && names.includes(np.name)) return true;
    }
  }
  return false;
}

function anyContributorMatches(
  sel: NonNullable<BackendEntityRule['selector']>,
  side: PacketSide,
): boolean {
  for (const c of side.contributors) if (sel.matches(c.labels)) return true;
  return false;
}

function netsContain(nets: BackendEntityRule['nets'], ip: IpAddress): boolean {
  for (const n of nets) if (n.family === ip.family && cidrContainsIp(n, ip)) return true;
  return false;
}

/** Whether one side of the packet satisfies an EntityRule. */
export function entityMatches(e: BackendEntityRule, side: PacketSide, protocol: number): boolean {
  if (e.services !== undefined) return false;
  if (e.nets.length > 0 && !netsContain(e.nets, side.ip)) return false;
  if (e.notNets.length > 0 && netsContain(e.notNets, side.ip)) return false;
  // A positive selector needs a Calico-known address; notSelector matches anything
  // outside its set, unknown addresses included (§5, negation subtlety).
  if (e.selector !== undefined && !anyContributorMatches(e.selector, side)) return false;
  if (e.notSelector !== undefined && anyContributorMatches(e.notSelector, side)) return false;
  if (e.ports.length > 0 || e.namedPorts.length > 0) {
    if (side.port === undefined) return false;
    if (!inRanges(e.ports, side.port) && !namedPortMatches(e.namedPorts, e, side, protocol)) {
      return false;
    }
  }
  if (e.notPorts.length > 0 || e.notNamedPorts.length > 0) {
    if (side.port === undefined) return false;
    if (inRanges(e.notPorts, side.port) || namedPortMatches(e.notNamedPorts, e, side, protocol)) {
      return false;
    }
  }
  return true;
}

export function ruleMatches(rule: BackendRule, pkt: Packet): boolean {
  return (
    l4Matches(rule, pkt) &&
    entityMatches(rule.source, pkt.src, pkt.protocol) &&
    entityMatches(rule.destination, pkt.dst, pkt.protocol)
  );
}
