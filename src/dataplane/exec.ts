// Running tools (nft, ip, sysctl writes) in the host or a named network namespace:
// one process per call (`execTool`), or long-lived helpers that a Dataplane keeps for its
// namespace. On these machines a spawn costs ~10 ms of the parent's CPU (fork of a big
// Node heap) plus ~10–20 ms for `ip netns exec` and the tool's own start-up, which was
// most of a one-workload change; the helpers pay that once.
import { type ChildProcess, spawn } from 'node:child_process';
import {
  accessSync,
  constants,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class ToolError extends Error {
  readonly code = 'DATAPLANE_TOOL_FAILED';
  constructor(
    readonly argv: readonly string[],
    readonly result: ExecResult,
  ) {
    super(`${argv.join(' ')} exited ${result.code}: ${result.stderr.trim().slice(0, 4000)}`);
  }
}

/** argv prefixed with `ip netns exec <ns>` when a namespace is given. */
export function inNetns(netns: string | undefined, argv: readonly string[]): string[] {
  return netns ? ['ip', 'netns', 'exec', netns, ...argv] : [...argv];
}

/**
 * glibc settings for nft. nft 1.0.6 builds a cache of every set and chain of the table
 * before any rule change; on these (paravirtualised) machines its cost is dominated by
 * page faults on the freshly allocated heap. Transparent huge pages for malloc and a
 * 16 MB heap step cut a one-rule change in a 4,000-set table from ~75 to ~25 ms of CPU
 * and a full load by ~25%. Kept off other tools: a 2 MB page is waste for `ip`.
 */
export const NFT_GLIBC_TUNABLES = 'glibc.malloc.hugetlb=1:glibc.malloc.top_pad=16777216';

export function nftEnv(): Record<string, string> {
  const cur = process.env.GLIBC_TUNABLES;
  return { GLIBC_TUNABLES: cur ? `${cur}:${NFT_GLIBC_TUNABLES}` : NFT_GLIBC_TUNABLES };
}

export function execTool(
  argv: readonly string[],
  input?: string,
  allowFail = false,
  env?: Record<string, string>,
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: env ? { ...process.env, ...env } : undefined,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      const r = {
        code: code ?? 1,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      };
      if (r.code !== 0 && !allowFail) reject(new ToolError(argv, r));
      else resolve(r);
    });
    child.stdin.on('error', () => {
      // the tool may exit before reading everything; its exit code reports why
    });
    child.stdin.end(input ?? '');
  });
}

/** How the dataplane runs its tools in one namespace. */
export interface ToolRunner {
  /** argv with `input` on stdin */
  exec(
    argv: readonly string[],
    input?: string,
    allowFail?: boolean,
    env?: Record<string, string>,
  ): Promise<ExecResult>;
  /**
   * a POSIX sh script; it may run in a long-lived shell, so it must not `exit`, `cd`,
   * `exec` or set variables (builtins only keep it free of process start-ups)
   */
  script(text: string): Promise<ExecResult>;
  /**
   * `ip -force -batch` of `lines`: failures are reported in stderr as
   * `Command failed -:<line>` (1-based within `lines`), as `ip` itself does
   */
  ipBatch(lines: readonly string[]): Promise<ExecResult>;
  close(): Promise<void>;
}

/** A process per call. */
export class SpawnRunner implements ToolRunner {
  constructor(private readonly netns: string | undefined) {}
  exec(argv: readonly string[], input?: string, allowFail = false, env?: Record<string, string>) {
    return execTool(inNetns(this.netns, argv), input, allowFail, env);
  }
  script(text: string) {
    return execTool(inNetns(this.netns, ['sh', '-s']), text, true);
  }
  ipBatch(lines: readonly string[]) {
    return execTool(
      inNetns(this.netns, ['ip', '-force', '-batch', '-']),
      `${lines.join('\n')}\n`,
      true,
    );
  }
  async close() {}
}

/**
 * ref()/unref() of a child's pipe. A pipe whose handle is already closed would queue a
 * 'connect' listener per call instead, so those are left alone.
 */
function refStream(s: unknown, on: boolean): void {
  const sock = s as { _handle?: unknown; ref?: () => void; unref?: () => void } | null;
  if (!sock?._handle) return;
  if (on) sock.ref?.();
  else sock.unref?.();
}

// Helper directories still present when the process exits (an owner that never called
// close()) are removed then; the helpers themselves exit when their stdin closes.
const liveDirs = new Set<string>();
let exitHook = false;
/**
 * tmpfs when there is one: every transaction rewrites a file there, and ext4 flushes a
 * file truncated over unwritten data on close (auto_da_alloc), ~4 ms per change.
 */
