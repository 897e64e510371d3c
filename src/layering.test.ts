// Components depend downward only (docs/ARCHITECTURE.md): a floor may import any
// floor below it, never one above and never a sibling on the same floor unless
// listed, and no component reaches into another's files except through index.ts.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const FLOORS: Record<string, number> = {
  net: 1,
  selector: 1,
  api: 1,
  datastore: 2,
  policy: 2,
  ipam: 2,
  calc: 3,
  dataplane: 4,
  bgp: 4,
  agent: 5,
  cni: 5,
  ctl: 5,
  lab: 6,
};

/** Same-floor imports that the architecture allows (no cycles). */
const SAME_FLOOR_ALLOWED = new Set([
  'api->net',
  'api->selector',
  'selector->net',
  'ipam->datastore',
  'policy->datastore',
]);

const srcDir = new URL('.', import.meta.url).pathname;

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files(path, out);
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

test('components import only lower floors, through their index', () => {
  const problems: string[] = [];
  for (const file of files(srcDir)) {
    const rel = relative(srcDir, file);
    const from = rel.split('/')[0]!;
    if (!(from in FLOORS)) continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
      const target = relative(srcDir, join(file, '..', m[1]!));
      const to = target.split('/')[0]!;
      if (to === from || !(to in FLOORS)) continue;
      const ok = FLOORS[to]! < FLOORS[from]! || SAME_FLOOR_ALLOWED.has(`${from}->${to}`);
      if (!ok)
        problems.push(`${rel} imports ${to} (floor ${FLOORS[to]}) from floor ${FLOORS[from]}`);
      if (!/^[a-z]+\/index\.js$/.test(target) && !file.endsWith('.test.ts')) {
        problems.push(`${rel} reaches into ${target}; import ${to}/index.js instead`);
      }
    }
  }
  assert.deepEqual(problems, []);
});
