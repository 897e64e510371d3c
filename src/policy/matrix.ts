// Reachability matrix: for endpoints E and a list of (protocol, port), whether a new
// flow from each endpoint to each other one is allowed. Instead of evaluating every
// pair from scratch, each endpoint's applicable tiers are resolved once and each
// rule's peer-side match is computed once as a vector over all endpoints; a whole
// row of verdicts is then decided at once with the same tier/Pass/profile state
// machine as the evaluator. Pairs whose path crosses host-endpoint policy fall
// back to the pairwise evaluator, so the matrix always equals `decide` per pair.
import { formatIp, type IpAddress } from '../net/index.js';
import { PORT_PROTOCOLS, parseProtocol, protocolName } from './convert.js';
import { PolicyError } from './errors.js';
import { decide, policingHostEndpoint } from './evaluate.js';
import { entityMatches, l4Matches, type Packet, type PacketSide } from './match.js';
import type { BackendRule, Direction } from './model.js';
import type { ResolvedEndpoint, Snapshot } from './snapshot.js';

export interface MatrixPort {
  protocol: string | number;
  /** destination port, for TCP/UDP/SCTP */
  port?: number;
  icmpType?: number;
  icmpCode?: number;
}

export interface MatrixOptions {
  /** address family used for every endpoint (default 4) */
  ipVersion?: 4 | 6;
  /** source port of every flow (default: none, so source-port rules never match) */
  srcPort?: number;
}

export interface Matrix {
  /** endpoint keys, in the order of the rows and columns */
  readonly endpoints: readonly string[];
  readonly ports: readonly {
    protocol: string;
    port?: number;
    icmpType?: number;
    icmpCode?: number;
  }[];
  /** 1 = allowed; index `(src * n + dst) * ports.length + portIndex` */
  readonly cells: Uint8Array;
  allowed(src: number, dst: number, portIndex: number): boolean;
  /** number of pairs evaluated by the pairwise fallback (host-endpoint paths) */
  readonly fallbackPairs: number;
}

interface PortSpec {
  protocol: number;
  port: number | undefined;
  icmpType: number | undefined;
  icmpCode: number | undefined;
}

const ALLOW = 1;
const DENY = 2;

