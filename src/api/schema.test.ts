// The schema layer keeps zod 4's issue shapes and abort rules (the expectations below
// are what zod 4.6 returned for the same schemas and inputs), because validate.ts and
// every error message a user sees are built on them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import * as z from './schema.js';

function issues(s: z.ZodType, v: unknown): unknown[] {
  const r = s.safeParse(v);
  assert.equal(r.success, false, 'expected a failure');
  return (r.error?.issues ?? []).map((i) => {
    const { message: _m, continue: _c, ...rest } = i as Record<string, unknown>;
    return rest;
  });
}

function data(s: z.ZodType, v: unknown): unknown {
  const r = s.safeParse(v);
  assert.ok(r.success, JSON.stringify(r.error?.issues));
  return r.data;
}

test('ints: a string is a number type error, a fraction an int type error, bounds after', () => {
  assert.deepEqual(issues(z.int(), 'x'), [
    { code: 'invalid_type', expected: 'number', input: 'x', path: [] },
  ]);
  assert.deepEqual(issues(z.int(), 1.5), [
    { code: 'invalid_type', expected: 'int', input: 1.5, path: [] },
  ]);
  assert.deepEqual(issues(z.int().min(1).max(5), 9), [
    { code: 'too_big', origin: 'number', maximum: 5, inclusive: true, input: 9, path: [] },
  ]);
  assert.deepEqual(issues(z.int().min(1).max(5), 1.5), [
    { code: 'invalid_type', expected: 'int', input: 1.5, path: [] },
  ]);
});

test('objects: child issues first, unknown keys after, refinements skipped after a type error', () => {
  const s = z
    .strictObject({ a: z.string(), b: z.int().optional() })
    .superRefine((_v, ctx) => ctx.addIssue({ message: 'm', path: ['a'] }));
  assert.deepEqual(issues(s, { a: 1, c: 2, d: 3 }), [
    { code: 'invalid_type', expected: 'string', input: 1, path: ['a'] },
    { code: 'unrecognized_keys', keys: ['c', 'd'], input: { a: 1, c: 2, d: 3 }, path: [] },
  ]);
  assert.deepEqual(issues(s, { b: 2, a: 'x' }), [
    { code: 'custom', path: ['a'], input: { b: 2, a: 'x' } },
  ]);
  // a bound is not a type error: the parent's rule still runs
  const t = z
    .strictObject({ x: z.string().min(3) })
    .superRefine((_v, ctx) => ctx.addIssue({ message: 'outer' }));
  assert.deepEqual(issues(t, { x: 's' }), [
    { code: 'too_small', origin: 'string', minimum: 3, inclusive: true, input: 's', path: ['x'] },
    { code: 'custom', path: [], input: { x: 's' } },
  ]);
  assert.deepEqual(issues(z.strictObject({ a: z.string(), b: z.string() }), {}), [
    { code: 'invalid_type', expected: 'string', input: undefined, path: ['a'] },
    { code: 'invalid_type', expected: 'string', input: undefined, path: ['b'] },
  ]);
});

test('objects: output in shape order, loose keys after, present undefined kept', () => {
  const loose = data(z.looseObject({ a: z.string() }), { z: 1, a: 'x', b: 2 });
  assert.deepEqual(Object.keys(loose as object), ['a', 'z', 'b']);
  const strict = data(z.strictObject({ a: z.string().optional(), b: z.string() }), {
    b: 'q',
    a: undefined,
  });
  assert.deepEqual(Object.keys(strict as object), ['a', 'b']);
  assert.deepEqual(issues(z.strictObject({ a: z.string().optional() }), { c: undefined }), [
    { code: 'unrecognized_keys', keys: ['c'], input: { c: undefined }, path: [] },
  ]);
});

