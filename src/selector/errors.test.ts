// Malformed selectors: each must throw SelectorParseError at the expected column
// naming what would have been accepted there.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MAX_LABEL_KEY_LENGTH,
  MAX_NESTING_DEPTH,
  parseSelector,
  SelectorParseError,
} from './index.js';

const OP = 'an operator (==, !=, in, not in, contains, starts with, ends with)';
const END = "'&&', '||' or end of input";
const CLOSE = "'&&', '||' or ')'";
const EXPR = 'an expression';
const VALUE = 'a quoted value';

type Bad = readonly [selector: string, column: number, expected: string];

const MALFORMED: Bad[] = [
  ['b == b', 6, VALUE],
  ['b contains b', 12, VALUE],
  ['b starts with b', 15, VALUE],
  ['b ends with b', 13, VALUE],
  ["'b1' == b", 1, EXPR],
  ['b', 2, OP],
  ['a b', 3, OP],
  ['!', 2, EXPR],
  ['foo == "bar" &', 14, "'&&'"],
  ['foo == "bar" |', 14, "'||'"],
  ['foo != ||', 8, VALUE],
  ['foo in {"", ||', 13, "a quoted value or '}'"],
  ['foo in ""', 8, "a set literal '{'"],
  ['"FOO', 5, 'a closing " for the string opened at column 1'],
  ['"FOO\'', 6, 'a closing " for the string opened at column 1'],
  ["'FOO", 5, "a closing ' for the string opened at column 1"],
  ['(', 2, EXPR],
  ['(a == "foo"', 12, CLOSE],
  [')', 1, EXPR],
  ['()', 2, EXPR],
  ['%', 1, EXPR],
  ['a == "b" && %', 13, EXPR],
  ['a == "b" || %', 13, EXPR],
  ['a ', 3, OP],
  ['has(foo) &&', 12, EXPR],
  ['a ==', 5, VALUE],
  ['a = "b"', 3, "'=='"],
  ['a === "b"', 5, "'=='"],
  ['has()', 5, 'a label name'],
  ['has( )', 6, 'a label name'],
  ['has(a', 6, "')'"],
  ['has(a b)', 7, "')'"],
  ['has (a)', 5, OP],
  ['all(', 5, "')'"],
  ['all(x)', 5, "')'"],
  ['global(', 8, "')'"],
  ['a == "b" c == "d"', 10, END],
  ['a == "b")', 9, END],
  ['(a == "b"))', 11, END],
  ['((a == "b")', 12, CLOSE],
  ['a in {"a" "b"}', 11, "',' or '}'"],
  ['a in {,"a"}', 7, "a quoted value or '}'"],
  ['a in {"a",,}', 11, "a quoted value or '}'"],
  ['a in {"a"', 10, "',' or '}'"],
  ['a in', 5, "a set literal '{'"],
  ['a not "b"', 3, OP],
  ['a startswith', 13, VALUE],
  ['a starts foo "x"', 3, OP],
  ['a ends foo "x"', 3, OP],
  ['a squiggles "x"', 3, OP],
  ['a containsx "y"', 3, OP],
  ['a inx {}', 3, OP],
  ['a notinx {}', 3, OP],
  ['a starts withx "y"', 3, OP],
  ['a == "b" && && c == "d"', 13, EXPR],
  ['&& a == "b"', 1, EXPR],
  ['a == "b" ||', 12, EXPR],
  ['!!', 3, EXPR],
  ['a != ', 6, VALUE],
  ['a == "b"\n', 9, END],
  ['a\n== "b"', 2, OP],
  ['a == b"', 6, VALUE],
  ['a == "b" & & c', 10, "'&&'"],
  ['a ! = "b"', 3, OP],
  ['a == {"b"}', 6, VALUE],
  ['a in {a}', 7, "a quoted value or '}'"],
  ['a in {"x"} extra', 12, END],
  ['a == "x" && !', 14, EXPR],
  ['é == "x"', 1, EXPR],
  ['a == "x" && (b == "y" || )', 26, EXPR],
  ['a starts\nwith "x"', 3, OP],
  ['a !!= "x"', 3, OP],
  ['a.b/c- == "x" ==', 15, END],
  ['{}', 1, EXPR],
  [',', 1, EXPR],
  ['a in {"x"}}', 11, END],
];

function parseError(text: string): SelectorParseError {
  try {
    parseSelector(text);
  } catch (e) {
    assert.ok(e instanceof SelectorParseError, `${JSON.stringify(text)} threw ${String(e)}`);
    return e;
  }
  assert.fail(`${JSON.stringify(text)} was accepted`);
}

describe('malformed selectors', () => {
  test('at least 40 cases', () => assert.ok(MALFORMED.length >= 40));
  for (const [text, column, expected] of MALFORMED) {
    test(`${JSON.stringify(text)} fails at column ${column}`, () => {
      const e = parseError(text);
      assert.equal(e.column, column);
      assert.equal(e.expected, expected);
      assert.equal(e.input, text);
      assert.equal(
        e.message,
        `Cannot parse selector ${JSON.stringify(text)}: expected ${expected} at column ${column}`,
      );
    });
  }

  test('the error is a typed SyntaxError', () => {
    const e = parseError('a ==');
    assert.ok(e instanceof SyntaxError);
    assert.equal(e.code, 'SELECTOR_PARSE');
    assert.equal(e.name, 'SelectorParseError');
    assert.equal(e.message, 'Cannot parse selector "a ==": expected a quoted value at column 5');
  });

  test('label keys may be 512 characters but not 513', () => {
    const ok = 'k'.repeat(MAX_LABEL_KEY_LENGTH);
    assert.equal(parseSelector(`${ok} == "v"`).canonical, `${ok} == "v"`);
    assert.equal(parseSelector(`has(${ok})`).matches({ [ok]: '' }), true);
    const long = 'k'.repeat(MAX_LABEL_KEY_LENGTH + 1);
    for (const [text, column] of [
      [`${long} == "v"`, 1],
      [`has( ${long})`, 6],
      [`a == "b" && ${long} == "v"`, 13],
    ] as const) {
      const e = parseError(text);
      assert.equal(e.column, column);
      assert.equal(e.expected, 'a label name of at most 512 characters');
    }
  });

  test('a value may not span both quote styles, but may contain the other quote', () => {
    assert.equal(parseSelector(`a == 'x" && b == "y'`).canonical, `a == 'x" && b == "y'`);
    const e = parseError(`a == "it's"s"`);
    assert.equal(e.column, 12);
    assert.equal(e.expected, END);
  });

  test('nesting up to the limit parses; one deeper is refused', () => {
    const deep = (n: number) => '('.repeat(n) + 'a == "b"' + ')'.repeat(n);
    assert.equal(parseSelector(deep(MAX_NESTING_DEPTH)).matches({ a: 'b' }), true);
    const e = parseError(deep(MAX_NESTING_DEPTH + 1));
    assert.equal(e.column, MAX_NESTING_DEPTH + 1);
    assert.equal(e.expected, `at most ${MAX_NESTING_DEPTH} nested parentheses`);
  });

  test('non-string input is a TypeError, not a parse error', () => {
    assert.throws(() => parseSelector(42 as unknown as string), TypeError);
  });
});
