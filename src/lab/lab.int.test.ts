// The lab end to end, through the real executables: 3 hosts × 3 workloads built with
// calico-node and the CNI plugin, all-pairs ping and TCP, a policy applied with
// calicoctl and the resulting matrix compared with the policy engine's own answer
// (`calicoctl policy matrix`), then `down` must leave nothing behind.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import type { LabStatus, ProbeReport } from './index.js';
import { endpointName } from './index.js';
import { repoRoot } from './paths.js';

const root = repoRoot();
const dir = join(mkdtempSync(join(tmpdir(), 'calico-lab-test-')), 'lab');
const env = { ...process.env, CALICO_LAB_DIR: dir };

function lab(...args: string[]): string {
  const r = spawnSync(join(root, 'bin', 'calico-lab'), args, { env, encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`calico-lab ${args.join(' ')} exited ${r.status}: ${r.stderr}\n${r.stdout}`);
  }
  return r.stdout;
}

function labId(): string {
  return (JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { id: string }).id;
}

function markedProcesses(id: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/environ`, 'latin1').split('\0').includes(`CALICO_LAB_ID=${id}`))
        out.push(Number(p));
    } catch {
      // gone
    }
  }
  return out;
}

function namespacesWith(prefix: string): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(prefix));
}

function connectedSet(report: ProbeReport): string[] {
  return report.results
    .filter((r) => r.connected)
    .map((r) => `${r.from} -> ${r.to}`)
    .sort();
}

before(() => {
  // the lab drives the bundles, so they must match the source under test
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'ignore' });
});

// temporary parents of the lab directories; `down` removes the lab directories themselves
const tempDirs: string[] = [dirname(dir)];

after(() => {
  if (existsSync(join(dir, 'state.json')))
    spawnSync(join(root, 'bin', 'calico-lab'), ['down'], { env });
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

test('3 hosts × 3 workloads: connectivity, policy enforced as the policy engine says, clean down', {
  timeout: 600_000,
}, async () => {
  lab('up', '--hosts', '3', '--workloads', '3', '--quiet');
  const prefix = `cl${labId()}-`;
  const status = JSON.parse(lab('status', '-o', 'json')) as LabStatus;
  assert.deepEqual(
    status.hosts.map((h) => [h.name, h.agentRunning]),
    [
      ['host1', true],
      ['host2', true],
      ['host3', true],
    ],
  );
  assert.equal(status.workloads.length, 9);
  for (const w of status.workloads) {
    assert.match(w.address ?? '', /^10\.251\./);
    assert.match(w.interface, /^cali[0-9a-f]{11}$/);
  }
  assert.equal(status.env.DATASTORE_TYPE, 'embedded');

  const ping = JSON.parse(lab('probe', '--protocol', 'icmp', '-o', 'json')) as ProbeReport;
  assert.equal(ping.results.length, 72);
  assert.deepEqual(
    ping.results.filter((r) => !r.connected),
    [],
  );
  const tcp = JSON.parse(lab('probe', '-o', 'json')) as ProbeReport;
  assert.equal(tcp.results.length, 72);
  assert.deepEqual(
    tcp.results.filter((r) => !r.connected),
    [],
  );
  const udp = JSON.parse(lab('probe', '--protocol', 'udp', '-o', 'json')) as ProbeReport;
  assert.deepEqual(
    udp.results.filter((r) => !r.connected),
    [],
  );

  // Cross-host routes are BGP's: the router (BIRD) learned every host's blocks, and a
  // namespace behind the router with nothing but a default route reaches a workload.
  const router = execFileSync('ip', ['-n', status.router, 'route', 'show', 'proto', 'bird'], {
    encoding: 'utf8',
  });
  for (const [i, h] of status.hosts.entries())
    assert.match(router, new RegExp(`via ${h.address.replaceAll('.', '\\.')} dev r${i + 1}`));
  assert.ok(status.outside);
  const target = status.workloads.find((w) => w.host === 'host3')!;
  execFileSync('ip', [
    'netns',
    'exec',
    status.outside!,
    'ping',
    '-c',
    '1',
    '-W',
    '2',
    target.address!,
  ]);
  const nodeStatus = execFileSync(
    join(root, 'bin', 'calicoctl'),
    ['node', 'status', '--status-file', status.hosts[0]!.bgpStatusFile],
    { encoding: 'utf8' },
  );
  assert.match(nodeStatus, /\| 10\.250\.0\.1 +\| global +\| up +\| [0-9:]+ \| Established +\|/);

  const ctlEnv = { ...process.env, ...status.env };
  execFileSync(
    join(root, 'bin', 'calicoctl'),
    ['apply', '-f', join(root, 'examples', 'lab', 'policy.yaml')],
    {
      env: ctlEnv,
    },
  );
  const oracle = JSON.parse(
    execFileSync(
      join(root, 'bin', 'calicoctl'),
      ['policy', 'matrix', '--protocol', 'TCP', '--port', '80', '-o', 'json'],
      { env: ctlEnv, encoding: 'utf8' },
    ),
  ) as { results: { from: string; to: string; verdict: string }[] };
  // the policy engine names endpoints namespace/endpoint-name; the lab namespace/pod
  const byEndpoint = new Map(
    status.workloads.map((w) => [
      `${w.namespace}/${endpointName(w.host, w.name)}`,
      `${w.namespace}/${w.name}`,
    ]),
  );
  const expected = oracle.results
    .filter((r) => r.verdict === 'Allow')
    .map((r) => `${byEndpoint.get(r.from)} -> ${byEndpoint.get(r.to)}`)
    .sort();
  assert.equal(oracle.results.length, 72);
  assert.ok(
    expected.length > 0 && expected.length < 72,
    'the policy allows some flows and denies others',
  );

  // the agents program the policy asynchronously: give them a bounded while to converge
  let got: string[] = [];
  const deadline = Date.now() + 90_000;
  do {
    got = connectedSet(JSON.parse(lab('probe', '-o', 'json')) as ProbeReport);
    if (JSON.stringify(got) === JSON.stringify(expected)) break;
  } while (Date.now() < deadline);
  assert.deepEqual(got, expected);

  // Anycast (examples/lab/anycast.yaml): a service IP advertised by every host (serviceExternalIPs)
  // is one ECMP route on the router; when host3 stops, its path goes after the
  // restart time it advertised (the lab's BGPPeer maxRestartTime, 10 s) and the other two stay.
  const anycast = '10.252.0.7';
  execFileSync(
    join(root, 'bin', 'calicoctl'),
    ['apply', '-f', join(root, 'examples', 'lab', 'anycast.yaml')],
    { env: ctlEnv },
  );
  const hopsOf = () => {
    const text = execFileSync('ip', ['-n', status.router, 'route', 'show', `${anycast}/32`], {
      encoding: 'utf8',
    });
    return [...text.matchAll(/via (\S+)/g)].map((m) => m[1]).sort();
  };
  const waitHops = async (want: string[], ms: number) => {
    const end = Date.now() + ms;
    let got = hopsOf();
    while (JSON.stringify(got) !== JSON.stringify(want) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 100));
      got = hopsOf();
    }
    assert.deepEqual(got, want);
  };
  await waitHops(['10.250.1.2', '10.250.2.2', '10.250.3.2'], 30_000);
  process.kill(status.hosts[2]!.agentPid!, 'SIGTERM');
  await waitHops(['10.250.1.2', '10.250.2.2'], 40_000);

  const id = labId();
  lab('down');
  assert.deepEqual(namespacesWith(prefix), []);
  assert.deepEqual(markedProcesses(id), []);
  assert.equal(existsSync(dir), false);
});

test('down after an up killed half way removes everything it had made', {
  timeout: 300_000,
}, async () => {
  const crashDir = join(mkdtempSync(join(tmpdir(), 'calico-lab-crash-')), 'lab');
  tempDirs.push(dirname(crashDir));
  const crashEnv = { ...process.env, CALICO_LAB_DIR: crashDir };
  const child = spawn(
    join(root, 'bin', 'calico-lab'),
    ['up', '--hosts', '2', '--workloads', '2', '-q'],
    {
      env: crashEnv,
      stdio: 'ignore',
    },
  );
  const exited = new Promise((r) => child.on('close', r));
  // kill it once both agents are running, so processes and namespaces exist
  const state = () => {
    try {
      return JSON.parse(readFileSync(join(crashDir, 'state.json'), 'utf8')) as {
        id: string;
        prefix: string;
        hosts: { agentPid?: number }[];
      };
    } catch {
      return undefined;
    }
  };
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const s = state();
    if (s !== undefined && s.hosts.length === 2 && s.hosts.every((h) => h.agentPid !== undefined))
      break;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  await exited;
  const s = state();
  assert.ok(s !== undefined);
  assert.ok(namespacesWith(s.prefix).length >= 3, 'the killed up had made namespaces');
  assert.ok(markedProcesses(s.id).length >= 2, 'the killed up had started agents');
  const r = spawnSync(join(root, 'bin', 'calico-lab'), ['down'], {
    env: crashEnv,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(namespacesWith(s.prefix), []);
  assert.deepEqual(markedProcesses(s.id), []);
  assert.equal(existsSync(crashDir), false);
});
