import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { findJsonSyntaxError } from './json-check.js';

function jsonAccepts(t: string): boolean {
  try {
    JSON.parse(t);
    return true;
  } catch {
    return false;
  }
}

test('agrees with JSON.parse on valid JSON, truncations and random edits', () => {
  const edited = fc
    .tuple(
      fc.json(),
      fc.nat(),
      fc.nat({ max: 3 }),
      fc.constantFrom('', ',', '}', ']', '"', ':', ' ', 'x', '{', '[', '\\', '1'),
    )
    .map(([j, at, del, ins]) => {
      const p = at % (j.length + 1);
      return j.slice(0, p) + ins + j.slice(p + del);
    });
  fc.assert(
    fc.property(fc.oneof(fc.json(), edited, fc.string()), (t) => {
      assert.equal(findJsonSyntaxError(t) === undefined, jsonAccepts(t), JSON.stringify(t));
    }),
    { numRuns: 5000 },
  );
});

test('reports the offset of the first error', () => {
  assert.deepEqual(findJsonSyntaxError('{"a": 1,\n "b": }'), {
    offset: 15,
    message: 'expected a value, found "}"',
  });
  assert.equal(findJsonSyntaxError('[1,]')?.offset, 3);
  assert.equal(findJsonSyntaxError('{"a" 1}')?.offset, 5);
  assert.equal(findJsonSyntaxError('{} x')?.offset, 3);
  assert.equal(findJsonSyntaxError('{"a": "b')?.offset, 6);
});

test('deep nesting does not overflow the stack', () => {
  const deep = '['.repeat(200_000) + ']'.repeat(200_000);
  assert.equal(findJsonSyntaxError(deep), undefined);
  assert.equal(findJsonSyntaxError('['.repeat(200_000))?.offset, 200_000);
});
