/**
 * Test support: a real etcd (the Debian `etcd` binary) on free loopback ports with a
 * temporary data directory, single member or a small cluster. Ports are chosen by
 * binding port 0 and releasing it, so concurrent test files never collide on 2379.
 * Every process is registered with ./processes.ts and dies with the test process.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRunning, spawnTracked, tail, terminate } from './processes.js';

export interface EtcdMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  /** PID of the running process, undefined while stopped */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** SIGKILL (default) or another signal; keeps the data dir so start() can bring it back */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the member again with its data dir and ports; resolves when it answers /health. */
  start(): Promise<void>;
}

export interface EtcdHandle {
  /** client URLs, e.g. ["http://127.0.0.1:41234"] */
  endpoints: string[];
  dataDir: string;
  member: EtcdMember;
  /** SIGKILL the member (data kept) */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** start it again after kill(), on the same ports and data */
  restart(): Promise<void>;
  /** kill it and remove its data dir; idempotent; call from t.after / finally */
  stop(): Promise<void>;
}

export interface EtcdClusterHandle {
  endpoints: string[];
  members: EtcdMember[];
  dataDir: string;
  /** index into members of the current leader, from each live member's status */
  leaderIndex(): Promise<number>;
  stop(): Promise<void>;
}

/** Finds a currently free TCP port on 127.0.0.1 (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const addr = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (addr === null || typeof addr === 'string') throw new Error('freePort: no port assigned');
  return addr.port;
}

/** Server and client certificates signed by a throwaway CA, for TLS tests. */
export interface TlsFiles {
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

/** Writes a CA, a server cert for 127.0.0.1 and a client cert into dir (openssl). */
export function generateTlsFiles(dir: string): TlsFiles {
  const f = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=calico-ts test CA',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
  );
  const leaf = (name: string, cn: string, ext: string) => {
    writeFileSync(f(`${name}.ext`), ext);
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${cn}`,
      '-keyout',
      f(`${name}.key`),
      '-out',
      f(`${name}.csr`),
    );
    ssl(
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f('ca.crt'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      f(`${name}.ext`),
      '-out',
      f(`${name}.crt`),
    );
  };
  leaf('server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'calico-ts-client', 'extendedKeyUsage=clientAuth\n');
  return {
    caFile: f('ca.crt'),
    serverCertFile: f('server.crt'),
    serverKeyFile: f('server.key'),
    clientCertFile: f('client.crt'),
    clientKeyFile: f('client.key'),
  };
}

function httpsHealthy(clientUrl: string, tls: TlsFiles): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpsRequest(
      `${clientUrl}/health`,
      {
        ca: readFileSync(tls.caFile),
        cert: readFileSync(tls.clientCertFile),
        key: readFileSync(tls.clientKeyFile),
        timeout: 1000,
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
        });
        res.on('end', () => resolve(/"health":\s*"true"/.test(body)));
      },
    );
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function healthy(clientUrl: string, tls?: TlsFiles): Promise<boolean> {
  if (tls !== undefined) return httpsHealthy(clientUrl, tls);
  try {
    const res = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await res.json()) as { health?: string };
    return body.health === 'true';
  } catch {
    return false;
  }
}

async function memberStatus(
  clientUrl: string,
): Promise<{ memberId: string; leader: string } | undefined> {
  try {
    const res = await fetch(`${clientUrl}/v3/maintenance/status`, {
      method: 'POST',
      body: '{}',
      signal: AbortSignal.timeout(1000),
    });
    const body = (await res.json()) as { header?: { member_id?: string }; leader?: string };
    if (body.header?.member_id === undefined || body.leader === undefined) return undefined;
    return { memberId: body.header.member_id, leader: body.leader };
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Member implements EtcdMember {
  private child: ChildProcess | undefined;
  private stderr: () => string = () => '';

  constructor(
    readonly name: string,
    readonly clientUrl: string,
    readonly peerUrl: string,
    readonly dataDir: string,
    private readonly initialCluster: string,
    private readonly token: string,
    private readonly tls?: TlsFiles,
  ) {}

  get pid(): number | undefined {
    return this.child !== undefined && isRunning(this.child) ? this.child.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && isRunning(this.child);
  }

  /** Launches the process without waiting for health (a cluster member needs its peers). */
  launch(): void {
    if (this.running) return;
    this.child = spawnTracked(
      'etcd',
      [
        '--name',
        this.name,
        '--data-dir',
        this.dataDir,
        '--listen-client-urls',
        this.clientUrl,
        '--advertise-client-urls',
        this.clientUrl,
        '--listen-peer-urls',
        this.peerUrl,
        '--initial-advertise-peer-urls',
        this.peerUrl,
        '--initial-cluster',
        this.initialCluster,
        '--initial-cluster-state',
        'new',
        '--initial-cluster-token',
        this.token,
        '--logger',
        'zap',
        '--log-outputs',
        'stderr',
        '--log-level',
        'warn',
        ...(this.tls === undefined
          ? []
          : [
              '--cert-file',
              this.tls.serverCertFile,
              '--key-file',
              this.tls.serverKeyFile,
              '--trusted-ca-file',
              this.tls.caFile,
              '--client-cert-auth',
            ]),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.stderr = tail(this.child.stderr);
  }

  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) {
        throw new Error(`etcd ${this.name} exited during start-up:\n${this.stderr()}`);
      }
      if (await healthy(this.clientUrl, this.tls)) return;
      await sleep(50);
    }
    throw new Error(`etcd ${this.name} not healthy after ${timeoutMs} ms:\n${this.stderr()}`);
  }

  async start(): Promise<void> {
    this.launch();
    await this.waitHealthy();
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child !== undefined) await terminate(this.child, signal);
  }

  get log(): string {
    return this.stderr();
  }
}

async function makeMembers(n: number, dataDir: string, tls?: TlsFiles): Promise<Member[]> {
  const ports: number[] = [];
  while (ports.length < 2 * n) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  const names = Array.from({ length: n }, (_, i) => `m${i + 1}`);
  const peer = (i: number) => `http://127.0.0.1:${ports[2 * i + 1]}`;
  const initialCluster = names.map((name, i) => `${name}=${peer(i)}`).join(',');
  const token = `calico-ts-${process.pid}-${Date.now()}`;
  return names.map(
    (name, i) =>
      new Member(
        name,
        `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${ports[2 * i]}`,
        peer(i),
        join(dataDir, `${name}.etcd`),
        initialCluster,
        token,
        tls,
      ),
  );
}

/**
 * Starts `n` members and waits until all answer /health. A port taken between our
 * probe and etcd's bind makes a member exit; we then retry on fresh ports.
 */
async function launchCluster(
  n: number,
  tls?: TlsFiles,
): Promise<{ members: Member[]; dataDir: string }> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const dataDir = mkdtempSync(join(tmpdir(), 'calico-ts-etcd-'));
    const members = await makeMembers(n, dataDir, tls);
    try {
      for (const m of members) m.launch();
      await Promise.all(members.map((m) => m.waitHealthy()));
      return { members, dataDir };
    } catch (err) {
      lastError = err;
      await Promise.all(members.map((m) => m.kill()));
      rmSync(dataDir, { recursive: true, force: true });
      if (!/address already in use/.test(String(err))) break;
    }
  }
  throw lastError;
}

