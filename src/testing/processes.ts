/**
 * Test support: every child process a test starts is registered here, so that it is
 * killed (by PID, never by name) when the test process exits for any reason, even if
 * the test itself failed before reaching its own cleanup.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { once } from 'node:events';

const live = new Set<ChildProcess>();
let hooked = false;

function killAllSync(): void {
  for (const child of live) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  live.clear();
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAllSync();
      // Re-raise with the default disposition so the exit status still says "signal".
      process.kill(process.pid, sig);
    });
  }
}

/** spawn() whose child is killed when this process exits. */
export function spawnTracked(
  command: string,
  args: string[],
  options: SpawnOptions = {},
): ChildProcess {
  hook();
  const child = spawn(command, args, options);
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
  return child;
}

export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Resolves when the child has exited (immediately if it already has). */
export async function exited(child: ChildProcess): Promise<void> {
  if (!isRunning(child)) return;
  await once(child, 'exit');
}

/**
 * Sends `signal`, and SIGKILL if the child is still alive after graceMs; resolves once it
 * has exited, so ports and files it held are free.
 */
export async function terminate(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 5000,
): Promise<void> {
  if (!isRunning(child) || child.pid === undefined) return;
  const done = exited(child);
  try {
    process.kill(child.pid, signal);
  } catch {
    // exited in between
  }
  let timer: NodeJS.Timeout | undefined;
  const escalated = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      if (isRunning(child) && child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // exited in between
        }
      }
      resolve();
    }, graceMs);
  });
  await Promise.race([done, escalated]);
  await done;
  clearTimeout(timer);
}

/** Collects the last `max` characters a stream wrote, for error messages. */
export function tail(stream: NodeJS.ReadableStream | null, max = 4000): () => string {
  let text = '';
  stream?.on('data', (chunk: Buffer | string) => {
    text = (text + chunk.toString()).slice(-max);
  });
  return () => text;
}
