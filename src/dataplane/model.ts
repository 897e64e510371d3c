// The rendered form of our nftables table: plain data that the driver can serialise
// as one atomic full replacement or diff against what it last programmed.

export const TABLE_FAMILY = 'inet';

export interface NftChain {
  /** base-chain header, e.g. `type filter hook forward priority filter; policy accept;` */
  readonly hook?: string;
  /** rule bodies, each already ending in `comment "cali:<hash>…"` */
  readonly rules: readonly string[];
}

export interface NftSet {
  /** e.g. `ipv4_addr` or `ipv4_addr . inet_proto . inet_service` */
  readonly type: string;
  readonly interval: boolean;
  /** elements in nft syntax, sorted, no duplicates, no overlapping intervals */
  readonly elements: readonly string[];
}

export interface NftMap {
  /** e.g. `ifname : verdict` */
  readonly type: string;
  /** key (nft syntax, e.g. `"cali123"`) → value (e.g. `goto cali-fw-cali123`) */
  readonly elements: ReadonlyMap<string, string>;
}

export interface RenderedTable {
  readonly name: string;
  readonly chains: ReadonlyMap<string, NftChain>;
  readonly sets: ReadonlyMap<string, NftSet>;
  readonly maps: ReadonlyMap<string, NftMap>;
}

export interface TableCounts {
  chains: number;
  rules: number;
  sets: number;
  setElements: number;
  maps: number;
  mapElements: number;
}

export function countTable(t: RenderedTable): TableCounts {
  let rules = 0;
  for (const c of t.chains.values()) rules += c.rules.length;
  let setElements = 0;
  for (const s of t.sets.values()) setElements += s.elements.length;
  let mapElements = 0;
  for (const m of t.maps.values()) mapElements += m.elements.size;
  return {
    chains: t.chains.size,
    rules,
    sets: t.sets.size,
    setElements,
    maps: t.maps.size,
    mapElements,
  };
}

/**
 * `countTable(to)` from the counts of `from` and the names that may differ between the
 * two: a change costs what it touched rather than a pass over thousands of chains.
 */
export function countTableDelta(
  from: RenderedTable,
  fromCounts: TableCounts,
  to: RenderedTable,
  touched: TouchedNames,
): TableCounts {
  const c = { ...fromCounts };
  for (const n of touched.chains) {
    const a = from.chains.get(n);
    const b = to.chains.get(n);
    c.chains += (b ? 1 : 0) - (a ? 1 : 0);
    c.rules += (b?.rules.length ?? 0) - (a?.rules.length ?? 0);
  }
  for (const n of touched.sets) {
    const a = from.sets.get(n);
    const b = to.sets.get(n);
    c.sets += (b ? 1 : 0) - (a ? 1 : 0);
    c.setElements += (b?.elements.length ?? 0) - (a?.elements.length ?? 0);
  }
  for (const n of touched.maps) {
    const a = from.maps.get(n);
    const b = to.maps.get(n);
    c.maps += (b ? 1 : 0) - (a ? 1 : 0);
    c.mapElements += (b?.elements.size ?? 0) - (a?.elements.size ?? 0);
  }
  return c;
}

function setDecl(s: NftSet, withElements: boolean): string {
  const flags = s.interval ? ' flags interval;' : '';
  const elems =
    withElements && s.elements.length > 0 ? ` elements = { ${s.elements.join(', ')} };` : '';
  return `{ type ${s.type};${flags}${elems} }`;
}

function mapDecl(m: NftMap): string {
  const elems =
    m.elements.size > 0
      ? ` elements = { ${[...m.elements].map(([k, v]) => `${k} : ${v}`).join(', ')} };`
      : '';
  return `{ type ${m.type};${elems} }`;
}

/**
 * The whole table as one transaction: `add table` + `delete table` + recreate, so the
 * kernel swaps old for new atomically whether or not the table existed. Chains are
 * declared before maps whose verdicts point at them, and rules come last.
 */
export function serializeFull(t: RenderedTable): string {
  const T = `${TABLE_FAMILY} ${t.name}`;
  const out: string[] = [`add table ${T}`, `delete table ${T}`, `add table ${T}`];
  for (const [name, c] of t.chains)
    out.push(c.hook ? `add chain ${T} ${name} { ${c.hook} }` : `add chain ${T} ${name}`);
  for (const [name, s] of t.sets) out.push(`add set ${T} ${name} ${setDecl(s, true)}`);
  for (const [name, m] of t.maps) out.push(`add map ${T} ${name} ${mapDecl(m)}`);
  for (const [name, c] of t.chains) for (const r of c.rules) out.push(`add rule ${T} ${name} ${r}`);
  return `${out.join('\n')}\n`;
}

function sortedDiff(
  oldEls: readonly string[],
  newEls: readonly string[],
): { added: string[]; removed: string[] } {
  if (oldEls === newEls) return { added: [], removed: [] };
  const oldSet = new Set(oldEls);
  const newSet = new Set(newEls);
  return {
    added: newEls.filter((e) => !oldSet.has(e)),
    removed: oldEls.filter((e) => !newSet.has(e)),
  };
}

