// v3 resources -> backend model, one function per kind, as Calico's update
// processors do (calico-semantics.md §1, §6, §9, §10). Pure: no snapshot, no I/O.
import { FELIX_FAILSAFE_INBOUND_DEFAULT, FELIX_FAILSAFE_OUTBOUND_DEFAULT } from '../api/index.js';
import { type Cidr, type IpAddress, parseCidrOrIp } from '../net/index.js';
import {
  ALL_SELECTOR,
  andNodes,
  fromAst,
  notNode,
  parseSelector,
  prefixLabelKeys,
  type Selector,
  type SelectorNode,
} from '../selector/index.js';
import { PolicyError } from './errors.js';
import type {
  ResourceLike,
  V3EndpointPort,
  V3EntityRule,
  V3FelixConfigurationSpec,
  V3HostEndpointSpec,
  V3ICMPFields,
  V3NetworkSetSpec,
  V3PolicySpec,
  V3Port,
  V3ProfileSpec,
  V3Protocol,
  V3ProtoPort,
  V3Rule,
  V3TierSpec,
  V3WorkloadEndpointSpec,
} from './input.js';
import {
  type BackendAction,
  type BackendEndpoint,
  type BackendEntityRule,
  type BackendNetworkSet,
  type BackendPolicy,
  type BackendProfile,
  type BackendRule,
  type BackendTier,
  type EndpointToHostAction,
  type FailsafePort,
  type HostConfig,
  type IcmpMatch,
  LABEL_NAMESPACE,
  LABEL_ORCHESTRATOR,
  LABEL_SERVICE_ACCOUNT,
  NAMESPACE_LABEL_PREFIX,
  NAMESPACE_PROFILE_PREFIX,
  type NamedPort,
  type PolicyKind,
  type PortRange,
  SERVICE_ACCOUNT_LABEL_PREFIX,
  SERVICE_ACCOUNT_PROFILE_PREFIX,
  type StagedAction,
} from './model.js';

// ---------------------------------------------------------------- protocols

const PROTOCOL_NUMBERS: Record<string, number> = {
  tcp: 6,
  udp: 17,
  icmp: 1,
  icmpv6: 58,
  sctp: 132,
  udplite: 136,
};
const PROTOCOL_NAMES: Record<number, string> = {
  6: 'TCP',
  17: 'UDP',
  1: 'ICMP',
  58: 'ICMPv6',
  132: 'SCTP',
  136: 'UDPLite',
};
/** Protocols that carry ports (Calico allows port matches only for these). */
export const PORT_PROTOCOLS: ReadonlySet<number> = new Set([6, 17, 132]);

/** `TCP`, `udp`, `ICMPv6`, 6, "17" -> protocol number; names are case-insensitive. */
export function parseProtocol(value: V3Protocol, where = 'protocol'): number {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 1 && value <= 255) return value;
  } else if (typeof value === 'string') {
    const named = PROTOCOL_NUMBERS[value.toLowerCase()];
    if (named !== undefined) return named;
    if (/^[0-9]{1,3}$/.test(value)) {
      const n = Number(value);
      if (n >= 1 && n <= 255) return n;
    }
  }
  throw new PolicyError(
    'INVALID_PROTOCOL',
    `${where}: ${JSON.stringify(value)} is not a protocol (TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or 1-255)`,
  );
}

/** Canonical Calico spelling for well-known protocols, the number otherwise. */
export function protocolName(n: number): string {
  return PROTOCOL_NAMES[n] ?? String(n);
}

// ---------------------------------------------------------------- ports

const NAMED_PORT = /^[a-zA-Z0-9_.-]{1,128}$/;

function portNumber(text: string, where: string): number {
  if (!/^[0-9]{1,5}$/.test(text)) {
    throw new PolicyError('INVALID_PORT', `${where}: ${JSON.stringify(text)} is not a port number`);
  }
  const n = Number(text);
  if (n > 65535) throw new PolicyError('INVALID_PORT', `${where}: port ${n} is above 65535`);
  return n;
}

export interface ParsedPorts {
  ranges: PortRange[];
  named: string[];
}

