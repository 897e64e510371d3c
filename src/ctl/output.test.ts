import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';

const output = new URL('./output.ts', import.meta.url).pathname;

// numbered lines, so a lost, doubled or reordered piece shows; 400 KB, several pipefuls
const LINES = 40_000;
const big = Array.from({ length: LINES }, (_, i) => `line ${i}\n`).join('');

/**
 * Runs writeStdout(big) in a child whose stdout is a pipe. With `fullPipe` the pipe is made
 * non-blocking and the reader starts only once writeStdout has returned (the child reports
 * that on stderr), so the pipe is certainly full however slowly the child starts; a fixed
 * pause was not enough on a loaded CI.
 */
function writeInChild(fullPipe: boolean) {
  const script = `
    import { writeStdout } from ${JSON.stringify(output)};
    ${fullPipe ? 'process.stdout;' /* libuv makes the pipe non-blocking */ : ''}
    const text = Array.from({ length: ${LINES} }, (_, i) => \`line \${i}\\n\`).join('');
    const whole = writeStdout(text);
    process.stderr.write(String(whole));`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  let err = '';
  child.stdout.pause();
  child.stdout.on('data', (c: Buffer) => out.push(c));
  if (!fullPipe) child.stdout.resume();
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
    if (fullPipe) child.stdout.resume();
  });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('close', (code) =>
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: err }),
    ),
  );
}

describe('writeStdout', () => {
  // (the calicoctl CLI tests cover a blocking pipe: under tsx stdout is always non-blocking)
  test('a reader that keeps up gets everything, in order', async () => {
    const r = await writeInChild(false);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, big);
  });

  test('a full non-blocking pipe gets the rest through process.stdout, nothing lost', async () => {
    const r = await writeInChild(true);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, 'false', 'the pipe was full, so process.stdout took the rest');
    assert.equal(r.stdout, big);
  });
});
