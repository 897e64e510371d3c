#!/usr/bin/env node
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
// Bundles each executable into dist/ with esbuild. Native or runtime-loading
// packages (better-sqlite3, etcd3) stay external and are loaded from node_modules.
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;

/** name → entry point. Add an executable here when its command really works. */
export const executables = {
  calicoctl: 'src/ctl/main.ts',
  'calico-node': 'src/agent/main.ts',
  'calico-lab': 'src/lab/main.ts',
  calico: 'src/cni/main.ts',
  'calico-ipam': 'src/cni/ipam-main.ts',
  // not an executable: the CNI plugins' commands, imported by both only after VERSION
  'cni-commands': 'src/cni/commands.ts',
};

const banner =
  "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);";

mkdirSync(`${root}dist`, { recursive: true });
const names = Object.keys(executables);
if (names.length === 0) console.log('build: no executables yet');
// One build with code splitting: each executable's entry stays small and shares chunks,
// so paths that import little (calicoctl version/validate, CNI VERSION) compile little.
let result;
if (names.length > 0) {
  result = await build({
    metafile: true,
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
  });
}
// Chunk names carry content hashes, so each changed build leaves the previous chunks
// behind. Remove only those after the build: tests build concurrently from the same
// sources, and deleting the directory first would pull chunks from under a running one.
if (result !== undefined) {
  const current = new Set(Object.keys(result.metafile.outputs).map((o) => o.split('/').pop()));
  for (const file of readdirSync(`${root}dist/chunks`)) {
    if (!current.has(file)) rmSync(`${root}dist/chunks/${file}`, { force: true });
  }
}
for (const name of names) console.log(`build: dist/${name}.mjs`);