export function computeMatrix(
  snap: Snapshot,
  endpointKeys: readonly string[] | undefined,
  ports: readonly MatrixPort[],
  options: MatrixOptions = {},
): Matrix {
  const family = options.ipVersion ?? 4;
  const srcPort = options.srcPort;
  const eps: ResolvedEndpoint[] = [];
  const addrs: IpAddress[] = [];
  const keys = endpointKeys ?? snap.endpoints.map((e) => e.key);
  for (const k of keys) {
    const ep = snap.endpoint(k);
    if (ep === undefined) throw new PolicyError('UNKNOWN_ENDPOINT', `matrix: no endpoint ${k}`);
    const a = ep.addresses.find((x) => x.family === family);
    if (a === undefined) {
      if (endpointKeys === undefined) continue;
      throw new PolicyError('UNKNOWN_ENDPOINT', `matrix: ${k} has no IPv${family} address`);
    }
    eps.push(ep);
    addrs.push(a);
  }
  const specs: PortSpec[] = ports.map((p, i) => {
    const protocol = parseProtocol(p.protocol, `matrix ports[${i}].protocol`);
    const ported = PORT_PROTOCOLS.has(protocol);
    if (ported && p.port === undefined) {
      throw new PolicyError(
        'INVALID_FLOW',
        `matrix ports[${i}]: ${protocolName(protocol)} needs a port`,
      );
    }
    const icmp = protocol === 1 || protocol === 58;
    return {
      protocol,
      port: ported ? p.port : undefined,
      icmpType: icmp ? p.icmpType : undefined,
      icmpCode: icmp ? p.icmpCode : undefined,
    };
  });
  const n = eps.length;
  const P = specs.length;
  const contributors = addrs.map((a) => snap.contributorsOf(a));

  // A pair takes the fast path when its path is exactly sender egress + receiver
  // ingress: both are workloads that own the chosen address and no host endpoint
  // sits between them.
  const fastNode = eps.map((ep, i) => {
    if (ep.kind !== 'WorkloadEndpoint') return false;
    return snap.endpointByAddress(addrs[i]!) === ep;
  });
  const nodeHasHep = new Map<string, boolean>();
  const hasHep = (node: string) => {
    let v = nodeHasHep.get(node);
    if (v === undefined) {
      v = policingHostEndpoint(snap, node, undefined) !== undefined;
      nodeHasHep.set(node, v);
    }
    return v;
  };
  const fastPair = (s: number, d: number) =>
    fastNode[s]! &&
    fastNode[d]! &&
    (eps[s]!.node === eps[d]!.node || (!hasHep(eps[s]!.node) && !hasHep(eps[d]!.node)));

  const side = (i: number, port: number | undefined): PacketSide => ({
    ip: addrs[i]!,
    contributors: contributors[i]!,
    port,
  });
  // A template packet per port spec; only protocol and ICMP fields are read by l4Matches.
  const templates: Packet[] = specs.map((s) => ({
    family,
    protocol: s.protocol,
    ...(s.icmpType !== undefined ? { icmpType: s.icmpType } : {}),
    ...(s.icmpCode !== undefined ? { icmpCode: s.icmpCode } : {}),
    src: side(0, srcPort),
    dst: side(0, s.port),
  }));

  const peerCache = new Map<BackendRule, Uint8Array>();
  const peerVector = (rule: BackendRule, direction: Direction): Uint8Array => {
    let v = peerCache.get(rule);
    if (v === undefined) {
      v = new Uint8Array(n * P);
      const entity = direction === 'egress' ? rule.destination : rule.source;
      for (let j = 0; j < n; j++) {
        for (let p = 0; p < P; p++) {
          const port = direction === 'egress' ? specs[p]!.port : srcPort;
          v[j * P + p] = entityMatches(entity, side(j, port), specs[p]!.protocol) ? 1 : 0;
        }
      }
      peerCache.set(rule, v);
    }
    return v;
  };
  const localOk = new Uint8Array(P);
  const ruleMask = (rule: BackendRule, e: number, direction: Direction) => {
    let any = false;
    for (let p = 0; p < P; p++) {
      const spec = specs[p]!;
      const port = direction === 'egress' ? srcPort : spec.port;
      const entity = direction === 'egress' ? rule.source : rule.destination;
      const ok =
        l4Matches(rule, templates[p]!) && entityMatches(entity, side(e, port), spec.protocol);
      localOk[p] = ok ? 1 : 0;
      if (ok) any = true;
    }
    return any ? peerVector(rule, direction) : undefined;
  };

  const state = new Uint8Array(n * P);
  const passed = new Uint8Array(n * P);
  /** Decides one endpoint's direction against every peer at once. */
  const row = (e: number, direction: Direction): Uint8Array => {
    state.fill(0);
    const apply = (rule: BackendRule, mask: Uint8Array) => {
      for (let idx = 0; idx < n * P; idx++) {
        if (mask[idx] === 0 || state[idx] !== 0 || passed[idx] !== 0) continue;
        if (localOk[idx % P] === 0) continue;
        switch (rule.action) {
          case 'allow':
            state[idx] = ALLOW;
            break;
          case 'deny':
            state[idx] = DENY;
            break;
          case 'next-tier':
            passed[idx] = 1;
            break;
          case 'log':
            break;
        }
      }
    };
    const ep = eps[e]!;
    for (const g of snap.applicable(ep, direction, 'normal')) {
      if (g.policies.length === 0) continue;
      passed.fill(0);
      for (const pol of g.policies) {
        for (const rule of direction === 'ingress' ? pol.inbound : pol.outbound) {
          const mask = ruleMask(rule, e, direction);
          if (mask !== undefined) apply(rule, mask);
        }
      }
      if (g.tier.defaultAction === 'Deny') {
        for (let idx = 0; idx < n * P; idx++) {
          if (state[idx] === 0 && passed[idx] === 0) state[idx] = DENY;
        }
      }
    }
    for (const name of ep.profiles) {
      const prof = snap.profiles.get(name);
      if (prof === undefined) break; // fail-closed: the rest is denied below
      passed.fill(0);
      for (const rule of direction === 'ingress' ? prof.inbound : prof.outbound) {
        const mask = ruleMask(rule, e, direction);
        if (mask !== undefined) apply(rule, mask);
      }
    }
    const out = new Uint8Array(n * P);
    for (let idx = 0; idx < n * P; idx++) out[idx] = state[idx] === ALLOW ? 1 : 0;
    return out;
  };

  const egressRows: (Uint8Array | undefined)[] = new Array(n);
  const ingressRows: (Uint8Array | undefined)[] = new Array(n);
  const cells = new Uint8Array(n * n * P);
  let fallbackPairs = 0;
  for (let s = 0; s < n; s++) {
    for (let d = 0; d < n; d++) {
      if (fastPair(s, d)) {
        egressRows[s] ??= row(s, 'egress');
        ingressRows[d] ??= row(d, 'ingress');
        const er = egressRows[s]!;
        const ir = ingressRows[d]!;
        for (let p = 0; p < P; p++) {
          cells[(s * n + d) * P + p] = er[d * P + p]! & ir[s * P + p]!;
        }
      } else {
        fallbackPairs++;
        for (let p = 0; p < P; p++) {
          const spec = specs[p]!;
          const verdict = decide(snap, {
            srcIp: formatIp(addrs[s]!),
            dstIp: formatIp(addrs[d]!),
            protocol: spec.protocol,
            ...(srcPort !== undefined ? { srcPort } : {}),
            ...(spec.port !== undefined ? { dstPort: spec.port } : {}),
            ...(spec.icmpType !== undefined ? { icmpType: spec.icmpType } : {}),
            ...(spec.icmpCode !== undefined ? { icmpCode: spec.icmpCode } : {}),
          });
          cells[(s * n + d) * P + p] = verdict === 'Allow' ? 1 : 0;
        }
      }
    }
  }
  return {
    endpoints: eps.map((e) => e.key),
    ports: specs.map((s) => ({
      protocol: protocolName(s.protocol),
      ...(s.port !== undefined ? { port: s.port } : {}),
      ...(s.icmpType !== undefined ? { icmpType: s.icmpType } : {}),
      ...(s.icmpCode !== undefined ? { icmpCode: s.icmpCode } : {}),
    })),
    cells,
    allowed: (s, d, p) => cells[(s * n + d) * P + p] === 1,
    fallbackPairs,
  };
}
