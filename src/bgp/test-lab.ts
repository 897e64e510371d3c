// Test-only support for bgp integration tests: our speaker as a process inside a network
// namespace, real BIRD, GoBGP and FRR daemons in their own namespaces, and kernel route
// inspection. Production code never imports this file.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { NetnsLab, run } from '../testing/netns.js';
import type { PeerStatus, RouteSnapshot } from './types.js';

export const SPEAKER_MAIN = new URL('./speaker-process.ts', import.meta.url).pathname;

export async function waitFor<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 30000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      throw new Error(
        `timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function tailOf(child: ChildProcess, max = 6000): () => string {
  let text = '';
  const add = (b: Buffer) => {
    text = (text + b.toString()).slice(-max);
  };
  child.stderr?.on('data', add);
  return () => text;
}

export interface KernelRoute {
  dst: string;
  gateway?: string;
  nexthops?: Array<{ gateway: string }>;
  protocol?: string;
}

/** Kernel routes in `ns` with protocol `proto` (number or name), both families. */
export async function kernelRoutes(
  ns: string,
  proto: string | number,
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const fam of ['-4', '-6']) {
    const r = await run(['ip', '-n', ns, '-j', fam, 'route', 'show', 'proto', String(proto)]);
    const list = JSON.parse(r.stdout || '[]') as KernelRoute[];
    for (const route of list) {
      const dst = route.dst.includes('/') ? route.dst : `${route.dst}/${fam === '-4' ? 32 : 128}`;
      const hops = route.nexthops
        ? route.nexthops.map((n) => n.gateway)
        : route.gateway
          ? [route.gateway]
          : [];
      out.set(dst, hops.sort());
    }
  }
  return out;
}

/** Count of routes with `proto` in `ns` (cheap enough to poll with 100k routes). */
export async function countKernelRoutes(ns: string, proto: string | number): Promise<number> {
  let n = 0;
  for (const fam of ['-4', '-6']) {
    const r = await run(['ip', '-n', ns, fam, 'route', 'show', 'proto', String(proto)]);
    for (let i = r.stdout.indexOf('\n'); i >= 0; i = r.stdout.indexOf('\n', i + 1)) n++;
  }
  return n;
}

export interface SpeakerProcess {
  child: ChildProcess;
  pid: number;
  request<T = unknown>(op: string, args?: Record<string, unknown>): Promise<T>;
  status(): Promise<PeerStatus[]>;
  routes(): Promise<RouteSnapshot[]>;
  established(address: string): Promise<boolean>;
  events: Array<Record<string, unknown>>;
  logs(): string;
  exited: Promise<void>;
}

export class BgpLab {
  readonly lab: NetnsLab;
  readonly dir: string;
  private seq = 0;
  /** paths outside `dir` that daemons create for themselves, removed after they are killed */
  private readonly leftovers: string[] = [];

  constructor(base = 'ctb') {
    this.lab = new NetnsLab(base);
    this.dir = mkdtempSync(join(tmpdir(), 'ctb-'));
  }

  async cleanup(): Promise<void> {
    await this.lab.cleanup();
    rmSync(this.dir, { recursive: true, force: true });
    for (const p of this.leftovers) rmSync(p, { recursive: true, force: true });
  }

  ns(suffix: string): Promise<string> {
    return this.lab.addNamespace(suffix);
  }

  /** A veth between two namespaces with v4 /24 (and v6 /64) addresses on both ends. */
  async link(
    a: string,
    ifA: string,
    b: string,
    ifB: string,
    v4: [string, string],
    v6?: [string, string],
  ): Promise<void> {
    await this.lab.veth(a, ifA, b, ifB);
    for (const [ns, ifn, i] of [
      [a, ifA, 0],
      [b, ifB, 1],
    ] as const) {
      await this.lab.sh(
        ns,
        `sysctl -qw net.ipv6.conf.${ifn}.accept_dad=0 net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1`,
      );
      const lines = [`addr add ${v4[i]}/24 dev ${ifn}`, `link set ${ifn} up`];
      if (v6) lines.unshift(`addr add ${v6[i]}/64 dev ${ifn} nodad`);
      await this.lab.ipBatch(ns, lines);
    }
  }

  file(name: string, text: string): string {
    const p = join(this.dir, name);
    writeFileSync(p, text);
    return p;
  }

  /** Our speaker (src/bgp/speaker-process.ts) inside `ns`, configured by `cfg`. */
  async speaker(
    ns: string,
    cfg: Record<string, unknown>,
    /** how to run speaker-process (default: through tsx from source) */
    command: string[] = [process.execPath, '--import', 'tsx', SPEAKER_MAIN],
  ): Promise<SpeakerProcess> {
    const n = ++this.seq;
    // Never the production default path: parallel tests would share one file.
    const withStatus = { statusFile: join(this.dir, `status-${ns}-${n}.json`), ...cfg };
    const path = this.file(`speaker-${ns}-${n}.json`, JSON.stringify(withStatus));
    const child = this.lab.spawn(ns, [...command, path]);
    const logs = tailOf(child, 20000);
    const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
    const events: Array<Record<string, unknown>> = [];
    let id = 0;
    let readyResolve!: () => void;
    let readyReject!: (e: Error) => void;
    const ready = new Promise<void>((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    void exited.then(() => {
      readyReject(new Error(`speaker in ${ns} exited before ready: ${logs()}`));
      for (const p of pending.values()) p.reject(new Error(`speaker in ${ns} exited`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (typeof msg.id === 'number') {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.ok) p?.resolve(msg.result);
        else p?.reject(new Error(String(msg.error)));
      } else {
        events.push(msg);
        if (msg.event === 'ready') readyResolve();
      }
    });
    await ready;
    const request = <T>(op: string, args: Record<string, unknown> = {}): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        const n = ++id;
        pending.set(n, { resolve: resolve as (v: unknown) => void, reject });
        child.stdin!.write(`${JSON.stringify({ id: n, op, ...args })}\n`);
      });
    const sp: SpeakerProcess = {
      child,
      pid: child.pid!,
      request,
      status: () => request<PeerStatus[]>('status'),
      routes: () => request<RouteSnapshot[]>('routes'),
      async established(address: string) {
        const st = await request<PeerStatus[]>('status');
        return st.some((s) => s.address === address && s.bgpState === 'Established');
      },
      events,
      logs,
      exited,
    };
    return sp;
  }

  /** BIRD 2 in the foreground inside `ns`; `restart` starts it again with new args. */
  bird(ns: string, name: string, conf: string) {
    const confPath = this.file(`${name}.conf`, conf);
    const sock = join(this.dir, `${name}.ctl`);
    const lab = this.lab;
    let child: ChildProcess | undefined;
    let logs = () => '';
    const start = async (extra: string[] = []) => {
      child = lab.spawn(ns, [
        'bird',
        '-f',
        '-c',
        confPath,
        '-s',
        sock,
        '-P',
        join(this.dir, `${name}.pid`),
        ...extra,
      ]);
      logs = tailOf(child, 20000);
      child.stdout?.resume();
      await waitFor(`bird ${name} control socket`, async () => {
        const r = await run(['birdc', '-s', sock, 'show', 'status'], { allowFail: true });
        return r.code === 0 && r.stdout.includes('Daemon is up');
      });
    };
    return {
      confPath,
      start,
      get pid(): number {
        return child!.pid!;
      },
      get child(): ChildProcess {
        return child!;
      },
      logs: () => logs(),
      async birdc(...cmd: string[]): Promise<string> {
        return (await run(['birdc', '-s', sock, ...cmd])).stdout;
      },
      async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
        const c = child!;
        if (c.exitCode !== null || c.signalCode !== null) return;
        const done = new Promise<void>((r) => c.once('exit', () => r()));
        process.kill(c.pid!, signal);
        await done;
      },
      writeConf(text: string) {
        writeFileSync(confPath, text);
      },
    };
  }

  /** gobgpd in the foreground inside `ns`; the gobgp CLI reaches it on the ns loopback. */
  async gobgp(ns: string, toml: string) {
    const path = this.file(`gobgp-${ns}.toml`, toml);
    const child = this.lab.spawn(ns, ['gobgpd', '-f', path, '-p', '--pprof-disable']);
    const logs = tailOf(child, 20000);
    child.stdout?.on('data', () => {});
    const cli = async (...args: string[]) => (await this.lab.exec(ns, ['gobgp', ...args])).stdout;
    await waitFor('gobgpd API', async () => (await cli('global')).includes('AS'));
    return { child, cli, logs, pid: child.pid! };
  }

  /**
   * FRR's bgpd alone (`-Z`: no zebra, so no kernel routes on its side) in the foreground
   * inside `ns`, with its config, pid file and vty socket in a directory of its own under
   * the lab's temp dir; `-S` skips the switch to user frr (the dir stays root's), `-P 0`
   * opens no TCP vty. `vtysh` reaches it through the socket from any namespace.
   */
  async frr(ns: string, conf: string) {
    const dir = join(this.dir, `frr-${ns}`);
    mkdirSync(dir);
    const confPath = join(dir, 'bgpd.conf');
    writeFileSync(confPath, conf);
    const child = this.lab.spawn(ns, [
      '/usr/lib/frr/bgpd',
      '-f',
      confPath,
      '-i',
      join(dir, 'bgpd.pid'),
      '--vty_socket',
      dir,
      '-Z',
      '-S',
      '-P',
      '0',
      '--log',
      'stdout',
    ]);
    // FRR's crash-log dir; a clean exit removes it, the SIGKILL of cleanup() does not.
    // `ip netns exec` execs bgpd, so the child's pid is bgpd's.
    this.leftovers.push(`/var/tmp/frr/bgpd.${child.pid}`);
    let text = '';
    child.stdout?.on('data', (b: Buffer) => {
      text = (text + b.toString()).slice(-20000);
    });
    const stderr = tailOf(child);
    const vtysh = async (...cmds: string[]): Promise<string> =>
      (await run(['vtysh', '--vty_socket', dir, ...cmds.flatMap((c) => ['-c', c])])).stdout;
    const json = async <T = Record<string, unknown>>(cmd: string): Promise<T> =>
      JSON.parse(await vtysh(`${cmd} json`)) as T;
    await waitFor('FRR bgpd vty', async () => (await vtysh('show bgp summary')).length > 0);
    return { child, pid: child.pid!, vtysh, json, logs: () => text + stderr() };
  }
}
