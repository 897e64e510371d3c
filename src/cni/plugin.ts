// The `calico` plugin's commands. Loaded only for ADD/DEL/CHECK/GC/STATUS, so VERSION
// never pays for the datastore, IPAM or the API schemas.
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Profile, type WorkloadEndpoint, workloadEndpointName } from '../api/index.js';
import { type Backend, DatastoreError, ResourceClient } from '../datastore/index.js';
import type { CniEnv } from './env.js';
import { CNI_CODES, CniError } from './errors.js';
import {
  addressesFromResult,
  calicoAddressesOf,
  calicoAssign,
  calicoHandles,
  calicoRelease,
  execPlugin,
  type IpamAddress,
} from './ipam.js';
import {
  addressesOf,
  linkInfo,
  netnsExists,
  routesVia,
  setUpWorkload,
  tearDownWorkload,
} from './link.js';
import {
  GATEWAY_V4,
  GATEWAY_V6,
  HOST_MAC,
  hostVethName,
  type K8sIdentity,
  k8sIdentity,
} from './names.js';
import type { NetConf } from './netconf.js';
import { log, shapeResult } from './result.js';
import { nodeName, openStore } from './store.js';

export const NETWORK_ANNOTATION = 'cni.projectcalico.org/network';
export const CONTAINER_ANNOTATION = 'cni.projectcalico.org/containerID';

interface Ctx {
  conf: NetConf;
  env: CniEnv;
  processEnv: NodeJS.ProcessEnv;
  stdin: string;
  node: string;
  k8s: K8sIdentity | undefined;
  hostIf: string;
  wepNamespace: string;
  wepName: string;
}

function context(conf: NetConf, env: CniEnv, processEnv: NodeJS.ProcessEnv, stdin: string): Ctx {
  const node = nodeName(conf, processEnv);
  const k8s = k8sIdentity(env.args);
  return {
    conf,
    env,
    processEnv,
    stdin,
    node,
    k8s,
    hostIf: hostVethName(env.containerId, k8s),
    wepNamespace: k8s?.namespace ?? 'default',
    wepName: workloadEndpointName({
      node,
      orchestrator: k8s === undefined ? 'cni' : 'k8s',
      workload: k8s?.pod ?? env.containerId,
      endpoint: env.ifname,
    }),
  };
}

async function withStore<T>(ctx: Ctx, fn: (b: Backend) => Promise<T>): Promise<T> {
  const backend = await openStore(ctx.conf, ctx.processEnv);
  try {
    return await fn(backend);
  } finally {
    await backend.close();
  }
}

function datastoreError(what: string, err: unknown): never {
  if (err instanceof CniError) throw err;
  if (err instanceof DatastoreError) {
    if (err.code === 'UNAVAILABLE' || err.code === 'CONFLICT')
      throw new CniError(CNI_CODES.TRY_LATER, `${what}: ${err.message}`);
    throw new CniError(CNI_CODES.DATASTORE_FAILED, `${what}: ${err.message}`, err.code);
  }
  throw err;
}

const isCalicoIpam = (ctx: Ctx) => ctx.conf.ipam.type === 'calico-ipam';

async function assign(ctx: Ctx, b: Backend): Promise<IpamAddress[]> {
  if (isCalicoIpam(ctx)) return calicoAssign(b, ctx.conf, ctx.env, ctx.node, ctx.k8s);
  const res = await execPlugin(ctx.conf.ipam.type, 'ADD', ctx.stdin, ctx.processEnv, ctx.env.path);
  return addressesFromResult(res);
}

async function release(ctx: Ctx, b: Backend): Promise<void> {
  if (isCalicoIpam(ctx)) return calicoRelease(b, ctx.conf.name, ctx.env.containerId);
  await execPlugin(ctx.conf.ipam.type, 'DEL', ctx.stdin, ctx.processEnv, ctx.env.path);
}

/**
 * The network's own profile (non-Kubernetes endpoints): members carry a label named
 * after the network and admit each other, the original "same tag" model. Kubernetes
 * namespaces get `kns.<ns>` allowing everything, since no kube-controllers run here to
 * write it and Kubernetes' default is allow.
 */
function profileFor(ctx: Ctx): Profile {
  if (ctx.k8s !== undefined) {
    return {
      apiVersion: 'projectcalico.org/v3',
      kind: 'Profile',
      metadata: { name: `kns.${ctx.k8s.namespace}` },
      spec: {
        ingress: [{ action: 'Allow' }],
        egress: [{ action: 'Allow' }],
        labelsToApply: { 'pcns.projectcalico.org/name': ctx.k8s.namespace },
      },
    } as Profile;
  }
  const name = ctx.conf.name;
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'Profile',
    metadata: { name },
    spec: {
      ingress: [{ action: 'Allow', source: { selector: `has(${name})` } }],
      egress: [{ action: 'Allow' }],
      labelsToApply: { [name]: '' },
    },
  } as Profile;
}

