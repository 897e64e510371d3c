// IP / IP6 autodetection: the first global-scope address on an interface that is not a
// workload interface (`cali*` by default), not loopback and up, in the namespace being
// programmed. This is Calico's `first-found` method, with interfaces in kernel order.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

interface IpAddrJson {
  ifname: string;
  flags?: string[];
  operstate?: string;
  addr_info?: { family: string; local: string; prefixlen: number; scope: string }[];
}

export async function autodetectAddress(
  family: 4 | 6,
  netns: string | undefined,
  excludePrefixes: readonly string[] = ['cali'],
): Promise<string | undefined> {
  const argv = [...(netns ? ['-n', netns] : []), '-j', `-${family}`, 'addr', 'show'];
  const { stdout } = await run('ip', argv);
  const links = JSON.parse(stdout || '[]') as IpAddrJson[];
  for (const l of links) {
    if (l.ifname === 'lo' || excludePrefixes.some((p) => l.ifname.startsWith(p))) continue;
    if (l.flags && !l.flags.includes('UP')) continue;
    for (const a of l.addr_info ?? []) {
      if (a.scope === 'global' && (a.family === 'inet') === (family === 4)) {
        return `${a.local}/${a.prefixlen}`;
      }
    }
  }
  return undefined;
}
