import { CtlError } from './errors.js';

/** Runs one command, turning any failure into a message on stderr and exit code 1. */
export async function run(fn: () => Promise<void> | void): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof CtlError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    // Errors of lower layers already say what and where; calicoctl adds nothing.
    const e = err as Error;
    process.stderr.write(`${e?.message ?? String(err)}\n`);
    process.exitCode = 1;
  }
}