async function ensureProfile(ctx: Ctx, rc: ResourceClient): Promise<string> {
  const p = profileFor(ctx);
  if ((await rc.get('Profile', p.metadata.name)) === undefined) {
    try {
      await rc.create(p);
    } catch (err) {
      // another ADD created it first: theirs is the same
      if (!(err instanceof DatastoreError && err.code === 'KEY_EXISTS')) throw err;
    }
  }
  return p.metadata.name;
}

function endpointFor(ctx: Ctx, profile: string, mac: string, ips: IpamAddress[]): WorkloadEndpoint {
  const labels: Record<string, string> = {
    ...ctx.conf.labels,
    'projectcalico.org/orchestrator': ctx.k8s === undefined ? 'cni' : 'k8s',
  };
  if (ctx.k8s !== undefined) labels['projectcalico.org/namespace'] = ctx.k8s.namespace;
  const v4 = ips.find((i) => i.family === 4);
  const v6 = ips.find((i) => i.family === 6);
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'WorkloadEndpoint',
    metadata: {
      name: ctx.wepName,
      namespace: ctx.wepNamespace,
      labels,
      annotations: {
        [NETWORK_ANNOTATION]: ctx.conf.name,
        [CONTAINER_ANNOTATION]: ctx.env.containerId,
      },
    },
    spec: {
      orchestrator: ctx.k8s === undefined ? 'cni' : 'k8s',
      ...(ctx.k8s === undefined ? { workload: ctx.env.containerId } : { pod: ctx.k8s.pod }),
      node: ctx.node,
      containerID: ctx.env.containerId,
      endpoint: ctx.env.ifname,
      interfaceName: ctx.hostIf,
      mac,
      ipNetworks: ips.map((i) => `${i.ip}/${i.family === 4 ? 32 : 128}`),
      ...(v4 === undefined ? {} : { ipv4Gateway: GATEWAY_V4 }),
      ...(v6 === undefined ? {} : { ipv6Gateway: GATEWAY_V6 }),
      profiles: [profile],
      ...(ctx.conf.ports.length === 0 ? {} : { ports: ctx.conf.ports }),
    },
  } as WorkloadEndpoint;
}