/** Port list entries: an int, `"min:max"`, a numeric string, or a named port. */
export function parsePorts(list: readonly V3Port[] | undefined, where: string): ParsedPorts {
  const ranges: PortRange[] = [];
  const named: string[] = [];
  for (const [i, p] of (list ?? []).entries()) {
    const at = `${where}[${i}]`;
    if (typeof p === 'number') {
      if (!Number.isInteger(p) || p < 0 || p > 65535) {
        throw new PolicyError('INVALID_PORT', `${at}: ${p} is not a port number (0-65535)`);
      }
      ranges.push({ min: p, max: p });
    } else if (typeof p === 'string') {
      const colon = p.indexOf(':');
      if (colon >= 0) {
        const min = portNumber(p.slice(0, colon), at);
        const max = portNumber(p.slice(colon + 1), at);
        if (min === 0 || max === 0 || min > max) {
          throw new PolicyError(
            'INVALID_PORT',
            `${at}: range ${JSON.stringify(p)} needs 1 <= min <= max <= 65535`,
          );
        }
        ranges.push({ min, max });
      } else if (/^[0-9]+$/.test(p)) {
        const n = portNumber(p, at);
        ranges.push({ min: n, max: n });
      } else if (NAMED_PORT.test(p)) {
        named.push(p);
      } else {
        throw new PolicyError(
          'INVALID_PORT',
          `${at}: ${JSON.stringify(p)} is neither a port, a "min:max" range nor a named port`,
        );
      }
    } else {
      throw new PolicyError('INVALID_PORT', `${at}: expected a number or string`);
    }
  }
  return { ranges, named };
}

// ---------------------------------------------------------------- selectors

function parseSel(text: string, where: string): Selector {
  try {
    return parseSelector(text);
  } catch (err) {
    throw new PolicyError(
      'INVALID_SELECTOR',
      `${where}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
}

function eq(key: string, value: string): SelectorNode {
  return { kind: 'eq', key, value };
}

function hasNamespace(): SelectorNode {
  return { kind: 'has', key: LABEL_NAMESPACE };
}

/**
 * Rule `namespaceSelector` -> backend clause: `global()` matches non-namespaced
 * objects, `all()` every namespaced one, anything else is prefixed with `pcns.`.
 */
function namespaceSelectorClause(text: string, where: string): SelectorNode {
  if (text.trim() === 'global()') return notNode(hasNamespace());
  const sel = parseSel(text, where);
  if (sel.usesGlobal) {
    throw new PolicyError(
      'INVALID_SELECTOR',
      `${where}: global() is only allowed as the entire namespaceSelector`,
    );
  }
  if (sel.ast.kind === 'all') return hasNamespace();
  return prefixLabelKeys(sel.ast, NAMESPACE_LABEL_PREFIX);
}

function rejectGlobal(sel: Selector, where: string): Selector {
  if (sel.usesGlobal) {
    throw new PolicyError('INVALID_SELECTOR', `${where}: global() is not allowed here`);
  }
  return sel;
}

// ---------------------------------------------------------------- rules

const LENIENT = { strict: false } as const;

function parseNets(list: readonly string[] | undefined, where: string): Cidr[] {
  return (list ?? []).map((text, i) => {
    try {
      return parseCidrOrIp(text, LENIENT);
    } catch (err) {
      throw new PolicyError(
        'INVALID_NET',
        `${where}[${i}]: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  });
}

/** Context of the policy a rule belongs to: namespaced policies scope their rules. */
export interface RuleContext {
  /** the NetworkPolicy's namespace; undefined for GNPs and profiles */
  readonly namespace?: string;
}

/**
 * One EntityRule (`source` or `destination`) -> backend form, with the selector
 * expansion of `updateprocessors/rules.go` (§10): `(ns part) && ((sa part) &&
 * (selector))`, the namespace part only when the rule names peers by label.
 */
