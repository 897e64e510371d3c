// RouteProgrammer backed by one long-lived `ip -force -batch -` process: route changes are
// streamed to its stdin, so 100k routes cost one process and no per-route spawn.
//
// Routes carry protocol 81 by default ("our BGP"): Felix uses 80 for its own routes and
// BIRD 12, so ours can be listed, kept over a graceful restart and flushed without
// touching anyone else's. The agent may later swap this for the dataplane route driver.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import type { Logger, RouteProgrammer } from './types.js';

export const BGP_ROUTE_PROTOCOL = 81;

export interface IpRouteProgrammerOptions {
  /** run `ip -n <netns>`; default: the namespace this process is in */
  netns?: string;
  protocol?: number;
  /** routing table (default main) */
  table?: number;
  logger?: Logger;
}

function ipArgs(o: IpRouteProgrammerOptions): string[] {
  return o.netns ? ['-n', o.netns] : [];
}

function collect(argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn('ip', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    c.stdout.on('data', (b: Buffer) => out.push(b));
    c.stderr.on('data', (b: Buffer) => err.push(b));
    c.on('error', reject);
    c.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString());
      else
        reject(
          new Error(
            `ip ${argv.join(' ')} failed (${code}): ${Buffer.concat(err).toString().trim()}`,
          ),
        );
    });
  });
}

/** Prefixes of routes with our protocol currently in the kernel. */
export async function listKernelRoutes(opts: IpRouteProgrammerOptions = {}): Promise<string[]> {
  const proto = String(opts.protocol ?? BGP_ROUTE_PROTOCOL);
  const table = opts.table !== undefined ? ['table', String(opts.table)] : [];
  const out: string[] = [];
  for (const fam of ['-4', '-6']) {
    const text = await collect([...ipArgs(opts), fam, 'route', 'show', 'proto', proto, ...table]);
    for (const line of text.split('\n')) {
      const dst = line.split(' ', 1)[0];
      if (!dst) continue;
      // `ip` prints host routes without a length and the default route as "default".
      if (dst === 'default') out.push(fam === '-4' ? '0.0.0.0/0' : '::/0');
      else out.push(dst.includes('/') ? dst : `${dst}/${fam === '-4' ? 32 : 128}`);
    }
  }
  return out;
}

export class IpRouteProgrammer implements RouteProgrammer {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly suffix: string;
  private readonly leftovers: Set<string>;
  private readonly logger: Logger | undefined;
  private errors = 0;
  private closed = false;

  private constructor(opts: IpRouteProgrammerOptions, existing: string[]) {
    this.logger = opts.logger;
    const proto = opts.protocol ?? BGP_ROUTE_PROTOCOL;
    this.suffix = ` proto ${proto}${opts.table !== undefined ? ` table ${opts.table}` : ''}`;
    // Routes from a previous incarnation stay until resyncDone() so that forwarding
    // continues through a graceful restart.
    this.leftovers = new Set(existing);
    // -force: one bad line (e.g. an unreachable next hop) must not stop the stream.
    this.child = spawn('ip', [...ipArgs(opts), '-force', '-batch', '-'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout.resume();
    this.child.stderr.on('data', (b: Buffer) => {
      this.errors++;
      this.logger?.warn(
        { stderr: b.toString().trim().slice(0, 500) },
        'ip route batch reported an error',
      );
    });
    this.child.stdin.on('error', () => {
      // the process died; 'exit' below reports it
    });
    this.child.on('exit', (code) => {
      if (!this.closed) this.logger?.error({ code }, 'ip -batch process exited');
    });
  }

  static async open(opts: IpRouteProgrammerOptions = {}): Promise<IpRouteProgrammer> {
    return new IpRouteProgrammer(opts, await listKernelRoutes(opts));
  }

  /** Lines the ip process reported as failed so far. */
  get errorCount(): number {
    return this.errors;
  }

  replaceRoute(prefix: string, nextHops: string[]): void {
    this.leftovers.delete(prefix);
    let line: string;
    if (nextHops.length === 1) line = `route replace ${prefix} via ${nextHops[0]}${this.suffix}\n`;
    else {
      line = `route replace ${prefix}${this.suffix}`;
      for (const nh of nextHops) line += ` nexthop via ${nh}`;
      line += '\n';
    }
    this.write(line);
  }

  deleteRoute(prefix: string): void {
    this.leftovers.delete(prefix);
    this.write(`route del ${prefix}${this.suffix}\n`);
  }

  resyncDone(): void {
    for (const prefix of this.leftovers) this.write(`route del ${prefix}${this.suffix}\n`);
    this.leftovers.clear();
  }

  private write(line: string): void {
    if (!this.closed) this.child.stdin.write(line);
  }

  /** Ends the batch process after it has applied everything written so far. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const exited = new Promise<void>((r) => this.child.once('close', () => r()));
    this.child.stdin.end();
    await exited;
  }
}
