// The controlling side of speaker-service.ts: starts the speaker process (usually under
// `ip netns exec`), hands it its config on stdin, and turns SpeakerControl calls into
// NDJSON commands. Used by calico-node, which must not listen on port 179 itself when it
// programs another namespace (CALICO_NETNS).
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { SpeakerControl } from './model-diff.js';
import type { SpeakerProcessConfig } from './speaker-service.js';
import type { Logger, PeerConfig, PeerStatus, RouteSnapshot } from './types.js';

export interface SpeakerClientOptions {
  /** argv that runs speaker-service with `config: 'stdin'` */
  argv: readonly string[];
  env?: NodeJS.ProcessEnv;
  config: SpeakerProcessConfig;
  logger: Logger;
  /** default 30 s */
  readyTimeoutMs?: number;
  /** the process ended without being asked to (not called after stop()) */
  onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
  onEvent?: (event: Record<string, unknown>) => void;
}

type Pending = { resolve(v: unknown): void; reject(e: Error): void };

export class SpeakerProcessClient implements SpeakerControl {
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private stopping = false;
  private exitedFlag = false;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly opts: SpeakerClientOptions,
  ) {
    this.exited = new Promise<void>((resolve) =>
      child.once('exit', (code, signal) => {
        this.exitedFlag = true;
        for (const p of this.pending.values())
          p.reject(new Error(`BGP speaker process ${child.pid} exited (${code ?? signal})`));
        this.pending.clear();
        if (!this.stopping) opts.onExit?.(code, signal);
        resolve();
      }),
    );
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  get running(): boolean {
    return !this.exitedFlag;
  }

  /** Starts the process and resolves once its listener is bound and it accepts commands. */
  static async start(opts: SpeakerClientOptions): Promise<SpeakerProcessClient> {
    const [cmd, ...args] = opts.argv;
    if (cmd === undefined) throw new TypeError('SpeakerProcessClient: empty argv');
    const child = spawn(cmd, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(opts.env ? { env: opts.env } : {}),
    });
    const client = new SpeakerProcessClient(child, opts);
    const log = opts.logger;
    let stderrTail = '';
    createInterface({ input: child.stderr! }).on('line', (line) => {
      stderrTail = `${stderrTail}${line}\n`.slice(-4000);
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        log.warn({ line }, 'BGP speaker output');
        return;
      }
      const { level, msg, t: _t, ...rest } = rec;
      const fn =
        level === 'error'
          ? log.error
          : level === 'warn'
            ? log.warn
            : level === 'debug'
              ? log.debug
              : log.info;
      fn.call(log, rest, `bgp: ${String(msg)}`);
    });
    let readyResolve!: () => void;
    const ready = new Promise<void>((r) => {
      readyResolve = r;
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let m: Record<string, unknown>;
      try {
        m = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (typeof m.id === 'number') {
        const p = client.pending.get(m.id);
        client.pending.delete(m.id);
        if (m.ok) p?.resolve(m.result);
        else p?.reject(new Error(String(m.error)));
        return;
      }
      if (m.event === 'ready') readyResolve();
      opts.onEvent?.(m);
    });
    child.stdin!.on('error', () => {
      // the process died; 'exit' reports it
    });
    child.stdin!.write(`${JSON.stringify(opts.config)}\n`);
    const timeout = opts.readyTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      ready.then(() => 'ready' as const),
      client.exited.then(() => 'exited' as const),
      new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), timeout);
      }),
    ]);
    clearTimeout(timer);
    if (outcome !== 'ready') {
      client.stopping = true;
      if (outcome === 'timeout') child.kill('SIGKILL');
      await client.exited;
      throw new Error(
        `BGP speaker (${opts.argv.join(' ')}) ${outcome === 'timeout' ? `not ready after ${timeout} ms` : 'exited before it was ready'}:\n${stderrTail.trim()}`,
      );
    }
    return client;
  }

  /**
   * One command and its reply. A speaker that stops answering (hung, or frozen with
   * SIGSTOP) must not hang the agent's reconcile loop or its shutdown: after `timeoutMs`
   * the request fails.
   */
  request<T = unknown>(
    op: string,
    args: Record<string, unknown> = {},
    timeoutMs = 15_000,
  ): Promise<T> {
    if (this.exitedFlag) return Promise.reject(new Error('BGP speaker process is not running'));
    return new Promise<T>((resolve, reject) => {
      const id = ++this.seq;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new Error(`BGP speaker process ${this.pid} did not answer "${op}" in ${timeoutMs} ms`),
        );
      }, timeoutMs);
      timer.unref();
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          (resolve as (v: unknown) => void)(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.stdin!.write(`${JSON.stringify({ id, op, ...args })}\n`);
    });
  }

  /** Fire and forget: failures are logged, the next full reconcile corrects them. */
  private send(op: string, args: Record<string, unknown>): void {
    this.request(op, args).catch((e: unknown) =>
      this.opts.logger.warn({ op, err: String(e) }, 'BGP speaker command failed'),
    );
  }

  addPeer(peer: PeerConfig): void {
    this.send('addPeer', { peer });
  }

  removePeer(address: string): void {
    this.send('removePeer', { address });
  }

  originate(prefix: string): void {
    this.send('originate', { prefix });
  }

  withdraw(prefix: string): void {
    this.send('withdraw', { prefix });
  }

  originateAll(prefixes: readonly string[]): Promise<unknown> {
    return this.request('originate', { prefixes });
  }

  status(): Promise<PeerStatus[]> {
    return this.request<PeerStatus[]>('status');
  }

  routes(): Promise<RouteSnapshot[]> {
    return this.request<RouteSnapshot[]>('routes');
  }

  /**
   * Stops the speaker. `graceful` (RFC 4724) closes sessions without NOTIFICATION and
   * leaves kernel routes for the next incarnation; otherwise peers get Cease and our
   * routes go. Kills the process if it does not finish within `timeoutMs`.
   */
  async stop(graceful: boolean, timeoutMs = 5000): Promise<void> {
    if (this.exitedFlag) return;
    this.stopping = true;
    this.request('stop', { graceful }).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), timeoutMs);
    });
    const r = await Promise.race([this.exited.then(() => 'done' as const), t]);
    clearTimeout(timer);
    if (r === 'timeout') {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }

  /** For tests and diagnostics: the process, e.g. to freeze it with SIGSTOP. */
  get process(): ChildProcess {
    return this.child;
  }
}
