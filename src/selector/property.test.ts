// Properties over generated ASTs and label sets: printing is a fixed point of
// parsing, and the compiled form agrees with the interpreted oracle.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { compileMatcher } from './compile.js';
import {
  evaluateInterpreted,
  fromAst,
  parseSelector,
  printSelector,
  type SelectorNode,
} from './index.js';
import { COMPILE_AFTER } from './selector.js';

const KEYS = ['a', 'b', 'app', 'x.y/z-1_2', 'contains', 'in', 'constructor', '__proto__'];
const VALUES = ['', 'a', 'b', 'ab', 'ba', '"', "'", 'x"y', "it's", 'é', '😀', ' ', 'A'];

const key = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...KEYS) },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-zA-Z0-9_./-]{1,20}$/) },
);
const value = fc
  .oneof(
    { weight: 4, arbitrary: fc.constantFrom(...VALUES) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
  )
  .filter((v) => !(v.includes('"') && v.includes("'")));

const leaf: fc.Arbitrary<SelectorNode> = fc.oneof(
  fc.constant<SelectorNode>({ kind: 'all' }),
  fc.constant<SelectorNode>({ kind: 'global' }),
  key.map((k): SelectorNode => ({ kind: 'has', key: k })),
  fc
    .tuple(fc.constantFrom('eq', 'neq', 'contains', 'startsWith', 'endsWith'), key, value)
    .map(([kind, k, v]) => ({ kind, key: k, value: v }) as SelectorNode),
  fc
    .tuple(fc.constantFrom('in', 'notIn'), key, fc.array(value, { maxLength: 9 }))
    .map(([kind, k, vs]) => ({ kind, key: k, values: vs }) as SelectorNode),
);

const tree = fc.letrec<{ node: SelectorNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    tie('node').map((operand): SelectorNode => ({ kind: 'not', operand })),
    fc
      .tuple(fc.constantFrom('and', 'or'), fc.array(tie('node'), { minLength: 1, maxLength: 4 }))
      .map(([kind, operands]) => ({ kind, operands }) as SelectorNode),
  ),
})).node;

const labels = fc.dictionary(key, value, { maxKeys: 6 });

const RUNS = 3000;

describe('selector properties', () => {
  test('parse(print(ast)) gives the same AST and canonical text', () => {
    fc.assert(
      fc.property(tree, (raw) => {
        const sel = fromAst(raw);
        const text = printSelector(sel.ast);
        assert.equal(text, sel.canonical);
        const again = parseSelector(text);
        assert.deepEqual(again.ast, sel.ast);
        assert.equal(again.canonical, sel.canonical);
        assert.equal(again.id, sel.id);
      }),
      { numRuns: RUNS },
    );
  });

  test('normalising an AST never changes its verdicts', () => {
    fc.assert(
      fc.property(tree, fc.array(labels, { maxLength: 8 }), (raw, sets) => {
        const sel = fromAst(raw);
        for (const l of sets) assert.equal(sel.matches(l), evaluateInterpreted(raw, l));
      }),
      { numRuns: RUNS },
    );
  });

  test('compiled and interpreted evaluation agree', () => {
    fc.assert(
      fc.property(tree, fc.array(labels, { maxLength: 8 }), (raw, sets) => {
        const sel = fromAst(raw);
        const reparsed = parseSelector(sel.canonical);
        const compiled = compileMatcher(sel.ast);
        for (const l of sets) {
          const expected = evaluateInterpreted(sel.ast, l);
          assert.equal(compiled(l), expected);
          assert.equal(sel.matches(l), expected);
          assert.equal(reparsed.matches(l), expected);
        }
      }),
      { numRuns: RUNS },
    );
  });

  test('a selector keeps its verdicts when it switches to the compiled form', () => {
    fc.assert(
      fc.property(tree, fc.array(labels, { minLength: 1, maxLength: 8 }), (raw, sets) => {
        const sel = fromAst(raw);
        for (let i = 0; i < COMPILE_AFTER + sets.length; i++) {
          const l = sets[i % sets.length]!;
          assert.equal(sel.matches(l), evaluateInterpreted(sel.ast, l));
        }
      }),
      { numRuns: 200 },
    );
  });

  test('canonical text is a fixed point for arbitrary parsable text', () => {
    fc.assert(
      fc.property(tree, fc.constantFrom(' ', '  ', '\t'), (raw, ws) => {
        // Re-space the canonical text and wrap it in redundant parentheses.
        const canonical = fromAst(raw).canonical;
        const spaced = `${ws}(${ws}(${canonical.replaceAll(' && ', `${ws}&&${ws}`)})${ws})${ws}`;
        let parsed: string;
        try {
          parsed = parseSelector(spaced).canonical;
        } catch {
          return; // the replacement may have landed inside a quoted value
        }
        assert.equal(parseSelector(parsed).canonical, parsed);
      }),
      { numRuns: 1000 },
    );
  });
});
