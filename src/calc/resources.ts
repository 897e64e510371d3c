// The calc graph's input: resource updates, their identity, and the conversion of
// each resource into the one derived object the graph works with. Conversion is the
// policy component's (convert.ts, k8s.ts); this file only dispatches on the kind the
// way policy's Snapshot does, and reads the few fields the backend model leaves out
// (performanceHints, mac, allowSpoofedSourcePrefixes, routes and pools).
import {
  type Cidr,
  formatCidr,
  formatIp,
  formatIpv4,
  parseCidr,
  parseCidrOrIp,
  parseIp,
  scanIpv4,
} from '../net/index.js';
import {
  type BackendEndpoint,
  type BackendNetworkSet,
  type BackendPolicy,
  type BackendProfile,
  type BackendTier,
  convertHostEndpoint,
  convertK8sNamespace,
  convertK8sNetworkPolicy,
  convertK8sServiceAccount,
  convertNamedPorts,
  convertNetworkSet,
  convertPolicy,
  convertPolicyDeferred,
  convertProfile,
  convertTier,
  convertWorkloadEndpoint,
  type K8sNetworkPolicySpec,
  LABEL_NAMESPACE,
  LABEL_ORCHESTRATOR,
  LABEL_SERVICE_ACCOUNT,
  NAMESPACE_PROFILE_PREFIX,
  type NamedPort,
  type ResourceLike,
  SERVICE_ACCOUNT_PROFILE_PREFIX,
  type V3WorkloadEndpointSpec,
  workloadLabelsAndProfiles,
} from '../policy/index.js';
import { setViewHash } from './class-key.js';

/** One change from the datastore (a put of the full resource, or a delete by identity). */
export type ResourceUpdate =
  | { readonly type: 'set'; readonly resource: ResourceLike }
  | {
      readonly type: 'delete';
      readonly kind: string;
      /** needed only to tell Kubernetes kinds (`v1`, `networking.k8s.io/v1`) from Calico's */
      readonly apiVersion?: string;
      readonly namespace?: string;
      readonly name: string;
    };

const K8S_GROUP = 'networking.k8s.io/';

export function isK8s(apiVersion: string | undefined): boolean {
  return apiVersion === 'v1' || (apiVersion?.startsWith(K8S_GROUP) ?? false);
}

const NAMESPACED_CALICO = new Set([
  'NetworkPolicy',
  'StagedNetworkPolicy',
  'StagedKubernetesNetworkPolicy',
  'WorkloadEndpoint',
  'NetworkSet',
]);
const NAMESPACED_K8S = new Set(['NetworkPolicy', 'ServiceAccount']);

/**
 * The identity of a resource: Kubernetes and Calico kinds of the same name are
 * different resources, and namespaced kinds default their namespace as the
 * conversion layer does, so a delete without a namespace finds the put.
 */
export function resourceKey(
  kind: string,
  apiVersion: string | undefined,
  namespace: string | undefined,
  name: string,
): string {
  const k8s = isK8s(apiVersion);
  const namespaced = k8s ? NAMESPACED_K8S.has(kind) : NAMESPACED_CALICO.has(kind);
  const ns = namespaced ? namespace || 'default' : '';
  // join builds one flat string; a template literal builds a tree of cons strings,
  // and this key is kept for every resource of the cluster.
  return [k8s ? 'k8s' : 'v3', kind, ns, name].join('|');
}

/** A Calico WorkloadEndpoint's namespace as resourceKey writes it into the key. */
export function wepNamespace(namespace: string | undefined): string {
  return String(namespace || 'default');
}

/** A WorkloadEndpoint's name as resourceKey writes it into the key. */
export function wepName(name: string | undefined): string {
  return name === undefined || name === null ? '' : String(name);
}

export function keyOfResource(res: ResourceLike): string {
  return resourceKey(res.kind, res.apiVersion, res.metadata?.namespace, res.metadata?.name ?? '');
}

export function keyOfUpdate(u: ResourceUpdate): string {
  return u.type === 'set'
    ? keyOfResource(u.resource)
    : resourceKey(u.kind, u.apiVersion, u.namespace, u.name);
}

