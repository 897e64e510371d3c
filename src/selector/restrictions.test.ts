import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { fromAst, type LabelRestriction, labelRestrictions, parseSelector } from './index.js';

const of = (text: string): Record<string, LabelRestriction> =>
  Object.fromEntries(labelRestrictions(parseSelector(text).ast));

const P = { mustBePresent: true, mustBeAbsent: false };
const A = { mustBePresent: false, mustBeAbsent: true };

describe('labelRestrictions', () => {
  const CASES: ReadonlyArray<readonly [string, Record<string, LabelRestriction>]> = [
    ['all()', {}],
    ['a == "x"', { a: { ...P, mustHaveOneOf: ['x'] } }],
    ['a in {"y", "x"}', { a: { ...P, mustHaveOneOf: ['x', 'y'] } }],
    ['a in {}', { a: { ...P, mustHaveOneOf: [] } }],
    ['has(a)', { a: P }],
    ['a contains "x"', { a: P }],
    ['a != "x"', {}],
    ['a not in {"x"}', {}],
    ['!has(a)', { a: A }],
    ['!a == "x"', {}],
    ['!a != "x"', { a: { ...P, mustHaveOneOf: ['x'] } }],
    ['!a not in {"x"}', { a: { ...P, mustHaveOneOf: ['x'] } }],
    ['a == "x" && has(b)', { a: { ...P, mustHaveOneOf: ['x'] }, b: P }],
    ['a in {"x", "y"} && a in {"y", "z"}', { a: { ...P, mustHaveOneOf: ['y'] } }],
    ['a == "x" && a == "y"', { a: { ...P, mustHaveOneOf: [] } }],
    ['has(a) && !has(a)', { a: { mustBePresent: true, mustBeAbsent: true } }],
    ['a == "x" || a == "y"', { a: { ...P, mustHaveOneOf: ['x', 'y'] } }],
    ['a == "x" || has(a)', { a: P }],
    ['a == "x" || b == "y"', {}],
    ['!has(a) || !has(a) && has(b)', { a: A }],
    ['(a == "x" && has(b)) || (a == "z" && has(c))', { a: { ...P, mustHaveOneOf: ['x', 'z'] } }],
  ];
  for (const [text, expected] of CASES) {
    test(text, () => assert.deepEqual(of(text), expected));
  }

  test('restrictions are sound: a matching label set meets every one', () => {
    const key = fc.constantFrom('a', 'b', 'c');
    const value = fc.constantFrom('', 'x', 'y', 'z');
    const leaf = fc.oneof(
      key.map((k) => `has(${k})`),
      fc
        .tuple(key, fc.constantFrom('==', '!=', 'contains', 'starts with', 'ends with'), value)
        .map(([k, op, v]) => `${k} ${op} "${v}"`),
      fc
        .tuple(key, fc.constantFrom('in', 'not in'), fc.array(value, { maxLength: 3 }))
        .map(([k, op, vs]) => `${k} ${op} {${vs.map((v) => `"${v}"`).join(', ')}}`),
      fc.constant('all()'),
    );
    const expr = fc.letrec<{ e: string }>((tie) => ({
      e: fc.oneof(
        { depthSize: 'small' },
        leaf,
        tie('e').map((e) => `!(${e})`),
        fc
          .tuple(
            fc.constantFrom(' && ', ' || '),
            fc.array(tie('e'), { minLength: 2, maxLength: 3 }),
          )
          .map(([op, es]) => `(${es.join(op)})`),
      ),
    })).e;
    const labels = fc.dictionary(key, value, { maxKeys: 3 });
    fc.assert(
      fc.property(expr, fc.array(labels, { maxLength: 10 }), (text, sets) => {
        const sel = fromAst(parseSelector(text).ast);
        const restrictions = labelRestrictions(sel.ast);
        for (const l of sets) {
          if (!sel.matches(l)) continue;
          for (const [k, r] of restrictions) {
            const present = Object.hasOwn(l, k);
            if (r.mustBePresent)
              assert.ok(present, `${text}: ${k} must be present in ${JSON.stringify(l)}`);
            if (r.mustBeAbsent) assert.ok(!present, `${text}: ${k} must be absent`);
            if (r.mustHaveOneOf !== undefined)
              assert.ok(r.mustHaveOneOf.includes(l[k]!), `${text}: ${k} value`);
          }
        }
      }),
      { numRuns: 3000 },
    );
  });
});
