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

/** The terms a selector is filed under, or undefined when it is unindexable. */
export function indexTerms(sel: Selector): string[] | undefined {
  const alts = termAlternatives(sel.ast);
  return alts.length === 0 ? undefined : bestAlternative(alts);
}

/**
 * Items keyed by selector, found from a label set. An item may be filed under
 * several terms; `candidates` reports each at most once per call.
 */
export class SelectorIndex<T> {
  private readonly byTerm = new Map<string, Set<T>>();
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
      let set = this.byTerm.get(t);
      if (set === undefined) {
        set = new Set();
        this.byTerm.set(t, set);
      }
      set.add(item);
    }
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
      for (const t of a) cost += this.byTerm.get(t)?.size ?? 0;
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
      const set = this.byTerm.get(t);
      if (set === undefined) continue;
      set.delete(item);
      if (set.size === 0) this.byTerm.delete(t);
    }
  }

  /** Every item whose selector could match `labels` (a superset; callers evaluate). */
  candidates(labels: Labels, out: Set<T>): void {
    for (const item of this.unindexed) out.add(item);
    if (this.byTerm.size === 0) return;
    for (const k in labels) {
      const kv = this.byTerm.get(kvTerm(k, labels[k]!));
      if (kv !== undefined) for (const item of kv) out.add(item);
      const has = this.byTerm.get(keyTerm(k));
      if (has !== undefined) for (const item of has) out.add(item);
    }
  }

  get unindexedCount(): number {
    return this.unindexed.size;
  }
}

/**
 * The reverse direction: label sets (endpoints, network sets) by label, so that a
 * selector that becomes active finds its members by walking the smallest posting
 * list of its required terms instead of every label set in the cluster.
 */
export class LabelIndex<T extends { readonly labels: Labels }> {
  private readonly byKey = new Map<string, Map<string, Set<T>>>();
  private readonly keyCounts = new Map<string, number>();
  readonly all = new Set<T>();

  add(item: T): void {
    this.all.add(item);
    const labels = item.labels;
    for (const k in labels) {
      const v = labels[k]!;
      let byValue = this.byKey.get(k);
      if (byValue === undefined) {
        byValue = new Map();
        this.byKey.set(k, byValue);
      }
      let set = byValue.get(v);
      if (set === undefined) {
        set = new Set();
        byValue.set(v, set);
      }
      set.add(item);
      this.keyCounts.set(k, (this.keyCounts.get(k) ?? 0) + 1);
    }
  }

  /** Must be called with the same labels the item was added with. */
  remove(item: T): void {
    if (!this.all.delete(item)) return;
    const labels = item.labels;
    for (const k in labels) {
      const byValue = this.byKey.get(k);
      const set = byValue?.get(labels[k]!);
      if (byValue === undefined || set === undefined || !set.delete(item)) continue;
      if (set.size === 0) byValue.delete(labels[k]!);
      if (byValue.size === 0) this.byKey.delete(k);
      const n = (this.keyCounts.get(k) ?? 1) - 1;
      if (n === 0) this.keyCounts.delete(k);
      else this.keyCounts.set(k, n);
    }
  }

  private termSize(term: string): number {
    if (term.endsWith('\x01')) return this.keyCounts.get(term.slice(0, -1)) ?? 0;
    const nul = term.indexOf('\0');
    return this.byKey.get(term.slice(0, nul))?.get(term.slice(nul + 1))?.size ?? 0;
  }

  private visitTerm(term: string, visit: (item: T) => void): void {
    if (term.endsWith('\x01')) {
      const byValue = this.byKey.get(term.slice(0, -1));
      if (byValue !== undefined) for (const set of byValue.values()) for (const i of set) visit(i);
      return;
    }
    const nul = term.indexOf('\0');
    const set = this.byKey.get(term.slice(0, nul))?.get(term.slice(nul + 1));
    if (set !== undefined) for (const i of set) visit(i);
  }

  /** Calls `visit` once for every item `sel` matches. */
  matching(sel: Selector, visit: (item: T) => void): void {
    const alts = termAlternatives(sel.ast);
    if (alts.length === 0) {
      for (const item of this.all) if (sel.matches(item.labels)) visit(item);
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
    // A label has one value, and presence terms of different keys may overlap, so
    // only a multi-term alternative can report an item twice.
    const seen = best.length > 1 ? new Set<T>() : undefined;
    for (const t of best) {
      this.visitTerm(t, (item) => {
        if (seen !== undefined) {
          if (seen.has(item)) return;
          seen.add(item);
        }
        if (sel.matches(item.labels)) visit(item);
      });
    }
  }
}
