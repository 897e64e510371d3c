// Per-interface and global kernel settings for workload interfaces
// (calico-dataplane.md §8–§9): proxy ARP with no delay, forwarding, route_localnet,
// and for IPv6 no DAD, forwarding, no RAs, proxy NDP.
import { SpawnRunner, type ToolRunner } from './exec.js';

const IFNAME = /^[A-Za-z0-9_.:-]{1,15}$/;

export const WORKLOAD_SYSCTLS: readonly [string, string][] = [
  ['net/ipv4/conf/%s/proxy_arp', '1'],
  ['net/ipv4/neigh/%s/proxy_delay', '0'],
  ['net/ipv4/conf/%s/forwarding', '1'],
  ['net/ipv4/conf/%s/route_localnet', '1'],
  ['net/ipv6/conf/%s/accept_dad', '0'],
  ['net/ipv6/conf/%s/forwarding', '1'],
  ['net/ipv6/conf/%s/accept_ra', '0'],
  ['net/ipv6/conf/%s/proxy_ndp', '1'],
];

export const GLOBAL_SYSCTLS: readonly [string, string][] = [
  ['net/ipv4/ip_forward', '1'],
  ['net/ipv6/conf/all/forwarding', '1'],
];

/**
 * Applies the workload settings to each interface that exists (inside `netns`) and
 * returns the names it configured; missing interfaces are simply not in the result,
 * so the caller retries them later.
 */
export async function configureInterfaces(
  netns: string | undefined,
  ifnames: readonly string[],
  global: boolean,
  runner: ToolRunner = new SpawnRunner(netns),
): Promise<string[]> {
  const names = ifnames.filter((n) => IFNAME.test(n));
  if (names.length === 0 && !global) return [];
  const lines: string[] = [];
  if (global)
    for (const [k, v] of GLOBAL_SYSCTLS)
      lines.push(`echo ${v} > /proc/sys/${k} 2>/dev/null || true`);
  for (const n of names) {
    const writes = WORKLOAD_SYSCTLS.map(
      ([k, v]) => `echo ${v} > /proc/sys/${k.replace('%s', n)} 2>/dev/null`,
    ).join('; ');
    // The v6 entries fail harmlessly when IPv6 is off; the interface counts as done
    // once its v4 conf directory exists.
    lines.push(`if [ -d /proc/sys/net/ipv4/conf/${n} ]; then ${writes}; echo ok ${n}; fi`);
  }
  const r = await runner.script(`${lines.join('\n')}\n`);
  return [...r.stdout.matchAll(/^ok (\S+)$/gm)].map((m) => m[1]!);
}
