import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { KINDS, renderSchemas } from './index.js';

const dir = new URL('../../schemas/', import.meta.url).pathname;

test('committed schemas/ match the schemas (run `npm run schemas` after changing src/api)', () => {
  const expected = renderSchemas();
  const onDisk = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  assert.deepEqual(onDisk, expected.map((e) => e.file).sort());
  for (const { file, content } of expected) {
    assert.equal(
      readFileSync(dir + file, 'utf8'),
      content,
      `${file} is stale; run npm run schemas`,
    );
  }
});

test('one schema per kind, OpenAPI 3.0 shaped, without ±2^53 bounds', () => {
  const files = renderSchemas();
  assert.equal(files.length, KINDS.length + 2);
  for (const { file, content } of files) {
    assert.ok(!content.includes('9007199254740991'), file);
    const s = JSON.parse(content) as {
      type: string;
      properties: Record<string, unknown>;
      required: string[];
    };
    assert.equal(s.type, 'object', file);
    assert.ok('metadata' in s.properties && 'kind' in s.properties, file);
    assert.ok(s.required.includes('metadata'), file);
  }
});
