import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  clearSelectorCache,
  fromAst,
  parseSelector,
  printSelector,
  SELECTOR_CACHE_SIZE,
  selectorCacheSize,
  selectorId,
} from './index.js';

// Inputs, canonical text and (where Calico's tests pin them) Calico's own ids.
const CANONICAL: ReadonlyArray<readonly [string, string, string?]> = [
  ['', 'all()', 's:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug'],
  ['   ', 'all()', 's:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug'],
  [' all() ', 'all()', 's:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug'],
  [' (all() )', 'all()', 's:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug'],
  ['! (has( b)||! has(a ))', '!(has(b) || !has(a))', 's:Iss0uCleLYv1GSv_pNm7hAO58kE9jAx1NKyG3Q'],
  [
    '! (a == "b"&&! c != "d")',
    '!(a == "b" && !c != "d")',
    's:lh3haoY1ikTRkd4UZu0nWSaIBknYLPJLX16d-w',
  ],
  [`a == "'"`, `a == "'"`],
  [`a == '"'`, `a == '"'`],
  [`a == 'b'`, `a == "b"`],
  [`a contains '"'`, `a contains '"'`],
  [`a contains "'"`, `a contains "'"`],
  [`a startswith '"'`, `a starts with '"'`],
  [`a starts   with 'x'`, `a starts with "x"`],
  [`a endswith "'"`, `a ends with "'"`],
  [`a!='"'`, `a != '"'`],
  [`a in {"d"}`, `a in {"d"}`],
  [`a in {"a", "b"}`, `a in {"a", "b"}`],
  [`a in {"d", "a", "b"}`, `a in {"a", "b", "d"}`],
  [`a in {"z", "x", "y", "a"}`, `a in {"a", "x", "y", "z"}`],
  [`a in {"z","z","x","y","x","a"}`, `a in {"a", "x", "y", "z"}`],
  [`a in {'"', "'", "a"}`, `a in {'"', "'", "a"}`],
  [`a in {"a",}`, `a in {"a"}`],
  [`a in {}`, `a in {}`],
  [`a notin {"b","a"}`, `a not in {"a", "b"}`],
  [`a not  in {}`, `a not in {}`],
  ['has(a) && has(b) && has(c)', '(has(a) && has(b) && has(c))'],
  ['has(a) || has(b) && has(c)', '(has(a) || (has(b) && has(c)))'],
  ['(has(a) || has(b)) && has(c)', '((has(a) || has(b)) && has(c))'],
  ['has(a) && (has(b) && has(c))', '(has(a) && (has(b) && has(c)))'],
  ['((has(a)))', 'has(a)'],
  ['!!has(a)', 'has(a)'],
  ['!!!has(a)', '!has(a)'],
  ['!(!has(a))', 'has(a)'], // Calico prints !!has(a) here, which is not a fixed point
  ['!(k == "v")', '!k == "v"'],
  [
    "!(!(k == 'v' && has(t) || all()) && (a in {'b', 'c'}))",
    '!(!((k == "v" && has(t)) || all()) && a in {"b", "c"})',
  ],
  ['global()', 'global()'],
  [' global( ) ', 'global()'],
  ['a in {"é", "z", "😀", "\uffff"}', 'a in {"z", "é", "\uffff", "😀"}'], // code-point order, as Go sorts bytes
];

describe('canonical form and ids', () => {
  for (const [input, canonical, id] of CANONICAL) {
    test(`${JSON.stringify(input)} prints ${canonical}`, () => {
      const sel = parseSelector(input);
      assert.equal(sel.canonical, canonical);
      assert.equal(printSelector(sel.ast), canonical);
      assert.equal(sel.id, selectorId(canonical));
      if (id !== undefined) assert.equal(sel.id, id);
      const again = parseSelector(canonical);
      assert.equal(again.canonical, canonical);
      assert.deepEqual(again.ast, sel.ast);
    });
  }

  test('ids have Calico shape and differ between selectors', () => {
    const a = parseSelector('a == "b"').id;
    const b = parseSelector('a == "c"').id;
    assert.match(a, /^s:[A-Za-z0-9_-]{38}$/);
    assert.notEqual(a, b);
    assert.equal(parseSelector("a=='b'").id, a);
  });

  test('usesGlobal marks global() anywhere', () => {
    assert.equal(parseSelector('global()').usesGlobal, true);
    assert.equal(parseSelector('has(a) && !global()').usesGlobal, true);
    assert.equal(parseSelector('has(a) || all()').usesGlobal, false);
    assert.equal(parseSelector('global == "x"').usesGlobal, false);
  });

  test('parsed selectors are cached by text and by canonical form', () => {
    clearSelectorCache();
    const a = parseSelector("a=='b'");
    assert.equal(parseSelector("a=='b'"), a);
    assert.equal(parseSelector('a == "b"'), a);
    assert.equal(fromAst({ kind: 'eq', key: 'a', value: 'b' }), a);
    clearSelectorCache();
    const b = parseSelector("a=='b'");
    assert.notEqual(b, a);
    assert.equal(b.canonical, a.canonical);
  });

  test('the cache is bounded and evicts the least recently used entry', () => {
    clearSelectorCache();
    const first = parseSelector('k == "first"');
    const keep = parseSelector('k == "keep"');
    for (let i = 0; i < SELECTOR_CACHE_SIZE; i++) {
      parseSelector(`k == "${i}"`);
      if (i % 1000 === 0) assert.equal(parseSelector('k == "keep"'), keep); // refresh
      assert.ok(selectorCacheSize() <= SELECTOR_CACHE_SIZE);
    }
    assert.equal(parseSelector('k == "keep"'), keep);
    const again = parseSelector('k == "first"');
    assert.notEqual(again, first);
    assert.equal(again.canonical, first.canonical);
    const huge = `k in {${Array.from({ length: 2000 }, (_, i) => `"${i}"`).join(', ')}}`;
    assert.notEqual(parseSelector(huge), parseSelector(huge));
  });

  test('selectors and their ASTs are immutable', () => {
    const sel = parseSelector('a in {"x"} && !has(b)');
    assert.ok(Object.isFrozen(sel));
    assert.ok(Object.isFrozen(sel.ast));
    assert.throws(() => {
      (sel.ast as { kind: string }).kind = 'all';
    }, TypeError);
    assert.equal(String(sel), sel.canonical);
  });
});
