#!/usr/bin/env node
// Node 20's test runner neither discovers .ts files nor expands globs, so we list
// every *.test.ts under src/ and bench/ ourselves and refuse to report success when
// nothing ran.
//
//   node scripts/run-tests.mjs            all tests (integration tests need root)
//   node scripts/run-tests.mjs --unit     only pure tests (files not named *.int.test.ts)
//   node scripts/run-tests.mjs src/net    only tests under the given paths
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const roots = args.filter((a) => !a.startsWith('--'));

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const searchRoots =
  roots.length > 0 ? roots.map((r) => join(root, r)) : ['src', 'bench'].map((r) => join(root, r));
let files = [];
for (const r of searchRoots) {
  try {
    files = statSync(r).isDirectory() ? walk(r, files) : [...files, r];
  } catch {
    // a missing root simply contributes no files
  }
}
if (unitOnly) files = files.filter((f) => !f.endsWith('.int.test.ts'));
files.sort();
if (files.length === 0) {
  console.error('run-tests: no test files found; refusing to report success');
  process.exit(1);
}
console.error(`run-tests: ${files.length} test files`);

const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-timeout=1800000',
    '--test-reporter=tap',
    ...files.map((f) => relative(root, f)),
  ],
  { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
);

let tail = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  tail = (tail + chunk.toString()).slice(-4096);
});
child.on('close', (code) => {
  const tests = Number(/# tests (\d+)/.exec(tail)?.[1] ?? '0');
  const pass = Number(/# pass (\d+)/.exec(tail)?.[1] ?? '0');
  const fail = Number(/# fail (\d+)/.exec(tail)?.[1] ?? '0');
  if (tests === 0 || pass === 0) {
    console.error('run-tests: the runner executed no test; failing');
    process.exit(1);
  }
  console.log(`${pass} passed, ${fail} failed`);
  process.exit(code ?? 1);
});
