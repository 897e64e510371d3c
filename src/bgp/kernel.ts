// RouteProgrammer backed by long-lived `ip -force -batch -` processes: route changes are
// streamed to their stdin, so 100k routes cost no per-route spawn. `ip` waits for the
// kernel's ack after every line, so a single process is latency-bound (worse on a busy
// host); a few processes, each owning a fixed share of the prefixes (so changes to one
// prefix stay in order), keep the kernel busy instead.
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
  /**
   * route metric (default 32, as BIRD's kernel protocol): a BGP route for a connected
   * subnet then sits beside the kernel's own route instead of replacing it
   */
  metric?: number;
  /** number of `ip -batch` processes (default 4) */
  workers?: number;
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

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

export class IpRouteProgrammer implements RouteProgrammer {
  private readonly children: ChildProcessWithoutNullStreams[] = [];
  /** lines not yet written, per worker; written once per tick as one chunk */
  private readonly pending: string[];
  private flushScheduled = false;
  private readonly suffix: string;
  private readonly leftovers: Set<string>;
  private readonly logger: Logger | undefined;
  private errors = 0;
  private closed = false;

  private constructor(opts: IpRouteProgrammerOptions, existing: string[]) {
    this.logger = opts.logger;
    const proto = opts.protocol ?? BGP_ROUTE_PROTOCOL;
    this.suffix = ` proto ${proto} metric ${opts.metric ?? 32}${opts.table !== undefined ? ` table ${opts.table}` : ''}`;
    // Routes from a previous incarnation stay until resyncDone() so that forwarding
    // continues through a graceful restart.
    this.leftovers = new Set(existing);
    const n = Math.max(1, opts.workers ?? 4);
    this.pending = new Array<string>(n).fill('');
    for (let i = 0; i < n; i++) {
      // -force: one bad line (e.g. an unreachable next hop) must not stop the stream.
      const child = spawn('ip', [...ipArgs(opts), '-force', '-batch', '-'], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      child.stdout.resume();
      child.stderr.on('data', (b: Buffer) => {
        this.errors++;
        this.logger?.warn(
          { stderr: b.toString().trim().slice(0, 500) },
          'ip route batch reported an error',
        );
      });
      child.stdin.on('error', () => {
        // the process died; 'exit' below reports it
      });
      child.on('exit', (code) => {
        if (!this.closed) this.logger?.error({ code }, 'ip -batch process exited');
      });
      this.children.push(child);
    }
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
    this.write(prefix, line);
  }

  deleteRoute(prefix: string): void {
    this.leftovers.delete(prefix);
    this.write(prefix, `route del ${prefix}${this.suffix}\n`);
  }

  resyncDone(): void {
    for (const prefix of this.leftovers) this.write(prefix, `route del ${prefix}${this.suffix}\n`);
    this.leftovers.clear();
  }

  private write(prefix: string, line: string): void {
    if (this.closed) return;
    const i = this.children.length === 1 ? 0 : hash(prefix) % this.children.length;
    this.pending[i] += line;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    for (let i = 0; i < this.children.length; i++) {
      if (this.pending[i]) {
        this.children[i]!.stdin.write(this.pending[i]!);
        this.pending[i] = '';
      }
    }
  }

  /** Ends the batch processes after they have applied everything written so far. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    await Promise.all(
      this.children.map((c) => {
        const exited = new Promise<void>((r) => c.once('close', () => r()));
        c.stdin.end();
        return exited;
      }),
    );
  }
}
