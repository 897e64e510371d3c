import {
  ALL_SELECTOR,
  containsGlobal,
  isSelectorLabelKey,
  MAX_LABEL_KEY_LENGTH,
  notNode,
  type SelectorNode,
  sortedUniqueValues,
} from './ast.js';
import { compileMatcher, type LabelMatcher } from './compile.js';
import { selectorId } from './id.js';
import { evaluateInterpreted } from './interpret.js';
import { parseAst } from './parser.js';
import { printSelector } from './printer.js';

export interface Selector {
  readonly ast: SelectorNode;
  /** Calico's canonical text (§4.5); equal canonical text means equal selector. */
  readonly canonical: string;
  /** `selectorId(canonical)`, the name of this selector's IP set. */
  readonly id: string;
  /** Whether `global()` occurs anywhere (only valid as a whole namespaceSelector). */
  readonly usesGlobal: boolean;
  /** Evaluates the compiled form. A label is present when it is an own string property. */
  matches(labels: Readonly<Record<string, string>>): boolean;
}

/**
 * Generating and compiling a matcher (`new Function`) costs as much as a few
 * thousand interpreted evaluations, and most selectors of a large cluster are
 * evaluated only a handful of times (a policy against its host's few endpoints, an
 * IP set against one posting list). So a selector is interpreted until it has been
 * evaluated this often, then compiled; both forms give the same verdicts.
 */
export const COMPILE_AFTER = 512;

/** Lazily derived parts; the selector itself stays frozen. */
interface Lazy {
  id: string | undefined;
  calls: number;
  compiled: LabelMatcher | undefined;
}

function lazyMatcher(ast: SelectorNode, lazy: Lazy): LabelMatcher {
  return (labels) => {
    const f = lazy.compiled;
    if (f !== undefined) return f(labels);
    if (++lazy.calls >= COMPILE_AFTER) lazy.compiled = compileMatcher(ast);
    return evaluateInterpreted(ast, labels);
  };
}

class CompiledSelector implements Selector {
  readonly canonical: string;
  declare readonly id: string;
  readonly usesGlobal: boolean;
  readonly matches: LabelMatcher;

  constructor(readonly ast: SelectorNode) {
    this.canonical = printSelector(ast);
    // The id is a SHA-224 of the canonical text, needed only for selectors that
    // name an IP set: computed on first use.
    const lazy: Lazy = { id: undefined, calls: 0, compiled: undefined };
    const canonical = this.canonical;
    Object.defineProperty(this, 'id', {
      enumerable: true,
      get: () => {
        lazy.id ??= selectorId(canonical);
        return lazy.id;
      },
    });
    this.usesGlobal = containsGlobal(ast);
    this.matches = lazyMatcher(ast, lazy);
    Object.freeze(this);
  }

  toString(): string {
    return this.canonical;
  }
}

/**
 * The same selector strings recur across thousands of policies and endpoints; a
 * bounded LRU keyed by text keeps parse + compile to once per distinct string.
 */
export const SELECTOR_CACHE_SIZE = 10_000;
const cache = new Map<string, Selector>();

function cacheGet(text: string): Selector | undefined {
  const hit = cache.get(text);
  if (hit !== undefined) {
    cache.delete(text);
    cache.set(text, hit);
  }
  return hit;
}

/**
 * Longer texts are parsed every time: caching them would let a few huge inputs pin
 * memory far beyond what SELECTOR_CACHE_SIZE suggests.
 */
const MAX_CACHED_TEXT_LENGTH = 8192;

function cachePut(text: string, sel: Selector): void {
  if (text.length > MAX_CACHED_TEXT_LENGTH) return;
  cache.set(text, sel);
  if (cache.size > SELECTOR_CACHE_SIZE) {
    const oldest = cache.keys().next().value as string;
    cache.delete(oldest);
  }
}

/** Entries currently cached (texts and canonical forms share entries' selectors). */
export function selectorCacheSize(): number {
  return cache.size;
}

/** Forgets every cached selector (tests use it to exercise the uncached path). */
export function clearSelectorCache(): void {
  cache.clear();
}

function build(ast: SelectorNode): Selector {
  const canonical = printSelector(ast);
  const known = cacheGet(canonical);
  if (known !== undefined) return known;
  const sel = new CompiledSelector(ast);
  cachePut(canonical, sel);
  return sel;
}

/**
 * Parses Calico selector text. Empty or blank text is `all()`.
 * Throws SelectorParseError naming the column and what was expected.
 */
export function parseSelector(text: string): Selector {
  if (typeof text !== 'string') {
    throw new TypeError(`parseSelector expects a string, got ${typeof text}`);
  }
  const hit = cacheGet(text);
  if (hit !== undefined) return hit;
  const sel = build(parseAst(text));
  cachePut(text, sel);
  return sel;
}

function invalid(path: string, rule: string): never {
  throw new RangeError(`Invalid selector AST at ${path}: ${rule}`);
}

function checkKey(key: unknown, path: string): string {
  if (typeof key !== 'string' || !isSelectorLabelKey(key)) {
    invalid(
      `${path}.key`,
      `label key ${JSON.stringify(key)} must be 1-${MAX_LABEL_KEY_LENGTH} characters of [a-zA-Z0-9_./-]`,
    );
  }
  return key;
}

function checkValue(value: unknown, path: string): string {
  if (typeof value !== 'string') invalid(path, 'value must be a string');
  if (value.includes('"') && value.includes("'")) {
    invalid(path, 'a value cannot contain both \' and " because selector strings have no escapes');
  }
  return value;
}

/** Validates a caller-built AST and brings it to the shape the parser produces. */
function normalise(node: SelectorNode, path: string): SelectorNode {
  if (node === null || typeof node !== 'object') invalid(path, 'expected a selector node object');
  switch (node.kind) {
    case 'all':
      return ALL_SELECTOR;
    case 'global':
      return Object.freeze({ kind: 'global' });
    case 'has':
      return Object.freeze({ kind: 'has', key: checkKey(node.key, path) });
    case 'eq':
    case 'neq':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      return Object.freeze({
        kind: node.kind,
        key: checkKey(node.key, path),
        value: checkValue(node.value, `${path}.value`),
      });
    case 'in':
    case 'notIn': {
      if (!Array.isArray(node.values)) invalid(`${path}.values`, 'expected an array of strings');
      const values = node.values.map((v, i) => checkValue(v, `${path}.values[${i}]`));
      return Object.freeze({
        kind: node.kind,
        key: checkKey(node.key, path),
        values: Object.freeze(sortedUniqueValues(values)),
      });
    }
    case 'not':
      return notNode(normalise(node.operand, `${path}.operand`));
    case 'and':
    case 'or': {
      if (!Array.isArray(node.operands) || node.operands.length === 0) {
        invalid(`${path}.operands`, `'${node.kind}' needs at least one operand`);
      }
      const ops = node.operands.map((o, i) => normalise(o, `${path}.operands[${i}]`));
      if (ops.length === 1) return ops[0]!;
      return Object.freeze({ kind: node.kind, operands: Object.freeze(ops) });
    }
    default:
      return invalid(
        `${path}.kind`,
        `unknown node kind ${JSON.stringify((node as { kind: unknown }).kind)}`,
      );
  }
}

/**
 * A Selector from an AST built in code (for example by rule expansion). The AST is
 * validated and normalised (sets sorted, `!!x` to `x`, one-operand groups
 * unwrapped) so that its canonical text parses back to the same tree.
 */
export function fromAst(node: SelectorNode): Selector {
  return build(normalise(node, '$'));
}
