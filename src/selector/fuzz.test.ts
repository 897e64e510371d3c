// Hostile input: whatever text arrives, parseSelector returns a Selector or throws
// SelectorParseError, and whatever it accepts round-trips through its canonical form.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { evaluateInterpreted, parseSelector, type Selector, SelectorParseError } from './index.js';

function attempt(text: string): Selector | undefined {
  try {
    const sel = parseSelector(text);
    const again = parseSelector(sel.canonical);
    assert.equal(again.canonical, sel.canonical, `canonical of ${JSON.stringify(text)}`);
    assert.equal(typeof sel.matches({ a: 'b' }), 'boolean');
    return sel;
  } catch (e) {
    if (e instanceof SelectorParseError) {
      assert.equal(e.input, text);
      assert.ok(e.column >= 1 && e.column <= text.length + 1, `column ${e.column} in range`);
      assert.ok(e.expected.length > 0);
      return undefined;
    }
    throw new Error(`${JSON.stringify(text)} threw ${String(e)}`);
  }
}

// Any UTF-16 text, lone surrogates included, weighted towards ASCII. Built from code
// points because fast-check's 'binary' string unit is slow to shrink-map.
const anyText = (maxLength: number) =>
  fc
    .array(
      fc.oneof(
        { weight: 6, arbitrary: fc.integer({ min: 0, max: 0x7f }) },
        { weight: 2, arbitrary: fc.integer({ min: 0x80, max: 0xffff }) },
        { weight: 1, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }) },
      ),
      { maxLength },
    )
    .map((cps) => String.fromCodePoint(...cps));

// Fragments that make random text land near the grammar more often than chance.
const FRAGMENTS = [
  'a',
  'b',
  'k8s-app',
  'has(',
  'all(',
  'global(',
  ')',
  '(',
  '!',
  '!=',
  '==',
  '=',
  '&&',
  '&',
  '||',
  '|',
  'in',
  'not',
  'notin',
  'not in',
  'contains',
  'starts',
  'with',
  'ends',
  'startswith',
  '{',
  '}',
  ',',
  '"',
  "'",
  '"x"',
  "'y'",
  ' ',
  '\t',
  '\n',
  'é',
  '\u0000',
  '%',
];

const SEEDS = [
  'a == "b" && c != "d"',
  `a in {"'", '"', "c"}`,
  '!(!has(a) || has(b))',
  'contains contains "contains"',
  'a starts with "x" || b ends  with "y" && c notin {}',
  ' (all() ) ',
  'global()',
  "x not in {'1','2'} && !!has(y)",
];

describe('selector fuzz', () => {
  test('random text', () => {
    fc.assert(
      fc.property(anyText(60), (s) => {
        attempt(s);
      }),
      { numRuns: 5000 },
    );
  });

  test('random sequences of grammar fragments', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 14 }), (parts) => {
        if (attempt(parts.join('')) !== undefined) accepted++;
      }),
      { numRuns: 10000 },
    );
    assert.ok(accepted > 0, 'fragments should sometimes form valid selectors');
  });

  test('mutations of valid selectors', () => {
    const mutation = fc.tuple(
      fc.constantFrom(...SEEDS),
      fc.array(
        fc.tuple(
          fc.constantFrom('insert', 'delete', 'replace'),
          fc.nat(),
          fc.oneof(fc.constantFrom(...FRAGMENTS), anyText(2)),
        ),
        { minLength: 1, maxLength: 4 },
      ),
    );
    fc.assert(
      fc.property(mutation, ([seed, edits]) => {
        let s = seed;
        for (const [op, at, text] of edits) {
          const i = s.length === 0 ? 0 : at % (s.length + 1);
          if (op === 'insert') s = s.slice(0, i) + text + s.slice(i);
          else if (op === 'delete') s = s.slice(0, i) + s.slice(i + 1);
          else s = s.slice(0, i) + text + s.slice(i + 1);
        }
        attempt(s);
      }),
      { numRuns: 10000 },
    );
  });

  test('pathological sizes', () => {
    assert.ok(attempt('!'.repeat(100_000) + 'has(a)'));
    assert.equal(attempt('('.repeat(100_000)), undefined);
    assert.equal(attempt('a'.repeat(100_000)), undefined);
    assert.equal(attempt('"'.repeat(100_001)), undefined);
    const wide = Array.from({ length: 5000 }, (_, i) => `k${i} == "v"`).join(' || ');
    assert.equal(attempt(wide)?.matches({ k4999: 'v' }), true);
    let deep = 'has(z)';
    for (let i = 0; i < 999; i++) deep = `(has(k${i}) ${i % 2 ? '&&' : '||'} !${deep})`;
    const deepSel = attempt(deep);
    assert.equal(deepSel?.matches({ z: '' }), evaluateInterpreted(deepSel!.ast, { z: '' }));
    const bigSet = `a in {${Array.from({ length: 5000 }, (_, i) => `"${i}"`).join(',')}}`;
    assert.equal(attempt(bigSet)?.matches({ a: '4321' }), true);
  });
});
