// One Calico rule as nftables rule bodies, per IP family, with Felix's semantics for
// families, negations and OR groups (calico-semantics.md §5).
import type { EndpointMatch, PortRange, RuleProgram } from '../calc/index.js';
import type { RenderConfig } from './config.js';
import { hex, ipSetName, quoteString, withComment } from './names.js';

export type SetRole = 'net' | 'ip-port';

export interface RuleContext {
  cfg: RenderConfig;
  /** policy or profile id, for log prefixes and comments */
  ownerId: string;
  kind: 'policy' | 'profile';
  /** records every IP set a rendered rule references, with the role it is used in */
  refs: Map<string, SetRole>;
}

export function familyOf(cidr: string): 4 | 6 {
  return cidr.includes(':') ? 6 : 4;
}

function portList(ports: readonly PortRange[]): string {
  const items = ports.map((p) => (p.first === p.last ? `${p.first}` : `${p.first}-${p.last}`));
  return items.length === 1 ? items[0]! : `{ ${items.join(', ')} }`;
}

function netList(nets: readonly string[]): string {
  return nets.length === 1 ? nets[0]! : `{ ${nets.join(', ')} }`;
}

interface Side {
  /** ANDed matches */
  matches: string[];
  /** ORed alternatives (ports and named ports); empty means no constraint */
  alts: string[];
}

/** Returns undefined when the side can never match for this family. */
function renderSide(
  m: EndpointMatch,
  f: 4 | 6,
  dir: 's' | 'd',
  ctx: RuleContext,
): Side | undefined {
  const addr = `${f === 4 ? 'ip' : 'ip6'} ${dir}addr`;
  const port = `th ${dir}port`;
  const matches: string[] = [];
  if (m.nets && m.nets.length > 0) {
    const fam = m.nets.filter((n) => familyOf(n) === f);
    if (fam.length === 0) return undefined;
    matches.push(`${addr} ${netList(fam)}`);
  }
  if (m.notNets && m.notNets.length > 0) {
    const fam = m.notNets.filter((n) => familyOf(n) === f);
    if (fam.length > 0) matches.push(`${addr} != ${netList(fam)}`);
  }
  for (const id of m.ipSetIds ?? []) {
    ctx.refs.set(id, 'net');
    matches.push(`${addr} @${ipSetName(id, f)}`);
  }
  for (const id of m.notIpSetIds ?? []) {
    ctx.refs.set(id, 'net');
    matches.push(`${addr} != @${ipSetName(id, f)}`);
  }
  if (m.notPorts && m.notPorts.length > 0) matches.push(`${port} != ${portList(m.notPorts)}`);
  for (const id of m.notNamedPortIpSetIds ?? []) {
    ctx.refs.set(id, 'ip-port');
    matches.push(`${addr} . meta l4proto . ${port} != @${ipSetName(id, f)}`);
  }
  const alts: string[] = [];
  if (m.ports && m.ports.length > 0) alts.push(`${port} ${portList(m.ports)}`);
  for (const id of m.namedPortIpSetIds ?? []) {
    ctx.refs.set(id, 'ip-port');
    alts.push(`${addr} . meta l4proto . ${port} @${ipSetName(id, f)}`);
  }
  return { matches, alts };
}

function hasFamilySpecific(m: EndpointMatch): boolean {
  return (
    (m.nets?.length ?? 0) > 0 ||
    (m.notNets?.length ?? 0) > 0 ||
    (m.ipSetIds?.length ?? 0) > 0 ||
    (m.notIpSetIds?.length ?? 0) > 0 ||
    (m.namedPortIpSetIds?.length ?? 0) > 0 ||
    (m.notNamedPortIpSetIds?.length ?? 0) > 0
  );
}

function usesPorts(m: EndpointMatch): boolean {
  return (
    (m.ports?.length ?? 0) > 0 ||
    (m.notPorts?.length ?? 0) > 0 ||
    (m.namedPortIpSetIds?.length ?? 0) > 0 ||
    (m.notNamedPortIpSetIds?.length ?? 0) > 0
  );
}

function actionText(rule: RuleProgram, ctx: RuleContext): string {
  const { marks } = ctx.cfg;
  switch (rule.action) {
    case 'allow':
      return `counter meta mark set meta mark | ${hex(marks.accept)} return`;
    case 'deny':
      return 'counter drop';
    case 'pass':
      return ctx.kind === 'policy'
        ? `counter meta mark set meta mark | ${hex(marks.pass)} return`
        : 'counter return';
    case 'log': {
      const prefix = rule.logPrefix ?? `${ctx.cfg.logPrefix} ${ctx.ownerId}`;
      // the kernel caps log prefixes at 127 bytes
      return `counter log prefix ${quoteString(`${prefix} `, 120)}`;
    }
  }
}

function icmpMatch(f: 4 | 6, type: number, code: number | undefined, negate: boolean): string {
  const kw = f === 4 ? 'icmp' : 'icmpv6';
  if (code === undefined) return `${kw} type ${negate ? '!= ' : ''}${type}`;
  if (!negate) return `${kw} type ${type} ${kw} code ${code}`;
  return `${kw} type . ${kw} code != { ${type} . ${code} }`;
}

