// Test support for the agent's integration tests: per-process bundles of calico-node
// and calicoctl (so a concurrent rebuild of dist/ cannot swap a binary under a running
// test), the agent as a real child process, and HTTP/status helpers.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { spawnTracked, tail, terminate } from '../testing/processes.js';

const root = new URL('../../', import.meta.url).pathname;
const banner =
  "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);";

export interface Bundles {
  node: string;
  ctl: string;
  remove(): void;
}

export async function buildBundles(): Promise<Bundles> {
  const node = join(root, `dist/.calico-node-test-${process.pid}.mjs`);
  const ctl = join(root, `dist/.calicoctl-agent-test-${process.pid}.mjs`);
  const common = {
    bundle: true,
    platform: 'node' as const,
    target: 'node20',
    format: 'esm' as const,
    banner: { js: banner },
    external: ['better-sqlite3', 'etcd3', 'pino-pretty'],
    logLevel: 'warning' as const,
  };
  await Promise.all([
    build({ ...common, entryPoints: [join(root, 'src/agent/main.ts')], outfile: node }),
    build({ ...common, entryPoints: [join(root, 'src/ctl/main.ts')], outfile: ctl }),
  ]);
  return {
    node,
    ctl,
    remove() {
      rmSync(node, { force: true });
      rmSync(ctl, { force: true });
    },
  };
}

export interface AgentProcess {
  child: ChildProcess;
  log(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * The bundled agent as a child process; with `netns` it runs inside that namespace
 * (`ip netns exec`, which execs it: same pid) as calico-node does on a real host.
 */
export function startAgent(
  bundle: string,
  env: Record<string, string>,
  netns?: string,
): AgentProcess {
  const [cmd, args] =
    netns === undefined
      ? [process.execPath, [bundle]]
      : ['ip', ['netns', 'exec', netns, process.execPath, bundle]];
  const child = spawnTracked(cmd as string, args as string[], {
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.resume();
  const log = tail(child.stderr, 20000);
  return { child, log, stop: (signal = 'SIGTERM') => terminate(child, signal, 10000) };
}

export function calicoctl(
  bundle: string,
  env: Record<string, string>,
  args: string[],
  input?: string,
) {
  const r = spawnSync(process.execPath, [bundle, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    input,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, `calicoctl ${args.join(' ')} failed: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

export async function httpGet(url: string): Promise<{ status: number; body: string } | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return { status: res.status, body: await res.text() };
  } catch {
    return undefined;
  }
}

/** Value of an unlabelled metric in Prometheus text, or undefined. */
export function metric(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Polls until fn returns a truthy value or the deadline passes; returns the value. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  deadlineMs: number,
  intervalMs = 50,
  context?: () => string,
): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) {
      assert.fail(`timed out after ${deadlineMs} ms waiting for ${what}\n${context?.() ?? ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The policy the tests toggle: ICMP and the flow port always, plus one probe port. */
export function policyYaml(port: number): string {
  return `apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: b-ingress
spec:
  order: 10
  selector: app == 'b'
  types: [Ingress]
  ingress:
    - action: Allow
      protocol: ICMP
    - action: Allow
      protocol: TCP
      source:
        selector: app == 'a'
      destination:
        ports: [${port}, 9000]
`;
}

export function clusterYaml(node: string): string {
  const wep = (n: string, ip: string) => `apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata:
  name: ${node}-k8s-${n}-eth0
  namespace: default
  labels:
    app: ${n}
spec:
  orchestrator: k8s
  node: ${node}
  pod: ${n}
  endpoint: eth0
  interfaceName: cali${n}${n}${n}
  ipNetworks: ["${ip}/32"]
`;
  return [
    `apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: allow-egress
spec:
  selector: all()
  types: [Egress]
  egress:
    - action: Allow
`,
    wep('a', '10.65.0.2'),
    wep('b', '10.65.0.3'),
    policyYaml(8080),
  ].join('---\n');
}

/** A node one-liner: a TCP echo server on port 9000. */
export const ECHO_SERVER = `require('node:net').createServer((c)=>{c.on('error',()=>{});c.pipe(c);}).listen(9000,'0.0.0.0',()=>console.log('listening'));`;

/**
 * A node one-liner: one long-lived connection, a line every 20 ms; prints "ERR …" if the
 * connection breaks and, on SIGTERM, "STATS <sent> <received>" after the echoes drain.
 */
export const FLOW_CLIENT = `
const c=require('node:net').connect(9000,process.argv[1]);let sent=0,recv=0,open=false;
c.on('connect',()=>{open=true;console.log('connected');});
c.on('data',(b)=>{recv+=b.length;});
c.on('error',(e)=>console.log('ERR '+e.code));
c.on('close',()=>console.log('ERR closed'));
const t=setInterval(()=>{if(open){c.write('x');sent++;}},20);
process.on('SIGTERM',()=>{clearInterval(t);setTimeout(()=>{console.log('STATS '+sent+' '+recv);process.exit(0);},500);});
`;

export async function stopAll(agents: AgentProcess[]): Promise<void> {
  for (const a of agents) await a.stop('SIGKILL').catch(() => undefined);
}
