// The label index (issue 7 point 3). Matching every selector against every endpoint
// is what makes a naive calc graph quadratic; instead each selector is filed under
// terms that any matching label set must contain (`k == v`, `k in {…}`, `has(k)` in
// its required conjuncts), and only the selectors filed under one of an endpoint's
// labels are evaluated. Selectors with no such term (`all()`, `!has(x)`, `a != 'b'`)
// sit on a short "unindexable" list that every lookup includes.
import { ALL_SELECTOR, fromAst, type Selector, type SelectorNode } from '../selector/index.js';

export const ALL: Selector = fromAst(ALL_SELECTOR);

export type Labels = Readonly<Record<string, string>>;

/** `k\0v`: the label k has value v. Label keys and values never contain NUL. */
function kvTerm(key: string, value: string): string {
  return `${key}\0${value}`;
}
/** `k\x01`: the label k is present. */
function keyTerm(key: string): string {
  return `${key}\x01`;
}

/**
 * Alternatives for filing a selector: each entry is a list of terms of which every
 * matching label set contains at least one. `[]` as an entry means the selector can
 * never match (an empty `in {}`); an empty result means no term is required.
 */
export function termAlternatives(node: SelectorNode): string[][] {
  switch (node.kind) {
    case 'eq':
      return [[kvTerm(node.key, node.value)]];
    case 'in':
      return [node.values.map((v) => kvTerm(node.key, v))];
    case 'has':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      // These are false when the label is absent (selector/interpret.ts).
      return [[keyTerm(node.key)]];
    case 'and': {
      const out: string[][] = [];
      for (const op of node.operands) out.push(...termAlternatives(op));
      return out;
    }
    case 'or': {
      const union = new Set<string>();
      for (const op of node.operands) {
        const alts = termAlternatives(op);
        if (alts.length === 0) return [];
        for (const t of bestAlternative(alts)) union.add(t);
      }
      return [[...union]];
    }
    default:
      return [];
  }
}

/** A static guess at selectivity: a value term beats a presence term. */
function staticCost(terms: readonly string[]): number {
  let cost = 0;
  for (const t of terms) cost += t.endsWith('\x01') ? 64 : 1;
  return cost;
}

function bestAlternative(alts: readonly string[][]): string[] {
  let best = alts[0]!;
  for (const a of alts) if (staticCost(a) < staticCost(best)) best = a;
  return best;
}

/** Splits a term back into its key and (for value terms) value. */
function parseTerm(term: string): { key: string; value: string | undefined } {
  if (term.endsWith('\x01')) return { key: term.slice(0, -1), value: undefined };
  const nul = term.indexOf('\0');
  return { key: term.slice(0, nul), value: term.slice(nul + 1) };
}

interface KeyPostings<T> {
  /** items filed under `has(key)` (or a condition implying it) */
  present: Set<T> | undefined;
  /** items filed under `key == value` */
  readonly byValue: Map<string, Set<T>>;
}

/**
 * Items keyed by selector, found from a label set. An item may be filed under
 * several terms; `candidates` reports each at most once per call. Lookups walk the
 * label set once, with one map probe per label key and one per value, no strings built.
 */
export class SelectorIndex<T> {
  private readonly byKey = new Map<string, KeyPostings<T>>();
  private readonly unindexed = new Set<T>();
  private readonly terms = new Map<T, string[] | undefined>();

  get size(): number {
    return this.terms.size;
  }

  add(item: T, sel: Selector): void {
    if (this.terms.has(item)) this.remove(item);
    const alts = termAlternatives(sel.ast);
    const terms = alts.length === 0 ? undefined : this.leastLoaded(alts);
    this.terms.set(item, terms);
    if (terms === undefined) {
      this.unindexed.add(item);
      return;
    }
    for (const t of terms) {
      const { key, value } = parseTerm(t);
      let kp = this.byKey.get(key);
      if (kp === undefined) {
        kp = { present: undefined, byValue: new Map() };
        this.byKey.set(key, kp);
      }
      if (value === undefined) {
        kp.present ??= new Set();
        kp.present.add(item);
      } else {
        let set = kp.byValue.get(value);
        if (set === undefined) {
          set = new Set();
          kp.byValue.set(value, set);
        }
        set.add(item);
      }
    }
  }

  private postingSize(term: string): number {
    const { key, value } = parseTerm(term);
    const kp = this.byKey.get(key);
    if (kp === undefined) return 0;
    return value === undefined ? (kp.present?.size ?? 0) : (kp.byValue.get(value)?.size ?? 0);
  }

  /**
   * Which required conjunct to file under. The static guess cannot know that, say,
   * every Kubernetes policy requires `projectcalico.org/orchestrator == 'k8s'`;
   * preferring the terms with the fewest items already filed spreads such selectors
   * over their more selective conjuncts (the namespace, the app label).
   */
  private leastLoaded(alts: readonly string[][]): string[] {
    let best = alts[0]!;
    let bestCost = Number.POSITIVE_INFINITY;
    for (const a of alts) {
      let cost = staticCost(a);
      for (const t of a) cost += this.postingSize(t);
      if (cost < bestCost) {
        best = a;
        bestCost = cost;
      }
    }
    return best;
  }

