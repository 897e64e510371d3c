// The lab's namespaces and links (toolbox.md §3): one router namespace, one namespace
// per host with its own /24 to the router, workloads plumbed Calico-style. No veth end
// is ever created in, or moved to, the root namespace.
import { createHash } from 'node:crypto';
import { ipBatch, run } from './exec.js';

export const FABRIC_BASE = '10.250';

export function fabricAddresses(index: number): { routerIp: string; hostIp: string } {
  // index is 1-based; one /24 per host keeps every host link obviously separate
  return { routerIp: `${FABRIC_BASE}.${index}.1`, hostIp: `${FABRIC_BASE}.${index}.2` };
}

export async function listNamespaces(): Promise<string[]> {
  const r = await run(['ip', 'netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n !== '');
}

export async function addNamespace(ns: string): Promise<void> {
  await run(['ip', 'netns', 'add', ns]);
  await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
}

export async function deleteNamespace(ns: string): Promise<void> {
  await run(['ip', 'netns', 'del', ns], { allowFail: true });
}

async function sysctl(ns: string, settings: readonly string[]): Promise<void> {
  await run(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', ...settings]);
}

export async function createRouter(ns: string): Promise<void> {
  await addNamespace(ns);
  await sysctl(ns, ['net.ipv4.ip_forward=1']);
}

/** A host namespace linked to the router: `r<index>` on the router, `eth0` on the host. */
export async function createHost(router: string, ns: string, index: number): Promise<void> {
  const { routerIp, hostIp } = fabricAddresses(index);
  await addNamespace(ns);
  await run([
    'ip',
    'link',
    'add',
    `r${index}`,
    'netns',
    router,
    'type',
    'veth',
    'peer',
    'name',
    'eth0',
    'netns',
    ns,
  ]);
  await ipBatch(router, [`addr add ${routerIp}/24 dev r${index}`, `link set r${index} up`]);
  await ipBatch(ns, [
    `addr add ${hostIp}/24 dev eth0`,
    'link set eth0 up',
    `route add default via ${routerIp}`,
  ]);
  await sysctl(ns, ['net.ipv4.ip_forward=1']);
}

/** Calico's host-side name: "cali" + 11 hex characters of a hash of the pod's identity. */
export function workloadInterfaceName(namespace: string, name: string): string {
  return `cali${createHash('sha1').update(`${namespace}.${name}`).digest('hex').slice(0, 11)}`;
}

/**
 * Plumbs a workload namespace to its host exactly as the Calico CNI plugin does: a veth
 * whose host end has the fixed MAC and proxy ARP, a /32 in the workload, and a default
 * route via the link-local 169.254.1.1 that the host answers for.
 */
export async function plumbWorkload(
  hostNs: string,
  wlNs: string,
  iface: string,
  ip: string,
): Promise<void> {
  await run([
    'ip',
    'link',
    'add',
    iface,
    'netns',
    hostNs,
    'address',
    'ee:ee:ee:ee:ee:ee',
    'type',
    'veth',
    'peer',
    'name',
    'eth0',
    'netns',
    wlNs,
  ]);
  // proxy ARP has to be on before the workload's first ARP for its gateway
  await sysctl(hostNs, [
    `net.ipv4.conf.${iface}.proxy_arp=1`,
    `net.ipv4.neigh.${iface}.proxy_delay=0`,
    `net.ipv4.conf.${iface}.forwarding=1`,
  ]);
  await ipBatch(hostNs, [`link set ${iface} up`, `route replace ${ip}/32 dev ${iface} scope link`]);
  await ipBatch(wlNs, [
    'link set eth0 up',
    `addr add ${ip}/32 dev eth0`,
    'route add 169.254.1.1 dev eth0 scope link',
    'route add default via 169.254.1.1 dev eth0',
  ]);
}

/** Route protocol number for the lab's own routes, so a re-sync touches nothing else. */
export const LAB_ROUTE_PROTO = 'static';

/**
 * Makes the router's lab routes exactly `want` (block CIDR → next hop). Hosts need no
 * such routes: their default route already points at the router, which is the only
 * way to another host in this fabric.
 */
export async function syncRouterRoutes(router: string, want: ReadonlyMap<string, string>) {
  const r = await run(['ip', '-n', router, '-j', 'route', 'show', 'proto', LAB_ROUTE_PROTO]);
  const have = new Map<string, string>();
  for (const e of JSON.parse(r.stdout || '[]') as { dst: string; gateway?: string }[]) {
    have.set(e.dst, e.gateway ?? '');
  }
  const lines: string[] = [];
  for (const [dst] of have)
    if (!want.has(dst)) lines.push(`route del ${dst} proto ${LAB_ROUTE_PROTO}`);
  for (const [dst, via] of want) {
    if (have.get(dst) !== via)
      lines.push(`route replace ${dst} via ${via} proto ${LAB_ROUTE_PROTO}`);
  }
  await ipBatch(router, lines);
  return { added: lines.filter((l) => l.startsWith('route replace')).length };
}
