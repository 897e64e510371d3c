// Selector evaluation throughput: compiled selectors against the naive tree-walking
// interpreter, both over the same 100k label sets in the same run.
//
//   npm run bench -- selector [--json] [--sets N] [--ms N]

import {
  clearSelectorCache,
  evaluateInterpreted,
  parseSelector,
  type Selector,
} from '../src/selector/index.js';
import type { Benchmark, Figure } from './lib/report.js';
import { opsPerSecond } from './lib/report.js';

type Labels = Record<string, string>;

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${name} needs a positive integer`);
  return v;
}

/** Deterministic PRNG so every run measures the same label sets. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const APPS = ['web', 'api', 'db', 'cache', 'queue', 'auth', 'search', 'billing'];
const TIERS = ['frontend', 'backend', 'data'];
const ENVS = ['prod', 'staging', 'qa', 'dev', 'test'];
const ZONES = ['us-east-1a', 'us-east-1b', 'us-west-2a', 'eu-west-1a', 'ap-south-1a'];

/** Endpoint-shaped label sets: Kubernetes-style keys, 6-9 labels each. */
function labelSets(n: number): Labels[] {
  const r = rng(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const out: Labels[] = [];
  for (let i = 0; i < n; i++) {
    const l: Labels = {
      app: pick(APPS),
      tier: pick(TIERS),
      env: pick(ENVS),
      'topology.kubernetes.io/zone': pick(ZONES),
      'projectcalico.org/namespace': `ns-${Math.floor(r() * 50)}`,
      'pod-template-hash': Math.floor(r() * 1e9).toString(16),
    };
    if (r() < 0.6) l.team = `team-${Math.floor(r() * 12)}`;
    if (r() < 0.3) l.version = `v${Math.floor(r() * 4)}`;
    if (r() < 0.1) l.quarantine = '';
    out.push(l);
  }
  return out;
}

const CASES: ReadonlyArray<readonly [name: string, label: string, text: string]> = [
  ['equality', 'simple equality', 'app == "web"'],
  [
    'conjunction5',
    '5-term conjunction',
    'tier == "frontend" && env != "test" && has(team) && ' +
      'topology.kubernetes.io/zone starts with "us-" && !has(quarantine)',
  ],
  ['set', 'set membership (3 values)', 'env in {"prod", "staging", "qa"}'],
  [
    'set_large',
    'set membership (24 values)',
    `projectcalico.org/namespace in {${Array.from({ length: 24 }, (_, i) => `"ns-${i * 2}"`).join(', ')}}`,
  ],
];

const bench: Benchmark = async (args) => {
  const n = option(args, '--sets', 100_000);
  const minMs = option(args, '--ms', 700);
  const sets = labelSets(n);
  const figures: Figure[] = [];
  const notes: string[] = [];

  for (const [name, label, text] of CASES) {
    const sel: Selector = parseSelector(text);
    const ast = sel.ast;
    let compiledHits = 0;
    let interpretedHits = 0;
    // Count matches so neither loop can be optimised away, and so a disagreement
    // between the two evaluators shows up in the notes.
    const compiled = opsPerSecond(
      () => {
        let hits = 0;
        for (let i = 0; i < sets.length; i++) if (sel.matches(sets[i]!)) hits++;
        compiledHits = hits;
      },
      sets.length,
      minMs,
    );
    const interpreted = opsPerSecond(
      () => {
        let hits = 0;
        for (let i = 0; i < sets.length; i++) if (evaluateInterpreted(ast, sets[i]!)) hits++;
        interpretedHits = hits;
      },
      sets.length,
      minMs,
    );
    if (compiledHits !== interpretedHits) {
      throw new Error(`${label}: compiled matched ${compiledHits}, interpreted ${interpretedHits}`);
    }
    figures.push({
      name: `${name}_evals_per_s`,
      label: `${label}, compiled (baseline: interpreted)`,
      value: compiled,
      unit: 'evals/s',
      baseline: interpreted,
      baselineLabel: 'naive tree-walking interpreter',
      better: 'higher',
    });
    notes.push(`${label}: ${sel.canonical}  matches ${compiledHits} of ${n} label sets`);
  }

  // Parse + canonicalise + hash + compile of distinct selector texts, cache cleared.
  const texts = Array.from(
    { length: 2000 },
    (_, i) => `app == "a${i}" && env in {"prod", "qa"} && !has(quarantine) || tier != 't${i}'`,
  );
  const parses = opsPerSecond(
    () => {
      clearSelectorCache();
      for (const t of texts) parseSelector(t);
    },
    texts.length,
    minMs,
  );
  figures.push({
    name: 'parse_compile_per_s',
    label: 'parse + canonicalise + id + compile (uncached)',
    value: parses,
    unit: 'selectors/s',
    better: 'higher',
  });
  notes.push(`${n} label sets of 6-9 labels; each figure ran at least ${minMs} ms.`);
  return {
    title: `Selector evaluation over ${n.toLocaleString('en-US')} label sets`,
    figures,
    notes,
  };
};

export default bench;
