// Table tests: (selector, labels, expected verdict). Every case is checked through
// the compiled form, the interpreted oracle, and the re-parsed canonical text.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { evaluateInterpreted, parseSelector } from './index.js';

type L = Record<string, string>;
type Case = readonly [selector: string, labels: L, expected: boolean];

const M = true;
const N = false;

// calico-semantics.md §4.6, in order.
const SEMANTICS_EXAMPLES: Case[] = [
  ['a == "b"', { a: 'b', c: 'd' }, M], // 1
  ['a == "b"', {}, N], // 2
  ['a == "b"', { a: 'c' }, N], // 2
  ['a == "b" || c == "d"', { c: 'd' }, M], // 3
  [`a in {"'", '"', "c"}`, { a: '"' }, M], // 4
  [`a in {"'", '"', "c"}`, { a: 'c' }, M], // 4
  [`a not in {"'", '"', "c"}`, {}, M], // 5
  [`a not in {"'", '"', "c"}`, { a: 'e' }, M], // 5
  ['a != "a"', {}, M], // 6
  ["a != 'a'", { a: 'a' }, N], // 7
  ['a contains "a"', { a: 'bab' }, M], // 8
  ['a contains "a"', { b: 'aaa' }, N], // 8
  ['a starts with "a"', { a: 'abb' }, M], // 9
  ['!a in {"a"}', { a: 'b' }, M], // 10
  ['has(a)', { a: 'b' }, M], // 11
  ['!has(a)', { a: 'b' }, N], // 11
  ['', {}, M], // 12
  ['', { a: 'b' }, M], // 12
  ['all()', {}, M], // 12
  ['all()', { a: 'b' }, M], // 12
  ['!!has(b)', { a: 'b' }, N], // 13
  ['!(!has(a) || has(b))', { a: 'a' }, M], // 14
  ["a != 'a1' && !b == 'b1'", { a: 'a1', b: 'b1' }, N], // 15
];

