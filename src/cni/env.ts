// The CNI runtime's environment: which command, which container, where its netns is.
import { CNI_CODES, CniError } from './errors.js';

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'GC' | 'STATUS';
const COMMANDS = new Set<string>(['ADD', 'DEL', 'CHECK', 'VERSION', 'GC', 'STATUS']);

export interface CniEnv {
  command: CniCommand;
  containerId: string;
  /** path of the container's network namespace; may be empty on DEL (netns gone) */
  netns: string;
  ifname: string;
  path: string[];
  args: Record<string, string>;
}

export function readCommand(env: NodeJS.ProcessEnv): CniCommand {
  const c = env.CNI_COMMAND;
  if (c === undefined || c === '')
    throw new CniError(CNI_CODES.INVALID_ENV, 'required env variable CNI_COMMAND is missing');
  if (!COMMANDS.has(c))
    throw new CniError(
      CNI_CODES.INVALID_ENV,
      `CNI_COMMAND "${c}" is not one of ADD, DEL, CHECK, VERSION, GC, STATUS`,
    );
  return c as CniCommand;
}

/** `K=V;K2=V2` → record; a malformed pair is an environment error, as in libcni. */
export function parseCniArgs(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (text === undefined || text === '') return out;
  for (const pair of text.split(';')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new CniError(CNI_CODES.INVALID_ENV, `CNI_ARGS item "${pair}" is not KEY=VALUE`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const IFNAME = /^[^\s/:]{1,15}$/;

/** The spec's required variables per command (CNI_NETNS is optional on DEL). */
export function readEnv(env: NodeJS.ProcessEnv): CniEnv {
  const command = readCommand(env);
  const need: string[] = [];
  if (command === 'ADD' || command === 'CHECK' || command === 'DEL') {
    need.push('CNI_CONTAINERID', 'CNI_IFNAME');
    if (command !== 'DEL') need.push('CNI_NETNS');
  }
  if (command !== 'VERSION') need.push('CNI_PATH');
  const missing = need.filter((k) => (env[k] ?? '') === '');
  if (missing.length > 0)
    throw new CniError(
      CNI_CODES.INVALID_ENV,
      `required env variables [${missing.join(',')}] missing`,
    );
  const containerId = env.CNI_CONTAINERID ?? '';
  if (containerId !== '' && !CONTAINER_ID.test(containerId))
    throw new CniError(
      CNI_CODES.INVALID_ENV,
      `CNI_CONTAINERID "${containerId}" must be alphanumeric with '_', '.' or '-'`,
    );
  const ifname = env.CNI_IFNAME ?? '';
  if (ifname !== '' && (!IFNAME.test(ifname) || ifname === '.' || ifname === '..'))
    throw new CniError(
      CNI_CODES.INVALID_ENV,
      `CNI_IFNAME "${ifname}" is not a valid interface name`,
    );
  return {
    command,
    containerId,
    netns: env.CNI_NETNS ?? '',
    ifname,
    path: (env.CNI_PATH ?? '').split(':').filter((p) => p !== ''),
    args: parseCniArgs(env.CNI_ARGS),
  };
}
