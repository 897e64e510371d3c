// The selector AST. Nodes are plain frozen objects so that other components (the
// calculation graph's inverted index, the policy engine's rule expansion) can walk
// them with an exhaustive `switch (node.kind)`.

/** Longest label key a selector may name (Calico's tokenizer limit). */
export const MAX_LABEL_KEY_LENGTH = 512;

/**
 * Longest selector text an API field may hold. Enforcing it is the API's job: the
 * parser itself accepts longer text because generated selectors (rule expansion)
 * legitimately exceed it.
 */
export const MAX_SELECTOR_LENGTH = 1024;

export interface AllNode {
  readonly kind: 'all';
}
export interface GlobalNode {
  readonly kind: 'global';
}
export interface HasNode {
  readonly kind: 'has';
  readonly key: string;
}
export interface EqNode {
  readonly kind: 'eq';
  readonly key: string;
  readonly value: string;
}
export interface NeqNode {
  readonly kind: 'neq';
  readonly key: string;
  readonly value: string;
}
export interface ContainsNode {
  readonly kind: 'contains';
  readonly key: string;
  readonly value: string;
}
export interface StartsWithNode {
  readonly kind: 'startsWith';
  readonly key: string;
  readonly value: string;
}
export interface EndsWithNode {
  readonly kind: 'endsWith';
  readonly key: string;
  readonly value: string;
}
/** `values` is sorted (by code point) and free of duplicates; it may be empty. */
export interface InNode {
  readonly kind: 'in';
  readonly key: string;
  readonly values: readonly string[];
}
export interface NotInNode {
  readonly kind: 'notIn';
  readonly key: string;
  readonly values: readonly string[];
}
export interface NotNode {
  readonly kind: 'not';
  readonly operand: SelectorNode;
}
/** At least two operands. */
export interface AndNode {
  readonly kind: 'and';
  readonly operands: readonly SelectorNode[];
}
/** At least two operands. */
export interface OrNode {
  readonly kind: 'or';
  readonly operands: readonly SelectorNode[];
}

export type SelectorNode =
  | AllNode
  | GlobalNode
  | HasNode
  | EqNode
  | NeqNode
  | ContainsNode
  | StartsWithNode
  | EndsWithNode
  | InNode
  | NotInNode
  | NotNode
  | AndNode
  | OrNode;

/** Node kinds that compare one label with one literal value. */
export type ValueNode = EqNode | NeqNode | ContainsNode | StartsWithNode | EndsWithNode;
export type SetNode = InNode | NotInNode;
export type LabelNode = HasNode | ValueNode | SetNode;

export const ALL_SELECTOR: AllNode = Object.freeze({ kind: 'all' });
export const GLOBAL_SELECTOR: GlobalNode = Object.freeze({ kind: 'global' });

export function isIdentifierChar(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x30 && code <= 0x39) || // 0-9
    code === 0x5f || // _
    code === 0x2e || // .
    code === 0x2f || // /
    code === 0x2d // -
  );
}

/** Whether `key` can be written as a label key inside a selector. */
export function isSelectorLabelKey(key: string): boolean {
  if (key.length === 0 || key.length > MAX_LABEL_KEY_LENGTH) return false;
  for (let i = 0; i < key.length; i++) {
    if (!isIdentifierChar(key.charCodeAt(i))) return false;
  }
  return true;
}

/**
 * Go compares strings byte-wise in UTF-8, which is code-point order; JavaScript's
 * `<` compares UTF-16 code units, which disagrees for astral characters versus
 * U+E000..U+FFFF. Set order is part of the canonical form, so we follow Go.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    if (ca >= 0xd800 && cb >= 0xd800) {
      const pa = a.codePointAt(i)!;
      const pb = b.codePointAt(i)!;
      if (pa !== pb) return pa < pb ? -1 : 1;
      continue;
    }
    return ca < cb ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

export function sortedUniqueValues(values: readonly string[]): string[] {
  const sorted = [...values].sort(compareCodePoints);
  const out: string[] = [];
  for (const v of sorted) {
    if (out.length === 0 || out[out.length - 1] !== v) out.push(v);
  }
  return out;
}

/**
 * The negation of `node`. Two negations cancel, exactly as a run of `!` does in the
 * text: this keeps parse(print(ast)) equal to ast.
 */
export function notNode(node: SelectorNode): SelectorNode {
  if (node.kind === 'not') return node.operand;
  return Object.freeze({ kind: 'not', operand: node });
}

/**
 * Conjunction of `nodes`, leaving out `all()` operands (they cannot change the
 * verdict). Zero remaining operands give `all()`, one gives that operand. Nested
 * conjunctions are kept as they are, not flattened: `andNodes(a, andNodes(b, c))`
 * prints `(a && (b && c))`, which is what Calico gets when it joins parenthesised
 * selector strings and re-parses them.
 */
export function andNodes(...nodes: SelectorNode[]): SelectorNode {
  const kept = nodes.filter((n) => n.kind !== 'all');
  if (kept.length === 0) return ALL_SELECTOR;
  if (kept.length === 1) return kept[0]!;
  return Object.freeze({ kind: 'and', operands: Object.freeze(kept) });
}

/**
 * Disjunction of `nodes`. An `all()` operand makes the whole disjunction `all()`.
 * Zero operands are refused because the language has no way to write "nothing".
 */
export function orNodes(...nodes: SelectorNode[]): SelectorNode {
  if (nodes.length === 0) throw new RangeError('orNodes needs at least one operand');
  if (nodes.length === 1) return nodes[0]!;
  return Object.freeze({ kind: 'or', operands: Object.freeze([...nodes]) });
}

/**
 * Rewrites every label key in the tree to `prefix + key`, as Calico's rule
 * expansion does with `pcns.` (namespace labels) and `pcsa.` (service-account
 * labels). `all()`, `global()` and the tree's shape are unchanged.
 */
export function prefixLabelKeys(node: SelectorNode, prefix: string): SelectorNode {
  for (let i = 0; i < prefix.length; i++) {
    if (!isIdentifierChar(prefix.charCodeAt(i))) {
      throw new RangeError(
        `Cannot prefix selector label keys with ${JSON.stringify(prefix)}: character ${i + 1} is not one of [a-zA-Z0-9_./-]`,
      );
    }
  }
  if (prefix === '') return node;
  const walk = (n: SelectorNode): SelectorNode => {
    switch (n.kind) {
      case 'all':
      case 'global':
        return n;
      case 'has':
        return Object.freeze({ kind: 'has', key: prefix + n.key });
      case 'eq':
      case 'neq':
      case 'contains':
      case 'startsWith':
      case 'endsWith':
        return Object.freeze({ kind: n.kind, key: prefix + n.key, value: n.value });
      case 'in':
      case 'notIn':
        return Object.freeze({ kind: n.kind, key: prefix + n.key, values: n.values });
      case 'not':
        return Object.freeze({ kind: 'not', operand: walk(n.operand) });
      case 'and':
      case 'or':
        return Object.freeze({ kind: n.kind, operands: Object.freeze(n.operands.map(walk)) });
    }
  };
  return walk(node);
}

/** Whether `global()` occurs anywhere in the tree. */
export function containsGlobal(node: SelectorNode): boolean {
  switch (node.kind) {
    case 'global':
      return true;
    case 'not':
      return containsGlobal(node.operand);
    case 'and':
    case 'or':
      return node.operands.some(containsGlobal);
    default:
      return false;
  }
}