function helperBase(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

function privateDir(prefix: string): string {
  const d = mkdtempSync(join(helperBase(), prefix));
  if (!exitHook) process.once('exit', () => [...liveDirs].forEach(removeDir));
  exitHook = true;
  liveDirs.add(d);
  return d;
}
function removeDir(d: string): void {
  liveDirs.delete(d);
  rmSync(d, { recursive: true, force: true });
}

/** Identity of a named namespace (its nsfs inode), checked before each use of a helper. */
function netnsId(netns: string | undefined): string | undefined {
  if (!netns) return undefined;
  try {
    const st = statSync(`/run/netns/${netns}`);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Reads a child's stdout until `marker` and hands back what came before it. The child's
 * pipes keep the event loop alive only while a request is outstanding, so an idle helper
 * never holds a process open.
 */
class Helper {
  private buf = '';
  private waiting: { resolve: (s: string) => void; reject: (e: Error) => void } | undefined;
  private dead: Error | undefined;
  constructor(
    readonly child: ChildProcess,
    private readonly marker: RegExp,
  ) {
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (s: string) => {
      this.buf += s;
      const m = this.marker.exec(this.buf);
      if (!m || !this.waiting) return;
      const w = this.waiting;
      this.waiting = undefined;
      const before = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      this.idle();
      w.resolve(`${before}\u0000${m[1] ?? ''}`);
    });
    child.stderr?.on('data', () => {
      // stderr of the helper itself (not of its commands) has nothing we act on
    });
    child.stdin!.on('error', () => {
      // a dead helper reports through 'close'
    });
    child.on('error', (e) => this.fail(e));
    child.on('close', (code) => this.fail(new Error(`helper exited (${code})`)));
    // stdin and stderr never need to keep the process alive; stdout does while we wait
    refStream(child.stdin, false);
    refStream(child.stderr, false);
    this.idle();
  }
  get alive(): boolean {
    return this.dead === undefined;
  }
  private fail(e: Error) {
    this.dead ??= e;
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(e);
  }
  private idle() {
    this.child.unref();
    refStream(this.child.stdout, false);
  }
  /** Writes `text`; resolves with the output before the marker and the marker's group. */
  request(text: string): Promise<[string, string]> {
    if (this.dead) return Promise.reject(this.dead);
    this.child.ref();
    refStream(this.child.stdout, true);
    return new Promise<string>((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.child.stdin!.write(text);
    }).then((s) => {
      const i = s.lastIndexOf('\u0000');
      return [s.slice(0, i), s.slice(i + 1)];
    });
  }
  /** Lets the helper go: its stdin closes and it exits on its own. */
  abandon(): void {
    this.fail(new Error('helper abandoned'));
    this.child.stdin!.end();
  }
  async stop(): Promise<void> {
    if (this.dead || this.child.exitCode !== null || this.child.signalCode !== null) return;
    // 'exit' (not 'close'): an unref'd stdout may never be read to its end
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.ref();
    refStream(this.child.stdout, true);
    this.child.stdin!.end();
    await exited;
  }
}

/** Serialises async jobs. */
class Queue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.tail.then(fn);
    this.tail = p.catch(() => undefined);
    return p;
  }
}

/**
 * The helper a runner keeps for its namespace, and the private directory its calls pass
 * files through. Calls are serialised; a helper that died, or whose namespace was deleted
 * and created again under the same name (another namespace: the old helper would keep
 * programming the orphan), is replaced on next use, with a new directory, since the one a
 * dead helper removed on its way out is not reused.
 */
class NamespaceHelper {
  private helper: Helper | undefined;
  private ns: string | undefined;
  private dir: string | undefined;
  private readonly queue = new Queue();

  constructor(
    private readonly netns: string | undefined,
    private readonly dirPrefix: string,
    private readonly startHelper: (dir: string) => Helper,
  ) {}

  /** Runs `fn` with a live helper once every earlier call has finished. */
  use<T>(fn: (helper: Helper, dir: string) => Promise<T>): Promise<T> {
    return this.queue.run(() => {
      const ns = netnsId(this.netns);
      if (!this.helper?.alive || ns !== this.ns) {
        this.helper?.abandon();
        this.ns = ns;
        if (this.dir) removeDir(this.dir);
        this.dir = privateDir(this.dirPrefix);
        this.helper = this.startHelper(this.dir);
      }
      return fn(this.helper, this.dir!);
    });
  }

  /** Stops the helper after the calls already queued, and removes its directory. */
  close(): Promise<void> {
    return this.queue.run(async () => {
      await this.helper?.stop();
      if (this.dir) removeDir(this.dir);
      this.dir = undefined;
    });
  }
}

/**
 * One long-lived `sh` inside the namespace. Scripts run in the shell itself (sysctl
 * writes are builtins: no process at all) and tools are started by the shell rather
 * than by Node. Output goes through files in a private directory, so stdout, stderr and
 * the exit code of each call stay separate. A shell that died is restarted on next use.
 */
export class ShellRunner implements ToolRunner {
  private readonly shell: NamespaceHelper;
  private closed = false;
  private readonly fallback: SpawnRunner;

