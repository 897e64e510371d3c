import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CtlError } from './errors.js';
import { jsonPatch, mergePatch, parsePointer } from './patch.js';

test('merge patch: RFC 7386 appendix examples', () => {
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, want] of cases) assert.deepEqual(mergePatch(target, patch), want);
});

test('merge patch leaves its input alone and treats __proto__ as data', () => {
  const target = { spec: { a: 1 } };
  const out = mergePatch(target, JSON.parse('{"__proto__": {"x": 1}, "spec": {"b": 2}}')) as Record<
    string,
    unknown
  >;
  assert.deepEqual(target, { spec: { a: 1 } });
  assert.deepEqual(out.spec, { a: 1, b: 2 });
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.ok(Object.hasOwn(out, '__proto__'));
  assert.equal(({} as Record<string, unknown>).x, undefined);
});

test('JSON pointer unescaping', () => {
  assert.deepEqual(parsePointer(''), []);
  assert.deepEqual(parsePointer('/a~1b/c~0d/~01'), ['a/b', 'c~d', '~1']);
  assert.throws(() => parsePointer('a'), CtlError);
});

test('JSON patch: add, remove, replace, move, copy, test (RFC 6902 examples)', () => {
  assert.deepEqual(jsonPatch({ foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux' }]), {
    foo: 'bar',
    baz: 'qux',
  });
  assert.deepEqual(
    jsonPatch({ foo: ['bar', 'baz'] }, [{ op: 'add', path: '/foo/1', value: 'qux' }]),
    { foo: ['bar', 'qux', 'baz'] },
  );
  assert.deepEqual(jsonPatch({ foo: ['a'] }, [{ op: 'add', path: '/foo/-', value: 'b' }]), {
    foo: ['a', 'b'],
  });
  assert.deepEqual(jsonPatch({ baz: 'qux', foo: 'bar' }, [{ op: 'remove', path: '/baz' }]), {
    foo: 'bar',
  });
  assert.deepEqual(jsonPatch({ foo: ['bar', 'qux', 'baz'] }, [{ op: 'remove', path: '/foo/1' }]), {
    foo: ['bar', 'baz'],
  });
  assert.deepEqual(
    jsonPatch({ baz: 'qux', foo: 'bar' }, [{ op: 'replace', path: '/baz', value: 'boo' }]),
    { baz: 'boo', foo: 'bar' },
  );
  assert.deepEqual(
    jsonPatch({ foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } }, [
      { op: 'move', from: '/foo/waldo', path: '/qux/thud' },
    ]),
    { foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } },
  );
  assert.deepEqual(
    jsonPatch({ foo: ['all', 'grass', 'cows', 'eat'] }, [
      { op: 'move', from: '/foo/1', path: '/foo/3' },
    ]),
    { foo: ['all', 'cows', 'eat', 'grass'] },
  );
  assert.deepEqual(jsonPatch({ a: { b: 1 } }, [{ op: 'copy', from: '/a', path: '/c' }]), {
    a: { b: 1 },
    c: { b: 1 },
  });
  assert.deepEqual(
    jsonPatch({ baz: 'qux', foo: ['a', 2, 'c'] }, [
      { op: 'test', path: '/baz', value: 'qux' },
      { op: 'test', path: '/foo/1', value: 2 },
    ]),
    { baz: 'qux', foo: ['a', 2, 'c'] },
  );
  assert.deepEqual(jsonPatch({ a: 1 }, [{ op: 'replace', path: '', value: [1] }]), [1]);
});

test('JSON patch failures name the operation and change nothing', () => {
  const doc = { spec: { a: 1 }, list: [1] };
  const bad: [unknown, RegExp][] = [
    [[{ op: 'test', path: '/spec/a', value: 2 }], /operation 0: test failed/],
    [
      [
        { op: 'add', path: '/spec/a', value: 3 },
        { op: 'remove', path: '/nope' },
      ],
      /operation 1: .*does not exist/,
    ],
    [[{ op: 'replace', path: '/spec/b', value: 1 }], /does not exist/],
    [[{ op: 'add', path: '/list/5', value: 1 }], /out of range/],
    [[{ op: 'add', path: '/list/01', value: 1 }], /not an array index/],
    [[{ op: 'add', path: '/spec/x' }], /needs a "value"/],
    [[{ op: 'move', from: '/spec', path: '/spec/x' }], /own children/],
    [[{ op: 'frob', path: '/a' }], /unknown op/],
    [[{ op: 'add', path: 'spec', value: 1 }], /must start with/],
    [{ op: 'add' }, /must be a JSON array/],
    [[42], /must be an object/],
  ];
  for (const [ops, re] of bad) {
    assert.throws(
      () => jsonPatch(doc, ops),
      (e: unknown) => e instanceof CtlError && re.test(e.message),
    );
  }
  assert.deepEqual(doc, { spec: { a: 1 }, list: [1] });
});