// ------------------------------------------------------------------ derived objects

export interface PolicyInput {
  /** without its rules when `rules` is set */
  readonly backend: BackendPolicy;
  /**
   * Converts the rules (throws if one is invalid, and then the policy counts as
   * absent). Rules are converted when the policy becomes active: a host needs those
   * of a few policies of the cluster.
   */
  readonly rules?: () => Pick<BackendPolicy, 'inbound' | 'outbound'>;
  /** `performanceHints: [AssumeNeededOnEveryNode]`: active on every host */
  readonly everywhere: boolean;
}

export interface EndpointInput {
  readonly backend: BackendEndpoint;
  /** canonical host CIDRs (`10.0.0.5/32`), the endpoint's selector IP set members */
  readonly nets: readonly string[];
  /** bare addresses, for named-port members */
  readonly addrs: readonly string[];
  readonly mac?: string;
  readonly allowSpoofedSourcePrefixes: readonly string[];
}

/**
 * A workload endpoint of another host, reduced to what rule selectors and IP sets
 * need: no backend object, no parsed addresses, and its own labels and profiles not
 * built either: they are its raw labels and profiles plus those Calico implies
 * (policy's workloadLabelsAndProfiles), which class-key.ts reads in place and
 * remoteLabelsAndProfiles builds. Accepts and rejects exactly what
 * `convertWorkloadEndpoint` does (a remote endpoint can become local in a later
 * version, which is then converted in full).
 */
export interface RemoteEndpointInput {
  /** `metadata.namespace`, defaulted */
  readonly namespace: string;
  /** `metadata.labels`, a plain object (or undefined) */
  readonly rawLabels: Readonly<Record<string, unknown>> | undefined;
  /** `spec.orchestrator`: a truthy one adds its label; `k8s` implies profiles */
  readonly orchestrator: unknown;
  /** `spec.serviceAccountName`: a truthy one adds its label (and profile, with k8s) */
  readonly serviceAccount: unknown;
  /** `spec.profiles`; when empty, the implied ones */
  readonly rawProfiles: readonly unknown[];
  /** classHash of the own labels, profiles and ports (class-key.ts) */
  readonly hash: number;
  /** the number of own labels */
  readonly labelCount: number;
  /**
   * The address, when the endpoint has exactly one and it is IPv4 (then `nets` is
   * empty): as a number, so no text is made for it (packed-members.ts); else -1.
   */
  readonly v4: number;
  /** canonical host CIDRs, as EndpointInput.nets, when `v4` is -1 */
  readonly nets: readonly string[];
  readonly ports: readonly NamedPort[];
}

export interface NetworkSetInput {
  readonly backend: BackendNetworkSet;
  readonly nets: readonly string[];
}

export interface PoolInput {
  readonly cidr: Cidr;
  readonly cidrText: string;
  readonly natOutgoing: boolean;
  readonly disabled: boolean;
  readonly disableBGPExport: boolean;
}

export interface NodeInput {
  readonly name: string;
  /** BGP addresses without their prefix length */
  readonly ipv4?: string;
  readonly ipv6?: string;
}

export interface BlockInput {
  readonly cidr: Cidr;
  readonly cidrText: string;
  /** the node named by `affinity: host:<node>`, if any */
  readonly affinityNode?: string;
  /**
   * Allocated ordinals that may be borrowed: those whose allocation records a node
   * other than the block's own affinity. The rest never route anywhere but the
   * block's owner, and a block lists one allocation per workload of the cluster.
   */
  readonly allocations: readonly { readonly ordinal: number; readonly node?: string }[];
}

export interface AffinityInput {
  readonly cidrText: string;
  readonly node: string;
  readonly confirmed: boolean;
}