export function expandEntityRule(
  er: V3EntityRule | undefined,
  ctx: RuleContext,
  where = 'entityRule',
): BackendEntityRule {
  const e = er ?? {};
  const ports = parsePorts(e.ports, `${where}.ports`);
  const notPorts = parsePorts(e.notPorts, `${where}.notPorts`);

  const userSel =
    e.selector !== undefined && e.selector.trim() !== ''
      ? rejectGlobal(parseSel(e.selector, `${where}.selector`), `${where}.selector`)
      : undefined;

  let saPart: SelectorNode | undefined;
  const sa = e.serviceAccounts;
  if (sa !== undefined && sa !== null) {
    const parts: SelectorNode[] = [];
    if (sa.names !== undefined && sa.names.length > 0) {
      parts.push({ kind: 'in', key: LABEL_SERVICE_ACCOUNT, values: [...sa.names] });
    }
    if (sa.selector !== undefined && sa.selector.trim() !== '') {
      const s = rejectGlobal(
        parseSel(sa.selector, `${where}.serviceAccounts.selector`),
        `${where}.serviceAccounts.selector`,
      );
      parts.push(prefixLabelKeys(s.ast, SERVICE_ACCOUNT_LABEL_PREFIX));
    }
    if (parts.length > 0) saPart = andNodes(...parts);
  }

  const nsSelText = e.namespaceSelector?.trim() ?? '';
  const namesPeers =
    userSel !== undefined ||
    saPart !== undefined ||
    nsSelText !== '' ||
    (e.notSelector !== undefined && e.notSelector.trim() !== '');
  let nsPart: SelectorNode | undefined;
  if (namesPeers) {
    if (nsSelText !== '') {
      nsPart = namespaceSelectorClause(nsSelText, `${where}.namespaceSelector`);
    } else if (ctx.namespace !== undefined) {
      nsPart = eq(LABEL_NAMESPACE, ctx.namespace);
    }
  }

  let selector: Selector | undefined;
  if (userSel !== undefined || saPart !== undefined || nsPart !== undefined) {
    const inner = andNodes(saPart ?? ALL_SELECTOR, userSel?.ast ?? ALL_SELECTOR);
    selector = fromAst(andNodes(nsPart ?? ALL_SELECTOR, inner));
  }
  const notSelector =
    e.notSelector !== undefined && e.notSelector.trim() !== ''
      ? rejectGlobal(parseSel(e.notSelector, `${where}.notSelector`), `${where}.notSelector`)
      : undefined;

  return {
    nets: parseNets(e.nets, `${where}.nets`),
    notNets: parseNets(e.notNets, `${where}.notNets`),
    ...(selector !== undefined ? { selector } : {}),
    ...(notSelector !== undefined ? { notSelector } : {}),
    ports: ports.ranges,
    namedPorts: ports.named,
    notPorts: notPorts.ranges,
    notNamedPorts: notPorts.named,
    ...(e.services
      ? {
          services: {
            name: e.services.name,
            namespace: e.services.namespace ?? ctx.namespace ?? '',
          },
        }
      : {}),
  };
}

const ACTIONS: Record<string, BackendAction> = {
  Allow: 'allow',
  Deny: 'deny',
  Log: 'log',
  Pass: 'next-tier',
};

/** Backend action -> the v3 word users wrote (used in explanations). */
export function v3Action(a: BackendAction): 'Allow' | 'Deny' | 'Log' | 'Pass' {
  switch (a) {
    case 'allow':
      return 'Allow';
    case 'deny':
      return 'Deny';
    case 'log':
      return 'Log';
    case 'next-tier':
      return 'Pass';
  }
}

function convertIcmp(f: V3ICMPFields | undefined, where: string): IcmpMatch | undefined {
  if (f === undefined || f === null) return undefined;
  if (f.type === undefined) {
    if (f.code !== undefined) {
      throw new PolicyError('INVALID_RESOURCE', `${where}: an ICMP code needs an ICMP type`);
    }
    return undefined;
  }
  if (!Number.isInteger(f.type) || f.type < 0 || f.type > 254) {
    throw new PolicyError('INVALID_RESOURCE', `${where}.type: ${f.type} is not in 0-254`);
  }
  if (f.code !== undefined && (!Number.isInteger(f.code) || f.code < 0 || f.code > 255)) {
    throw new PolicyError('INVALID_RESOURCE', `${where}.code: ${f.code} is not in 0-255`);
  }
  return f.code === undefined ? { type: f.type } : { type: f.type, code: f.code };
}

