// `npm run bench -- ctl [--json] [--runs N]`: calicoctl start-up (issue 5: `version` and
// `validate` under 150 ms of wall time). Each round runs `node -e 0` (the floor no Node
// program goes below), `bin/calicoctl version` and `bin/calicoctl validate -f
// examples/lab/policy.yaml` back to back, so load from elsewhere hits them alike; the
// table shows medians with `node -e 0` (without NODE_EXTRA_CA_CERTS) as the baseline.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Benchmark, Figure } from './lib/report.js';

const root = new URL('..', import.meta.url).pathname;

/** The environment without NODE_EXTRA_CA_CERTS, which Node 20 loads eagerly at start. */
const withoutExtraCerts = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => k !== 'NODE_EXTRA_CA_CERTS'),
);

function timeOnce(argv: string[], env: NodeJS.ProcessEnv = process.env): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(argv[0] as string, argv.slice(1), { cwd: root, stdio: 'ignore', env });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited with ${r.status}`);
  return ms;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

const ctl: Benchmark = async (args) => {
  const runsAt = args.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 40;
  const build = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], {
    cwd: root,
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error(`build failed: ${build.stderr}`);
  const commands = {
    node: [process.execPath, '-e', '0'],
    nodeBare: [process.execPath, '-e', '0'],
    version: [join(root, 'bin/calicoctl'), 'version'],
    validate: [join(root, 'bin/calicoctl'), 'validate', '-f', 'examples/lab/policy.yaml'],
  };
  const envOf = (name: string) => (name === 'nodeBare' ? withoutExtraCerts : process.env);
  const samples: Record<keyof typeof commands, number[]> = {
    node: [],
    nodeBare: [],
    version: [],
    validate: [],
  };
  for (const [name, argv] of Object.entries(commands))
    for (let w = 0; w < 3; w++) timeOnce(argv, envOf(name));
  for (let i = 0; i < runs; i++)
    for (const [name, argv] of Object.entries(commands))
      samples[name as keyof typeof commands].push(timeOnce(argv, envOf(name)));
  for (const s of Object.values(samples)) s.sort((a, b) => a - b);
  const median = (k: keyof typeof commands) => quantile(samples[k], 0.5);
  const figures: Figure[] = [
    {
      name: 'version_median_ms',
      label: 'calicoctl version, median wall',
      value: median('version'),
      baseline: median('nodeBare'),
      baselineLabel: 'node -e 0 without extra CA certs',
      unit: 'ms',
      target: 150,
      better: 'lower',
    },
    {
      name: 'validate_median_ms',
      label: 'calicoctl validate (2 policies), median wall',
      value: median('validate'),
      baseline: median('nodeBare'),
      baselineLabel: 'node -e 0 without extra CA certs',
      unit: 'ms',
      target: 150,
      better: 'lower',
    },
    {
      name: 'version_p90_ms',
      label: 'calicoctl version, p90 wall',
      value: quantile(samples.version, 0.9),
      unit: 'ms',
      better: 'lower',
    },
    {
      name: 'validate_p90_ms',
      label: 'calicoctl validate, p90 wall',
      value: quantile(samples.validate, 0.9),
      unit: 'ms',
      better: 'lower',
    },
    {
      name: 'node_median_ms',
      label: `node -e 0, median wall (NODE_EXTRA_CA_CERTS ${process.env.NODE_EXTRA_CA_CERTS === undefined ? 'not set' : 'set'})`,
      value: median('node'),
      unit: 'ms',
      better: 'lower',
    },
    {
      name: 'node_bare_median_ms',
      label: 'node -e 0 without NODE_EXTRA_CA_CERTS, median wall',
      value: median('nodeBare'),
      unit: 'ms',
      better: 'lower',
    },
    {
      name: 'node_min_ms',
      label: 'node -e 0, fastest run',
      value: samples.node[0] as number,
      unit: 'ms',
      better: 'lower',
    },
  ];
  return {
    title: `calicoctl start-up, ${runs} interleaved rounds (baseline: node -e 0 without extra CA certs)`,
    figures,
    notes: [
      'Wall time includes bin/calicoctl (sh) exec-ing node. Node itself is the floor: on this 2-core VM `node -e 0` takes 75-90 ms when quiet, and 40 ms more when NODE_EXTRA_CA_CERTS names a CA bundle (Node 20 parses it at start). bin/calicoctl drops that variable for version, validate, completion and help, which open no connection, so the baseline is node without it. A loaded machine moves every row together, so read the ratio column as well.',
    ],
  };
};

export default ctl;