function sameRules(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The commands that fill an existing (possibly just declared) chain with its rules. nft
 * 1.0.6 fetches every set and chain of the table before any `add rule` (~2/3 of a
 * one-workload transaction's CPU at 4,000 sets), but `add chain` only needs the table:
 * rules given inside a chain block are evaluated without that cache. Jump targets are
 * checked by the kernel, not nft, so an endpoint chain (jumps, marks, anonymous sets)
 * can go that way; a rule that names a set (`@…`) needs nft's set cache to resolve it
 * and keeps the `add rule` form, as do base chains (their header would be repeated).
 */
function fillChain(T: string, name: string, c: NftChain): string[] {
  if (c.rules.length === 0) return [];
  if (c.hook || c.rules.some((r) => r.includes('@')))
    return c.rules.map((r) => `add rule ${T} ${name} ${r}`);
  return [`add chain ${T} ${name} { ${c.rules.join('; ')}; }`];
}

/** Above this many elements a changed set is patched element-wise instead of refilled. */
const REFILL_LIMIT = 20000;

/** The names (per kind) that may differ between two tables; anything else is equal. */
export interface TouchedNames {
  readonly chains: ReadonlySet<string>;
  readonly sets: ReadonlySet<string>;
  readonly maps: ReadonlySet<string>;
}

export interface Delta {
  /** nft script, empty when nothing changed */
  script: string;
  /** true when the difference cannot be expressed incrementally (base chain or set type change) */
  needsFull: boolean;
  changes: number;
}

/**
 * The smallest transaction taking `from` (what the kernel holds) to `to`. Order matters
 * inside one transaction: new sets and chains exist before anything references them,
 * set elements are deleted before overlapping ones are added, and chains are flushed
 * (dropping their jumps) before any chain or set they referenced is deleted.
 */
export function diffTables(from: RenderedTable, to: RenderedTable, touched?: TouchedNames): Delta {
  const T = `${TABLE_FAMILY} ${to.name}`;
  // With `touched`, only those names can differ: walking them instead of the whole
  // table keeps a one-workload change from costing a pass over thousands of sets.
  const pick = <V>(a: ReadonlyMap<string, V>, names: ReadonlySet<string> | undefined) =>
    names ? [...names].flatMap((n): [string, V][] => (a.has(n) ? [[n, a.get(n)!]] : [])) : a;
  const gone = <V>(
    a: ReadonlyMap<string, V>,
    b: ReadonlyMap<string, unknown>,
    names: ReadonlySet<string> | undefined,
  ) => [...(names ?? a.keys())].filter((n) => a.has(n) && !b.has(n));
  const head: string[] = [];
  const elems: string[] = [];
  const mapElems: string[] = [];
  const fills: string[] = [];
  const tail: string[] = [];
  let needsFull = false;

  for (const [name, s] of pick(to.sets, touched?.sets)) {
    const old = from.sets.get(name);
    if (!old) {
      head.push(`add set ${T} ${name} ${setDecl(s, true)}`);
      continue;
    }
    if (old.type !== s.type || old.interval !== s.interval) {
      needsFull = true;
      continue;
    }
    const { added, removed } = sortedDiff(old.elements, s.elements);
    if (removed.length === 0 && added.length === 0) continue;
    // nft 1.0.6 lists the whole ruleset (every set's elements) before an `add element` or
    // `delete element`, which costs seconds on a big table; re-declaring the set with
    // elements, and flush + refill for removals, needs no such cache.
    if (removed.length === 0) {
      elems.push(`add set ${T} ${name} ${setDecl({ ...s, elements: added }, true)}`);
    } else if (s.elements.length <= REFILL_LIMIT) {
      elems.push(`flush set ${T} ${name}`);
      if (s.elements.length > 0) elems.push(`add set ${T} ${name} ${setDecl(s, true)}`);
    } else {
      elems.push(`delete element ${T} ${name} { ${removed.join(', ')} }`);
      if (added.length > 0) elems.push(`add element ${T} ${name} { ${added.join(', ')} }`);
    }
  }
  for (const [name, c] of pick(to.chains, touched?.chains)) {
    const old = from.chains.get(name);
    if (!old) {
      head.push(c.hook ? `add chain ${T} ${name} { ${c.hook} }` : `add chain ${T} ${name}`);
      fills.push(...fillChain(T, name, c));
      continue;
    }
    if (old.hook !== c.hook) {
      needsFull = true;
      continue;
    }
    if (sameRules(old.rules, c.rules)) continue;
    fills.push(`flush chain ${T} ${name}`, ...fillChain(T, name, c));
  }
  for (const [name, m] of pick(to.maps, touched?.maps)) {
    const old = from.maps.get(name);
    if (!old) {
      head.push(`add map ${T} ${name} ${mapDecl(m)}`);
      continue;
    }
    if (old.type !== m.type) {
      needsFull = true;
      continue;
    }
    if (old.elements === m.elements) continue;
    let changed = old.elements.size !== m.elements.size;
    let onlyAdds = true;
    for (const [k, v] of old.elements) {
      const nv = m.elements.get(k);
      if (nv !== v) {
        changed = true;
        onlyAdds = false;
        break;
      }
    }
    if (!changed) continue;
    if (onlyAdds) {
      const added = new Map([...m.elements].filter(([k]) => !old.elements.has(k)));
      mapElems.push(`add map ${T} ${name} ${mapDecl({ ...m, elements: added })}`);
    } else {
      mapElems.push(`flush map ${T} ${name}`);
      if (m.elements.size > 0) mapElems.push(`add map ${T} ${name} ${mapDecl(m)}`);
    }
  }
  const removedChains = gone(from.chains, to.chains, touched?.chains);
  for (const n of removedChains) tail.push(`flush chain ${T} ${n}`);
  for (const n of removedChains) tail.push(`delete chain ${T} ${n}`);
  for (const n of gone(from.maps, to.maps, touched?.maps)) tail.push(`delete map ${T} ${n}`);
  for (const n of gone(from.sets, to.sets, touched?.sets)) tail.push(`delete set ${T} ${n}`);

  // Map elements pointing at deleted chains must go before the fills that might be the
  // last other references; new chains must exist before map elements point at them.
  const all = [...head, ...elems, ...mapElems, ...fills, ...tail];
  return {
    script: all.length > 0 ? `${all.join('\n')}\n` : '',
    needsFull,
    changes: all.length,
  };
}
