// Loc-RIB: candidate paths per prefix, best-path selection (RFC 4271 §9.1.2.2 plus the
// usual tie-breaks) and the multipath set that becomes an ECMP route.
import { asPathLength, type PathAttributes } from './codec.js';
import { addressToBytes } from './prefix.js';

/** Who a path came from; shared by all paths of one session to keep memory flat. */
export interface PathSource {
  /** peer address, or '' for locally originated routes */
  address: string;
  /** BGP identifier of the peer (our own router id for local routes) */
  routerId: string;
  ebgp: boolean;
  local: boolean;
  /** the peer is one of our route-reflector clients */
  rrClient: boolean;
  /** first AS of a path from this source is the neighbouring AS for MED comparison */
  peerAs: number;
}

export interface Path {
  source: PathSource;
  attrs: PathAttributes;
  /** next hop the kernel route uses ('' for local routes) */
  nextHop: string;
  /** kept through a peer's graceful restart; removed unless re-announced */
  stale: boolean;
}

export interface RibEntry {
  paths: Path[];
  best: Path | undefined;
  /** next hops of the multipath set, sorted; empty when the best path is local */
  nextHops: string[];
}

function neighbourAs(p: Path): number {
  const first = p.attrs.asPath?.[0];
  if (first && first.type === 2 && first.asns.length > 0) return first.asns[0]!;
  return p.source.local ? 0 : p.source.peerAs;
}

function compareAddr(a: string, b: string): number {
  if (a === b) return 0;
  const x = addressToBytes(a);
  const y = addressToBytes(b);
  if (x.length !== y.length) return x.length - y.length;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

/**
 * The steps that decide whether two paths are equally good for multipath: everything
 * up to and including eBGP-over-iBGP. Negative means `a` is better.
 */
export function compareForMultipath(a: Path, b: Path): number {
  const lpA = a.attrs.localPref ?? 100;
  const lpB = b.attrs.localPref ?? 100;
  if (lpA !== lpB) return lpB - lpA;
  if (a.source.local !== b.source.local) return a.source.local ? -1 : 1;
  const lenA = asPathLength(a.attrs.asPath);
  const lenB = asPathLength(b.attrs.asPath);
  if (lenA !== lenB) return lenA - lenB;
  const oA = a.attrs.origin ?? 2;
  const oB = b.attrs.origin ?? 2;
  if (oA !== oB) return oA - oB;
  // MED only between paths from the same neighbouring AS (RFC 4271 §9.1.2.2 c).
  if (neighbourAs(a) === neighbourAs(b)) {
    const mA = a.attrs.med ?? 0;
    const mB = b.attrs.med ?? 0;
    if (mA !== mB) return mA - mB;
  }
  if (a.source.ebgp !== b.source.ebgp) return a.source.ebgp ? -1 : 1;
  return 0;
}

/** Full order: multipath steps, then fresh before stale, router id, cluster list, address. */
export function comparePaths(a: Path, b: Path): number {
  const c = compareForMultipath(a, b);
  if (c !== 0) return c;
  if (a.stale !== b.stale) return a.stale ? 1 : -1;
  // RFC 4456 §9: ORIGINATOR_ID stands in for the router id of reflected routes.
  const idA = a.attrs.originatorId ?? a.source.routerId;
  const idB = b.attrs.originatorId ?? b.source.routerId;
  const ids = compareAddr(idA, idB);
  if (ids !== 0) return ids;
  const clA = a.attrs.clusterList?.length ?? 0;
  const clB = b.attrs.clusterList?.length ?? 0;
  if (clA !== clB) return clA - clB;
  return compareAddr(a.source.address || '0.0.0.0', b.source.address || '0.0.0.0');
}

/** One shared array per next hop: most routes have a single next hop, and 100k copies add up. */
const singleHops = new Map<string, string[]>();
function singleHop(nh: string): string[] {
  let a = singleHops.get(nh);
  if (!a) {
    a = [nh];
    singleHops.set(nh, a);
  }
  return a;
}

const NO_HOPS: string[] = [];

export const CHANGED_BEST = 1;
export const CHANGED_HOPS = 2;
/** the set of paths changed (what ADD-PATH peers are sent), whether or not the best did */
export const CHANGED_PATHS = 4;

export class LocRib {
  readonly entries = new Map<string, RibEntry>();
  multipath: boolean;

  constructor(multipath = true) {
    this.multipath = multipath;
  }

  get size(): number {
    return this.entries.size;
  }

  get(prefix: string): RibEntry | undefined {
    return this.entries.get(prefix);
  }

  /**
   * Puts `path` (or removes the path of `source` when path is undefined) and reselects.
   * Returns CHANGED_BEST and/or CHANGED_HOPS (the kernel route's next hops changed).
   */
  set(prefix: string, source: PathSource, path: Path | undefined): number {
    let e = this.entries.get(prefix);
    if (!e) {
      if (!path) return 0;
      // A literal sizes the backing store to one path; push() onto [] reserves 17.
      e = { paths: [path], best: undefined, nextHops: NO_HOPS };
      this.entries.set(prefix, e);
      return this.select(prefix, e) | CHANGED_PATHS;
    }
    const i = e.paths.findIndex((p) => p.source === source);
    if (path) {
      if (i >= 0) e.paths[i] = path;
      else e.paths.push(path);
    } else {
      if (i < 0) return 0;
      e.paths.splice(i, 1);
    }
    return this.select(prefix, e) | CHANGED_PATHS;
  }

  /** Reselects after paths changed in place (e.g. marked stale). */
  reselect(prefix: string): number {
    const e = this.entries.get(prefix);
    return e ? this.select(prefix, e) : 0;
  }

  private select(prefix: string, e: RibEntry): number {
    const oldBest = e.best;
    const oldHops = e.nextHops;
    if (e.paths.length === 0) {
      this.entries.delete(prefix);
      return (oldBest ? CHANGED_BEST : 0) | (oldHops.length > 0 ? CHANGED_HOPS : 0);
    }
    let best = e.paths[0]!;
    for (let i = 1; i < e.paths.length; i++) {
      if (comparePaths(e.paths[i]!, best) < 0) best = e.paths[i]!;
    }
    let hops: string[];
    if (best.source.local) hops = NO_HOPS;
    else if (!this.multipath || e.paths.length === 1) hops = singleHop(best.nextHop);
    else {
      const set = new Set<string>();
      for (const p of e.paths) {
        if (!p.source.local && compareForMultipath(p, best) === 0) set.add(p.nextHop);
      }
      hops = set.size === 1 ? singleHop(best.nextHop) : [...set].sort();
    }
    e.best = best;
    e.nextHops = hops;
    let flags = oldBest !== best ? CHANGED_BEST : 0;
    if (oldHops.length !== hops.length) flags |= CHANGED_HOPS;
    else {
      for (let i = 0; i < hops.length; i++) {
        if (hops[i] !== oldHops[i]) {
          flags |= CHANGED_HOPS;
          break;
        }
      }
    }
    return flags;
  }
}
