// Which of the launcher's code caches a command line runs from (see launcher.ts).

/** Global options that take a value, so the command word is found after them. */
const GLOBAL_OPTIONS_WITH_VALUE = new Set(['-c', '--config', '--log-level']);
const OWN_CACHE = new Set(['version', 'validate']);

/** Which cache this command line runs from: its own for version and validate, else the shared one. */
export function cacheKey(args: readonly string[]): string {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (GLOBAL_OPTIONS_WITH_VALUE.has(arg)) i++;
    else if (!arg.startsWith('-')) return OWN_CACHE.has(arg) ? arg : 'any';
  }
  return 'any';
}
