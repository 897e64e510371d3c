import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ALL_SELECTOR,
  andNodes,
  fromAst,
  isSelectorLabelKey,
  notNode,
  orNodes,
  parseSelector,
  prefixLabelKeys,
  type SelectorNode,
} from './index.js';

const ast = (s: string): SelectorNode => parseSelector(s).ast;
const canon = (n: SelectorNode): string => fromAst(n).canonical;

describe('AST helpers', () => {
  test('andNodes drops all(), unwraps one operand, never flattens', () => {
    assert.equal(andNodes(), ALL_SELECTOR);
    assert.equal(andNodes(ALL_SELECTOR, ALL_SELECTOR), ALL_SELECTOR);
    const a = ast('has(a)');
    assert.equal(andNodes(ALL_SELECTOR, a), a);
    assert.equal(canon(andNodes(a, ast('b == "x"'))), '(has(a) && b == "x")');
    assert.equal(
      canon(andNodes(a, andNodes(ast('has(b)'), ast('has(c) && has(d)')))),
      '(has(a) && (has(b) && (has(c) && has(d))))',
    );
  });

  test('orNodes refuses zero operands and unwraps one', () => {
    assert.throws(() => orNodes(), RangeError);
    const a = ast('has(a)');
    assert.equal(orNodes(a), a);
    assert.equal(canon(orNodes(a, ast('has(b)'))), '(has(a) || has(b))');
  });

  test('notNode cancels double negation', () => {
    const a = ast('has(a)');
    assert.equal(notNode(notNode(a)), a);
    assert.equal(canon(notNode(a)), '!has(a)');
  });

  // Calico's PrefixVisitor tests, with the same prefix.
  const PREFIX_CASES: ReadonlyArray<readonly [string, string]> = [
    ["k == 'v'", 'visited/k == "v"'],
    ["k != 'v'", 'visited/k != "v"'],
    ["k contains 'v'", 'visited/k contains "v"'],
    ["k starts with 'v'", 'visited/k starts with "v"'],
    ["k ends with 'v'", 'visited/k ends with "v"'],
    ["k == 'v' && x == 'y'", '(visited/k == "v" && visited/x == "y")'],
    ["k == 'v' || has(x)", '(visited/k == "v" || has(visited/x))'],
    ["!(k == 'v')", '!visited/k == "v"'],
    ["k in {'v'}", 'visited/k in {"v"}'],
    ["k not in {'v'}", 'visited/k not in {"v"}'],
    [
      "!(!(k == 'v' && has(t) || all()) && (a in {'b', 'c'}))",
      '!(!((visited/k == "v" && has(visited/t)) || all()) && visited/a in {"b", "c"})',
    ],
    ['global()', 'global()'],
  ];
  for (const [input, expected] of PREFIX_CASES) {
    test(`prefixLabelKeys(${input})`, () => {
      const prefixed = prefixLabelKeys(ast(input), 'visited/');
      assert.equal(canon(prefixed), expected);
      assert.equal(parseSelector(expected).canonical, expected);
    });
  }

  test('prefixLabelKeys refuses a prefix with characters a selector cannot hold', () => {
    assert.throws(() => prefixLabelKeys(ast('has(a)'), 'bad prefix'), {
      name: 'RangeError',
      message: /character 4 is not one of/,
    });
    const a = ast('has(a)');
    assert.equal(prefixLabelKeys(a, ''), a);
  });

  test('rule-expansion shapes from calico-semantics.md §10 canonicalise like the joined text', () => {
    const ns = ast("projectcalico.org/namespace == 'prod'");
    const cases: ReadonlyArray<readonly [SelectorNode, string]> = [
      [
        andNodes(ast("app == 'web'"), ns),
        "(app == 'web') && projectcalico.org/namespace == 'prod'",
      ],
      [
        andNodes(ns, ast("role == 'fe'")),
        "(projectcalico.org/namespace == 'prod') && (role == 'fe')",
      ],
      [
        andNodes(prefixLabelKeys(ast("team == 'a'"), 'pcns.'), ast("role == 'fe'")),
        `(pcns.team == "a") && (role == 'fe')`,
      ],
      [notNode(ast('has(projectcalico.org/namespace)')), '!has(projectcalico.org/namespace)'],
      [
        andNodes(ns, ast('projectcalico.org/serviceaccount in {"b", "a"}')),
        `(projectcalico.org/namespace == 'prod') && (projectcalico.org/serviceaccount in {"a", "b"})`,
      ],
      [andNodes(ns, ALL_SELECTOR), "projectcalico.org/namespace == 'prod'"],
    ];
    for (const [node, text] of cases) assert.equal(canon(node), parseSelector(text).canonical);
  });

  test('isSelectorLabelKey follows the identifier rule', () => {
    assert.equal(isSelectorLabelKey('calico/k8s_NS-.1/role'), true);
    assert.equal(isSelectorLabelKey('a'.repeat(512)), true);
    assert.equal(isSelectorLabelKey('a'.repeat(513)), false);
    assert.equal(isSelectorLabelKey(''), false);
    assert.equal(isSelectorLabelKey('a b'), false);
    assert.equal(isSelectorLabelKey('é'), false);
  });
});

describe('fromAst', () => {
  test('normalises sets, double negation and one-operand groups', () => {
    const sel = fromAst({
      kind: 'and',
      operands: [
        { kind: 'in', key: 'a', values: ['z', 'a', 'z'] },
        { kind: 'not', operand: { kind: 'not', operand: { kind: 'has', key: 'b' } } },
        { kind: 'or', operands: [{ kind: 'eq', key: 'c', value: 'd' }] },
      ],
    });
    assert.equal(sel.canonical, '(a in {"a", "z"} && has(b) && c == "d")');
    assert.deepEqual(parseSelector(sel.canonical).ast, sel.ast);
    assert.equal(sel.matches({ a: 'a', b: '', c: 'd' }), true);
  });

  const BAD: ReadonlyArray<readonly [unknown, RegExp]> = [
    [{ kind: 'has', key: 'a b' }, /at \$\.key: label key "a b" must be 1-512 characters/],
    [{ kind: 'eq', key: '', value: 'x' }, /at \$\.key/],
    [{ kind: 'eq', key: 'a', value: `'"` }, /at \$\.value: a value cannot contain both/],
    [{ kind: 'in', key: 'a', values: ['x', 3] }, /at \$\.values\[1\]: value must be a string/],
    [{ kind: 'in', key: 'a', values: 'x' }, /at \$\.values: expected an array/],
    [{ kind: 'and', operands: [] }, /at \$\.operands: 'and' needs at least one operand/],
    [
      { kind: 'or', operands: [{ kind: 'has', key: 'ok' }, { kind: 'nope' }] },
      /at \$\.operands\[1\]\.kind: unknown node kind "nope"/,
    ],
    [{ kind: 'not', operand: null }, /at \$\.operand: expected a selector node object/],
  ];
  for (const [node, message] of BAD) {
    test(`rejects ${JSON.stringify(node)}`, () => {
      assert.throws(() => fromAst(node as SelectorNode), { name: 'RangeError', message });
    });
  }
});
