// IPAM for the calico plugin: `calico-ipam` in-process (same datastore connection, no
// second process start), any other `ipam.type` by exec from CNI_PATH as the spec says.
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../datastore/index.js';
import { HANDLE_PREFIX, IpamClient, IpamError } from '../ipam/index.js';
import type { CniEnv } from './env.js';
import { CNI_CODES, CniError } from './errors.js';
import { run } from './exec.js';
import { handleId, type K8sIdentity } from './names.js';
import type { NetConf } from './netconf.js';

export interface IpamAddress {
  /** "10.0.0.5/32" or "fd00::5/128" (or the delegate's own prefix) */
  address: string;
  ip: string;
  family: 4 | 6;
  gateway?: string;
}

function ipamError(err: unknown): never {
  if (err instanceof IpamError) {
    const code = err.code === 'TOO_MANY_RETRIES' ? CNI_CODES.TRY_LATER : CNI_CODES.IPAM_FAILED;
    throw new CniError(code, err.message, err.code);
  }
  throw err;
}

function toAddress(ip: string): IpamAddress {
  const family = ip.includes(':') ? 6 : 4;
  return { address: `${ip}/${family === 4 ? 32 : 128}`, ip, family };
}

export async function calicoAssign(
  backend: Backend,
  conf: NetConf,
  env: CniEnv,
  node: string,
  k8s: K8sIdentity | undefined,
): Promise<IpamAddress[]> {
  const client = new IpamClient({ backend });
  const handle = handleId(conf.name, env.containerId);
  try {
    // A repeated ADD for the same container gets its addresses back rather than more.
    const existing = await client.addressesOf(handle);
    if (existing.length > 0) return existing.map(toAddress);
    const attributes: Record<string, string> = { node, containerID: env.containerId };
    if (k8s !== undefined) {
      attributes.namespace = k8s.namespace;
      attributes.pod = k8s.pod;
    }
    const pools = [...conf.ipam.ipv4_pools, ...conf.ipam.ipv6_pools];
    const res = await client.autoAssign({
      node,
      handleId: handle,
      attributes,
      num4: conf.ipam.assign_ipv4 ? 1 : 0,
      num6: conf.ipam.assign_ipv6 ? 1 : 0,
      ...(pools.length > 0 ? { pools } : {}),
    });
    return [...res.ipv4, ...res.ipv6].map((a) => toAddress(a.ip));
  } catch (err) {
    ipamError(err);
  }
}

export async function calicoRelease(backend: Backend, network: string, containerId: string) {
  try {
    await new IpamClient({ backend }).releaseByHandle(handleId(network, containerId));
  } catch (err) {
    ipamError(err);
  }
}

export async function calicoHandles(backend: Backend, network: string): Promise<string[]> {
  const prefix = `${HANDLE_PREFIX}${network}.`;
  const res = await backend.list(prefix);
  return res.items.map((kv) => kv.key.slice(HANDLE_PREFIX.length));
}

export async function calicoAddressesOf(backend: Backend, network: string, containerId: string) {
  try {
    return await new IpamClient({ backend }).addressesOf(handleId(network, containerId));
  } catch (err) {
    ipamError(err);
  }
}

export function findPlugin(type: string, path: readonly string[]): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(type))
    throw new CniError(CNI_CODES.INVALID_CONFIG, `plugin type "${type}" is not a file name`);
  for (const dir of path) {
    const file = join(dir, type);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  throw new CniError(
    CNI_CODES.INVALID_CONFIG,
    `failed to find plugin "${type}" in path [${path.join(' ')}]`,
  );
}

/** Runs a delegate the way a runtime would; its CNI error is passed on unchanged. */
export async function execPlugin(
  type: string,
  command: string,
  stdin: string,
  env: NodeJS.ProcessEnv,
  path: readonly string[],
): Promise<Record<string, unknown> | undefined> {
  const file = findPlugin(type, path);
  const r = await run([file], { input: stdin, env: { ...env, CNI_COMMAND: command } });
  let out: Record<string, unknown> | undefined;
  try {
    out = r.stdout.trim() === '' ? undefined : (JSON.parse(r.stdout) as Record<string, unknown>);
  } catch {
    out = undefined;
  }
  if (r.code !== 0) {
    if (out !== undefined && typeof out.code === 'number')
      throw new CniError(
        out.code,
        `${type}: ${String(out.msg ?? 'failed')}`,
        typeof out.details === 'string' ? out.details : '',
      );
    throw new CniError(
      CNI_CODES.DELEGATE_FAILED,
      `${type} ${command} exited ${r.code}: ${r.stderr.trim().slice(0, 500)}`,
    );
  }
  return out;
}

/** The addresses of a delegate's result (spec 0.3.0+ `ips`). */
export function addressesFromResult(result: Record<string, unknown> | undefined): IpamAddress[] {
  const ips = (result?.ips ?? []) as { address?: unknown; gateway?: unknown }[];
  if (!Array.isArray(ips)) throw new CniError(CNI_CODES.DECODE, 'IPAM result "ips" is not a list');
  return ips.map((x) => {
    if (typeof x.address !== 'string' || !x.address.includes('/'))
      throw new CniError(
        CNI_CODES.DECODE,
        `IPAM result address ${JSON.stringify(x.address)} is not a CIDR`,
      );
    const ip = x.address.slice(0, x.address.indexOf('/'));
    const family = ip.includes(':') ? 6 : 4;
    return {
      address: x.address,
      ip,
      family,
      ...(typeof x.gateway === 'string' ? { gateway: x.gateway } : {}),
    };
  });
}
