// Test-only network namespace lab: uniquely named namespaces, veths between them,
// Calico-style workload plumbing (toolbox.md §3), listeners and probes that run inside
// namespaces, and cleanup that removes exactly what this process created.
//
// Names embed the creating process's pid (`<base><pid>x<rand>-<suffix>`) so the
// sweeper can tell a crashed run's leftovers (pid gone) from a parallel live run's.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  input?: string;
  /** resolve with the non-zero code instead of rejecting */
  allowFail?: boolean;
  timeoutMs?: number;
}

export class CommandError extends Error {
  readonly code = 'COMMAND_FAILED';
  constructor(
    readonly argv: readonly string[],
    readonly result: ExecResult,
  ) {
    super(
      `Command failed (exit ${result.code}): ${argv.join(' ')}: ${result.stderr.trim().slice(0, 2000)}`,
    );
  }
}

/** Runs argv (no shell) and collects its output. */
export function run(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs !== undefined)
      timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const result = {
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      };
      if (result.code !== 0 && !opts.allowFail) reject(new CommandError(argv, result));
      else resolve(result);
    });
    child.stdin.on('error', () => {
      // the command may exit before reading its input; its exit code tells the story
    });
    child.stdin.end(opts.input ?? '');
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function listNamespaces(): string[] {
  const out = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.length > 0);
}

/**
 * Deletes namespaces named `<base><pid>x…` whose creating pid is no longer alive:
 * leftovers of crashed earlier runs. Live runs (including parallel test files) keep theirs.
 */
export function sweepStaleNamespaces(base = 'ctd'): string[] {
  const re = new RegExp(`^${base.replace(/[^a-z0-9]/gi, '')}(\\d+)x[0-9a-f]+-`);
  const removed: string[] = [];
  for (const ns of listNamespaces()) {
    const m = re.exec(ns);
    if (!m) continue;
    if (pidAlive(Number(m[1]))) continue;
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      removed.push(ns);
    } catch {
      // raced with another sweeper
    }
  }
  return removed;
}

export type ProbeResult = 'open' | 'refused' | 'timeout' | 'error';

export interface TcpUdpProbe {
  kind: 'tcp' | 'udp';
  dst: string;
  port: number;
  /** bind to this local address (must exist in the namespace) */
  src?: string;
  timeoutMs?: number;
}

export interface PingProbe {
  kind: 'ping';
  dst: string;
  src?: string;
  timeoutMs?: number;
}

export type Probe = TcpUdpProbe | PingProbe;

// The agent runs inside a namespace (`ip netns exec NS node -e …`) and serves
// newline-delimited JSON requests, so a test can send hundreds of probes without paying
// a process start per probe. TCP listeners greet and close; UDP listeners echo.
const AGENT_SOURCE = String.raw`
const net = require('node:net');
const dgram = require('node:dgram');
const { spawn } = require('node:child_process');
const readline = require('node:readline');
const servers = [];
function reply(o) { process.stdout.write(JSON.stringify(o) + '\n'); }
async function listen(req) {
  for (const port of req.tcp || []) {
    const s = net.createServer((c) => { c.on('error', () => {}); c.end('ok\n'); });
    await new Promise((res, rej) => { s.once('error', rej); s.listen({ port, host: '::', ipv6Only: false }, res); });
    servers.push(s);
  }
  for (const port of req.udp || []) {
    const s = dgram.createSocket({ type: 'udp6', ipv6Only: false });
    s.on('message', (m, r) => s.send(m, r.port, r.address));
    s.on('error', () => {});
    await new Promise((res, rej) => { s.once('error', rej); s.bind(port, '::', res); });
    servers.push(s);
  }
}
function tcp(req) {
  return new Promise((res) => {
    const opts = { host: req.dst, port: req.port };
    if (req.src) opts.localAddress = req.src;
    const c = net.connect(opts);
    // A busy event loop can run the timer before the connect callback; the socket state
    // is the truth.
    const t = setTimeout(() => { const ok = !c.connecting && !c.destroyed; c.destroy(); res(ok ? 'open' : 'timeout'); }, req.timeoutMs);
    c.on('connect', () => { clearTimeout(t); c.destroy(); res('open'); });
    c.on('error', (e) => { clearTimeout(t); res(e.code === 'ECONNREFUSED' ? 'refused' : 'error:' + e.code); });
  });
}
function udp(req) {
  return new Promise((res) => {
    const s = dgram.createSocket(net.isIPv6(req.dst) ? 'udp6' : 'udp4');
    let done = false;
    const finish = (v) => { if (done) return; done = true; clearTimeout(t); s.close(); res(v); };
    const t = setTimeout(() => finish('timeout'), req.timeoutMs);
    s.on('message', () => finish('open'));
    s.on('error', (e) => finish(e.code === 'ECONNREFUSED' ? 'refused' : 'error:' + e.code));
    s.bind({ port: 0, address: req.src }, () => {
      s.connect(req.port, req.dst, (e) => {
        if (e) return finish('error:' + e.code);
        s.send('probe');
      });
    });
  });
}
function ping(req) {
  return new Promise((res) => {
    const secs = Math.max(1, Math.ceil(req.timeoutMs / 1000));
    const args = ['-n', '-q', '-c', '1', '-W', String(secs)];
    if (req.src) args.push('-I', req.src);
    args.push(req.dst);
    const p = spawn('ping', args, { stdio: 'ignore' });
    p.on('close', (code) => res(code === 0 ? 'open' : 'timeout'));
    p.on('error', () => res('error'));
  });
}
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  let req;
  try { req = JSON.parse(line); } catch { return; }
  try {
    if (req.op === 'listen') { await listen(req); reply({ id: req.id, result: 'ok' }); return; }
    const fn = req.kind === 'tcp' ? tcp : req.kind === 'udp' ? udp : ping;
    reply({ id: req.id, result: await fn(req) });
  } catch (e) { reply({ id: req.id, result: 'error', message: String(e && e.message) }); }
});
rl.on('close', () => process.exit(0));
reply({ id: 0, result: 'ready' });
`;

