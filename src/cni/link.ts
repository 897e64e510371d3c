// Workload plumbing (calico-dataplane.md §9, toolbox.md §3): a veth whose host end stays
// in the plugin's own namespace (the "host") and whose other end is created directly in
// the container's netns, so a same-named interface on the host can never collide.
import { existsSync, writeFileSync } from 'node:fs';
import { WORKLOAD_SYSCTLS } from '../dataplane/index.js';
import { CNI_CODES, CniError } from './errors.js';
import { run } from './exec.js';
import { GATEWAY_V4, GATEWAY_V6, HOST_MAC } from './names.js';

function plumbingError(what: string, stderr: string): CniError {
  return new CniError(CNI_CODES.PLUMBING_FAILED, `${what}: ${stderr.trim() || 'failed'}`);
}

async function ip(
  args: string[],
  netns?: string,
): Promise<{ ok: boolean; out: string; err: string }> {
  const argv = netns === undefined ? ['ip', ...args] : ['nsenter', `--net=${netns}`, 'ip', ...args];
  const r = await run(argv);
  return { ok: r.code === 0, out: r.stdout, err: r.stderr };
}

async function ipBatch(lines: string[], what: string, netns?: string): Promise<void> {
  if (lines.length === 0) return;
  const argv =
    netns === undefined
      ? ['ip', '-batch', '-']
      : ['nsenter', `--net=${netns}`, 'ip', '-batch', '-'];
  const r = await run(argv, { input: `${lines.join('\n')}\n` });
  if (r.code !== 0) throw plumbingError(what, r.stderr);
}

export function netnsExists(netns: string): boolean {
  return netns !== '' && existsSync(netns);
}

export interface LinkInfo {
  ifname: string;
  address: string;
  mtu: number;
  up: boolean;
}

export async function linkInfo(name: string, netns?: string): Promise<LinkInfo | undefined> {
  const r = await ip(['-j', 'link', 'show', 'dev', name], netns);
  if (!r.ok) return undefined;
  const [l] = JSON.parse(r.out || '[]') as {
    ifname: string;
    address: string;
    mtu: number;
    flags?: string[];
  }[];
  return l === undefined
    ? undefined
    : { ifname: l.ifname, address: l.address, mtu: l.mtu, up: l.flags?.includes('UP') ?? false };
}

export async function addressesOf(name: string, netns?: string): Promise<string[]> {
  const r = await ip(['-j', 'addr', 'show', 'dev', name], netns);
  if (!r.ok) return [];
  const [l] = JSON.parse(r.out || '[]') as {
    addr_info?: { local: string; prefixlen: number; scope: string }[];
  }[];
  return (l?.addr_info ?? [])
    .filter((a) => a.scope !== 'link')
    .map((a) => `${a.local}/${a.prefixlen}`);
}

export async function routesVia(dev: string, family: 4 | 6, netns?: string): Promise<string[]> {
  const r = await ip([`-${family}`, '-j', 'route', 'show', 'dev', dev], netns);
  if (!r.ok) return [];
  return (JSON.parse(r.out || '[]') as { dst: string }[]).map((x) => x.dst);
}

/** Host-side sysctls, written through /proc (the plugin runs in the host netns). */
function hostSysctls(hostIf: string, v6: boolean): void {
  for (const [pattern, value] of WORKLOAD_SYSCTLS) {
    if (!v6 && pattern.startsWith('net/ipv6/')) continue;
    const path = `/proc/sys/${pattern.replace('%s', hostIf)}`;
    try {
      writeFileSync(path, value);
    } catch (err) {
      // proxy_ndp and friends vanish when IPv6 is off on the host; nothing to set then.
      if (pattern.startsWith('net/ipv6/') && !existsSync('/proc/sys/net/ipv6')) continue;
      throw plumbingError(`Cannot set ${path}`, String(err));
    }
  }
}

export interface WorkloadPlumbing {
  netns: string;
  ifname: string;
  hostIf: string;
  mtu: number;
  /** addresses without prefix */
  v4: string[];
  v6: string[];
}

/** Builds the veth pair, addresses, routes and sysctls; returns the container MAC. */
export async function setUpWorkload(p: WorkloadPlumbing): Promise<string> {
  const mtu = p.mtu > 0 ? ['mtu', String(p.mtu)] : [];
  const add = await ip([
    'link',
    'add',
    p.hostIf,
    ...mtu,
    'address',
    HOST_MAC,
    'type',
    'veth',
    'peer',
    'name',
    p.ifname,
    ...mtu,
    'netns',
    p.netns,
  ]);
  if (!add.ok) throw plumbingError(`Cannot create veth ${p.hostIf} / ${p.ifname}`, add.err);
  const v6 = p.v6.length > 0;
  // accept_dad=0 must precede link up, or the host link-local gateway stays tentative
  // for a second or two and the workload's first IPv6 packets are dropped.
  hostSysctls(p.hostIf, v6);
  if (v6) {
    const r = await run([
      'nsenter',
      `--net=${p.netns}`,
      'sysctl',
      '-qw',
      'net.ipv6.conf.all.disable_ipv6=0',
      'net.ipv6.conf.default.disable_ipv6=0',
      `net.ipv6.conf.${p.ifname}.disable_ipv6=0`,
      `net.ipv6.conf.${p.ifname}.accept_dad=0`,
    ]);
    if (r.code !== 0) throw plumbingError('Cannot enable IPv6 in the container', r.stderr);
  }
  const host = [`link set ${p.hostIf} up`];
  for (const a of p.v4) host.push(`route add ${a}/32 dev ${p.hostIf} scope link`);
  for (const a of p.v6) host.push(`route add ${a}/128 dev ${p.hostIf}`);
  const ctr = [`link set ${p.ifname} up`];
  for (const a of p.v4) ctr.push(`addr add ${a}/32 dev ${p.ifname}`);
  if (p.v4.length > 0) {
    // The scope-link route first: a gateway outside every local subnet is otherwise rejected.
    ctr.push(`route add ${GATEWAY_V4} dev ${p.ifname} scope link`);
    ctr.push(`route add default via ${GATEWAY_V4} dev ${p.ifname}`);
  }
  for (const a of p.v6) ctr.push(`addr add ${a}/128 dev ${p.ifname} nodad`);
  if (v6) ctr.push(`route add ::/0 via ${GATEWAY_V6} dev ${p.ifname}`);
  await ipBatch(ctr, 'Cannot configure the container interface', p.netns);
  await ipBatch(host, `Cannot configure host interface ${p.hostIf}`);
  const info = await linkInfo(p.ifname, p.netns);
  if (info === undefined) throw plumbingError(`Interface ${p.ifname} vanished`, '');
  return info.address;
}

/** Removes both ends; absent links are fine (DEL is idempotent). */
export async function tearDownWorkload(
  netns: string,
  ifname: string,
  hostIf: string,
): Promise<void> {
  if (netnsExists(netns)) {
    const info = await linkInfo(ifname, netns);
    if (info !== undefined) {
      const r = await ip(['link', 'del', 'dev', ifname], netns);
      if (!r.ok && (await linkInfo(ifname, netns)) !== undefined)
        throw plumbingError(`Cannot delete ${ifname}`, r.err);
    }
  }
  // Deleting one end deletes the pair; this catches a host end whose netns is gone.
  if ((await linkInfo(hostIf)) !== undefined) {
    const r = await ip(['link', 'del', 'dev', hostIf]);
    if (!r.ok && (await linkInfo(hostIf)) !== undefined)
      throw plumbingError(`Cannot delete ${hostIf}`, r.err);
  }
}
