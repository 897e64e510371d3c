// Where the repository's executables are, whether the lab runs from source (tsx) or
// from its bundle in dist/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('Cannot find the calico-ts checkout (no package.json above)');
    dir = up;
  }
  return dir;
}

/** argv to run one of our executables: its bin/ launcher if present, else the bundle. */
export function executable(name: string): string[] | undefined {
  const root = repoRoot();
  // calicoctl is CommonJS (run from V8's code cache), the others ES modules
  const bundle = [join(root, 'dist', `${name}.cjs`), join(root, 'dist', `${name}.mjs`)].find((f) =>
    existsSync(f),
  );
  if (bundle === undefined) return undefined;
  const launcher = join(root, 'bin', name);
  return existsSync(launcher) ? [launcher] : [process.execPath, bundle];
}

/** argv that re-runs this very CLI (source or bundle) with the given arguments. */
export function selfArgv(args: readonly string[]): string[] {
  return [process.execPath, ...process.execArgv, process.argv[1] as string, ...args];
}
