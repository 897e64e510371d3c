// Where the non-VERSION commands live. In the esbuild bundle they are a second file
// (dist/cni-commands.mjs) loaded only when needed: a single bundle hoists the native
// better-sqlite3 import and parses ~700 KB before main runs, which alone costs more
// than VERSION's whole budget on a loaded machine. Under tsx the source is imported.
type Commands = typeof import('./commands.js');

export async function loadCommands(): Promise<Commands> {
  const bundled = import.meta.url.endsWith('.mjs');
  const spec = bundled ? new URL('./cni-commands.mjs', import.meta.url).href : './commands.js';
  return (await import(spec)) as Commands;
}
