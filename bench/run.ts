// `npm run bench -- <name> [--json] [options]` runs bench/<name>.ts.
// Every benchmark prints a readable table; with --json its last line is one JSON
// object of named figures.
import { readdirSync } from 'node:fs';
import type { Benchmark } from './lib/report.js';
import { printReport } from './lib/report.js';

const [name, ...rest] = process.argv.slice(2);
const available = readdirSync(new URL('.', import.meta.url))
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.endsWith('.test.ts'))
  .map((f) => f.replace(/\.ts$/, ''));

if (!name || name.startsWith('-') || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name> [--json]\navailable: ${available.join(', ')}`);
  process.exit(2);
}

const json = rest.includes('--json');
const mod = (await import(`./${name}.ts`)) as { default: Benchmark };
const report = await mod.default(rest.filter((a) => a !== '--json'));
printReport(report, json);
process.exit(0);
