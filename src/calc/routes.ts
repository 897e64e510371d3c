// Routes for one host (calico-dataplane.md §8, §10; Felix's L3RouteResolver): local
// workloads via their interface, this host's affine blocks as blackholes, other
// hosts' blocks via the owner's address, and addresses borrowed from a block by a
// host other than its owner via the borrower's address.
import { type Cidr, cidrContains, formatCidr, parseCidr } from '../net/index.js';
import type { RouteState, RouteType } from './desired-state.js';
import type { BlockInput, NodeInput, PoolInput } from './resources.js';

/** A route before its next hop and pool are looked up; several may share a `dst`. */
export interface RouteCandidate {
  readonly dst: string;
  readonly family: 4 | 6;
  readonly type: RouteType;
  readonly interfaceName?: string;
  readonly nodeName?: string;
}

const PRIORITY: Record<RouteType, number> = {
  'local-workload': 0,
  'remote-workload': 1,
  'local-block': 2,
  'remote-block': 3,
};

function hostDst(block: Cidr, ordinal: number): { dst: string; family: 4 | 6 } {
  const bits = block.family === 4 ? 32 : 128;
  const ip = block.address + BigInt(ordinal);
  const c = { family: block.family, address: ip, prefixLength: bits };
  return { dst: formatCidr(c), family: block.family };
}

/**
 * The routes one IPAM block gives this host. `owner` is the block's host affinity
 * (from the block, else a confirmed BlockAffinity); an address whose allocation
 * records another node was borrowed by that node and is routed to it.
 */
export function blockRoutes(
  block: BlockInput,
  owner: string | undefined,
  hostname: string,
): RouteCandidate[] {
  const family = block.cidr.family;
  const out: RouteCandidate[] = [];
  if (owner === hostname) out.push({ dst: block.cidrText, family, type: 'local-block' });
  else if (owner !== undefined)
    out.push({ dst: block.cidrText, family, type: 'remote-block', nodeName: owner });
  for (const a of block.allocations) {
    if (a.node === undefined || a.node === owner || a.node === hostname) continue;
    const { dst } = hostDst(block.cidr, a.ordinal);
    out.push({ dst, family, type: 'remote-workload', nodeName: a.node });
  }
  return out;
}

/** Local workload routes: each address of a local workload via its interface. */
export function workloadRoutes(interfaceName: string | undefined, nets: readonly string[]) {
  if (interfaceName === undefined || interfaceName === '') return [];
  return nets.map(
    (dst): RouteCandidate => ({
      dst,
      family: dst.includes(':') ? 6 : 4,
      type: 'local-workload',
      interfaceName,
    }),
  );
}

/** The candidate that wins a destination: local workloads first, then borrowed, then blocks. */
export function pickRoute<
  T extends { readonly candidate: RouteCandidate; readonly source: string },
>(entries: Iterable<T>): T | undefined {
  let best: T | undefined;
  for (const e of entries) {
    if (best === undefined) {
      best = e;
      continue;
    }
    const pa = PRIORITY[e.candidate.type];
    const pb = PRIORITY[best.candidate.type];
    if (pa < pb || (pa === pb && e.source < best.source)) best = e;
  }
  return best;
}

/** The pool a destination lies in (the most specific one if pools overlap). */
export function poolOf(dst: string, pools: Iterable<PoolInput>): PoolInput | undefined {
  const c = parseCidr(dst);
  let best: PoolInput | undefined;
  for (const p of pools) {
    if (p.cidr.family !== c.family || !cidrContains(p.cidr, c)) continue;
    if (
      best === undefined ||
      p.cidr.prefixLength > best.cidr.prefixLength ||
      (p.cidr.prefixLength === best.cidr.prefixLength && p.cidrText < best.cidrText)
    ) {
      best = p;
    }
  }
  return best;
}

/**
 * The route as the dataplane sees it, or undefined when a remote route has no next
 * hop (the node is unknown or has no BGP address of that family).
 */
export function finalizeRoute(
  c: RouteCandidate,
  nodes: ReadonlyMap<string, NodeInput>,
  pools: Iterable<PoolInput>,
): RouteState | undefined {
  let nextHop: string | undefined;
  if (c.type === 'remote-block' || c.type === 'remote-workload') {
    const node = nodes.get(c.nodeName!);
    nextHop = c.family === 4 ? node?.ipv4 : node?.ipv6;
    if (nextHop === undefined) return undefined;
  }
  const pool = poolOf(c.dst, pools);
  return {
    dst: c.dst,
    type: c.type,
    ...(c.interfaceName !== undefined ? { interfaceName: c.interfaceName } : {}),
    ...(c.nodeName !== undefined ? { nodeName: c.nodeName } : {}),
    ...(nextHop !== undefined ? { nextHop } : {}),
    ...(pool !== undefined ? { poolCidr: pool.cidrText, natOutgoing: pool.natOutgoing } : {}),
  };
}

/** The host affinity of a block: its own `affinity`, else the first confirmed claim. */
export function blockOwner(
  block: BlockInput,
  confirmedClaims: Iterable<string> | undefined,
): string | undefined {
  if (block.affinityNode !== undefined) return block.affinityNode;
  let best: string | undefined;
  for (const n of confirmedClaims ?? []) if (best === undefined || n < best) best = n;
  return best;
}
