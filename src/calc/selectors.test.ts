import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { effectiveLabels } from '../policy/index.js';
import { parseSelector } from '../selector/index.js';
import { mergeLabels } from './endpoints.js';
import {
  type Indexed,
  LabelIndex,
  type Labels,
  SelectorIndex,
  termAlternatives,
} from './selectors.js';

const SELECTORS = [
  'all()',
  "a == 'x'",
  "a == 'y'",
  "a in {'x', 'z'}",
  'has(b)',
  "b != 'x'",
  '!has(a)',
  "a == 'x' && b == 'y'",
  "a == 'x' || b == 'x'",
  "a == 'x' || !has(b)",
  'a in {}',
  "b starts with 'x'",
  "b contains 'y' && c == 'x'",
  "!(a == 'x')",
  "c not in {'x'}",
];

const labelSet = fc.record(
  {
    a: fc.constantFrom('x', 'y', 'z'),
    b: fc.constantFrom('x', 'y', 'xy'),
    c: fc.constantFrom('x', 'y'),
  },
  { requiredKeys: [] },
);

test('term alternatives: indexable conjuncts, unindexable negations', () => {
  const alts = (s: string) => termAlternatives(parseSelector(s).ast);
  assert.deepEqual(alts("a == 'x'"), [['a\0x']]);
  assert.deepEqual(alts("a == 'x' && has(b)"), [['a\0x'], ['b\x01']]);
  assert.deepEqual(alts("a in {'x', 'z'}"), [['a\0x', 'a\0z']]);
  assert.deepEqual(alts("a == 'x' || b == 'y'"), [['a\0x', 'b\0y']]);
  for (const s of ['all()', '!has(a)', "a != 'x'", "a not in {'x'}", "a == 'x' || !has(b)"]) {
    assert.deepEqual(alts(s), [], s);
  }
  assert.deepEqual(alts('a in {}'), [[]], 'an empty set can never match');
});

test('SelectorIndex candidates are a superset of the matching selectors', () => {
  fc.assert(
    fc.property(fc.subarray(SELECTORS), fc.array(labelSet, { maxLength: 10 }), (texts, sets) => {
      const idx = new SelectorIndex<string>();
      for (const t of texts) idx.add(t, parseSelector(t));
      for (const labels of sets) {
        const out = new Set<string>();
        idx.candidates(labels, out);
        for (const t of texts)
          if (parseSelector(t).matches(labels)) assert.ok(out.has(t), `${t} missed`);
      }
      for (const t of texts) idx.remove(t);
      assert.equal(idx.size, 0);
    }),
  );
});

test('LabelIndex finds exactly the matching live items through adds, relabels and removes', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ id: fc.nat(6), labels: fc.option(labelSet, { nil: undefined }) }), {
        maxLength: 40,
      }),
      (ops) => {
        interface Item extends Indexed {
          id: number;
          labels: Labels;
        }
        const live = new Map<number, Item>();
        const idx = new LabelIndex<Item>(
          (i) => live.get(i.id) === i,
          () => live.values(),
        );
        for (const op of ops) {
          const old = live.get(op.id);
          if (old !== undefined && op.labels !== undefined && op.id % 2 === 0) {
            // relabel in place, as profile inheritance does
            idx.remove(old.labels);
            old.labels = op.labels;
            idx.add(old);
            continue;
          }
          if (old !== undefined) {
            live.delete(op.id);
            idx.remove(old.labels);
          }
          if (op.labels !== undefined) {
            const item: Item = { id: op.id, labels: op.labels, stamp: 0 };
            live.set(op.id, item);
            idx.add(item);
          }
        }
        for (const t of SELECTORS) {
          const sel = parseSelector(t);
          const found: number[] = [];
          idx.matching(sel, (i) => found.push(i.id));
          const want = [...live.values()].filter((i) => sel.matches(i.labels)).map((i) => i.id);
          assert.deepEqual(found.sort(), want.sort(), t);
        }
      },
    ),
  );
});

test('mergeLabels agrees with policy.effectiveLabels and shares unchanged label sets', () => {
  const prof = (labelsToApply: Record<string, string>) => ({
    name: 'p',
    labelsToApply,
    inbound: [],
    outbound: [],
  });
  fc.assert(
    fc.property(
      labelSet,
      fc.array(fc.option(labelSet.map(prof), { nil: undefined }), { maxLength: 3 }),
      (own, profiles) => {
        assert.deepEqual({ ...mergeLabels(own, profiles) }, effectiveLabels(own, profiles));
      },
    ),
  );
  const own = { a: 'x' };
  assert.equal(mergeLabels(own, [prof({ a: 'y' })]), own);
});