function renderForFamily(rule: RuleProgram, f: 4 | 6 | undefined, ctx: RuleContext): string[] {
  const { marks } = ctx.cfg;
  const head: string[] = [];
  if (f !== undefined) {
    if (rule.protocol === 1 && f === 6) return [];
    if (rule.protocol === 58 && f === 4) return [];
  }
  // Always pin the family: a rule whose only family-specific part was dropped for this
  // family (say, v4-only notNets) must still not match the other family's packets.
  if (f !== undefined) head.push(`meta nfproto ipv${f}`);
  else if (rule.ipVersion !== undefined) head.push(`meta nfproto ipv${rule.ipVersion}`);
  if (rule.protocol !== undefined) head.push(`meta l4proto ${rule.protocol}`);
  else if (usesPorts(rule.src) || usesPorts(rule.dst))
    head.push('meta l4proto { tcp, udp, sctp, udplite }');
  if (rule.notProtocol !== undefined) head.push(`meta l4proto != ${rule.notProtocol}`);
  if (rule.icmp) head.push(icmpMatch(f ?? 4, rule.icmp.type, rule.icmp.code, false));
  if (rule.notIcmp) head.push(icmpMatch(f ?? 4, rule.notIcmp.type, rule.notIcmp.code, true));
  let src: Side = { matches: [], alts: [] };
  let dst: Side = { matches: [], alts: [] };
  if (f !== undefined) {
    const s = renderSide(rule.src, f, 's', ctx);
    const d = renderSide(rule.dst, f, 'd', ctx);
    if (!s || !d) return [];
    src = s;
    dst = d;
  } else {
    // family-neutral: only ports can appear on either side
    const s = renderSide(rule.src, 4, 's', ctx);
    const d = renderSide(rule.dst, 4, 'd', ctx);
    src = s ?? src;
    dst = d ?? dst;
  }
  const common = [...head, ...src.matches, ...dst.matches];
  const action = actionText(rule, ctx);
  const desc = `${ctx.ownerId} ${rule.id}`;
  if (src.alts.length <= 1 && dst.alts.length <= 1) {
    // Port comparisons before address and set matches: a new connection walks every
    // rule of every policy on its endpoints until one matches, and most rules fail on
    // the port; a set lookup skipped per rule was measurable in connections per second.
    const isPort = (m: string) => m.startsWith('th ');
    const all = [...src.matches, ...dst.matches, ...src.alts, ...dst.alts];
    const body = [...head, ...all.filter(isPort), ...all.filter((m) => !isPort(m)), action].join(
      ' ',
    );
    return [withComment(body, desc)];
  }
  // OR over (ports | named-port sets): accumulate into scratch marks, then act once,
  // so counters and Log fire once per packet (Felix does the same).
  const out: string[] = [];
  const clear = ~(marks.scratch0 | marks.scratch1) >>> 0;
  out.push(withComment(`meta mark set meta mark & ${hex(clear)}`, desc));
  const conds: string[] = [];
  let need = 0;
  for (const [side, bit] of [
    [src, marks.scratch0],
    [dst, marks.scratch1],
  ] as const) {
    if (side.alts.length > 1) {
      for (const alt of side.alts)
        out.push(
          withComment([...common, alt, `meta mark set meta mark | ${hex(bit)}`].join(' '), desc),
        );
      need |= bit;
    } else if (side.alts.length === 1) conds.push(side.alts[0]!);
  }
  out.push(
    withComment(
      [...common, ...conds, `meta mark & ${hex(need)} == ${hex(need)}`, action].join(' '),
      desc,
    ),
  );
  return out;
}

/** The nft rule bodies (with counters and comments) for one rule, both families as needed. */
export function renderRule(rule: RuleProgram, ctx: RuleContext): string[] {
  const familySpecific =
    hasFamilySpecific(rule.src) ||
    hasFamilySpecific(rule.dst) ||
    rule.icmp !== undefined ||
    rule.notIcmp !== undefined ||
    rule.protocol === 1 ||
    rule.protocol === 58;
  if (!familySpecific) {
    if (rule.ipVersion === 6 && !ctx.cfg.ipv6) return [];
    return renderForFamily(rule, undefined, ctx);
  }
  // Felix renders a rule per IP version and drops it for a version none of its CIDRs
  // (in any of nets/notNets, either side) belongs to.
  const cidrs = [
    ...(rule.src.nets ?? []),
    ...(rule.src.notNets ?? []),
    ...(rule.dst.nets ?? []),
    ...(rule.dst.notNets ?? []),
  ];
  const out: string[] = [];
  for (const f of [4, 6] as const) {
    if (rule.ipVersion !== undefined && rule.ipVersion !== f) continue;
    if (cidrs.length > 0 && !cidrs.some((c) => familyOf(c) === f)) continue;
    if (f === 6 && !ctx.cfg.ipv6) continue;
    out.push(...renderForFamily(rule, f, ctx));
  }
  return out;
}
