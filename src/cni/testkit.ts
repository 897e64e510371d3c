/**
 * Test support for the CNI plugins (never imported by production code): the real
 * esbuild bundles in a temp dir laid out like a CNI_PATH directory, namespaces named
 * `ctc<pid>x<rand>-…`, and a runner that execs a plugin from inside a "host" namespace
 * with the runtime's environment and stdin.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sweepStaleNamespaces } from '../testing/netns.js';

const repoRoot = new URL('../../', import.meta.url).pathname;

export interface PluginDir {
  dir: string;
  cleanup(): void;
}

/**
 * Bundles calico, calico-ipam and their lazily loaded commands as scripts/build.mjs does
 * (and, when asked, the node agent as `calico-node.mjs`, run as a process, never imported).
 */
export async function bundlePlugins(withAgent = false): Promise<PluginDir> {
  const { build } = await import('esbuild');
  const dir = mkdtempSync(join(tmpdir(), 'ctc-plugins-'));
  try {
    symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const entries: Record<string, string> = {
      ...(withAgent ? { 'calico-node': 'src/agent/main.ts' } : {}),
      calico: 'src/cni/main.ts',
      'calico-ipam': 'src/cni/ipam-main.ts',
      'cni-commands': 'src/cni/commands.ts',
    };
    await Promise.all(
      Object.entries(entries).map(([name, entry]) =>
        build({
          entryPoints: [join(repoRoot, entry)],
          outfile: join(dir, `${name}.mjs`),
          bundle: true,
          platform: 'node',
          target: 'node20',
          format: 'esm',
          minify: true,
          banner: {
            js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);",
          },
          external: ['better-sqlite3', 'etcd3', 'pino-pretty'],
          logLevel: 'error',
        }),
      ),
    );
    for (const name of ['calico', 'calico-ipam']) {
      const file = join(dir, name);
      writeFileSync(file, `#!/bin/sh\nexec node "$(dirname "$0")/${name}.mjs" "$@"\n`);
      chmodSync(file, 0o755);
    }
    return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Namespaces of one test file; remove() deletes every one it made. */
export class Namespaces {
  readonly prefix = `ctc${process.pid}x${randomBytes(3).toString('hex')}`;
  private readonly made: string[] = [];

  constructor() {
    sweepStaleNamespaces('ctc');
  }

  add(suffix: string): string {
    const name = `${this.prefix}-${suffix}`;
    execFileSync('ip', ['netns', 'add', name]);
    this.made.push(name);
    execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** A "host": forwarding on, and a default route so proxy ARP has somewhere to route. */
  addHost(suffix: string): string {
    const ns = this.add(suffix);
    execFileSync('ip', [
      'netns',
      'exec',
      ns,
      'sysctl',
      '-qw',
      'net.ipv4.ip_forward=1',
      'net.ipv6.conf.all.forwarding=1',
    ]);
    // no dummy module on our machines: a veth pair with both ends in the host will do
    execFileSync('ip', ['-n', ns, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up1']);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'up0', 'up']);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'up1', 'up']);
    execFileSync('ip', ['-n', ns, 'addr', 'add', '10.254.0.1/24', 'dev', 'up0']);
    execFileSync('ip', ['-n', ns, 'route', 'add', 'default', 'via', '10.254.0.2']);
    return ns;
  }

  del(name: string): void {
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }

  remove(): void {
    for (const n of this.made.splice(0)) this.del(n);
  }
}

export interface PluginRun {
  code: number;
  stdout: string;
  stderr: string;
  json: Record<string, unknown> | undefined;
}

export interface PluginCall {
  dir: string;
  plugin: string;
  host: string;
  command: string;
  config: unknown;
  containerId?: string;
  netns?: string;
  ifname?: string;
  args?: string;
  /** extra or overriding environment (undefined deletes) */
  env?: Record<string, string | undefined>;
}

/** Runs the plugin the way a runtime does: `ip netns exec <host>`, env, stdin JSON. */
export function callPlugin(c: PluginCall): Promise<PluginRun> {
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    CNI_COMMAND: c.command,
    CNI_CONTAINERID: c.containerId,
    CNI_NETNS:
      c.netns === undefined
        ? undefined
        : c.netns.startsWith('/')
          ? c.netns
          : `/run/netns/${c.netns}`,
    CNI_IFNAME: c.ifname ?? 'eth0',
    CNI_PATH: `${c.dir}:/usr/lib/cni`,
    CNI_ARGS: c.args,
    ...c.env,
  };
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) clean[k] = v;
  return new Promise((resolve, reject) => {
    const file = existsSync(join(c.dir, c.plugin))
      ? join(c.dir, c.plugin)
      : `/usr/lib/cni/${c.plugin}`;
    const child = spawn('ip', ['netns', 'exec', c.host, file], {
      env: clean,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString();
      let json: Record<string, unknown> | undefined;
      try {
        json = stdout.trim() === '' ? undefined : JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code: code ?? 1, stdout, stderr: Buffer.concat(err).toString(), json });
    });
    child.stdin.end(typeof c.config === 'string' ? c.config : JSON.stringify(c.config));
  });
}

export function ipJson(ns: string, args: string[]): unknown {
  return JSON.parse(execFileSync('ip', ['-n', ns, '-j', ...args], { encoding: 'utf8' }) || '[]');
}
