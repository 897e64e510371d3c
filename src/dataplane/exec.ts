// Running tools (nft, ip, sysctl) in the host or a named network namespace.
import { spawn } from 'node:child_process';

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

export function execTool(
  argv: readonly string[],
  input?: string,
  allowFail = false,
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
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
