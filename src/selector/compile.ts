// The fast form: each selector becomes one JavaScript function generated from its
// AST, so V8 sees straight-line property loads and string compares instead of a
// tree walk. Only label keys and values from the AST reach the generated source,
// always through JSON.stringify, so no input can inject code.
import type { SelectorNode } from './ast.js';

export type LabelMatcher = (labels: Readonly<Record<string, string>>) => boolean;

/** Sets larger than this become a Set lookup instead of a chain of compares. */
const INLINE_SET_LIMIT = 6;

interface Ctx {
  consts: ReadonlySet<string>[];
}

function presentEq(k: string, test: string): string {
  // The cheap test runs first; the own-property check only runs when the label
  // would match, so inherited properties (prototype pollution) never count.
  return `(${test} && hasOwn(l, ${k}))`;
}

function inTest(node: { key: string; values: readonly string[] }, ctx: Ctx): string {
  const k = JSON.stringify(node.key);
  if (node.values.length === 0) return 'false';
  if (node.values.length <= INLINE_SET_LIMIT) {
    const parts = node.values.map(
      (v, i) => (i === 0 ? `(t = l[${k}]) === ` : 't === ') + JSON.stringify(v),
    );
    return presentEq(k, `(${parts.join(' || ')})`);
  }
  const idx = ctx.consts.length;
  ctx.consts.push(new Set(node.values));
  return presentEq(k, `c${idx}.has(l[${k}])`);
}

function gen(node: SelectorNode, ctx: Ctx): string {
  switch (node.kind) {
    case 'all':
    case 'global':
      return 'true';
    case 'has': {
      const k = JSON.stringify(node.key);
      return presentEq(k, `typeof l[${k}] === "string"`);
    }
    case 'eq': {
      const k = JSON.stringify(node.key);
      return presentEq(k, `l[${k}] === ${JSON.stringify(node.value)}`);
    }
    case 'neq': {
      const k = JSON.stringify(node.key);
      return `(l[${k}] !== ${JSON.stringify(node.value)} || !hasOwn(l, ${k}))`;
    }
    case 'contains':
    case 'startsWith':
    case 'endsWith': {
      const k = JSON.stringify(node.key);
      const method =
        node.kind === 'contains'
          ? 'includes'
          : node.kind === 'startsWith'
            ? 'startsWith'
            : 'endsWith';
      return presentEq(
        k,
        `typeof (t = l[${k}]) === "string" && t.${method}(${JSON.stringify(node.value)})`,
      );
    }
    case 'in':
      return inTest(node, ctx);
    case 'notIn':
      return `!${inTest(node, ctx)}`;
    case 'not':
      return `!${gen(node.operand, ctx)}`;
    case 'and':
    case 'or': {
      const op = node.kind === 'and' ? ' && ' : ' || ';
      return `(${node.operands.map((o) => gen(o, ctx)).join(op)})`;
    }
  }
}

/** Compiles an AST into a matcher with exactly evaluateInterpreted's semantics. */
export function compileMatcher(node: SelectorNode): LabelMatcher {
  const ctx: Ctx = { consts: [] };
  const expr = gen(node, ctx);
  const decls = ctx.consts.map((_, i) => `const c${i} = consts[${i}];`).join('\n');
  const source = `"use strict";
const hasOwn = Object.hasOwn;
${decls}
return function matches(l) {
  let t;
  return ${expr};
};`;
  const factory = new Function('consts', source) as (consts: unknown[]) => LabelMatcher;
  return factory(ctx.consts);
}
