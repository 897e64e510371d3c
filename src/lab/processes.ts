// Lab processes run detached (they outlive the CLI that started them) and carry
// CALICO_LAB_ID in their environment, so `down` can find every one of them by that
// marker even when a crash kept its pid out of the state file.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { pidAlive } from './exec.js';

export const LAB_ID_ENV = 'CALICO_LAB_ID';

export function spawnDetached(
  argv: readonly string[],
  labId: string,
  logFile: string,
  env: NodeJS.ProcessEnv = {},
): number {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(argv[0] as string, argv.slice(1), {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...env, [LAB_ID_ENV]: labId },
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`Cannot start ${argv.join(' ')}`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** Pids of live processes whose environment carries this lab's marker. */
export function markedPids(labId: string): number[] {
  const marker = `${LAB_ID_ENV}=${labId}`;
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${name}/environ`, 'latin1');
      if (env.split('\0').includes(marker)) out.push(pid);
    } catch {
      // exited while we looked, or not ours to read
    }
  }
  return out;
}

/** SIGTERM, then SIGKILL whatever is still alive after `graceMs`. */
export async function killPids(pids: readonly number[], graceMs = 3000): Promise<void> {
  const live = pids.filter(pidAlive);
  for (const pid of live) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && live.some(pidAlive)) await sleep(50);
  for (const pid of live.filter(pidAlive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const hard = Date.now() + 2000;
  while (Date.now() < hard && live.some(pidAlive)) await sleep(20);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