const CASES: Case[] = [
  // equality and inequality, both quote styles, absent labels
  ['a == "b"', { a: 'b' }, M],
  ['a == "b"', { c: 'd' }, N],
  ["a == 'a'", { a: 'a' }, M],
  ["a == 'a'", { a: 'b' }, N],
  ["a == 'a'", {}, N],
  ['a == ""', { a: '' }, M],
  ['a == ""', {}, N],
  ['a == ""', { a: 'x' }, N],
  ['a != ""', {}, M],
  ['a != ""', { a: '' }, N],
  ['a != ""', { a: 'x' }, M],
  ['a != "b"', { a: 'a' }, M],
  ['a != "a"', { a: 'a' }, N],
  ['a == "B"', { a: 'b' }, N],
  ['A == "b"', { a: 'b' }, N],
  ['A == "b"', { A: 'b' }, M],
  ['a == " b"', { a: 'b' }, N],
  ['a == " b"', { a: ' b' }, M],
  ['a == "b "', { a: 'b ' }, M],
  ['a=="b"', { a: 'b' }, M],
  ['a  ==  "b"', { a: 'b' }, M],
  ['\ta\t==\t"b"\t', { a: 'b' }, M],
  [`a == "'"`, { a: "'" }, M],
  [`a == '"'`, { a: '"' }, M],
  [`a == 'x"y'`, { a: 'x"y' }, M],
  [`a == "it's"`, { a: "it's" }, M],
  ['a == "\\"', { a: '\\' }, M], // no escapes: a lone backslash is literal
  ['a == "\\n"', { a: '\\n' }, M],
  ['a == "\\n"', { a: '\n' }, N],
  ['a == "é"', { a: 'é' }, M],
  ['a == "😀"', { a: '😀' }, M],
  ['a == "x&&y"', { a: 'x&&y' }, M],
  // values that would break naive code generation
  [`a == '"); throw new Error("injected"); ("'`, { a: '"); throw new Error("injected"); ("' }, M],
  ['a == "\x24{l}"', { a: '\x24{l}' }, M], // a template placeholder
  ['a == "x\\"', { a: 'x\\' }, M],
  ['a in {"\u2028", "\ud800"}', { a: '\u2028' }, M],
  ['a == "\u2028"', { a: '\u2029' }, N],
  ['a == "\ud800"', { a: '\ud800' }, M],
  ['a == "has(b)"', { a: 'has(b)' }, M],
  ['a == "has(b)"', { b: 'x' }, N],
  ['calico/k8s_NS-.1/role == "db"', { 'calico/k8s_NS-.1/role': 'db' }, M],
  ['projectcalico.org/namespace == "prod"', { 'projectcalico.org/namespace': 'prod' }, M],
  ['projectcalico.org/namespace == "prod"', { 'projectcalico.org/namespace': 'dev' }, N],
  ['k8s-app == "kube-dns"', { 'k8s-app': 'kube-dns' }, M],
  ['1 == "2"', { '1': '2' }, M],
  ['.a == "x"', { '.a': 'x' }, M],
  ['-/_. == "x"', { '-/_.': 'x' }, M],
  // context-sensitive keywords used as label names
  ['contains contains "contains"', { contains: 'xcontainsx' }, M],
  ['contains contains "contains"', { contains: 'nope' }, N],
  ['in in {"in"}', { in: 'in' }, M],
  ['not == "x"', { not: 'x' }, M],
  ['has == "x"', { has: 'x' }, M],
  ['all == "x"', { all: 'x' }, M],
  ['all == "x"', {}, N],
  ['global == "x"', { global: 'x' }, M],
  ['startswith starts with "s"', { startswith: 'sx' }, M],
  ['endswith ends with "s"', { endswith: 'xs' }, M],
  ['notin notin {"a"}', { notin: 'b' }, M],
  ['notin notin {"a"}', { notin: 'a' }, N],
  ['has(has)', { has: '' }, M],
  ['has(all)', { all: 'x' }, M],
  // has(), including empty values and spacing inside the parentheses
  ['has(a)', { a: '' }, M],
  ['has(a)', {}, N],
  ['has(b)', { a: 'b' }, N],
  ['has( a )', { a: 'x' }, M],
  ['has(\ta\t)', { a: 'x' }, M],
  ['!has(a)', { b: 'b' }, M],
  ['!has(a)', {}, M],
  ['! has(a)', { a: 'b' }, N],
  ['!!! has(a)', { a: 'b' }, N],
  ['!!!has(a)', { a: 'b' }, N],
  ['!! ! has(a)', { a: 'b' }, N],
  ['! !!has(a)', { a: 'b' }, N],
  ['!!has(a)', { a: 'b' }, M],
  ['!!!!has(a)', { a: 'b' }, M],
  ['has(a) && !has(b)', { a: 'a' }, M],
  ['has(a) && !has(b)', { a: 'a', b: 'b' }, N],
  ['!has(b) && has(a)', { a: 'a' }, M],
  // contains / starts with / ends with
  ['a contains "a"', { a: 'a' }, M],
  ['a contains "a"', { a: 'aaa', b: 'c' }, M],
  ['a contains "a"', {}, N],
  ['a contains "a"', { a: 'b' }, N],
  ['a contains ""', { a: '' }, M],
  ['a contains ""', {}, N],
  ['a contains"x"', { a: 'yxy' }, M],
  ['a contains "X"', { a: 'x' }, N],
  ['a starts with "a"', { a: 'a' }, M],
  ['a starts with "a"', { a: 'aaa', b: 'c' }, M],
  ['a starts with "a"', {}, N],
  ['a starts with "a"', { a: 'b' }, N],
  ['a starts with "a"', { a: 'baa' }, N],
  ['a starts with "a"', { b: 'aaa' }, N],
  ['a startswith "ab"', { a: 'abc' }, M],
  ['a starts  with "ab"', { a: 'abc' }, M],
  ['a starts\twith "ab"', { a: 'xab' }, N],
  ['a starts with ""', { a: '' }, M],
  ['a starts with ""', {}, N],
  ['a ends with "a"', { a: 'a' }, M],
  ['a ends with "a"', { a: 'bba' }, M],
  ['a ends with "a"', { a: 'aaa', b: 'c' }, M],
  ['a ends with "a"', {}, N],
  ['a ends with "a"', { a: 'b' }, N],
  ['a ends with "a"', { a: 'aab' }, N],
  ['a ends with "a"', { b: 'aaa' }, N],
  ['a endswith "bc"', { a: 'abc' }, M],
  ['a ends   with"bc"', { a: 'abc' }, M],
  ['!a contains "x"', { a: 'x' }, N],
  ['!a contains "x"', {}, M],
  ['!a starts with "x"', {}, M],
  ['!a ends with "x"', { a: 'yx' }, N],
  // set membership
  ['a in {"a"}', { a: 'a' }, M],
  ['a in {"a"}', { a: 'b' }, N],
  ['a in {"a"}', {}, N],
  ['a in {"a", "b"}', { a: 'a' }, M],
  ['a in {"a", "b"}', { a: 'b' }, M],
  ['a in {"a", "b"}', { a: 'c' }, N],
  ['a in {}', { a: '' }, N],
  ['a in {}', {}, N],
  ['a in {""}', { a: '' }, M],
  ['a in {""}', {}, N],
  [`a in {"'", '"', "c"}`, { a: "'" }, M],
  [`a in {"'", '"', "c"}`, {}, N],
  [`a in {"'", '"', "c"}`, { a: 'e' }, N],
  ['a in {"a",}', { a: 'a' }, M],
  ['a in{"a","b"}', { a: 'b' }, M],
  ['a in {"1","2","3","4","5","6","7","8","9","10"}', { a: '9' }, M],
  ['a in {"1","2","3","4","5","6","7","8","9","10"}', { a: '11' }, N],
  ['a in {"1","2","3","4","5","6","7","8","9","10"}', {}, N],
  ['a not in {"a"}', { a: 'a' }, N],
  ['a not in {"a"}', { a: 'b' }, M],
  ['a not in {"a"}', {}, M],
  ['a not in {"d", "e"}', { a: 'a' }, M],
  [`a not in {"'", '"', "c"}`, { a: 'c' }, N],
  [`a not in {"'", '"', "c"}`, { a: '"' }, N],
  [`a not in {"'", '"', "c"}`, { a: "'" }, N],
  ['a not in {}', {}, M],
  ['a not in {}', { a: 'x' }, M],
  ['a notin {"x"}', { a: 'x' }, N],
  ['a notin{"x"}', { a: 'y' }, M],
  ['a not  in {"x"}', { a: 'y' }, M],
  ['a not\tin {"x"}', { a: 'x' }, N],
  ['a not in {"1","2","3","4","5","6","7","8","9","10"}', { a: '10' }, N],
  ['a not in {"1","2","3","4","5","6","7","8","9","10"}', {}, M],
  ['!a not in {"x"}', {}, N],
  ['!a not in {"x"}', { a: 'x' }, M],
  // boolean structure and precedence
  ['a == "b" && c == "d"', { a: 'b', c: 'd' }, M],
  ['a == "b" && c == "d"', {}, N],
  ['a == "b" && c == "d"', { a: 'b', c: 'e' }, N],
  ['a == "b" && c == "d"', { a: 'c', c: 'd' }, N],
  ['a == "b" && c == "d"', { c: 'd' }, N],
  ['a == "b" && c == "d"', { a: 'b' }, N],
  ['a == "b" || c == "d"', { a: 'b', c: 'd' }, M],
  ['a == "b" || c == "d"', { a: 'b' }, M],
  ['a == "b" || c == "d"', {}, N],
  ['a == "b" || c == "d"', { a: 'e', c: 'e' }, N],
  ["a == 'a1' && b == 'b1'", { a: 'a1', b: 'b1' }, M],
  ["a == 'a1' && b != 'b1'", { a: 'a1', b: 'b1' }, N],
  ["a != 'a1' && b == 'b1'", { a: 'a1', b: 'b1' }, N],
  ["a != 'a1' && b != 'b1'", { a: 'a1', b: 'b1' }, N],
  ["!a == 'a1' && b == 'b1'", { a: 'a1', b: 'b1' }, N],
  ["a == 'a1' || b == 'b1'", { a: 'a1', b: 'b1' }, M],
  ["a == 'a1' || b != 'b1'", { a: 'a1', b: 'b1' }, M],
  ["a != 'a1' || b == 'b1'", { a: 'a1', b: 'b1' }, M],
  ["a != 'a1' || b != 'b1'", { a: 'a1', b: 'b1' }, N],
  ["! a == 'a1' || ! b == 'b1'", { a: 'a1', b: 'b1' }, N],
  ['!(has(b) || !has(a))', { a: 'a' }, M],
  ['!(has(b) || !has(a))', { a: 'a', b: 'b' }, N],
  // && binds tighter than ||
  ['has(a) || has(b) && has(c)', { a: 'x' }, M],
  ['has(a) || has(b) && has(c)', { b: 'x' }, N],
  ['has(a) || has(b) && has(c)', { b: 'x', c: 'y' }, M],
  ['(has(a) || has(b)) && has(c)', { a: 'x' }, N],
  ['(has(a) || has(b)) && has(c)', { a: 'x', c: 'y' }, M],
  ['has(a) && has(b) || has(c)', { c: 'x' }, M],
  ['has(a) && (has(b) || has(c))', { c: 'x' }, N],
  // ! binds to one primary only
  ['!has(a) && has(b)', { b: 'x' }, M],
  ['!has(a) && has(b)', { a: 'x', b: 'x' }, N],
  ['!(has(a) && has(b))', { a: 'x' }, M],
  ['!(has(a) && has(b))', { a: 'x', b: 'y' }, N],
  ['!a == "x" && b == "y"', { b: 'y' }, M],
  ['!a == "x" && b == "y"', { a: 'x', b: 'y' }, N],
  ['!a == "x" || b == "y"', { a: 'x' }, N],
  ['!(a == "x" || b == "y")', { c: 'z' }, M],
  ['!!(a == "x")', { a: 'x' }, M],
  ['!(!(a == "x"))', { a: 'x' }, M],
  ['!c != "d"', { c: 'd' }, M],
  ['!c != "d"', {}, N],
  ['! (a == "b"&&! c != "d")', { a: 'b', c: 'd' }, N],
  ['! (a == "b"&&! c != "d")', { a: 'b' }, M],
  // nesting, all() and global() inside expressions
  ['((((a == "b"))))', { a: 'b' }, M],
  ['(a == "b") && ((c == "d"))', { a: 'b', c: 'd' }, M],
  ['all() && has(a)', {}, N],
  ['all() || has(a)', {}, M],
  ['!all()', {}, N],
  ['!all() || has(x)', { x: '' }, M],
  ['all( )', {}, M],
  [' all() ', { a: 'b' }, M],
  [' (all() )', {}, M],
  ['global()', {}, M],
  [' global()', { a: 'b' }, M],
  ['global( )', {}, M],
  ['!global()', {}, N],
  ['   ', { a: 'b' }, M],
  ['\t', {}, M],
  // realistic policy selectors
  [
    "role == 'frontend' && env in {'prod', 'staging'}",
    { role: 'frontend', env: 'staging', app: 'shop' },
    M,
  ],
  ["role == 'frontend' && env in {'prod', 'staging'}", { role: 'frontend', env: 'dev' }, N],
  ["role == 'frontend' && env in {'prod', 'staging'}", { env: 'prod' }, N],
  [
    "(projectcalico.org/namespace == 'prod') && (app == 'web')",
    { 'projectcalico.org/namespace': 'prod', app: 'web' },
    M,
  ],
  ["(projectcalico.org/namespace == 'prod') && (app == 'web')", { app: 'web' }, N],
  ['pcns.team == "a" && role == "fe"', { 'pcns.team': 'a', role: 'fe' }, M],
  ['!has(projectcalico.org/namespace)', { 'kubernetes.io/hostname': 'n1' }, M],
  ['!has(projectcalico.org/namespace)', { 'projectcalico.org/namespace': 'x' }, N],
  ['has(projectcalico.org/namespace)', { 'projectcalico.org/namespace': 'x' }, M],
  [
    'projectcalico.org/serviceaccount in {"a", "b"}',
    { 'projectcalico.org/serviceaccount': 'b' },
    M,
  ],
  [
    'tier == "db" && env != "test" && !has(quarantine) && zone starts with "us-" && name ends with "-0"',
    { tier: 'db', env: 'prod', zone: 'us-east', name: 'pg-0' },
    M,
  ],
  [
    'tier == "db" && env != "test" && !has(quarantine) && zone starts with "us-" && name ends with "-0"',
    { tier: 'db', env: 'prod', zone: 'us-east', name: 'pg-0', quarantine: '' },
    N,
  ],
  [
    'tier == "db" && env != "test" && !has(quarantine) && zone starts with "us-" && name ends with "-0"',
    { tier: 'db', zone: 'eu-west', name: 'pg-0' },
    N,
  ],
  // label names that collide with Object.prototype: only own string properties count
  ['has(constructor)', {}, N],
  ['has(toString)', {}, N],
  ['has(__proto__)', {}, N],
  ['constructor != "x"', {}, M],
  ['toString not in {"x"}', {}, M],
  ['hasOwnProperty contains ""', {}, N],
  ['valueOf starts with ""', {}, N],
  ['has(constructor)', { constructor: 'c' }, M],
  ['constructor == "c"', { constructor: 'c' }, M],
];