/** A long-lived helper process inside one namespace: listeners plus a probe server. */
export class NetnsAgent {
  private nextId = 1;
  private readonly pending = new Map<number, (r: string) => void>();
  private readonly ready: Promise<void>;

  constructor(
    readonly netns: string,
    private readonly child: ChildProcess,
  ) {
    let markReady: () => void = () => {};
    let fail: (e: Error) => void = () => {};
    this.ready = new Promise<void>((res, rej) => {
      markReady = res;
      fail = rej;
    });
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      let msg: { id: number; result: string; message?: string };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        return;
      }
      if (msg.id === 0) {
        markReady();
        return;
      }
      const cb = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      cb?.(msg.result === 'error' && msg.message ? `error:${msg.message}` : msg.result);
    });
    child.on('exit', (code) => {
      fail(new Error(`probe agent in ${netns} exited with ${code}`));
      for (const cb of this.pending.values()) cb('error:agent-exited');
      this.pending.clear();
    });
  }

  private request(body: Record<string, unknown>): Promise<string> {
    return this.ready.then(
      () =>
        new Promise<string>((resolve) => {
          const id = this.nextId++;
          this.pending.set(id, resolve);
          this.child.stdin!.write(`${JSON.stringify({ id, ...body })}\n`);
        }),
    );
  }

  async listen(ports: { tcp?: number[]; udp?: number[] }): Promise<void> {
    const r = await this.request({ op: 'listen', tcp: ports.tcp ?? [], udp: ports.udp ?? [] });
    if (r !== 'ok') throw new Error(`listen in ${this.netns} failed: ${r}`);
  }

  /**
   * 'open' = connected/echoed/replied; 'timeout' = silently dropped somewhere.
   * Without an explicit `timeoutMs`, a first timeout is confirmed by a second, longer
   * probe: on a loaded CI machine a healthy path can miss one second (scheduling, the
   * first neighbour resolution), and a test must not read that as a drop. Pass
   * `timeoutMs` where a quick drop verdict is what the test wants.
   */
  async probe(p: Probe): Promise<ProbeResult> {
    let r = await this.request({ ...p, timeoutMs: p.timeoutMs ?? 1000 });
    if (r === 'timeout' && p.timeoutMs === undefined)
      r = await this.request({ ...p, timeoutMs: 3000 });
    if (r === 'open' || r === 'refused' || r === 'timeout') return r;
    return 'error';
  }
}

export interface WorkloadSpec {
  /** namespace suffix, e.g. `wl1` */
  name: string;
  /** host-side interface (≤ 15 chars, usually `cali…`) */
  ifname: string;
  ipv4?: string;
  ipv6?: string;
}

export interface Workload {
  netns: string;
  ifname: string;
  ipv4?: string;
  ipv6?: string;
}

