import { writeSync } from 'node:fs';

/**
 * Writes to stdout without creating `process.stdout`: Node builds that stream on first use,
 * compiling some twenty internal stream modules (about 8 ms of a `version` or `validate`).
 * When stdout is a non-blocking pipe that is full (EAGAIN), the rest goes through
 * `process.stdout`, which waits for the reader. Returns whether all of it was written here.
 */
export function writeStdout(text: string): boolean {
  const bytes = Buffer.from(text);
  let done = 0;
  while (done < bytes.length) {
    try {
      done += writeSync(1, bytes, done);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      process.stdout.write(bytes.subarray(done));
      return false;
    }
  }
  return true;
}
