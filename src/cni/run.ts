// The process frame shared by both plugins: read env and stdin, run one command, print
// the result or the CNI error object on stdout, exit 0 or 1. Nothing else may reach
// stdout, and no failure may escape as a stack trace.
import { readEnv } from './env.js';
import { errorJson, isCniError } from './errors.js';
import { checkVersion, decode, SUPPORTED_VERSIONS } from './netconf.js';

export type Handler = (stdin: string, processEnv: NodeJS.ProcessEnv) => Promise<unknown>;

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function versionOf(stdin: string): string {
  try {
    const v = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
    return typeof v === 'string' && v !== '' ? v : '1.1.0';
  } catch {
    return '1.1.0';
  }
}

export function versionResult(stdin: string): Record<string, unknown> {
  // The runtime's stdin carries only {"cniVersion"}; answer in that version when we know it.
  let cniVersion = '1.1.0';
  if (stdin.trim() !== '') cniVersion = checkVersion(decode(stdin).cniVersion ?? '1.1.0');
  return { cniVersion, supportedVersions: [...SUPPORTED_VERSIONS] };
}

/** Commands other than VERSION are loaded lazily by `load`, keeping VERSION fast. */
export async function main(load: () => Promise<Handler>): Promise<void> {
  let stdin = '';
  let code = 0;
  try {
    const command = readEnv(process.env).command;
    stdin = await readStdin();
    if (command === 'VERSION') {
      process.stdout.write(`${JSON.stringify(versionResult(stdin))}\n`);
    } else {
      const handler = await load();
      const out = await handler(stdin, process.env);
      if (out !== undefined) process.stdout.write(`${JSON.stringify(out)}\n`);
    }
  } catch (err) {
    code = 1;
    const json = errorJson(versionOf(stdin), err);
    if (!isCniError(err) && process.env.CNI_DEBUG_STACK === '1')
      process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    process.stdout.write(`${JSON.stringify(json)}\n`);
  }
  process.exitCode = code;
}
