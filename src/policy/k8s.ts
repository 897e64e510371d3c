// Kubernetes resources presented the way Calico's Kubernetes integration does in
// etcd mode (calico-semantics.md §9, §11): NetworkPolicy -> Calico NetworkPolicy
// `knp.default.<name>` (tier default, order 1000, Allow rules only); Namespace ->
// profile `kns.<ns>`; ServiceAccount -> profile `ksa.<ns>.<sa>`. The output is v3
// resources, so the one v3 conversion path (convert.ts) handles them afterwards.
import { PolicyError } from './errors.js';
import type {
  K8sLabelSelector,
  K8sNamespaceLike,
  K8sNetworkPolicyLike,
  K8sNetworkPolicyPeer,
  K8sNetworkPolicyPort,
  K8sServiceAccountLike,
  ResourceLike,
  V3EntityRule,
  V3Port,
  V3Rule,
} from './input.js';
import {
  K8S_POLICY_ORDER,
  K8S_POLICY_PREFIX,
  LABEL_NAME,
  LABEL_ORCHESTRATOR,
  NAMESPACE_LABEL_PREFIX,
  NAMESPACE_PROFILE_PREFIX,
  SERVICE_ACCOUNT_LABEL_PREFIX,
  SERVICE_ACCOUNT_PROFILE_PREFIX,
} from './model.js';

function quote(v: string): string {
  return `'${v}'`;
}

function labelSelectorClauses(sel: K8sLabelSelector, where: string): string[] {
  const out: string[] = [];
  const ml = sel.matchLabels ?? {};
  for (const k of Object.keys(ml).sort()) out.push(`${k} == ${quote(ml[k]!)}`);
  for (const [i, req] of (sel.matchExpressions ?? []).entries()) {
    const values = (req.values ?? []).map(quote).join(', ');
    switch (req.operator) {
      case 'In':
        out.push(`${req.key} in { ${values} }`);
        break;
      case 'NotIn':
        out.push(`${req.key} not in { ${values} }`);
        break;
      case 'Exists':
        out.push(`has(${req.key})`);
        break;
      case 'DoesNotExist':
        out.push(`! has(${req.key})`);
        break;
      default:
        throw new PolicyError(
          'INVALID_RESOURCE',
          `${where}.matchExpressions[${i}].operator: ${JSON.stringify(req.operator)} is not In, NotIn, Exists or DoesNotExist`,
        );
    }
  }
  return out;
}

/**
 * A pod selector as Calico writes it: the orchestrator clause first, so that
 * `{}` matches every pod of the namespace but no network set.
 */
export function k8sPodSelectorToCalico(sel: K8sLabelSelector | null | undefined, where: string) {
  return [`${LABEL_ORCHESTRATOR} == 'k8s'`, ...labelSelectorClauses(sel ?? {}, where)].join(' && ');
}

/** A namespace selector: nil -> "" (own namespace), `{}` -> all(), else the clauses. */
export function k8sNamespaceSelectorToCalico(
  sel: K8sLabelSelector | null | undefined,
  where: string,
): string {
  if (sel === undefined || sel === null) return '';
  const clauses = labelSelectorClauses(sel, where);
  return clauses.length === 0 ? 'all()' : clauses.join(' && ');
}

function peerToEntity(peer: K8sNetworkPolicyPeer, where: string): V3EntityRule {
  if (peer.ipBlock) {
    const e: V3EntityRule = { nets: [peer.ipBlock.cidr] };
    if (peer.ipBlock.except && peer.ipBlock.except.length > 0) e.notNets = [...peer.ipBlock.except];
    return e;
  }
  const e: V3EntityRule = {
    selector: k8sPodSelectorToCalico(peer.podSelector, `${where}.podSelector`),
  };
  const ns = k8sNamespaceSelectorToCalico(peer.namespaceSelector, `${where}.namespaceSelector`);
  if (ns !== '') e.namespaceSelector = ns;
  return e;
}

interface ProtocolPorts {
  protocol: string;
  /** undefined: all ports of this protocol */
  ports: V3Port[] | undefined;
}

/**
 * Groups port entries per protocol (default TCP), merges numeric ports and
 * endPort ranges into minimal ranges and keeps named ports; protocols sorted.
 * An entry without a port makes its protocol "all ports".
 */