export interface HostWithWorkloads {
  host: string;
  /** a namespace routed via the host's uplink `eth0`, standing for the rest of the world */
  outside: string;
  hostUplinkV4: string;
  hostUplinkV6: string;
  outsideV4: string;
  outsideV6: string;
  workloads: Workload[];
}

const GATEWAY_V6 = 'fe80::ecee:eeff:feee:eeee';

/**
 * Owns every namespace and process it creates. `cleanup()` (also run on process exit)
 * kills only its own children by pid and deletes only its own namespaces.
 */
export class NetnsLab {
  readonly prefix: string;
  private readonly namespaces = new Set<string>();
  private readonly children = new Set<ChildProcess>();
  private readonly exitHook = () => this.cleanupSync();

  constructor(base = 'ctd') {
    sweepStaleNamespaces(base);
    this.prefix = `${base}${process.pid}x${randomBytes(3).toString('hex')}`;
    process.on('exit', this.exitHook);
  }

  name(suffix: string): string {
    return `${this.prefix}-${suffix}`;
  }

  /** Creates `<prefix>-<suffix>` with lo up; returns its full name. */
  async addNamespace(suffix: string): Promise<string> {
    const ns = this.name(suffix);
    await run(['ip', 'netns', 'add', ns]);
    this.namespaces.add(ns);
    await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** Runs argv inside the namespace. */
  exec(netns: string, argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return run(['ip', 'netns', 'exec', netns, ...argv], opts);
  }

  /** Runs a shell script inside the namespace. */
  sh(netns: string, script: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return this.exec(netns, ['sh', '-ec', script], opts);
  }

  /** `ip -batch -` inside the namespace. */
  ipBatch(netns: string, lines: readonly string[]): Promise<ExecResult> {
    return run(['ip', '-n', netns, '-batch', '-'], { input: `${lines.join('\n')}\n` });
  }

  nft(netns: string, script: string): Promise<ExecResult> {
    return this.exec(netns, ['nft', '-f', '-'], { input: script });
  }

  /** A veth pair with one end in each namespace (created there directly, never in the root). */
  async veth(nsA: string, ifA: string, nsB: string, ifB: string, macA?: string): Promise<void> {
    const argv = ['ip', 'link', 'add', ifA, 'netns', nsA];
    if (macA) argv.push('address', macA);
    argv.push('type', 'veth', 'peer', 'name', ifB, 'netns', nsB);
    await run(argv);
  }

  /** Starts a long-running command in the namespace; it is killed on cleanup. */
  spawn(netns: string, argv: readonly string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', netns, ...argv], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    child.on('error', () => this.children.delete(child));
    return child;
  }

  /** A probe/listener agent inside the namespace. */
  agent(netns: string): NetnsAgent {
    const child = this.spawn(netns, [process.execPath, '-e', AGENT_SOURCE]);
    child.stderr!.resume();
    return new NetnsAgent(netns, child);
  }

  /**
   * A continuous `ping -i <interval>`; `stop()` interrupts it and returns the counts
   * from its summary line.
   */
  startPing(
    netns: string,
    dst: string,
    intervalS = 0.01,
  ): { stop(): Promise<{ transmitted: number; received: number }> } {
    const child = this.spawn(netns, ['ping', '-n', '-q', '-i', String(intervalS), dst]);
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.stderr!.resume();
    const closed = new Promise<void>((res) => child.on('close', () => res()));
    // An interrupt before ping has installed its SIGINT handler kills it silently,
    // without the summary we need. ping prints its header just before installing the
    // handler, so wait for the header and then a little longer.
    const started = new Promise<void>((res) => {
      const check = () => {
        if (out.includes('PING')) setTimeout(res, 200);
      };
      child.stdout!.on('data', check);
      void closed.then(() => res());
      setTimeout(res, 3000).unref();
    });
    return {
      async stop() {
        await started;
        child.kill('SIGINT');
        await closed;
        const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
        if (!m) throw new Error(`ping ${dst} in ${netns} printed no summary: ${out}`);
        return { transmitted: Number(m[1]), received: Number(m[2]) };
      },
    };
  }

  /**
   * One host namespace, one "outside" namespace behind the host's uplink, and one
   * namespace per workload behind a `cali*` veth wired as Calico's CNI plugin does.
   */
  async hostWithWorkloads(
    specs: readonly WorkloadSpec[],
    opts: { hostSuffix?: string; uplinkV4?: string; uplinkV6?: string } = {},
  ): Promise<HostWithWorkloads> {
    const host = await this.addNamespace(opts.hostSuffix ?? 'host');
    const outside = await this.addNamespace(`${opts.hostSuffix ?? 'host'}-out`);
    const v4net = opts.uplinkV4 ?? '10.99.0';
    const v6net = opts.uplinkV6 ?? 'fd00:99::';
    const hostUplinkV4 = `${v4net}.1`;
    const outsideV4 = `${v4net}.2`;
    const hostUplinkV6 = `${v6net}1`;
    const outsideV6 = `${v6net}2`;
    await this.veth(host, 'eth0', outside, 'eth0');
    // Forwarding first: proxy ARP only answers for destinations the host can route
    // elsewhere, so the uplink and its default route must exist before workloads ARP.
    await this.sh(
      host,
      'sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.eth0.accept_dad=0',
    );
    await this.sh(outside, 'sysctl -qw net.ipv6.conf.eth0.accept_dad=0');
    await this.ipBatch(host, [
      `addr add ${hostUplinkV4}/24 dev eth0`,
      `addr add ${hostUplinkV6}/64 dev eth0 nodad`,
      'link set eth0 up',
      `route add default via ${outsideV4}`,
      `route add default via ${outsideV6}`,
    ]);
    await this.ipBatch(outside, [
      `addr add ${outsideV4}/24 dev eth0`,
      `addr add ${outsideV6}/64 dev eth0 nodad`,
      'link set eth0 up',
      `route add default via ${hostUplinkV4}`,
      `route add default via ${hostUplinkV6}`,
    ]);
    const workloads: Workload[] = [];
    for (const spec of specs) workloads.push(await this.addWorkload(host, spec));
    return { host, outside, hostUplinkV4, hostUplinkV6, outsideV4, outsideV6, workloads };
  }

  /** Adds one workload namespace behind `spec.ifname` in `host` (toolbox.md §3). */
  async addWorkload(host: string, spec: WorkloadSpec): Promise<Workload> {
    const wl = await this.addNamespace(spec.name);
    await this.veth(host, spec.ifname, wl, 'eth0', 'ee:ee:ee:ee:ee:ee');
    const IF = spec.ifname;
    // accept_dad=0 before link up, or the host's link-local gateway stays tentative ~1-2 s.
    await this.sh(
      host,
      `echo 1 > /proc/sys/net/ipv4/conf/${IF}/proxy_arp
echo 0 > /proc/sys/net/ipv4/neigh/${IF}/proxy_delay
echo 0 > /proc/sys/net/ipv6/conf/${IF}/accept_dad
ip link set ${IF} up`,
    );
    const hostRoutes: string[] = [];
    const wlLines: string[] = ['link set eth0 up'];
    if (spec.ipv4) {
      wlLines.push(
        `addr add ${spec.ipv4}/32 dev eth0`,
        'route add 169.254.1.1 dev eth0 scope link',
        'route add default via 169.254.1.1 dev eth0',
      );
      hostRoutes.push(`route add ${spec.ipv4}/32 dev ${IF} scope link`);
    }
    if (spec.ipv6) {
      wlLines.push(
        `addr add ${spec.ipv6}/128 dev eth0 nodad`,
        `route add default via ${GATEWAY_V6} dev eth0`,
      );
      hostRoutes.push(`route add ${spec.ipv6}/128 dev ${IF}`);
    }
    await this.sh(wl, 'echo 0 > /proc/sys/net/ipv6/conf/eth0/accept_dad');
    await this.ipBatch(wl, wlLines);
    if (hostRoutes.length > 0) await this.ipBatch(host, hostRoutes);
    return { netns: wl, ifname: IF, ipv4: spec.ipv4, ipv6: spec.ipv6 };
  }

  async deleteNamespace(ns: string): Promise<void> {
    if (!this.namespaces.has(ns)) throw new Error(`namespace ${ns} is not owned by this lab`);
    await run(['ip', 'netns', 'del', ns], { allowFail: true });
    this.namespaces.delete(ns);
  }

  /** Kills this lab's processes and deletes its namespaces. Safe to call twice. */
  async cleanup(): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const child of this.children) {
      if (child.exitCode === null && child.signalCode === null) {
        waits.push(new Promise((res) => child.once('close', () => res())));
        child.kill('SIGKILL');
      }
    }
    await Promise.all(waits);
    this.children.clear();
    for (const ns of this.namespaces) await run(['ip', 'netns', 'del', ns], { allowFail: true });
    this.namespaces.clear();
    process.off('exit', this.exitHook);
  }

  private cleanupSync(): void {
    for (const child of this.children) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const ns of this.namespaces) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
    this.namespaces.clear();
  }
}
