// calicoctl's entry point (built to dist/calicoctl.cjs). `version` and `validate` have a
// start-up budget, so their plain spellings run without the command tree (direct.ts):
// `version` from here, `validate` from a bundle of the validation code alone
// (dist/calicoctl.validate.cjs). Every other command line runs the one-file bundle of the
// whole command tree (dist/calicoctl.bundle.cjs).
//
// Both bundles run from V8's code cache: Node 20 has no compile cache for modules, and
// compiling the bundle was the largest item of a `validate` after Node's own start; with
// the cache V8 deserialises the compiled functions instead. A bundle's cache is written
// at exit whenever it was missing, stale or rejected (another Node, other V8 flags), so
// it heals itself; `npm run build` writes the validate bundle's.
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Script } from 'node:vm';
import { directCommand } from './direct.js';
import { writeStdout } from './output.js';
import { run } from './run.js';
import type { runValidate } from './validate-bundle.js';
import { versionText } from './version.js';

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

/** Runs a bundle beside this launcher, from its code cache; returns its exports. */
function runBundle(suffix: string): unknown {
  const bundle = __filename.replace(/\.cjs$/, suffix);
  const cacheFile = `${bundle}.v8cache`;
  const header = fingerprint(bundle);
  const cachedData = readCache(cacheFile, header);
  // The build guarantees ASCII bundles, so latin1 reads them exactly and skips UTF-8
  // decoding. The wrapper is CommonJS's own, written out: node:module would load Node's
  // ESM loader.
  const source = `(function (exports, require, module, __filename, __dirname) { ${readFileSync(bundle, 'latin1')}\n});`;
  const script = new Script(source, { filename: bundle, cachedData });
  if (cachedData === undefined || script.cachedDataRejected === true)
    // at exit, so the cache holds every function this run compiled, not just the top level
    process.once('exit', () => writeCache(cacheFile, header, script));
  const module = { exports: {} };
  (script.runInThisContext() as (...args: unknown[]) => void).call(
    module.exports,
    module.exports,
    require, // this launcher's: the bundles lie in its directory, so it resolves the same
    module,
    bundle,
    dirname(bundle),
  );
  return module.exports;
}

const direct = directCommand(process.argv.slice(2));
if (direct?.command === 'version')
  void run(() => {
    writeStdout(versionText());
  });
else if (direct?.command === 'validate') {
  const bundle = runBundle('.validate.cjs') as { runValidate: typeof runValidate };
  void bundle.runValidate(direct.options);
} else runBundle('.bundle.cjs'); // runs the command tree on the process's arguments
