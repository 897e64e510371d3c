// The command lines the launcher runs without the command tree. `version` and `validate`
// have a start-up budget (150 ms, of which Node itself takes 75-90 ms here), and building
// commander's tree of every command, from a code cache that holds all of it, cost ~16 ms
// of a `validate`. Only the plain spellings are taken; anything else (help, a global
// option, a flag this parser does not know, a missing value) goes to the command tree,
// which gives the usual usage errors. A test checks that commander reads every command
// line taken here to the same options.

export interface ValidateOptions {
  filename: string[];
  recursive?: true;
  skipEmpty?: true;
}

export type DirectCommand =
  | { command: 'version' }
  | { command: 'validate'; options: ValidateOptions };

/** The option's value when it is one commander would take as the value, else undefined. */
function plainValue(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  // commander takes "-x" as a value too; where that is meant, the command tree decides
  return value.startsWith('-') && value !== '-' ? undefined : value;
}

function validateOptions(args: readonly string[]): ValidateOptions | undefined {
  const options: ValidateOptions = { filename: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    let value: string | undefined;
    if (arg === '-f' || arg === '--filename') value = plainValue(args[++i]);
    else if (arg.startsWith('--filename=')) value = plainValue(arg.slice('--filename='.length));
    else if (arg === '-R' || arg === '--recursive') {
      options.recursive = true;
      continue;
    } else if (arg === '--skip-empty') {
      options.skipEmpty = true;
      continue;
    } else return undefined;
    if (value === undefined) return undefined;
    options.filename.push(value);
  }
  return options.filename.length > 0 ? options : undefined;
}

/** What the launcher may run directly for these arguments (argv after the script). */
export function directCommand(args: readonly string[]): DirectCommand | undefined {
  const [word, ...rest] = args;
  if (word === 'version') {
    return rest.every((a) => a === '--client') ? { command: 'version' } : undefined;
  }
  if (word === 'validate') {
    const options = validateOptions(rest);
    return options === undefined ? undefined : { command: 'validate', options };
  }
  return undefined;
}