export function simplifyK8sPorts(ports: readonly K8sNetworkPolicyPort[], where: string) {
  const byProto = new Map<string, { all: boolean; ranges: [number, number][]; named: string[] }>();
  for (const [i, p] of ports.entries()) {
    const protocol = (p.protocol ?? 'TCP').toUpperCase();
    if (!['TCP', 'UDP', 'SCTP'].includes(protocol)) {
      throw new PolicyError(
        'INVALID_PROTOCOL',
        `${where}[${i}].protocol: ${JSON.stringify(p.protocol)} is not TCP, UDP or SCTP`,
      );
    }
    let g = byProto.get(protocol);
    if (g === undefined) {
      g = { all: false, ranges: [], named: [] };
      byProto.set(protocol, g);
    }
    if (p.port === undefined || p.port === null) {
      g.all = true;
    } else if (typeof p.port === 'string' && !/^[0-9]+$/.test(p.port)) {
      g.named.push(p.port);
    } else {
      const start = Number(p.port);
      const end = p.endPort ?? start;
      if (!Number.isInteger(start) || start < 1 || start > 65535 || end < start || end > 65535) {
        throw new PolicyError(
          'INVALID_PORT',
          `${where}[${i}]: port ${p.port}${p.endPort !== undefined ? `-${p.endPort}` : ''} is not a valid port or range`,
        );
      }
      g.ranges.push([start, end]);
    }
  }
  const out: ProtocolPorts[] = [];
  for (const protocol of [...byProto.keys()].sort()) {
    const g = byProto.get(protocol)!;
    if (g.all) {
      out.push({ protocol, ports: undefined });
      continue;
    }
    const sorted = g.ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const merged: [number, number][] = [];
    for (const r of sorted) {
      const last = merged[merged.length - 1];
      if (last !== undefined && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
      else merged.push([r[0], r[1]]);
    }
    const list: V3Port[] = merged.map(([a, b]) => (a === b ? a : `${a}:${b}`));
    out.push({ protocol, ports: [...list, ...g.named] });
  }
  return out;
}

function convertK8sRule(
  peers: readonly K8sNetworkPolicyPeer[] | null | undefined,
  ports: readonly K8sNetworkPolicyPort[] | null | undefined,
  direction: 'ingress' | 'egress',
  where: string,
): V3Rule[] {
  const peerList = peers ?? [];
  const entities: (V3EntityRule | undefined)[] =
    peerList.length === 0
      ? [undefined]
      : peerList.map((p, i) =>
          peerToEntity(p, `${where}.${direction === 'ingress' ? 'from' : 'to'}[${i}]`),
        );
  const protoPorts: (ProtocolPorts | undefined)[] =
    ports === undefined || ports === null || ports.length === 0
      ? [undefined]
      : simplifyK8sPorts(ports, `${where}.ports`);
  const rules: V3Rule[] = [];
  for (const pp of protoPorts) {
    for (const peer of entities) {
      const rule: V3Rule = { action: 'Allow' };
      if (pp !== undefined) rule.protocol = pp.protocol;
      const dest: V3EntityRule = direction === 'egress' && peer ? { ...peer } : {};
      if (pp?.ports !== undefined) dest.ports = pp.ports;
      if (direction === 'ingress' && peer) rule.source = peer;
      if (Object.keys(dest).length > 0) rule.destination = dest;
      rules.push(rule);
    }
  }
  return rules;
}

/**
 * `networking.k8s.io/v1` NetworkPolicy -> Calico v3 NetworkPolicy
 * `knp.default.<name>` in the same namespace, tier default, order 1000.
 * With `staged`, the result is a StagedNetworkPolicy (for StagedKubernetesNetworkPolicy).
 */
export function convertK8sNetworkPolicy(
  np: K8sNetworkPolicyLike,
  options: { staged?: boolean; stagedAction?: string } = {},
): ResourceLike {
  const name = np.metadata?.name;
  if (!name)
    throw new PolicyError(
      'INVALID_RESOURCE',
      'Kubernetes NetworkPolicy: metadata.name is required',
    );
  const namespace = np.metadata?.namespace || 'default';
  const where = `Kubernetes NetworkPolicy ${namespace}/${name}: spec`;
  const spec = np.spec ?? {};
  const types =
    spec.policyTypes && spec.policyTypes.length > 0 ? [...spec.policyTypes] : ['Ingress'];
  const ingress = (spec.ingress ?? []).flatMap((r, i) =>
    convertK8sRule(r.from, r.ports, 'ingress', `${where}.ingress[${i}]`),
  );
  const egress = (spec.egress ?? []).flatMap((r, i) =>
    convertK8sRule(r.to, r.ports, 'egress', `${where}.egress[${i}]`),
  );
  const out: ResourceLike & { spec: Record<string, unknown> } = {
    apiVersion: 'projectcalico.org/v3',
    kind: options.staged ? 'StagedNetworkPolicy' : 'NetworkPolicy',
    metadata: { name: `${K8S_POLICY_PREFIX}${name}`, namespace },
    spec: {
      tier: 'default',
      order: K8S_POLICY_ORDER,
      selector: k8sPodSelectorToCalico(spec.podSelector, `${where}.podSelector`),
      types,
      ingress,
      egress,
    },
  };
  if (options.staged) out.spec.stagedAction = options.stagedAction ?? 'Set';
  return out;
}

/** `v1` Namespace -> profile `kns.<ns>`: allow all, labels `pcns.<k>`. */
export function convertK8sNamespace(ns: K8sNamespaceLike): ResourceLike {
  const name = ns.metadata?.name;
  if (!name) throw new PolicyError('INVALID_RESOURCE', 'Namespace: metadata.name is required');
  const labelsToApply: Record<string, string> = {};
  for (const [k, v] of Object.entries(ns.metadata?.labels ?? {})) {
    labelsToApply[NAMESPACE_LABEL_PREFIX + k] = v;
  }
  labelsToApply[`${NAMESPACE_LABEL_PREFIX}${LABEL_NAME}`] = name;
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'Profile',
    metadata: { name: `${NAMESPACE_PROFILE_PREFIX}${name}` },
    spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }], labelsToApply },
  };
}

/** `v1` ServiceAccount -> profile `ksa.<ns>.<sa>`: no rules, labels `pcsa.<k>`. */
export function convertK8sServiceAccount(sa: K8sServiceAccountLike): ResourceLike {
  const name = sa.metadata?.name;
  if (!name) throw new PolicyError('INVALID_RESOURCE', 'ServiceAccount: metadata.name is required');
  const namespace = sa.metadata?.namespace || 'default';
  const labelsToApply: Record<string, string> = {};
  for (const [k, v] of Object.entries(sa.metadata?.labels ?? {})) {
    labelsToApply[SERVICE_ACCOUNT_LABEL_PREFIX + k] = v;
  }
  labelsToApply[`${SERVICE_ACCOUNT_LABEL_PREFIX}${LABEL_NAME}`] = name;
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'Profile',
    metadata: { name: `${SERVICE_ACCOUNT_PROFILE_PREFIX}${namespace}.${name}` },
    spec: { labelsToApply },
  };
}