function check([selector, labels, expected]: Case): void {
  const sel = parseSelector(selector);
  assert.equal(sel.matches(labels), expected, `compiled ${selector} on ${JSON.stringify(labels)}`);
  assert.equal(evaluateInterpreted(sel.ast, labels), expected, `interpreted ${selector}`);
  const again = parseSelector(sel.canonical);
  assert.equal(again.canonical, sel.canonical, `canonical of ${selector} is stable`);
  assert.equal(again.matches(labels), expected, `canonical ${sel.canonical} keeps the verdict`);
}

describe('selector matching table', () => {
  test('has at least 150 cases besides the §4.6 examples', () => {
    assert.ok(CASES.length >= 150, `only ${CASES.length} cases`);
  });
  test('calico-semantics.md §4.6 examples', () => {
    for (const c of SEMANTICS_EXAMPLES) check(c);
  });
  for (const c of CASES) {
    test(`${JSON.stringify(c[0])} on ${JSON.stringify(c[1])} → ${c[2] ? 'match' : 'no match'}`, () =>
      check(c));
  }
  test('labels from JSON with an own __proto__ key', () => {
    const labels = JSON.parse('{"__proto__": "p"}') as Record<string, string>;
    check(['__proto__ == "p"', labels, M]);
    check(['has(__proto__)', labels, M]);
  });
  test('null-prototype label objects', () => {
    const labels = Object.assign(Object.create(null) as Record<string, string>, { a: 'b' });
    check(['a == "b" && !has(constructor)', labels, M]);
  });
  test('prototype pollution never makes a label present', () => {
    const proto = { role: 'admin' };
    const labels = Object.create(proto) as Record<string, string>;
    check(['role == "admin"', labels, N]);
    check(['has(role)', labels, N]);
    check(['role != "admin"', labels, M]);
    check(['role in {"admin", "x"}', labels, N]);
    check(['role not in {"admin"}', labels, M]);
    check(['role contains "adm"', labels, N]);
  });
});