export function convertRule(
  rule: V3Rule,
  index: number,
  ctx: RuleContext,
  where = 'rule',
): BackendRule {
  const action = ACTIONS[rule.action];
  if (action === undefined) {
    throw new PolicyError(
      'INVALID_RESOURCE',
      `${where}.action: ${JSON.stringify(rule.action)} is not one of Allow, Deny, Log, Pass`,
    );
  }
  if (rule.ipVersion !== undefined && rule.ipVersion !== 4 && rule.ipVersion !== 6) {
    throw new PolicyError('INVALID_RESOURCE', `${where}.ipVersion: must be 4 or 6`);
  }
  const protocol =
    rule.protocol === undefined ? undefined : parseProtocol(rule.protocol, `${where}.protocol`);
  const notProtocol =
    rule.notProtocol === undefined
      ? undefined
      : parseProtocol(rule.notProtocol, `${where}.notProtocol`);
  const icmp = convertIcmp(rule.icmp, `${where}.icmp`);
  const notIcmp = convertIcmp(rule.notICMP, `${where}.notICMP`);
  const source = expandEntityRule(rule.source, ctx, `${where}.source`);
  const destination = expandEntityRule(rule.destination, ctx, `${where}.destination`);
  return {
    action,
    ...(rule.ipVersion !== undefined ? { ipVersion: rule.ipVersion as 4 | 6 } : {}),
    ...(protocol !== undefined ? { protocol } : {}),
    ...(notProtocol !== undefined ? { notProtocol } : {}),
    ...(icmp !== undefined ? { icmp } : {}),
    ...(notIcmp !== undefined ? { notIcmp } : {}),
    source,
    destination,
    index,
  };
}

export function convertRules(
  rules: readonly V3Rule[] | undefined | null,
  ctx: RuleContext,
  where: string,
): BackendRule[] {
  return (rules ?? []).map((r, i) => convertRule(r, i, ctx, `${where}[${i}]`));
}

// ---------------------------------------------------------------- policies

function describe(res: ResourceLike): string {
  const m = res.metadata ?? {};
  return m.namespace ? `${res.kind} ${m.namespace}/${m.name}` : `${res.kind} ${m.name}`;
}

function requireName(res: ResourceLike): string {
  const name = res.metadata?.name;
  if (typeof name !== 'string' || name === '') {
    throw new PolicyError('INVALID_RESOURCE', `${res.kind}: metadata.name is required`);
  }
  return name;
}

const POLICY_KINDS: ReadonlySet<string> = new Set([
  'GlobalNetworkPolicy',
  'NetworkPolicy',
  'StagedGlobalNetworkPolicy',
  'StagedNetworkPolicy',
]);

function namespacedPolicyKind(kind: PolicyKind): boolean {
  return (
    kind === 'NetworkPolicy' ||
    kind === 'StagedNetworkPolicy' ||
    kind === 'StagedKubernetesNetworkPolicy'
  );
}

/**
 * The policy's own selector after scoping (§6): a namespaced policy is ANDed with
 * its namespace; a GNP's namespaceSelector is `pcns.`-prefixed (`all()` meaning
 * "any namespaced object"); serviceAccountSelector is `pcsa.`-prefixed.
 */
export function policySelector(
  spec: V3PolicySpec,
  namespace: string | undefined,
  where: string,
): Selector {
  const sel = rejectGlobal(parseSel(spec.selector ?? '', `${where}.selector`), `${where}.selector`);
  const parts: SelectorNode[] = [sel.ast];
  if (namespace !== undefined) {
    parts.push(eq(LABEL_NAMESPACE, namespace));
  } else if (spec.namespaceSelector !== undefined && spec.namespaceSelector.trim() !== '') {
    const ns = rejectGlobal(
      parseSel(spec.namespaceSelector, `${where}.namespaceSelector`),
      `${where}.namespaceSelector`,
    );
    parts.push(
      ns.ast.kind === 'all' ? hasNamespace() : prefixLabelKeys(ns.ast, NAMESPACE_LABEL_PREFIX),
    );
  }
  if (spec.serviceAccountSelector !== undefined && spec.serviceAccountSelector.trim() !== '') {
    const sa = rejectGlobal(
      parseSel(spec.serviceAccountSelector, `${where}.serviceAccountSelector`),
      `${where}.serviceAccountSelector`,
    );
    parts.push(prefixLabelKeys(sa.ast, SERVICE_ACCOUNT_LABEL_PREFIX));
  }
  return fromAst(andNodes(...parts));
}