export type Derived =
  | { readonly kind: 'tier'; readonly value: BackendTier }
  | { readonly kind: 'policy'; readonly value: PolicyInput }
  | { readonly kind: 'profile'; readonly value: BackendProfile }
  | { readonly kind: 'endpoint'; readonly value: EndpointInput }
  | { readonly kind: 'remoteEndpoint'; readonly value: RemoteEndpointInput }
  | { readonly kind: 'networkSet'; readonly value: NetworkSetInput }
  | { readonly kind: 'pool'; readonly value: PoolInput }
  | { readonly kind: 'node'; readonly value: NodeInput }
  | { readonly kind: 'block'; readonly value: BlockInput }
  | { readonly kind: 'affinity'; readonly value: AffinityInput }
  | {
      readonly kind: 'felix';
      readonly name: string;
      readonly spec: Readonly<Record<string, unknown>>;
    }
  | { readonly kind: 'staged' }
  | { readonly kind: 'ignored' };

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function record(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : {};
}

function endpointInput(backend: BackendEndpoint, spec: Record<string, unknown>): EndpointInput {
  // Kept for every endpoint of the cluster, so built flat (join) rather than as cons
  // strings, and each address formatted once: the address is a slice of its CIDR.
  const nets = backend.addresses.map((ip) =>
    [formatIp(ip), ip.family === 4 ? '/32' : '/128'].join(''),
  );
  const addrs = nets.map((n) => n.slice(0, n.lastIndexOf('/')));
  const mac = str(spec.mac);
  const spoof = spec.allowSpoofedSourcePrefixes;
  const input: { -readonly [K in keyof EndpointInput]: EndpointInput[K] } = {
    backend,
    nets,
    addrs,
    allowSpoofedSourcePrefixes:
      spoof === undefined ? [] : stringList(spoof).map((t) => formatCidr(parseCidrOrHost(t))),
  };
  // Assigned rather than spread in (the runtime's slow path, once per endpoint).
  if (mac !== undefined) input.mac = mac;
  return input;
}

const NO_NETS: readonly string[] = [];

/**
 * `a.b.c.d` or `a.b.c.d/32` in canonical form (no leading zeros, octets up to 255)
 * -> the address as a number, else -1 (for the general parser, which accepts every
 * canonical form and formats it back unchanged).
 */
function canonicalV4Host(text: string): number {
  const n = text.length;
  let end = n;
  if (n > 3 && text.charCodeAt(n - 3) === 47) {
    if (text.charCodeAt(n - 2) !== 51 || text.charCodeAt(n - 1) !== 50) return -1;
    end = n - 3;
  }
  return scanIpv4(text, 0, end);
}

/** policy's singleAddresses, formatted as host CIDRs. */
function hostNets(list: readonly string[] | undefined): string[] {
  const l = list ?? [];
  if (!Array.isArray(l)) throw new TypeError('ipNetworks: expected a list');
  // Sized up front: kept per endpoint, and a pushed-to array keeps spare capacity.
  const out = new Array<string>(l.length);
  for (let i = 0; i < l.length; i++) {
    const text = l[i] as unknown;
    const ip = typeof text === 'string' ? canonicalV4Host(text) : -1;
    if (ip >= 0) {
      out[i] = [formatIpv4(ip), '/32'].join('');
      continue;
    }
    const cidr = parseCidrOrIp(text as string, { strict: false });
    const bits = cidr.family === 4 ? 32 : 128;
    if (cidr.prefixLength !== bits) {
      throw new RangeError('ipNetworks: a workload network must be a single address');
    }
    out[i] = [
      formatIp({ family: cidr.family, value: cidr.address }),
      bits === 32 ? '/32' : '/128',
    ].join('');
  }
  return out;
}

/**
 * The last remote endpoint's raw and converted ports: the pods of one workload list the
 * same ports, so consecutive endpoints usually repeat them. The conversion reads only
 * each entry's name, port and protocol, so equal fields give an equal result; sharing
 * the array also makes the label class comparison an identity check.
 */
let lastRawPorts: readonly { name?: unknown; port?: unknown; protocol?: unknown }[] = [];
let lastPorts: readonly NamedPort[] = [];

