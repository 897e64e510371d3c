// Calico's selector language: parse, print canonically, identify and match.
export type {
  AllNode,
  AndNode,
  ContainsNode,
  EndsWithNode,
  EqNode,
  GlobalNode,
  HasNode,
  InNode,
  LabelNode,
  NeqNode,
  NotInNode,
  NotNode,
  OrNode,
  SelectorNode,
  SetNode,
  StartsWithNode,
  ValueNode,
} from './ast.js';
export {
  ALL_SELECTOR,
  andNodes,
  containsGlobal,
  GLOBAL_SELECTOR,
  isSelectorLabelKey,
  MAX_LABEL_KEY_LENGTH,
  MAX_SELECTOR_LENGTH,
  notNode,
  orNodes,
  prefixLabelKeys,
} from './ast.js';
export { SelectorParseError } from './errors.js';
export { selectorId } from './id.js';
export { evaluateInterpreted } from './interpret.js';
export { MAX_NESTING_DEPTH } from './parser.js';
export { printSelector } from './printer.js';
export { type LabelRestriction, labelRestrictions } from './restrictions.js';
export {
  clearSelectorCache,
  fromAst,
  parseSelector,
  SELECTOR_CACHE_SIZE,
  type Selector,
  selectorCacheSize,
} from './selector.js';