function convertOrder(order: unknown, where: string): number | undefined {
  if (order === undefined || order === null) return undefined;
  if (typeof order !== 'number' || Number.isNaN(order)) {
    throw new PolicyError('INVALID_RESOURCE', `${where}.order: expected a number`);
  }
  return order;
}

/**
 * GlobalNetworkPolicy, NetworkPolicy and their staged variants (v3) -> backend
 * policy. StagedKubernetesNetworkPolicy is converted by `convertK8sNetworkPolicy`
 * first and then passed here as a StagedNetworkPolicy-shaped resource.
 */
export function convertPolicy(res: ResourceLike, kindOverride?: PolicyKind): BackendPolicy {
  const d = convertPolicyDeferred(res, kindOverride);
  const rules = d.rules();
  const p = d.policy;
  return {
    key: p.key,
    tier: p.tier,
    order: p.order,
    selector: p.selector,
    ingress: p.ingress,
    egress: p.egress,
    inbound: rules.inbound,
    outbound: rules.outbound,
    staged: p.staged,
    ...(p.stagedAction !== undefined ? { stagedAction: p.stagedAction } : {}),
    doNotTrack: p.doNotTrack,
    preDNAT: p.preDNAT,
    applyOnForward: p.applyOnForward,
  };
}

/** A policy converted but for its rules, and the conversion of the rules. */
export interface DeferredPolicy {
  /** `inbound` and `outbound` are empty */
  readonly policy: BackendPolicy;
  /**
   * The rules, converted on demand (throws as convertPolicy would for them). Reads
   * the resource's spec when called, so the resource must not be changed meanwhile.
   */
  rules(): { inbound: BackendRule[]; outbound: BackendRule[] };
}

/**
 * convertPolicy in two steps: everything but the rules now (throwing as convertPolicy
 * does for those parts), the rules when asked. A consumer that needs the rules of few
 * policies (a host's calculation graph) skips converting the others'.
 */
export function convertPolicyDeferred(
  res: ResourceLike,
  kindOverride?: PolicyKind,
): DeferredPolicy {
  const kind = (kindOverride ?? res.kind) as PolicyKind;
  if (kindOverride === undefined && !POLICY_KINDS.has(res.kind)) {
    throw new PolicyError('INVALID_RESOURCE', `${describe(res)} is not a policy kind`);
  }
  const name = requireName(res);
  const where = describe(res);
  const spec = (res.spec ?? {}) as V3PolicySpec;
  const namespaced = namespacedPolicyKind(kind);
  const namespace = namespaced ? (res.metadata?.namespace ?? 'default') : undefined;
  const staged = kind.startsWith('Staged');

  const stagedAction = staged ? ((spec.stagedAction ?? 'Set') as StagedAction) : undefined;
  if (stagedAction !== undefined && !['Set', 'Delete', 'Learn', 'Ignore'].includes(stagedAction)) {
    throw new PolicyError(
      'INVALID_RESOURCE',
      `${where}: spec.stagedAction ${JSON.stringify(stagedAction)} is not Set, Delete, Learn or Ignore`,
    );
  }

  // Calico defaults an empty types list on create from the rules present (§6); we
  // apply the same defaulting so a resource behaves as it would once applied.
  const hasIngress = (spec.ingress ?? []).length > 0;
  const hasEgress = (spec.egress ?? []).length > 0;
  const types =
    spec.types !== undefined && spec.types !== null && spec.types.length > 0
      ? spec.types
      : hasEgress && !hasIngress
        ? ['Egress']
        : hasEgress
          ? ['Ingress', 'Egress']
          : ['Ingress'];
  for (const t of types) {
    if (t !== 'Ingress' && t !== 'Egress') {
      throw new PolicyError(
        'INVALID_RESOURCE',
        `${where}: spec.types entry ${JSON.stringify(t)} is not Ingress or Egress`,
      );
    }
  }
  const ingress = types.includes('Ingress');
  const egress = types.includes('Egress');

  const doNotTrack = !namespaced && spec.doNotTrack === true;
  const preDNAT = !namespaced && spec.preDNAT === true;
  if (doNotTrack && preDNAT) {
    throw new PolicyError(
      'INVALID_RESOURCE',
      `${where}: preDNAT and doNotTrack are mutually exclusive`,
    );
  }
  const ctx: RuleContext = namespace !== undefined ? { namespace } : {};
  const tier = spec.tier === undefined || spec.tier === '' ? 'default' : spec.tier;
  const policy: BackendPolicy = {
    key: { kind, namespace: namespace ?? '', name },
    tier,
    order: convertOrder(spec.order, `${where}: spec`),
    selector: policySelector(spec, namespace, `${where}: spec`),
    ingress,
    egress,
    inbound: [],
    outbound: [],
    staged,
    ...(stagedAction !== undefined ? { stagedAction } : {}),
    doNotTrack,
    preDNAT,
    // applyOnForward is forced false for namespaced policies; doNotTrack and
    // preDNAT imply it (the validator requires it to be set with them).
    applyOnForward: !namespaced && (spec.applyOnForward === true || doNotTrack || preDNAT),
  };
  return {
    policy,
    rules: () => ({
      inbound: convertRules(spec.ingress, ctx, `${where}: spec.ingress`),
      outbound: convertRules(spec.egress, ctx, `${where}: spec.egress`),
    }),
  };
}