function remotePorts(raw: unknown): readonly NamedPort[] {
  if (Array.isArray(raw) && raw.length === lastRawPorts.length && raw.length > 0) {
    let same = true;
    for (let i = 0; i < raw.length && same; i++) {
      const a = raw[i];
      const b = lastRawPorts[i]!;
      same =
        a !== null &&
        typeof a === 'object' &&
        a.name === b.name &&
        a.port === b.port &&
        a.protocol === b.protocol;
    }
    if (same) return lastPorts;
  }
  const ports = convertNamedPorts(raw as never, 'WorkloadEndpoint spec.ports');
  if (Array.isArray(raw)) {
    lastRawPorts = raw.map((p: { name?: unknown; port?: unknown; protocol?: unknown }) => ({
      name: p.name,
      port: p.port,
      protocol: p.protocol,
    }));
    lastPorts = ports;
  }
  return ports;
}

const NO_PROFILES: readonly unknown[] = [];

/** A plain object, whose spread copy has exactly the keys and values `for in` shows. */
function plainObject(v: unknown): v is Readonly<Record<string, unknown>> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * convertWorkloadEndpoint's result, reduced (see RemoteEndpointInput); the checks are
 * the same, in the same places.
 */
function remoteWorkloadEndpoint(
  res: ResourceLike,
  out: MutableRemoteEndpoint = newRemoteEndpoint(),
): RemoteEndpointInput {
  const name = res.metadata?.name;
  if (typeof name !== 'string' || name === '') throw new TypeError('metadata.name is required');
  const namespace = res.metadata?.namespace || 'default';
  const spec = (res.spec ?? {}) as V3WorkloadEndpointSpec;
  let rawLabels: Readonly<Record<string, unknown>> | undefined;
  let rawProfiles: readonly unknown[];
  const labels: unknown = res.metadata?.labels;
  const profiles: unknown = spec.profiles;
  if (
    (labels === undefined || plainObject(labels)) &&
    (profiles === undefined || Array.isArray(profiles))
  ) {
    rawLabels = labels;
    rawProfiles = profiles ?? NO_PROFILES;
  } else {
    // Anything unusual is built (and validated) by policy's own derivation; the
    // result, read as raw labels and profiles, implies nothing more.
    const built = workloadLabelsAndProfiles(res, namespace, spec);
    rawLabels = built.labels;
    rawProfiles = built.profiles;
  }
  const ipNetworks = spec.ipNetworks;
  const lone =
    Array.isArray(ipNetworks) && ipNetworks.length === 1 && typeof ipNetworks[0] === 'string'
      ? canonicalV4Host(ipNetworks[0])
      : -1;
  // Every field is written, after the last check that can throw.
  const nets = lone >= 0 ? NO_NETS : hostNets(ipNetworks);
  const ports = remotePorts(spec.ports);
  out.namespace = namespace;
  out.rawLabels = rawLabels;
  out.orchestrator = spec.orchestrator;
  out.serviceAccount = spec.serviceAccountName;
  out.rawProfiles = rawProfiles;
  out.v4 = lone;
  out.nets = nets;
  out.ports = ports;
  setViewHash(out);
  return out;
}

export type MutableRemoteEndpoint = {
  -readonly [K in keyof RemoteEndpointInput]: RemoteEndpointInput[K];
};

export function newRemoteEndpoint(): MutableRemoteEndpoint {
  return {
    namespace: '',
    rawLabels: undefined,
    orchestrator: undefined,
    serviceAccount: undefined,
    rawProfiles: NO_PROFILES,
    hash: 0,
    labelCount: 0,
    v4: -1,
    nets: NO_NETS,
    ports: [],
  };
}

/**
 * A Calico WorkloadEndpoint as deriveResource(res, localNode) sees it, for the graph's
 * endpoint path: `remote` (read into `out`, which the caller reuses: nothing is
 * allocated for the endpoint), `local` (deriveResource converts it in full), or
 * `invalid` (absent).
 */
export function readWorkloadEndpoint(
  res: ResourceLike,
  localNode: string,
  out: MutableRemoteEndpoint,
): 'remote' | 'local' | 'invalid' {
  if ((record(res.spec).node ?? '') === localNode) return 'local';
  try {
    remoteWorkloadEndpoint(res, out);
    return 'remote';
  } catch {
    return 'invalid';
  }
}