test('arrays: an over-long list is reported alone; lengths are in code points', () => {
  assert.deepEqual(issues(z.array(z.string()).max(1), [1, 2]), [
    { code: 'too_big', origin: 'array', maximum: 1, inclusive: true, input: [1, 2], path: [] },
  ]);
  assert.deepEqual(issues(z.array(z.string()).max(1), [1]), [
    { code: 'invalid_type', expected: 'string', input: 1, path: [0] },
  ]);
  assert.deepEqual(issues(z.array(z.string()).min(1), []), [
    { code: 'too_small', origin: 'array', minimum: 1, inclusive: true, input: [], path: [] },
  ]);
  // a length rule still runs on a wrong type that has a length
  assert.deepEqual(issues(z.array(z.string()).max(2), '   '), [
    { code: 'invalid_type', expected: 'array', input: '   ', path: [] },
    { code: 'too_big', origin: 'string', maximum: 2, inclusive: true, input: '   ', path: [] },
  ]);
  assert.equal(data(z.string().max(2), '😀😀'), '😀😀');
});

test('checks run in order; a leaf check does not stop a length check', () => {
  const push = (c: { value: string; issues: z.CheckIssue[] }) => {
    c.issues.push({ code: 'custom', message: 'r1', input: c.value, continue: true });
  };
  assert.deepEqual(issues(z.string().check(push).min(5), 'ab'), [
    { code: 'custom', path: [], input: 'ab' },
    { code: 'too_small', origin: 'string', minimum: 5, inclusive: true, input: 'ab', path: [] },
  ]);
  assert.deepEqual(issues(z.string().min(5).check(push), 'ab'), [
    { code: 'too_small', origin: 'string', minimum: 5, inclusive: true, input: 'ab', path: [] },
    { code: 'custom', path: [], input: 'ab' },
  ]);
});

test('unions: first clean option wins; one soft failure is the answer; else invalid_union', () => {
  const u = z.union([z.int(), z.string()]);
  assert.equal(data(u, 'x'), 'x');
  assert.deepEqual(issues(z.union([z.int(), z.string().min(3)]), 'ab'), [
    { code: 'too_small', origin: 'string', minimum: 3, inclusive: true, input: 'ab', path: [] },
  ]);
  const [only] = issues(u, true) as { code: string; errors: unknown[][] }[];
  assert.equal(only?.code, 'invalid_union');
  assert.equal(only?.errors.length, 2);
});

test('records, enums, literals, null', () => {
  assert.deepEqual(issues(z.record(z.string(), z.string()), { a: 1 }), [
    { code: 'invalid_type', expected: 'string', input: 1, path: ['a'] },
  ]);
  assert.deepEqual(issues(z.record(z.string(), z.string()), [1]), [
    { code: 'invalid_type', expected: 'record', input: [1], path: [] },
  ]);
  assert.deepEqual(issues(z.enum(['A', 'B']), 'c'), [
    { code: 'invalid_value', values: ['A', 'B'], input: 'c', path: [] },
  ]);
  assert.deepEqual(issues(z.literal('v1'), 'c'), [
    { code: 'invalid_value', values: ['v1'], input: 'c', path: [] },
  ]);
  assert.equal(data(z.literal([4, 6]), 6), 6);
  assert.equal(data(z.union([z.string(), z.null()]), null), null);
});

test('schemas are immutable: refining or documenting one leaves the original alone', () => {
  const base = z.strictObject({ a: z.string() });
  const refined = base.superRefine((_v, ctx) => ctx.addIssue({ message: 'no' }));
  base.meta({ description: 'd' });
  assert.ok(base.safeParse({ a: 'x' }).success);
  assert.ok(!refined.safeParse({ a: 'x' }).success);
  assert.deepEqual(z.toJSONSchema(base), {
    type: 'object',
    properties: { a: { type: 'string' } },
    required: ['a'],
    additionalProperties: false,
  });
});

test('a parse never throws and never returns its input object', () => {
  const s = z.looseObject({
    a: z.array(z.union([z.int().min(0), z.null()])).optional(),
    b: z.record(z.string(), z.string()).optional(),
  });
  fc.assert(
    fc.property(fc.anything(), (v) => {
      const r = s.safeParse(v);
      if (r.success) assert.notEqual(r.data, v);
    }),
    { numRuns: 500 },
  );
});
