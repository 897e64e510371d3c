// Recursive descent over Calico's grammar:
//   expr    := and ( "||" and )*
//   and     := unary ( "&&" unary )*
//   unary   := "!"* primary
//   primary := has(k) | all() | global() | "(" expr ")" | k op "v" | k [not] in { "v", ... }
import {
  ALL_SELECTOR,
  GLOBAL_SELECTOR,
  notNode,
  type SelectorNode,
  sortedUniqueValues,
} from './ast.js';
import { Lexer, OPERATOR_EXPECTATION, Tok } from './lexer.js';

/**
 * Deepest parenthesis nesting we accept. Calico has no limit, but every selector
 * that fits the API's 1024-character field nests at most ~510 deep, and the limit
 * keeps hostile input from exhausting the stack.
 */
export const MAX_NESTING_DEPTH = 1000;

const VALUE_OPS = new Map<Tok, 'eq' | 'neq' | 'contains' | 'startsWith' | 'endsWith'>([
  [Tok.Eq, 'eq'],
  [Tok.Ne, 'neq'],
  [Tok.Contains, 'contains'],
  [Tok.StartsWith, 'startsWith'],
  [Tok.EndsWith, 'endsWith'],
]);

/** Parses selector text into a frozen AST; throws SelectorParseError. */
export function parseAst(text: string): SelectorNode {
  const lx = new Lexer(text);
  if (lx.peek().kind === Tok.EOF) return ALL_SELECTOR;
  const node = parseOr(lx, 0);
  const rest = lx.peek(afterTerm(0));
  if (rest.kind !== Tok.EOF) lx.fail(rest.pos, afterTerm(0));
  return node;
}

function afterTerm(depth: number): string {
  return depth === 0 ? "'&&', '||' or end of input" : "'&&', '||' or ')'";
}

function parseOr(lx: Lexer, depth: number): SelectorNode {
  const first = parseAnd(lx, depth);
  if (lx.peek(afterTerm(depth)).kind !== Tok.Or) return first;
  const operands = [first];
  while (lx.peek(afterTerm(depth)).kind === Tok.Or) {
    lx.next();
    operands.push(parseAnd(lx, depth));
  }
  return Object.freeze({ kind: 'or', operands: Object.freeze(operands) });
}

function parseAnd(lx: Lexer, depth: number): SelectorNode {
  const first = parseUnary(lx, depth);
  if (lx.peek(afterTerm(depth)).kind !== Tok.And) return first;
  const operands = [first];
  while (lx.peek(afterTerm(depth)).kind === Tok.And) {
    lx.next();
    operands.push(parseUnary(lx, depth));
  }
  return Object.freeze({ kind: 'and', operands: Object.freeze(operands) });
}

function parseUnary(lx: Lexer, depth: number): SelectorNode {
  let negated = false;
  while (lx.peek().kind === Tok.Not) {
    lx.next();
    negated = !negated;
  }
  const primary = parsePrimary(lx, depth);
  return negated ? notNode(primary) : primary;
}

function parsePrimary(lx: Lexer, depth: number): SelectorNode {
  const tok = lx.next();
  switch (tok.kind) {
    case Tok.Has:
      return Object.freeze({ kind: 'has', key: tok.text });
    case Tok.All:
      return ALL_SELECTOR;
    case Tok.Global:
      return GLOBAL_SELECTOR;
    case Tok.LParen: {
      if (depth >= MAX_NESTING_DEPTH) {
        lx.fail(tok.pos, `at most ${MAX_NESTING_DEPTH} nested parentheses`);
      }
      const inner = parseOr(lx, depth + 1);
      const close = lx.next(afterTerm(depth + 1));
      if (close.kind !== Tok.RParen) lx.fail(close.pos, afterTerm(depth + 1));
      return inner;
    }
    case Tok.Label:
      return parseComparison(lx, tok.text);
    default:
      return lx.fail(tok.pos, 'an expression');
  }
}

function parseComparison(lx: Lexer, key: string): SelectorNode {
  const op = lx.next();
  const valueKind = VALUE_OPS.get(op.kind);
  if (valueKind !== undefined) {
    const v = lx.next('a quoted value');
    if (v.kind !== Tok.String) lx.fail(v.pos, 'a quoted value');
    return Object.freeze({ kind: valueKind, key, value: v.text });
  }
  if (op.kind === Tok.In || op.kind === Tok.NotIn) {
    const open = lx.next("a set literal '{'");
    if (open.kind !== Tok.LBrace) lx.fail(open.pos, "a set literal '{'");
    const values: string[] = [];
    // Calico accepts a trailing comma ({"a",}) but not a leading or doubled one.
    for (;;) {
      const t = lx.next("a quoted value or '}'");
      if (t.kind === Tok.RBrace) break;
      if (t.kind !== Tok.String) {
        lx.fail(t.pos, "a quoted value or '}'");
      }
      values.push(t.text);
      const sep = lx.next("',' or '}'");
      if (sep.kind === Tok.RBrace) break;
      if (sep.kind !== Tok.Comma) lx.fail(sep.pos, "',' or '}'");
    }
    return Object.freeze({
      kind: op.kind === Tok.In ? 'in' : 'notIn',
      key,
      values: Object.freeze(sortedUniqueValues(values)),
    });
  }
  return lx.fail(op.pos, OPERATOR_EXPECTATION);
}
