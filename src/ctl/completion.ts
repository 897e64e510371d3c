/**
 * Shell completion generated from the command tree itself, so a new command or flag
 * completes without anyone remembering to edit a script.
 */
import type { Command } from 'commander';
import { KINDS } from '../api/index.js';
import { CtlError } from './errors.js';

interface Node {
  /** space-joined command path below calicoctl, '' for the root */
  path: string;
  subcommands: string[];
  flags: string[];
}

function walk(cmd: Command, prefix: string, out: Node[]): void {
  const subs = cmd.commands.filter((c) => c.name() !== 'help');
  const flags = cmd.options.flatMap((o) => [o.short, o.long].filter((f): f is string => !!f));
  out.push({ path: prefix, subcommands: subs.map((c) => c.name()), flags: [...flags, '--help'] });
  for (const c of subs) walk(c, prefix === '' ? c.name() : `${prefix} ${c.name()}`, out);
}

/** Commands whose first positional argument is a resource kind. */
const KIND_COMMANDS = ['get', 'delete', 'patch', 'label'];

function kindWords(): string {
  return KINDS.map((k) => k.plural).join(' ');
}

function bash(nodes: Node[]): string {
  const cases = nodes
    .map((n) => `    "${n.path}") words="${[...n.subcommands, ...n.flags].join(' ')}" ;;`)
    .join('\n');
  return `# bash completion for calicoctl; load with: source <(calicoctl completion bash)
_calicoctl() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" w i
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    case " $(_calicoctl_subs "$path") " in
      *" $w "*) path="\${path:+$path }$w" ;;
    esac
  done
  local words=""
  case "$path" in
${cases}
  esac
  case "$path" in
    ${KIND_COMMANDS.join('|')}) [[ "$cur" != -* ]] && words="$words ${kindWords()}" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
_calicoctl_subs() {
  case "$1" in
${nodes.map((n) => `    "${n.path}") echo "${n.subcommands.join(' ')}" ;;`).join('\n')}
  esac
}
complete -o default -F _calicoctl calicoctl
`;
}

function zsh(nodes: Node[]): string {
  // zsh runs bash completion functions through bashcompinit.
  return `#compdef calicoctl
# zsh completion for calicoctl; load with: source <(calicoctl completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bash(nodes)}`;
}

export function completionScript(program: Command, shell: string): string {
  const nodes: Node[] = [];
  walk(program, '', nodes);
  if (shell === 'bash') return bash(nodes);
  if (shell === 'zsh') return zsh(nodes);
  throw new CtlError(`Unsupported shell "${shell}": use bash or zsh`);
}