  remove(item: T): void {
    if (!this.terms.has(item)) return;
    const terms = this.terms.get(item);
    this.terms.delete(item);
    if (terms === undefined) {
      this.unindexed.delete(item);
      return;
    }
    for (const t of terms) {
      const { key, value } = parseTerm(t);
      const kp = this.byKey.get(key);
      if (kp === undefined) continue;
      if (value === undefined) {
        kp.present?.delete(item);
        if (kp.present?.size === 0) kp.present = undefined;
      } else {
        const set = kp.byValue.get(value);
        set?.delete(item);
        if (set?.size === 0) kp.byValue.delete(value);
      }
      if (kp.present === undefined && kp.byValue.size === 0) this.byKey.delete(key);
    }
  }

  /** Every item whose selector could match `labels` (a superset; callers evaluate). */
  candidates(labels: Labels, out: Set<T>): void {
    for (const item of this.unindexed) out.add(item);
    if (this.byKey.size === 0) return;
    for (const k in labels) {
      const kp = this.byKey.get(k);
      if (kp === undefined) continue;
      if (kp.present !== undefined) for (const item of kp.present) out.add(item);
      const kv = kp.byValue.get(labels[k]!);
      if (kv !== undefined) for (const item of kv) out.add(item);
    }
  }

  get unindexedCount(): number {
    return this.unindexed.size;
  }
}

/** What the reverse index needs of an item: its labels and a scratch stamp. */
export interface Indexed {
  readonly labels: Labels;
  /** last scan that visited this item; lets a scan skip duplicate posting entries */
  stamp: number;
}

interface Posting<T> {
  items: T[];
  /** entries known to no longer hold (removed, or relabelled away) */
  stale: number;
}

/**
 * The reverse direction: label sets (endpoints, network sets) by label, so that a
 * selector that becomes active finds its members by walking the smallest posting
 * list of its required terms instead of every label set in the cluster.
 *
 * Postings are append-only arrays with lazy deletion: adding is a push, removing only
 * counts the entry stale, and a posting is compacted once half of it is stale. At a
 * million endpoints this costs a fraction of hash-set postings (which rehash and
 * churn the heap as they grow), and memory stays within twice the live entries.
 */
export class LabelIndex<T extends Indexed> {
  private readonly byKey = new Map<string, { count: number; values: Map<string, Posting<T>> }>();
  private scan = 0;

  constructor(
    /** whether an item is still in the index (items are never re-added once removed) */
    private readonly live: (item: T) => boolean,
    /** every live item, for selectors with no required term */
    private readonly all: () => Iterable<T>,
  ) {}

  add(item: T): void {
    const labels = item.labels;
    for (const k in labels) {
      const v = labels[k]!;
      let byValue = this.byKey.get(k);
      if (byValue === undefined) {
        byValue = { count: 0, values: new Map() };
        this.byKey.set(k, byValue);
      }
      let posting = byValue.values.get(v);
      if (posting === undefined) {
        posting = { items: [], stale: 0 };
        byValue.values.set(v, posting);
      }
      posting.items.push(item);
      byValue.count++;
    }
  }

  /**
   * An item added with `labels` is gone or is about to change labels. Its entries
   * stay until their posting is compacted; scans skip them meanwhile.
   */
  remove(labels: Labels): void {
    for (const k in labels) {
      const byValue = this.byKey.get(k);
      if (byValue === undefined) continue;
      const v = labels[k]!;
      const posting = byValue.values.get(v);
      if (posting === undefined) continue;
      posting.stale++;
      if (posting.stale * 2 >= posting.items.length) {
        const before = posting.items.length;
        posting.items = this.compact(posting.items, k, v);
        posting.stale = 0;
        byValue.count -= before - posting.items.length;
        if (posting.items.length === 0) byValue.values.delete(v);
        if (byValue.values.size === 0) this.byKey.delete(k);
      }
    }
  }

  private compact(items: readonly T[], k: string, v: string): T[] {
    const stamp = ++this.scan;
    const out: T[] = [];
    for (const i of items) {
      if (i.stamp === stamp || !this.live(i) || i.labels[k] !== v) continue;
      i.stamp = stamp;
      out.push(i);
    }
    return out;
  }

  private termSize(term: string): number {
    const { key, value } = parseTerm(term);
    const byValue = this.byKey.get(key);
    if (byValue === undefined) return 0;
    return value === undefined ? byValue.count : (byValue.values.get(value)?.items.length ?? 0);
  }

  /** Calls `visit` once for every live item `sel` matches. */
  matching(sel: Selector, visit: (item: T) => void): void {
    const stamp = ++this.scan;
    const alts = termAlternatives(sel.ast);
    if (alts.length === 0) {
      for (const item of this.all()) {
        if (item.stamp === stamp) continue;
        item.stamp = stamp;
        if (sel.matches(item.labels)) visit(item);
      }
      return;
    }
    let best = alts[0]!;
    let bestSize = Number.POSITIVE_INFINITY;
    for (const a of alts) {
      let size = 0;
      for (const t of a) size += this.termSize(t);
      if (size < bestSize) {
        best = a;
        bestSize = size;
      }
    }
    for (const t of best) {
      const { key, value } = parseTerm(t);
      const byValue = this.byKey.get(key);
      if (byValue === undefined) continue;
      const postings =
        value === undefined ? [...byValue.values.values()] : [byValue.values.get(value)];
      for (const p of postings) {
        if (p === undefined) continue;
        for (const item of p.items) {
          if (item.stamp === stamp) continue;
          item.stamp = stamp;
          if (this.live(item) && sel.matches(item.labels)) visit(item);
        }
      }
    }
  }
}