/** The agent writes `<dir>/<urlencoded "<ns>/<name>">` once the endpoint's policy is in. */
async function waitForPolicy(ctx: Ctx): Promise<boolean> {
  const file = `${ctx.conf.endpoint_status_dir}/${encodeURIComponent(`${ctx.wepNamespace}/${ctx.wepName}`)}`;
  const deadline = Date.now() + ctx.conf.policy_setup_timeout_seconds * 1000;
  for (;;) {
    try {
      const s = JSON.parse(await readFile(file, 'utf8')) as { policyProgrammed?: unknown };
      if (s.policyProgrammed === true) return true;
    } catch {
      // not written yet, or mid-rename
    }
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
}

export async function cmdAdd(
  conf: NetConf,
  env: CniEnv,
  processEnv: NodeJS.ProcessEnv,
  stdin: string,
): Promise<Record<string, unknown>> {
  const ctx = context(conf, env, processEnv, stdin);
  if (!netnsExists(env.netns))
    throw new CniError(CNI_CODES.PLUMBING_FAILED, `network namespace ${env.netns} does not exist`);
  if ((await linkInfo(env.ifname, env.netns)) !== undefined)
    throw new CniError(
      CNI_CODES.INTERFACE_EXISTS,
      `interface ${env.ifname} already exists in ${env.netns}; ADD for container ${env.containerId} was already done`,
    );
  if ((await linkInfo(ctx.hostIf)) !== undefined) {
    // The container side is gone, so this is the leftover of an earlier sandbox of the
    // same pod (Calico removes it too); keeping it would block the new veth.
    log('info', conf.log_level, `removing stale host interface ${ctx.hostIf}`);
    await tearDownWorkload('', env.ifname, ctx.hostIf);
  }
  return withStore(ctx, async (b) => {
    const rc = new ResourceClient(b);
    const ips = await assign(ctx, b);
    let mac: string;
    try {
      if (ips.length === 0)
        throw new CniError(CNI_CODES.IPAM_FAILED, `${conf.ipam.type} returned no addresses`);
      mac = await setUpWorkload({
        netns: env.netns,
        ifname: env.ifname,
        hostIf: ctx.hostIf,
        mtu: conf.mtu,
        v4: ips.filter((i) => i.family === 4).map((i) => i.ip),
        v6: ips.filter((i) => i.family === 6).map((i) => i.ip),
      });
      try {
        const profile = await ensureProfile(ctx, rc);
        await rc.apply(endpointFor(ctx, profile, mac, ips));
      } catch (err) {
        datastoreError(`Cannot write WorkloadEndpoint ${ctx.wepNamespace}/${ctx.wepName}`, err);
      }
    } catch (err) {
      // Undo so a failed ADD leaks neither addresses nor a half-built veth.
      await tearDownWorkload(env.netns, env.ifname, ctx.hostIf).catch(() => undefined);
      await release(ctx, b).catch(() => undefined);
      throw err;
    }
    if (conf.policy_setup_timeout_seconds > 0 && !(await waitForPolicy(ctx)))
      log(
        'warning',
        conf.log_level,
        `policy for ${ctx.wepName} not reported programmed within ${conf.policy_setup_timeout_seconds}s; continuing`,
      );
    return shapeResult(conf.cniVersion, {
      interfaces: [
        { name: ctx.hostIf, mac: HOST_MAC },
        { name: env.ifname, mac, sandbox: env.netns },
      ],
      ips: ips.map((i) => ({
        address: i.address,
        ...(i.gateway === undefined ? {} : { gateway: i.gateway }),
        interface: 1,
      })),
      routes: [
        ...(ips.some((i) => i.family === 4) ? [{ dst: '0.0.0.0/0' }] : []),
        ...(ips.some((i) => i.family === 6) ? [{ dst: '::/0' }] : []),
      ],
      dns: {},
    });
  });
}

export async function cmdDel(
  conf: NetConf,
  env: CniEnv,
  processEnv: NodeJS.ProcessEnv,
  stdin: string,
): Promise<void> {
  const ctx = context(conf, env, processEnv, stdin);
  await tearDownWorkload(env.netns, env.ifname, ctx.hostIf);
  await withStore(ctx, async (b) => {
    await release(ctx, b);
    const rc = new ResourceClient(b);
    try {
      const wep = await rc.get('WorkloadEndpoint', ctx.wepName, { namespace: ctx.wepNamespace });
      // A late DEL of an older sandbox must not remove the endpoint of its successor.
      if (wep !== undefined && (wep.spec.containerID ?? env.containerId) === env.containerId)
        await rc.delete('WorkloadEndpoint', ctx.wepName, { namespace: ctx.wepNamespace });
    } catch (err) {
      if (err instanceof DatastoreError && err.code === 'NOT_FOUND') return;
      datastoreError(`Cannot delete WorkloadEndpoint ${ctx.wepNamespace}/${ctx.wepName}`, err);
    }
  });
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().join() === [...b].sort().join();
}

export async function cmdCheck(
  conf: NetConf,
  env: CniEnv,
  processEnv: NodeJS.ProcessEnv,
  stdin: string,
): Promise<void> {
  const ctx = context(conf, env, processEnv, stdin);
  const fail = (msg: string): never => {
    throw new CniError(CNI_CODES.CHECK_FAILED, msg);
  };
  if (conf.prevResult === undefined)
    throw new CniError(CNI_CODES.INVALID_CONFIG, 'CHECK needs prevResult in the network config');
  if (!netnsExists(env.netns)) fail(`network namespace ${env.netns} does not exist`);
  const want = addressesFromResult(conf.prevResult).map(
    (a) => `${a.ip}/${a.family === 4 ? 32 : 128}`,
  );
  const ctr = await linkInfo(env.ifname, env.netns);
  if (ctr === undefined) fail(`interface ${env.ifname} is missing in ${env.netns}`);
  if (ctr !== undefined && !ctr.up) fail(`interface ${env.ifname} is down`);
  const have = await addressesOf(env.ifname, env.netns);
  if (!sameSet(have, want))
    fail(`${env.ifname} has addresses [${have.join(', ')}], expected [${want.join(', ')}]`);
  const host = await linkInfo(ctx.hostIf);
  if (host === undefined) fail(`host interface ${ctx.hostIf} is missing`);
  if (host !== undefined && host.address !== HOST_MAC)
    fail(`host interface ${ctx.hostIf} has MAC ${host.address}, expected ${HOST_MAC}`);
  const routes = [...(await routesVia(ctx.hostIf, 4)), ...(await routesVia(ctx.hostIf, 6))].map(
    (r) => (r.includes('/') ? r : `${r}/${r.includes(':') ? 128 : 32}`),
  );
  for (const w of want)
    if (!routes.includes(w)) fail(`host route ${w} dev ${ctx.hostIf} is missing`);
  await withStore(ctx, async (b) => {
    const wep = await new ResourceClient(b).get('WorkloadEndpoint', ctx.wepName, {
      namespace: ctx.wepNamespace,
    });
    if (wep === undefined) fail(`WorkloadEndpoint ${ctx.wepNamespace}/${ctx.wepName} is missing`);
    if (wep !== undefined && !sameSet(wep.spec.ipNetworks ?? [], want))
      fail(`WorkloadEndpoint ${ctx.wepName} lists [${(wep.spec.ipNetworks ?? []).join(', ')}]`);
    if (isCalicoIpam(ctx)) {
      const owned = (await calicoAddressesOf(b, conf.name, env.containerId)) ?? [];
      const ips = want.map((w) => w.slice(0, w.indexOf('/')));
      if (!sameSet(owned, ips))
        fail(`IPAM handle holds [${owned.join(', ')}], expected [${ips.join(', ')}]`);
    } else {
      await execPlugin(conf.ipam.type, 'CHECK', stdin, processEnv, env.path);
    }
  });
}

/** Attachments the runtime still uses, from `cni.dev/valid-attachments` (spec 1.1.0). */
export function validAttachments(conf: NetConf): Set<string> {
  const list = conf.raw['cni.dev/valid-attachments'] ?? [];
  if (!Array.isArray(list))
    throw new CniError(CNI_CODES.INVALID_CONFIG, 'cni.dev/valid-attachments must be a list');
  return new Set(
    list.map((a: { containerID?: unknown }) => {
      if (typeof a?.containerID !== 'string')
        throw new CniError(CNI_CODES.INVALID_CONFIG, 'each valid attachment needs a containerID');
      return a.containerID;
    }),
  );
}

/** Frees this network's addresses and endpoints (on this node) no valid attachment owns. */
export async function cmdGc(
  conf: NetConf,
  env: CniEnv,
  processEnv: NodeJS.ProcessEnv,
  stdin: string,
): Promise<void> {
  const valid = validAttachments(conf);
  const node = nodeName(conf, processEnv);
  const store = await openStore(conf, processEnv);
  try {
    if (conf.ipam.type === 'calico-ipam') {
      for (const h of await calicoHandles(store, conf.name)) {
        const containerId = h.slice(conf.name.length + 1);
        if (!valid.has(containerId)) await calicoRelease(store, conf.name, containerId);
      }
    }
    const rc = new ResourceClient(store);
    for (const wep of (await rc.list('WorkloadEndpoint')).items) {
      const ann = wep.metadata.annotations ?? {};
      if (wep.spec.node !== node || ann[NETWORK_ANNOTATION] !== conf.name) continue;
      if (valid.has(wep.spec.containerID ?? '')) continue;
      await rc
        .delete('WorkloadEndpoint', wep.metadata.name, {
          namespace: wep.metadata.namespace ?? 'default',
        })
        .catch((err: unknown) => {
          if (!(err instanceof DatastoreError && err.code === 'NOT_FOUND')) throw err;
        });
    }
  } finally {
    await store.close();
  }
  void env;
  void stdin;
}

/** Ready when the datastore answers and holds an enabled pool for each family we assign. */
export async function cmdStatus(conf: NetConf, processEnv: NodeJS.ProcessEnv): Promise<void> {
  if (conf.ipam.type !== 'calico-ipam') return;
  let store: Backend;
  try {
    store = await openStore(conf, processEnv);
  } catch (err) {
    if (err instanceof CniError && err.code === CNI_CODES.INVALID_CONFIG) throw err;
    throw new CniError(CNI_CODES.NOT_AVAILABLE, `datastore unavailable: ${(err as Error).message}`);
  }
  try {
    const { IpamClient } = await import('../ipam/index.js');
    const pools = (await new IpamClient({ backend: store }).listPools()).filter((p) => !p.disabled);
    for (const [fam, on] of [
      [4, conf.ipam.assign_ipv4],
      [6, conf.ipam.assign_ipv6],
    ] as const) {
      if (on && !pools.some((p) => p.cidr.family === fam))
        throw new CniError(CNI_CODES.NOT_AVAILABLE, `no enabled IPv${fam} pool to assign from`);
    }
  } catch (err) {
    if (err instanceof CniError) throw err;
    throw new CniError(CNI_CODES.NOT_AVAILABLE, `datastore unavailable: ${(err as Error).message}`);
  } finally {
    await store.close();
  }
}
