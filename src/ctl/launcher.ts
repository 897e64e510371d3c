// calicoctl's entry point (built to dist/calicoctl.cjs): runs the one-file bundle beside it
// (dist/calicoctl.bundle.cjs) from V8's code cache. Node 20 has no compile cache for
// modules, and compiling the bundle was the largest item of a `validate` after Node's own
// start; with the cache V8 deserialises the compiled functions instead. The cache is
// written at exit whenever it was missing, stale or rejected (another Node, other V8
// flags), so it heals itself; `npm run build` writes the `version` and `validate` ones.
//
// V8 deserialises every function in a cache, used or not, so the two commands with a
// start-up budget each have their own cache holding just what they compile; every other
// command shares a third.
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Script } from 'node:vm';
import { cacheKey } from './cache-key.js';

/** The cache's first line names the bundle it was made from: V8 itself checks only the
 * source's length, so a rebuilt bundle of equal length must not meet an old cache. */
function fingerprint(bundle: string): string {
  const st = statSync(bundle);
  return `calico-ts code cache 1 ${st.ino} ${st.size} ${st.mtimeMs}\n`;
}

function readCache(file: string, expected: string): Buffer | undefined {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch {
    return undefined;
  }
  const nl = raw.indexOf(10);
  if (nl < 0 || raw.toString('latin1', 0, nl + 1) !== expected) return undefined;
  return raw.subarray(nl + 1);
}

function writeCache(file: string, header: string, script: Script): void {
  try {
    const aside = `${file}.${process.pid}.tmp`;
    writeFileSync(aside, Buffer.concat([Buffer.from(header, 'latin1'), script.createCachedData()]));
    renameSync(aside, file);
  } catch {
    // a read-only installation runs without the cache
  }
}

const bundle = __filename.replace(/\.cjs$/, '.bundle.cjs');
const cacheFile = `${bundle}.${cacheKey(process.argv.slice(2))}.v8cache`;
const header = fingerprint(bundle);
const cachedData = readCache(cacheFile, header);
// The build guarantees an ASCII bundle, so latin1 reads it exactly and skips UTF-8 decoding.
// The wrapper is CommonJS's own, written out: node:module would load Node's ESM loader.
const source = `(function (exports, require, module, __filename, __dirname) { ${readFileSync(bundle, 'latin1')}\n});`;
const script = new Script(source, { filename: bundle, cachedData });
if (cachedData === undefined || script.cachedDataRejected === true)
  // at exit, so the cache holds every function this run compiled, not just the top level
  process.once('exit', () => writeCache(cacheFile, header, script));
const module = { exports: {} };
(script.runInThisContext() as (...args: unknown[]) => void).call(
  module.exports,
  module.exports,
  require, // this launcher's: the bundle lies in the same directory, so it resolves the same
  module,
  bundle,
  dirname(bundle),
);
