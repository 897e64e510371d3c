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

/** A host namespace linked to the router: `r<index>` on the router, `eth0` on the host. */
export async function createHost(router: string, ns: string, index: number): Promise<void> {
  const { routerIp, hostIp } = fabricAddresses(index);
  await addNamespace(ns);
  await linkToRouter(router, `r${index}`, ns);
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

/** The router's own address (on its loopback): every host's BGP peer and BIRD's router id. */
export const ROUTER_ID = `${FABRIC_BASE}.0.1`;
/** The fabric's AS; hosts keep Calico's default 64512, so every session is eBGP. */
export const ROUTER_AS = 65000;
/** The "outside" network behind the router: a client that knows nothing of Calico. */
export const OUTSIDE = { routerIp: '10.249.0.1', ip: '10.249.0.2' };

export async function createRouter(ns: string): Promise<void> {
  await addNamespace(ns);
  await sysctl(ns, ['net.ipv4.ip_forward=1']);
  await ipBatch(ns, [`addr add ${ROUTER_ID}/32 dev lo`]);
}

/** A namespace behind the router with only a default route: it reaches workloads by the router's BGP routes. */
export async function createOutside(router: string, ns: string): Promise<void> {
  await addNamespace(ns);
  await linkToRouter(router, 'out0', ns);
  await ipBatch(router, [`addr add ${OUTSIDE.routerIp}/24 dev out0`, 'link set out0 up']);
  await ipBatch(ns, [
    `addr add ${OUTSIDE.ip}/24 dev eth0`,
    'link set eth0 up',
    `route add default via ${OUTSIDE.routerIp}`,
  ]);
}

/**
 * BIRD 2 for the router, a top-of-rack switch in Calico's usual L3 design: one eBGP
 * session per host (to the router's loopback, hence multihop), everything the hosts
 * announce imported and installed with ECMP (`merge paths`), nothing sent down (each
 * host's default route already points here).
 */
export function birdConfig(hostIps: readonly string[], logFile: string): string {
  const lines = [
    `log "${logFile}" all;`,
    `router id ${ROUTER_ID};`,
    'protocol device { scan time 10; }',
    // connected host links, so the hosts' next hops resolve (multihop BGP is recursive)
    'protocol direct { ipv4; interface "r*"; }',
    'protocol kernel kernel4 {',
    '  ipv4 { import none; export where source = RTS_BGP; };',
    '  merge paths on;',
    '}',
    'template bgp calico_node {',
    `  local ${ROUTER_ID} as ${ROUTER_AS};`,
    '  multihop;',
    '  connect retry time 2;',
    '  ipv4 { import all; export none; };',
    '}',
  ];
  hostIps.forEach((ip, i) => {
    lines.push(`protocol bgp host${i + 1} from calico_node { neighbor ${ip} as 64512; }`);
  });
  return `${lines.join('\n')}\n`;
}

/** The router's BGP routes in its kernel: destination → sorted next hops. */
export async function routerRoutes(router: string): Promise<Map<string, string[]>> {
  const r = await run(['ip', '-n', router, '-j', 'route', 'show', 'proto', 'bird']);
  const out = new Map<string, string[]>();
  for (const e of JSON.parse(r.stdout || '[]') as {
    dst: string;
    gateway?: string;
    nexthops?: { gateway: string }[];
  }[]) {
    const dst = e.dst.includes('/') ? e.dst : `${e.dst}/32`;
    out.set(dst, (e.nexthops ? e.nexthops.map((n) => n.gateway) : [e.gateway ?? '']).sort());
  }
  return out;
}

/** A veth pair: `routerSide` in the router namespace, `eth0` in `ns`. */
async function linkToRouter(router: string, routerSide: string, ns: string): Promise<void> {
  await run([
    'ip',
    'link',
    'add',
    routerSide,
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
}
