// npm run schemas: writes one OpenAPI v3 / JSON Schema file per kind into schemas/,
// removing files of kinds that no longer exist. src/api/json-schema.test.ts fails
// when the committed files differ from what this would write.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderSchemas } from '../src/api/index.js';

const dir = new URL('../schemas/', import.meta.url).pathname;
mkdirSync(dir, { recursive: true });
const files = renderSchemas();
const keep = new Set(files.map((f) => f.file));
for (const name of readdirSync(dir)) {
  if (name.endsWith('.json') && !keep.has(name)) rmSync(join(dir, name));
}
for (const { file, content } of files) writeFileSync(join(dir, file), content);
console.log(`wrote ${files.length} schemas to ${dir}`);