/** A remote endpoint's own labels and profiles, built (policy's workloadLabelsAndProfiles). */
export function remoteLabelsAndProfiles(v: RemoteEndpointInput): {
  labels: Record<string, string>;
  profiles: string[];
} {
  const labels = { ...(v.rawLabels ?? {}) } as Record<string, string>;
  labels[LABEL_NAMESPACE] = v.namespace;
  if (v.orchestrator) labels[LABEL_ORCHESTRATOR] = v.orchestrator as string;
  if (v.serviceAccount) labels[LABEL_SERVICE_ACCOUNT] = v.serviceAccount as string;
  const profiles = [...v.rawProfiles] as string[];
  if (profiles.length === 0 && v.orchestrator === 'k8s') {
    profiles.push(`${NAMESPACE_PROFILE_PREFIX}${v.namespace}`);
    if (v.serviceAccount) {
      profiles.push(`${SERVICE_ACCOUNT_PROFILE_PREFIX}${v.namespace}.${v.serviceAccount}`);
    }
  }
  return { labels, profiles };
}

function parseCidrOrHost(text: string): Cidr {
  if (text.includes('/')) return parseCidr(text, { strict: false });
  const ip = parseIp(text);
  return { family: ip.family, address: ip.value, prefixLength: ip.family === 4 ? 32 : 128 };
}

/** BGP addresses are written as interface CIDRs (`10.0.0.1/24`); routes need the address. */
function stripPrefix(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const slash = text.indexOf('/');
  return formatIp(parseIp(slash < 0 ? text : text.slice(0, slash)));
}

function convertBlock(res: ResourceLike): BlockInput {
  const spec = record(res.spec);
  const cidrText = str(spec.cidr);
  if (cidrText === undefined) throw new TypeError(`IPAMBlock ${res.metadata?.name}: no spec.cidr`);
  const cidr = parseCidr(cidrText);
  const affinity = str(spec.affinity);
  const affinityNode = affinity?.startsWith('host:') ? affinity.slice(5) : undefined;
  const allocs = Array.isArray(spec.allocations) ? spec.allocations : [];
  const attrs = Array.isArray(spec.attributes) ? spec.attributes : [];
  const owner = affinityNode !== undefined && affinityNode !== '' ? affinityNode : undefined;
  const allocations: { ordinal: number; node?: string }[] = [];
  for (let i = 0; i < allocs.length; i++) {
    const a = allocs[i];
    if (typeof a !== 'number') continue;
    const node = str(record(record(attrs[a]).secondary).node);
    // blockOwner is the affinity when there is one; blockRoutes skips the owner's
    // and unrecorded allocations.
    if (node === undefined || node === owner) continue;
    allocations.push({ ordinal: i, node });
  }
  return {
    cidr,
    cidrText: formatCidr(cidr),
    ...(owner !== undefined ? { affinityNode: owner } : {}),
    allocations,
  };
}

/**
 * Converts one resource. Anything the conversion layer rejects is treated as absent,
 * as Felix's validation filter turns an invalid value into a delete.
 */
export function deriveResource(res: ResourceLike, localNode?: string): Derived {
  try {
    return deriveUnchecked(res, localNode);
  } catch {
    return { kind: 'ignored' };
  }
}

/**
 * `localNode`: the host the graph computes for; a WorkloadEndpoint of any other node
 * is derived reduced (`remoteEndpoint`), and Calico policies' rules are left to
 * `PolicyInput.rules`. Without it (the oracle) everything is converted in full.
 */