// ---------------------------------------------------------------- tiers, profiles

/** The reserved tiers Calico creates by itself, with the values its validator enforces. */
export const RESERVED_TIERS: readonly BackendTier[] = [
  { name: 'default', order: 1_000_000, defaultAction: 'Deny' },
  { name: 'kube-admin', order: 1_000, defaultAction: 'Pass' },
  { name: 'kube-baseline', order: 10_000_000, defaultAction: 'Pass' },
];

export function convertTier(res: ResourceLike): BackendTier {
  const name = requireName(res);
  const spec = (res.spec ?? {}) as V3TierSpec;
  const da = spec.defaultAction ?? 'Deny';
  if (da !== 'Deny' && da !== 'Pass') {
    throw new PolicyError(
      'INVALID_RESOURCE',
      `Tier ${name}: spec.defaultAction ${JSON.stringify(da)} is not Deny or Pass`,
    );
  }
  return { name, order: convertOrder(spec.order, `Tier ${name}: spec`), defaultAction: da };
}

export function convertProfile(res: ResourceLike): BackendProfile {
  const name = requireName(res);
  const spec = (res.spec ?? {}) as V3ProfileSpec;
  return {
    name,
    labelsToApply: { ...(spec.labelsToApply ?? {}) },
    inbound: convertRules(spec.ingress, {}, `Profile ${name}: spec.ingress`),
    outbound: convertRules(spec.egress, {}, `Profile ${name}: spec.egress`),
  };
}

// ---------------------------------------------------------------- endpoints, sets

/**
 * The usual spellings, looked up before parseProtocol: endpoint conversion runs once
 * per endpoint of the cluster, and the general path builds an error location and a
 * lower-cased copy for every port.
 */
const COMMON_PROTOCOLS: ReadonlyMap<string, number> = new Map([
  ['TCP', 6],
  ['UDP', 17],
  ['SCTP', 132],
  ['tcp', 6],
  ['udp', 17],
  ['sctp', 132],
]);

/** An endpoint's `ports` -> named ports (Calico defaults the protocol to TCP). */
export function convertNamedPorts(
  ports: readonly V3EndpointPort[] | undefined,
  where: string,
): NamedPort[] {
  const out: NamedPort[] = [];
  if (ports === undefined || ports === null) return out;
  // Anything but an array keeps the generic iteration and its exact errors.
  const list = Array.isArray(ports) ? ports : [...ports.entries()].map(([, p]) => p);
  for (let i = 0; i < list.length; i++) {
    const p = list[i]!;
    if (typeof p.name !== 'string' || !NAMED_PORT.test(p.name)) {
      throw new PolicyError('INVALID_PORT', `${where}[${i}].name: not a valid port name`);
    }
    if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) {
      throw new PolicyError('INVALID_PORT', `${where}[${i}].port: ${p.port} is not in 1-65535`);
    }
    // Calico defaults an endpoint port's protocol to TCP.
    const proto = p.protocol ?? 'TCP';
    out.push({
      name: p.name,
      protocol:
        (typeof proto === 'string' ? COMMON_PROTOCOLS.get(proto) : undefined) ??
        parseProtocol(proto, `${where}[${i}].protocol`),
      port: p.port,
    });
  }
  return out;
}

