// Where the non-VERSION commands live. In the bundles they are a separate entry file
// (dist/cni-commands.mjs) next to the plugin's entry, loaded only when needed: a single
// bundle hoists the native better-sqlite3 import and parses ~700 KB before main runs,
// more than VERSION's whole budget on a loaded machine. Resolved from the entry script
// (argv[1]), not import.meta.url, because a code-splitting build moves this module into
// a shared chunk directory. Under tsx the source is imported.
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

type Commands = typeof import('./commands.js');

export async function loadCommands(): Promise<Commands> {
  const entry = process.argv[1] ?? '';
  const spec = entry.endsWith('.mjs')
    ? pathToFileURL(join(dirname(entry), 'cni-commands.mjs')).href
    : './commands.js';
  return (await import(spec)) as Commands;
}