function deriveUnchecked(res: ResourceLike, localNode: string | undefined): Derived {
  if (isK8s(res.apiVersion)) {
    switch (res.kind) {
      case 'Namespace':
        return { kind: 'profile', value: convertProfile(convertK8sNamespace(res)) };
      case 'ServiceAccount':
        return { kind: 'profile', value: convertProfile(convertK8sServiceAccount(res)) };
      case 'NetworkPolicy':
        if (res.apiVersion?.startsWith(K8S_GROUP)) {
          return {
            kind: 'policy',
            value: {
              backend: convertPolicy(convertK8sNetworkPolicy(res as never)),
              everywhere: false,
            },
          };
        }
        return { kind: 'ignored' };
      default:
        return { kind: 'ignored' };
    }
  }
  const spec = record(res.spec);
  switch (res.kind) {
    case 'Tier':
      return { kind: 'tier', value: convertTier(res) };
    case 'GlobalNetworkPolicy':
    case 'NetworkPolicy': {
      const everywhere = stringList(spec.performanceHints).includes('AssumeNeededOnEveryNode');
      if (localNode === undefined) {
        return { kind: 'policy', value: { backend: convertPolicy(res), everywhere } };
      }
      const deferred = convertPolicyDeferred(res);
      return {
        kind: 'policy',
        value: { backend: deferred.policy, rules: deferred.rules, everywhere },
      };
    }
    case 'StagedGlobalNetworkPolicy':
    case 'StagedNetworkPolicy':
      convertPolicy(res);
      return { kind: 'staged' };
    case 'StagedKubernetesNetworkPolicy': {
      const s = spec as K8sNetworkPolicySpec & { stagedAction?: string };
      convertK8sNetworkPolicy(
        { metadata: res.metadata ?? {}, spec: s },
        { staged: true, stagedAction: s.stagedAction ?? 'Set' },
      );
      return { kind: 'staged' };
    }
    case 'Profile':
      return { kind: 'profile', value: convertProfile(res) };
    case 'WorkloadEndpoint':
      if (localNode !== undefined && (spec.node ?? '') !== localNode) {
        return { kind: 'remoteEndpoint', value: remoteWorkloadEndpoint(res) };
      }
      return { kind: 'endpoint', value: endpointInput(convertWorkloadEndpoint(res), spec) };
    case 'HostEndpoint':
      return { kind: 'endpoint', value: endpointInput(convertHostEndpoint(res), spec) };
    case 'GlobalNetworkSet':
    case 'NetworkSet': {
      const backend = convertNetworkSet(res);
      return { kind: 'networkSet', value: { backend, nets: backend.nets.map(formatCidr) } };
    }
    case 'IPPool': {
      const cidrText = str(spec.cidr);
      if (cidrText === undefined) throw new TypeError('IPPool without spec.cidr');
      const cidr = parseCidr(cidrText);
      return {
        kind: 'pool',
        value: {
          cidr,
          cidrText: formatCidr(cidr),
          natOutgoing: spec.natOutgoing === true,
          disabled: spec.disabled === true,
          disableBGPExport: spec.disableBGPExport === true,
        },
      };
    }
    case 'Node': {
      const name = str(res.metadata?.name);
      if (name === undefined) throw new TypeError('Node without a name');
      const bgp = record(spec.bgp);
      const ipv4 = stripPrefix(str(bgp.ipv4Address));
      const ipv6 = stripPrefix(str(bgp.ipv6Address));
      return {
        kind: 'node',
        value: {
          name,
          ...(ipv4 !== undefined ? { ipv4 } : {}),
          ...(ipv6 !== undefined ? { ipv6 } : {}),
        },
      };
    }
    case 'IPAMBlock':
      if (spec.deleted === true) return { kind: 'ignored' };
      return { kind: 'block', value: convertBlock(res) };
    case 'BlockAffinity': {
      const node = str(spec.node);
      const cidrText = str(spec.cidr);
      if (node === undefined || cidrText === undefined || spec.deleted === true) {
        return { kind: 'ignored' };
      }
      return {
        kind: 'affinity',
        value: {
          node,
          cidrText: formatCidr(parseCidr(cidrText)),
          confirmed: spec.state === 'confirmed',
        },
      };
    }
    case 'FelixConfiguration': {
      const name = str(res.metadata?.name);
      if (name === undefined) return { kind: 'ignored' };
      return { kind: 'felix', name, spec };
    }
    default:
      return { kind: 'ignored' };
  }
}