function singleAddresses(list: readonly string[] | undefined, where: string): IpAddress[] {
  return parseNets(list, where).map((c, i) => {
    const bits = c.family === 4 ? 32 : 128;
    if (c.prefixLength !== bits) {
      throw new PolicyError(
        'INVALID_NET',
        `${where}[${i}]: a workload network must be a single address (/32 or /128)`,
      );
    }
    return { family: c.family, value: c.address };
  });
}

/**
 * A workload endpoint's effective labels and profiles, shared by the full conversion and
 * the calc graph's reduced one for other hosts' endpoints. `profiles` is a fresh array.
 */
export function workloadLabelsAndProfiles(
  res: ResourceLike,
  namespace: string,
  spec: V3WorkloadEndpointSpec,
): { labels: Record<string, string>; profiles: string[] } {
  const labels: Record<string, string> = { ...(res.metadata?.labels ?? {}) };
  labels[LABEL_NAMESPACE] = namespace;
  if (spec.orchestrator) labels[LABEL_ORCHESTRATOR] = spec.orchestrator;
  if (spec.serviceAccountName) labels[LABEL_SERVICE_ACCOUNT] = spec.serviceAccountName;
  const profiles = [...(spec.profiles ?? [])];
  if (profiles.length === 0 && spec.orchestrator === 'k8s') {
    profiles.push(`${NAMESPACE_PROFILE_PREFIX}${namespace}`);
    if (spec.serviceAccountName) {
      profiles.push(`${SERVICE_ACCOUNT_PROFILE_PREFIX}${namespace}.${spec.serviceAccountName}`);
    }
  }
  return { labels, profiles };
}

/**
 * WorkloadEndpoint -> backend endpoint. Calico's client stores every WEP with
 * `projectcalico.org/namespace` and `projectcalico.org/orchestrator` labels, plus
 * `projectcalico.org/serviceaccount` when the pod has a service account (§9);
 * own labels never override them. A Kubernetes WEP that lists no profiles gets
 * the ones the Kubernetes integration would give it: `kns.<ns>`, `ksa.<ns>.<sa>`.
 */
export function convertWorkloadEndpoint(res: ResourceLike): BackendEndpoint {
  const name = requireName(res);
  const namespace = res.metadata?.namespace || 'default';
  const where = `WorkloadEndpoint ${namespace}/${name}: spec`;
  const spec = (res.spec ?? {}) as V3WorkloadEndpointSpec;
  const { labels, profiles } = workloadLabelsAndProfiles(res, namespace, spec);
  const out: { -readonly [K in keyof BackendEndpoint]: BackendEndpoint[K] } = {
    kind: 'WorkloadEndpoint',
    namespace,
    name,
    node: spec.node ?? '',
    labels,
    profiles,
    addresses: singleAddresses(spec.ipNetworks, `${where}.ipNetworks`),
    ports: convertNamedPorts(spec.ports, `${where}.ports`),
  };
  // Assigned rather than spread in: a conditional spread copies through the runtime's
  // slow path, and this runs for every endpoint of the cluster.
  if (spec.interfaceName !== undefined) out.interfaceName = spec.interfaceName;
  return out;
}

export function convertHostEndpoint(res: ResourceLike): BackendEndpoint {
  const name = requireName(res);
  const where = `HostEndpoint ${name}: spec`;
  const spec = (res.spec ?? {}) as V3HostEndpointSpec;
  if (!spec.node) throw new PolicyError('INVALID_RESOURCE', `${where}.node is required`);
  if (!spec.interfaceName && (spec.expectedIPs ?? []).length === 0) {
    throw new PolicyError(
      'INVALID_RESOURCE',
      `${where}: needs interfaceName or at least one expectedIPs entry`,
    );
  }
  return {
    kind: 'HostEndpoint',
    namespace: '',
    name,
    node: spec.node,
    labels: { ...(res.metadata?.labels ?? {}) },
    profiles: [...(spec.profiles ?? [])],
    addresses: singleAddresses(spec.expectedIPs, `${where}.expectedIPs`),
    ports: convertNamedPorts(spec.ports, `${where}.ports`),
    ...(spec.interfaceName ? { interfaceName: spec.interfaceName } : {}),
  };
}