  constructor(private readonly netns: string | undefined) {
    this.fallback = new SpawnRunner(netns);
    this.shell = new NamespaceHelper(netns, 'calico-dp-', (dir) => {
      const argv = inNetns(netns, ['sh']);
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
      const helper = new Helper(child, /__cali_done__ (\d+)\n/);
      // also when this process is killed: the shell exits at the end of its stdin
      child.stdin!.write(`trap "rm -rf -- ${quote(dir)}" EXIT\n`);
      return helper;
    });
  }

  /** `asScript`: `input` is the script, run with empty stdin and its path in $CALI_SCRIPT */
  private call(line: string, input: string | undefined, argv: readonly string[], asScript = false) {
    return this.shell.use(async (h, d) => {
      const inFile = join(d, asScript ? 'script' : 'in');
      writeFileSync(inFile, input ?? '');
      const stdin = asScript ? '/dev/null' : inFile;
      const [, code] = await h.request(
        `CALI_SCRIPT=${quote(inFile)}; ${line} <${quote(stdin)} >${quote(join(d, 'out'))} 2>${quote(join(d, 'err'))}; echo "__cali_done__ $?"\n`,
      );
      const result = {
        code: Number(code),
        stdout: readFileSync(join(d, 'out'), 'utf8'),
        stderr: readFileSync(join(d, 'err'), 'utf8'),
      };
      // a full load or a listing is megabytes of tmpfs (memory) until the next call
      if ((input?.length ?? 0) > 65536) writeFileSync(inFile, '');
      if (result.stdout.length > 65536) writeFileSync(join(d, 'out'), '');
      return { argv, result };
    });
  }

  async exec(
    argv: readonly string[],
    input?: string,
    allowFail = false,
    env?: Record<string, string>,
  ): Promise<ExecResult> {
    if (this.closed) return this.fallback.exec(argv, input, allowFail, env);
    const prefix = Object.entries(env ?? {})
      .map(([k, v]) => `${k}=${quote(v)} `)
      .join('');
    let result: ExecResult;
    try {
      ({ result } = await this.call(`${prefix}${argv.map(quote).join(' ')}`, input, argv));
    } catch {
      // the helper died under us: this call still has to happen
      return this.fallback.exec(argv, input, allowFail, env);
    }
    if (result.code !== 0 && !allowFail) throw new ToolError(inNetns(this.netns, argv), result);
    return result;
  }

  /**
   * A fresh `ip` per batch, started by the shell: a long-lived `ip -batch` caches
   * interface name → index, which goes stale when a workload's interface is re-created
   * under the same name.
   */
  ipBatch(lines: readonly string[]): Promise<ExecResult> {
    return this.exec(['ip', '-force', '-batch', '-'], `${lines.join('\n')}\n`, true);
  }

  async script(text: string): Promise<ExecResult> {
    if (this.closed) return this.fallback.script(text);
    try {
      // In the shell itself, not a subshell: a fork costs ~2 ms here (page faults), more
      // than the sysctl writes it runs.
      const { result } = await this.call('{ . "$CALI_SCRIPT"; }', text, ['sh'], true);
      return result;
    } catch {
      return this.fallback.script(text);
    }
  }

  close(): Promise<void> {
    this.closed = true;
    return this.shell.close();
  }
}

/**
 * A long-lived `nft -i` for incremental transactions. Each transaction is written to a
 * file and sent as one `include` line, which nft parses and commits as a single batch
 * (a failing command rolls back the whole line); `describe meta mark` after it prints a
 * fixed line that marks the end of the transaction's output. `include` rather than the
 * commands themselves: nft's line editor reads its input one byte per syscall.
 */
export class NftSession {
  private readonly session: NamespaceHelper;

  constructor(
    private readonly netns: string | undefined,
    private readonly nft = 'nft',
  ) {
    this.session = new NamespaceHelper(netns, 'calico-nft-', (dir) => {
      // The shell outlives nft to remove the directory, also when this process is killed
      // (nft exits at the end of its stdin).
      const argv = inNetns(netns, ['sh', '-c', `${quote(nft)} -i 2>&1; rm -rf -- "$HOME"`]);
      const child = spawn(argv[0]!, argv.slice(1), {
        stdio: ['pipe', 'pipe', 'pipe'],
        // nft keeps its line history in $HOME: keep it in our directory
        env: { ...process.env, ...nftEnv(), HOME: dir },
      });
      return new Helper(
        child,
        /meta expression, datatype mark \(packet mark\) \(basetype integer\), 32 bits\n()/,
      );
    });
  }

  /** Commits `script` as one transaction; throws ToolError with nft's messages on failure. */
  run(script: string): Promise<void> {
    return this.session.use(async (h, dir) => {
      const file = join(dir, 'tx.nft');
      writeFileSync(file, script);
      const [out] = await h.request(`include "${file}"\ndescribe meta mark\n`);
      if (script.length > 65536) writeFileSync(file, '');
      // nft prints nothing for a committed transaction
      if (out.trim() !== '')
        throw new ToolError(inNetns(this.netns, [this.nft, '-i']), {
          code: 1,
          stdout: '',
          stderr: out,
        });
    });
  }

  close(): Promise<void> {
    return this.session.close();
  }
}
