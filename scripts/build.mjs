#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
// Bundles each executable into dist/ with esbuild. Native or runtime-loading
// packages (better-sqlite3, etcd3) stay external and are loaded from node_modules.
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;

/** name → entry point. Add an executable here when its command really works. */
export const executables = {
  'calico-node': 'src/agent/main.ts',
  'calico-lab': 'src/lab/main.ts',
  calico: 'src/cni/main.ts',
  'calico-ipam': 'src/cni/ipam-main.ts',
  // not an executable: the CNI plugins' commands, imported by both only after VERSION
  'cni-commands': 'src/cni/commands.ts',
};

const banner =
  "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);";

/**
 * commander requires node:child_process at load (for executable subcommands, which we
 * never use), and that pulls in net, dgram and streams: ~10 ms of every calicoctl
 * start. Give commander a stand-in that loads the real module on first use.
 */
const lazyChildProcessForCommander = {
  name: 'lazy-child-process-for-commander',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.importer.includes('/node_modules/commander/')
        ? { path: 'child_process', namespace: 'lazy-builtin' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, () => ({
      contents:
        "let real; module.exports = new Proxy({}, { get(_t, key) { real ??= require('node:child_process'); return real[key]; } });",
      loader: 'js',
    }));
  },
};

mkdirSync(`${root}dist`, { recursive: true });
const names = Object.keys(executables);
if (names.length === 0) console.log('build: no executables yet');
// One build with code splitting: each executable's entry stays small and shares chunks,
// so paths that import little (calicoctl version/validate, CNI VERSION) compile little.
let result;
if (names.length > 0) {
  result = await build({
    metafile: true,
    write: false,
    entryPoints: Object.fromEntries(names.map((name) => [name, `${root}${executables[name]}`])),
    outdir: `${root}dist`,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    splitting: true,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    minify: true,
    sourcemap: 'linked',
    banner: { js: banner },
    external: ['better-sqlite3', 'etcd3', 'pino-pretty'],
    logLevel: 'warning',
    plugins: [lazyChildProcessForCommander],
  });
}
/**
 * calicoctl is CommonJS run from V8's code cache by a small launcher (src/ctl/launcher.ts):
 * start-up time is its budget (150 ms for `version` and `validate`), and Node 20 caches no
 * compiled ES modules. Two bundles: the whole command tree, and the validation code alone
 * for the `validate` the launcher parses itself. Dynamic imports become requires, so the
 * bundles need no module loader.
 */
const calicoctl = await build({
  write: false,
  entryPoints: {
    calicoctl: `${root}src/ctl/launcher.ts`,
    'calicoctl.bundle': `${root}src/ctl/main.ts`,
    'calicoctl.validate': `${root}src/ctl/validate-bundle.ts`,
  },
  outdir: `${root}dist`,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  sourcemap: 'linked',
  supported: { 'dynamic-import': false },
  define: { 'import.meta.url': '__calico_import_meta_url' },
  banner: {
    js: 'var __calico_import_meta_url=require("node:url").pathToFileURL(__filename).href;',
  },
  external: ['better-sqlite3', 'etcd3', 'pino-pretty'],
  logLevel: 'warning',
  plugins: [lazyChildProcessForCommander],
});

// The launcher reads the bundle as latin1 (no UTF-8 decoding, and a one-byte string for
// V8), which is exact only for ASCII. esbuild escapes strings but not regular expressions.
for (const out of calicoctl.outputFiles) {
  if (!out.path.endsWith('.cjs')) continue; // source maps quote the sources as written
  const at = out.contents.findIndex((byte) => byte > 0x7f);
  if (at >= 0) {
    const text = Buffer.from(out.contents).toString('utf8');
    const char = Buffer.from(out.contents.subarray(0, at)).toString('utf8').length;
    console.error(
      `build: ${out.path} must be ASCII, but has ${JSON.stringify(text.slice(char - 40, char + 10))}: write non-ASCII characters in the source as \\u escapes`,
    );
    process.exit(1);
  }
}

// Tests build while other tests run the bundles, so every file is replaced atomically
// (write aside, rename over), and a file whose content is unchanged is left alone: a
// reader never sees a half-written chunk.
for (const out of calicoctl.outputFiles) replaceIfChanged(out);
if (result !== undefined) {
  for (const out of result.outputFiles) replaceIfChanged(out);
  // Chunk names carry content hashes, so a changed build leaves the previous chunks
  // behind; remove those (never the directory: a running test may be loading from it).
  const current = new Set(result.outputFiles.map((o) => o.path.split('/').pop()));
  for (const file of readdirSync(`${root}dist/chunks`)) {
    // *.tmp: another build's file on its way in
    if (!current.has(file) && !file.endsWith('.tmp'))
      rmSync(`${root}dist/chunks/${file}`, { force: true });
  }
}
// Run both budgeted commands once: the build fails if the launcher cannot, and `validate`
// fills its bundle's code cache (a no-op when current).
for (const args of [['version'], ['validate', '-f', `${root}examples/lab/policy.yaml`]]) {
  const warm = spawnSync(process.execPath, [`${root}dist/calicoctl.cjs`, ...args], {
    encoding: 'utf8',
  });
  if (warm.status !== 0) {
    console.error(`build: dist/calicoctl.cjs ${args[0]} does not run: ${warm.stderr}`);
    process.exit(1);
  }
}
console.log('build: dist/calicoctl.cjs (+ calicoctl.bundle.cjs, calicoctl.validate.cjs)');
for (const name of names) console.log(`build: dist/${name}.mjs`);

function replaceIfChanged(out) {
  let same = false;
  try {
    same = readFileSync(out.path).equals(out.contents);
  } catch {
    // not there yet
  }
  if (same) return;
  mkdirSync(dirname(out.path), { recursive: true });
  const aside = `${out.path}.${process.pid}.tmp`;
  writeFileSync(aside, out.contents);
  renameSync(aside, out.path);
}