/** GlobalNetworkSet / NetworkSet; namespaced sets carry their namespace label (§2). */
export function convertNetworkSet(res: ResourceLike): BackendNetworkSet {
  const name = requireName(res);
  const namespaced = res.kind === 'NetworkSet';
  const namespace = namespaced ? res.metadata?.namespace || 'default' : '';
  const spec = (res.spec ?? {}) as V3NetworkSetSpec;
  const labels: Record<string, string> = { ...(res.metadata?.labels ?? {}) };
  if (namespaced) labels[LABEL_NAMESPACE] = namespace;
  return {
    kind: namespaced ? 'NetworkSet' : 'GlobalNetworkSet',
    namespace,
    name,
    labels,
    nets: parseNets(spec.nets, `${describe(res)}: spec.nets`),
  };
}

/**
 * Effective labels (§9): own labels, then each profile's labelsToApply in the
 * endpoint's profile order for keys not yet present. Own labels always win, and
 * among profiles the first one to set a key wins. Missing profiles contribute none.
 */
export function effectiveLabels(
  own: Readonly<Record<string, string>>,
  profiles: readonly (BackendProfile | undefined)[],
): Record<string, string> {
  const out: Record<string, string> = { ...own };
  for (const p of profiles) {
    if (p === undefined) continue;
    for (const [k, v] of Object.entries(p.labelsToApply)) {
      if (!Object.hasOwn(out, k)) out[k] = v;
    }
  }
  return out;
}

// ---------------------------------------------------------------- Felix config

function parseProtoPorts(list: readonly V3ProtoPort[], where: string): FailsafePort[] {
  return list.map((pp, i) => {
    const at = `${where}[${i}]`;
    if (!Number.isInteger(pp.port) || pp.port < 0 || pp.port > 65535) {
      throw new PolicyError('INVALID_PORT', `${at}.port: ${pp.port} is not in 0-65535`);
    }
    const protocol = parseProtocol(pp.protocol, `${at}.protocol`);
    if (pp.net !== undefined && pp.net !== '') {
      const [net] = parseNets([pp.net], `${at}.net`);
      return { protocol, port: pp.port, net: net! };
    }
    return { protocol, port: pp.port };
  });
}

/** Felix defaults (§8). */
export const DEFAULT_HOST_CONFIG: HostConfig = {
  failsafeInbound: parseProtoPorts(FELIX_FAILSAFE_INBOUND_DEFAULT, 'failsafeInboundHostPorts'),
  failsafeOutbound: parseProtoPorts(FELIX_FAILSAFE_OUTBOUND_DEFAULT, 'failsafeOutboundHostPorts'),
  defaultEndpointToHostAction: 'Drop',
};

/** The fields of one FelixConfiguration that matter to policy, layered over `base`. */
export function applyFelixConfiguration(base: HostConfig, res: ResourceLike): HostConfig {
  const where = `${describe(res)}: spec`;
  const spec = (res.spec ?? {}) as V3FelixConfigurationSpec;
  let action: EndpointToHostAction = base.defaultEndpointToHostAction;
  if (spec.defaultEndpointToHostAction !== undefined) {
    const a = spec.defaultEndpointToHostAction;
    if (a !== 'Drop' && a !== 'Return' && a !== 'Accept') {
      throw new PolicyError(
        'INVALID_RESOURCE',
        `${where}.defaultEndpointToHostAction: ${JSON.stringify(a)} is not Drop, Return or Accept`,
      );
    }
    action = a;
  }
  return {
    failsafeInbound:
      spec.failsafeInboundHostPorts === undefined
        ? base.failsafeInbound
        : parseProtoPorts(spec.failsafeInboundHostPorts ?? [], `${where}.failsafeInboundHostPorts`),
    failsafeOutbound:
      spec.failsafeOutboundHostPorts === undefined
        ? base.failsafeOutbound
        : parseProtoPorts(
            spec.failsafeOutboundHostPorts ?? [],
            `${where}.failsafeOutboundHostPorts`,
          ),
    defaultEndpointToHostAction: action,
  };
}