export interface StartEtcdOptions {
  /** serve clients over TLS and require a client certificate signed by tls.caFile */
  tls?: TlsFiles;
}

/** One etcd member on free loopback ports; always `stop()` it (t.after / finally). */
export async function startEtcd(options: StartEtcdOptions = {}): Promise<EtcdHandle> {
  const { members, dataDir } = await launchCluster(1, options.tls);
  const member = members[0]!;
  let stopped = false;
  return {
    endpoints: [member.clientUrl],
    dataDir,
    member,
    kill: (signal) => member.kill(signal),
    restart: () => member.start(),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await member.kill();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** An n-member cluster (3 for quorum tests) on free loopback ports. */
export async function startEtcdCluster(n = 3): Promise<EtcdClusterHandle> {
  const { members, dataDir } = await launchCluster(n);
  let stopped = false;
  return {
    endpoints: members.map((m) => m.clientUrl),
    members,
    dataDir,
    leaderIndex: async () => {
      for (let attempt = 0; attempt < 100; attempt++) {
        for (const m of members) {
          if (!m.running) continue;
          const s = await memberStatus(m.clientUrl);
          if (s === undefined || s.leader === '0') continue;
          for (const [i, other] of members.entries()) {
            if (!other.running) continue;
            const o = await memberStatus(other.clientUrl);
            if (o?.memberId === s.leader) return i;
          }
        }
        await sleep(100);
      }
      throw new Error('etcd cluster has no leader among the running members');
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await Promise.all(members.map((m) => m.kill()));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
