#!/usr/bin/env node
// Node 20's test runner neither discovers .ts files nor expands globs, so we list
// every *.test.ts under src/ and bench/ ourselves and refuse to report success when
// nothing ran. Each file runs in its own `node --test` process, a few at a time, so the
// summary can say how long every file took: CI has a 20-minute budget and the slowest
// files are what to look at when it grows.
//
//   node scripts/run-tests.mjs            all tests (integration tests need root)
//   node scripts/run-tests.mjs --unit     only pure tests (files not named *.int.test.ts)
//   node scripts/run-tests.mjs src/net    only tests under the given paths
//
// TEST_CONCURRENCY (default 3: most integration files wait on processes and packets more than they compute) files run at once; each file may take up to 30 minutes.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const roots = args.filter((a) => !a.startsWith('--'));
const FILE_TIMEOUT_MS = 30 * 60 * 1000;

// Known long files start first so they overlap with the many short ones instead of
// running alone at the end.
const START_FIRST = [
  'src/ipam/concurrency.int.test.ts',
  'src/lab/lab.int.test.ts',
  'src/agent/bgp.int.test.ts',
  'src/agent/agent.int.test.ts',
  'src/dataplane/dataplane.int.test.ts',
];
// The IPAM stress keeps 50 allocator processes busy for minutes. Files that check
// timers against real daemons (BGP hold and restart times, an agent's recovery after an
// outage, the lab's BGP convergence) do not run beside it; everything else does.
const LOADS_THE_MACHINE = new Set(['src/ipam/concurrency.int.test.ts']);
const TIMING_SENSITIVE = new Set([
  'src/lab/lab.int.test.ts',
  'src/agent/bgp.int.test.ts',
  'src/agent/agent.int.test.ts',
  'src/dataplane/dataplane.int.test.ts',
  'src/dataplane/differential.int.test.ts',
  'src/bgp/mesh.int.test.ts',
  'src/bgp/addpath.int.test.ts',
  'src/bgp/bird.int.test.ts',
  'src/bgp/gobgp.int.test.ts',
  'src/bgp/frr.int.test.ts',
  'src/bgp/model.int.test.ts',
  'src/cni/agent.int.test.ts',
]);

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
files = files.map((f) => relative(root, f)).sort();
const rank = (f) => {
  const i = START_FIRST.indexOf(f);
  if (i >= 0) return i;
  return f.endsWith('.int.test.ts') ? START_FIRST.length : START_FIRST.length + 1;
};
files.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
if (files.length === 0) {
  console.error('run-tests: no test files found; refusing to report success');
  process.exit(1);
}
const concurrency = Math.max(1, Number(process.env.TEST_CONCURRENCY ?? '3'));
console.error(`run-tests: ${files.length} test files, ${concurrency} at a time`);

const started = Date.now();
const results = [];

function runFile(file) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--test',
        `--test-timeout=${FILE_TIMEOUT_MS}`,
        '--test-reporter=tap',
        file,
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // A file's output is printed whole when it ends, so concurrent files never interleave.
    let out = '';
    child.stdout.on('data', (c) => {
      out += c.toString();
    });
    child.stderr.on('data', (c) => {
      out += c.toString();
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), FILE_TIMEOUT_MS + 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      const seconds = (Date.now() - t0) / 1000;
      const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(out)?.[1] ?? '0');
      const r = {
        file,
        seconds,
        tests: count('tests'),
        pass: count('pass'),
        fail: count('fail') + count('cancelled'),
        code: code ?? (signal ? 128 : 1),
      };
      results.push(r);
      process.stdout.write(`\n### ${file} (${seconds.toFixed(1)} s, exit ${r.code})\n${out}`);
      resolve(r);
    });
  });
}

const queue = [...files];
let loading = 0;
let loadingDone = Promise.resolve();
let signalLoadingDone = () => {};
/** The first queued file allowed to start now; undefined when none is (or none left). */
function nextFile() {
  const i = queue.findIndex((f) => loading === 0 || !TIMING_SENSITIVE.has(f));
  return i < 0 ? undefined : queue.splice(i, 1)[0];
}
async function lane() {
  while (queue.length > 0) {
    const f = nextFile();
    if (f === undefined) {
      await loadingDone;
      continue;
    }
    if (LOADS_THE_MACHINE.has(f)) {
      if (loading++ === 0)
        loadingDone = new Promise((resolve) => {
          signalLoadingDone = resolve;
        });
      try {
        await runFile(f);
      } finally {
        if (--loading === 0) signalLoadingDone();
      }
    } else await runFile(f);
  }
}
await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, lane));

const total = results.reduce(
  (a, r) => ({ tests: a.tests + r.tests, pass: a.pass + r.pass, fail: a.fail + r.fail }),
  {
    tests: 0,
    pass: 0,
    fail: 0,
  },
);
const broken = results.filter((r) => r.code !== 0 || r.fail > 0 || r.tests === 0);
console.log('\n=== slowest test files');
for (const r of [...results].sort((a, b) => b.seconds - a.seconds).slice(0, 15))
  console.log(`${r.seconds.toFixed(1).padStart(7)} s  ${r.file}  (${r.tests} tests)`);
console.log(
  `=== wall time ${((Date.now() - started) / 1000).toFixed(0)} s for ${results.length} files`,
);
if (broken.length > 0) {
  console.log('=== failing files');
  for (const r of broken)
    console.log(`${r.file}: ${r.fail} failed, ${r.tests} tests, exit ${r.code}`);
}
console.log(`${total.pass} passed, ${total.fail} failed`);
if (total.tests === 0 || total.pass === 0) {
  console.error('run-tests: the runner executed no test; failing');
  process.exit(1);
}
process.exit(broken.length > 0 ? 1 : 0);
