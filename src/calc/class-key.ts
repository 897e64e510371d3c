// A label class's identity (own labels, profiles, named ports) as a hash and an
// equality, in two forms: over built label sets, and over a remote workload
// endpoint as it arrives (RemoteEndpointInput: its raw labels plus the labels and
// profiles Calico implies from its namespace, orchestrator and service account).
// The second form finds the class of most of a cluster's endpoints without building
// their label set and profile list: only an endpoint that starts a new class gets
// them built (remoteLabelsAndProfiles). Both forms give the same hash and the same
// answer for the same identity (property test in resources.test.ts).
import {
  LABEL_NAMESPACE,
  LABEL_ORCHESTRATOR,
  LABEL_SERVICE_ACCOUNT,
  NAMESPACE_PROFILE_PREFIX,
  type NamedPort,
  SERVICE_ACCOUNT_PROFILE_PREFIX,
} from '../policy/index.js';
import type { RemoteEndpointInput } from './resources.js';
import type { Labels } from './selectors.js';

const FNV_PRIME = 0x01000193;
export const HASH_SEED = 0x811c9dc5;

/** FNV-1a over a string's characters, with no terminator (see hashEnd). */
function hashChars(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h;
}

/** A terminator, so that "ab","c" and "a","bc" hash apart. */
function hashEnd(h: number): number {
  return Math.imul(h ^ 0x1f, FNV_PRIME);
}

function hashString(h: number, s: string): number {
  return hashEnd(hashChars(h, s));
}

function hashPorts(h: number, ports: readonly NamedPort[]): number {
  for (const p of ports) {
    h = hashString(h, String(p.name));
    h = Math.imul(h ^ p.protocol, FNV_PRIME);
    h = Math.imul(h ^ p.port, FNV_PRIME);
  }
  return h;
}

/**
 * FNV-1a over a class's identity. Computed with no allocation: a key string built
 * per endpoint (and hashed again by a Map) cost more than everything else the class
 * lookup does. Equal inputs hash equal; collisions are resolved by comparing.
 */
export function classHash(
  own: Labels,
  profiles: readonly string[],
  ports: readonly NamedPort[],
): number {
  let h = HASH_SEED;
  for (const k in own) h = hashString(hashString(h, k), String(own[k]));
  h = Math.imul(h ^ profiles.length, FNV_PRIME);
  for (const p of profiles) h = hashString(h, String(p));
  return small(hashPorts(h, ports));
}

/** 30 bits: a small integer, which V8 keeps unboxed in fields and as a Map key. */
function small(h: number): number {
  return h & 0x3fffffff;
}

// ------------------------------------------------------------ remote endpoints

/**
 * The value of label `k` in the endpoint's own labels, or `absent`: the implied labels
 * override raw ones of the same key (policy's workloadLabelsAndProfiles).
 */
function viewLabel(v: RemoteEndpointInput, k: string, absent: unknown): unknown {
  if (k === LABEL_NAMESPACE) return v.namespace;
  if (k === LABEL_ORCHESTRATOR && v.orchestrator) return v.orchestrator;
  if (k === LABEL_SERVICE_ACCOUNT && v.serviceAccount) return v.serviceAccount;
  const raw = v.rawLabels;
  return raw !== undefined && Object.hasOwn(raw, k) ? raw[k] : absent;
}

/**
 * Sets a remote endpoint's `hash` (classHash of its own labels, profiles and ports)
 * and `labelCount` (its number of own labels).
 */
export function setViewHash(
  v: {
    -readonly [K in keyof RemoteEndpointInput]: RemoteEndpointInput[K];
  },
): void {
  let h = HASH_SEED;
  let n = 0;
  let ns = false;
  let orch = false;
  let sa = false;
  const raw = v.rawLabels;
  // In the built set the raw labels come first, in their order, each implied one in
  // its raw place if it has one, else after them in this order.
  if (raw !== undefined) {
    for (const k in raw) {
      let value: unknown;
      if (k === LABEL_NAMESPACE) {
        value = v.namespace;
        ns = true;
      } else if (k === LABEL_ORCHESTRATOR && v.orchestrator) {
        value = v.orchestrator;
        orch = true;
      } else if (k === LABEL_SERVICE_ACCOUNT && v.serviceAccount) {
        value = v.serviceAccount;
        sa = true;
      } else {
        value = raw[k];
      }
      h = hashString(hashString(h, k), String(value));
      n++;
    }
  }
  if (!ns) {
    h = hashString(hashString(h, LABEL_NAMESPACE), v.namespace);
    n++;
  }
  if (v.orchestrator && !orch) {
    h = hashString(hashString(h, LABEL_ORCHESTRATOR), String(v.orchestrator));
    n++;
  }
  if (v.serviceAccount && !sa) {
    h = hashString(hashString(h, LABEL_SERVICE_ACCOUNT), String(v.serviceAccount));
    n++;
  }
  const given = v.rawProfiles;
  if (given.length > 0) {
    h = Math.imul(h ^ given.length, FNV_PRIME);
    for (const p of given) h = hashString(h, String(p));
  } else if (v.orchestrator === 'k8s') {
    h = Math.imul(h ^ (v.serviceAccount ? 2 : 1), FNV_PRIME);
    h = hashEnd(hashChars(hashChars(h, NAMESPACE_PROFILE_PREFIX), v.namespace));
    if (v.serviceAccount) {
      h = hashChars(hashChars(h, SERVICE_ACCOUNT_PROFILE_PREFIX), v.namespace);
      h = hashEnd(hashChars(hashChars(h, '.'), String(v.serviceAccount)));
    }
  } else {
    h = Math.imul(h ^ 0, FNV_PRIME);
  }
  v.hash = small(hashPorts(h, v.ports));
  v.labelCount = n;
}

const ABSENT = Symbol('absent');

/** sameLabels(own, the endpoint's own labels), without building them. */
export function sameViewLabels(own: Labels, v: RemoteEndpointInput): boolean {
  let n = 0;
  for (const k in own) {
    const value = viewLabel(v, k, ABSENT);
    if (value === ABSENT || value !== own[k]) return false;
    n++;
  }
  return n === v.labelCount;
}

/** Whether `profiles` is the endpoint's profile list, without building it. */
export function sameViewProfiles(profiles: readonly string[], v: RemoteEndpointInput): boolean {
  const given = v.rawProfiles;
  if (given.length > 0) {
    if (given.length !== profiles.length) return false;
    for (let i = 0; i < given.length; i++) if (given[i] !== profiles[i]) return false;
    return true;
  }
  if (v.orchestrator !== 'k8s') return profiles.length === 0;
  const ns = v.namespace;
  const sa = v.serviceAccount ? String(v.serviceAccount) : undefined;
  if (profiles.length !== (sa !== undefined ? 2 : 1)) return false;
  const kns = profiles[0]!;
  if (
    typeof kns !== 'string' ||
    kns.length !== NAMESPACE_PROFILE_PREFIX.length + ns.length ||
    !kns.startsWith(NAMESPACE_PROFILE_PREFIX) ||
    !kns.endsWith(ns)
  ) {
    return false;
  }
  if (sa === undefined) return true;
  const ksa = profiles[1]!;
  const at = SERVICE_ACCOUNT_PROFILE_PREFIX.length;
  return (
    typeof ksa === 'string' &&
    ksa.length === at + ns.length + 1 + sa.length &&
    ksa.startsWith(SERVICE_ACCOUNT_PROFILE_PREFIX) &&
    ksa.startsWith(ns, at) &&
    ksa.charCodeAt(at + ns.length) === 46 &&
    ksa.endsWith(sa)
  );
}
