// Creating and deleting a workload. The normal path is the real CNI plugin (bin/calico
// with calico-ipam), run inside the host namespace so the host veth lands there. When
// the plugin has not been built, the lab does the same three steps itself (IPAM
// assignment, Calico-style plumbing, a Kubernetes-style WorkloadEndpoint) and says so.
import { join } from 'node:path';
import type { CalicoResource } from '../api/index.js';
import { NotFoundError } from '../datastore/index.js';
import { IpamClient } from '../ipam/index.js';
import { run } from './exec.js';
import { executable, repoRoot } from './paths.js';
import type { LabHost, LabState, LabWorkload, PortSpec } from './state.js';
import { datastoreEnv, ensureNamespaceProfile, withStore } from './store.js';
import { plumbWorkload } from './topology.js';

export const CNI_NETWORK = 'k8s-pod-network';

/** Calico's WorkloadEndpoint name: node, orchestrator, pod, interface, with "-" doubled. */
export function endpointName(node: string, pod: string): string {
  const esc = (s: string) => s.replace(/-/g, '--');
  return `${esc(node)}-k8s-${esc(pod)}-eth0`;
}

export function parsePorts(text: string | undefined): PortSpec[] {
  if (text === undefined || text.trim() === '') return [];
  return text.split(',').map((raw) => {
    const m = /^(?:([a-z0-9-]+)=)?(\d+)(?:\/(tcp|udp))?$/i.exec(raw.trim());
    const port = m ? Number(m[2]) : Number.NaN;
    if (!m || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new RangeError(
        `Cannot parse port "${raw}": expected [name=]PORT[/tcp|/udp] with PORT from 1 to 65535`,
      );
    }
    const protocol = (m[3] ?? 'tcp').toUpperCase() as 'TCP' | 'UDP';
    return m[1] !== undefined ? { name: m[1], port, protocol } : { port, protocol };
  });
}

export function parseLabels(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (text === undefined || text.trim() === '') return out;
  for (const raw of text.split(',')) {
    const i = raw.indexOf('=');
    if (i <= 0) throw new RangeError(`Cannot parse label "${raw}": expected key=value`);
    out[raw.slice(0, i).trim()] = raw.slice(i + 1).trim();
  }
  return out;
}

function cniEnv(state: LabState, wl: LabWorkload, command: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    ...datastoreEnv(state.dataDir),
    CNI_COMMAND: command,
    CNI_CONTAINERID: wl.containerId,
    CNI_NETNS: `/run/netns/${wl.ns}`,
    CNI_IFNAME: 'eth0',
    CNI_PATH: join(repoRoot(), 'bin'),
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${wl.namespace};K8S_POD_NAME=${wl.name};K8S_POD_INFRA_CONTAINER_ID=${wl.containerId}`,
  };
}

function cniConfig(state: LabState, host: LabHost, wl: LabWorkload): string {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: CNI_NETWORK,
    type: 'calico',
    datastore_type: 'embedded',
    nodename: host.name,
    log_level: 'warning',
    ipam: { type: 'calico-ipam', ipv4_pools: [state.poolCidr], assign_ipv6: 'false' },
    data_dir: state.dataDir,
    // what a container runtime passes: pod labels, and the pod's named container ports
    args: {
      cni: {
        labels: wl.labels,
        ports: wl.ports
          .filter((p) => p.name !== undefined)
          .map((p) => ({ name: p.name, protocol: p.protocol, port: p.port })),
      },
    },
  });
}

function pluginArgv(): string[] | undefined {
  if (process.env.CALICO_LAB_PLUMBING === 'lab') return undefined;
  const plugin = executable('calico');
  return plugin !== undefined && executable('calico-ipam') !== undefined ? plugin : undefined;
}

/** Adds the workload's network; returns its IPv4 address. */
export async function addWorkloadNetwork(
  state: LabState,
  host: LabHost,
  wl: LabWorkload,
): Promise<string> {
  await withStore(state.dataDir, (client) => ensureNamespaceProfile(client, wl.namespace));
  const plugin = pluginArgv();
  let ip: string;
  if (plugin !== undefined) {
    wl.via = 'cni';
    const r = await run(['ip', 'netns', 'exec', host.ns, ...plugin], {
      input: cniConfig(state, host, wl),
      env: cniEnv(state, wl, 'ADD'),
      allowFail: true,
    });
    if (r.code !== 0) {
      throw new Error(
        `CNI ADD for ${wl.namespace}/${wl.name} failed: ${r.stdout.trim()} ${r.stderr.trim()}`,
      );
    }
    const result = JSON.parse(r.stdout) as { ips?: { address: string }[] };
    const v4 = (result.ips ?? [])
      .map((x) => x.address.split('/')[0] ?? '')
      .find((a) => a.includes('.'));
    if (v4 === undefined)
      throw new Error(`CNI ADD for ${wl.namespace}/${wl.name} returned no IPv4 address`);
    ip = v4;
  } else {
    wl.via = 'lab';
    ip = await withStore(state.dataDir, async (client, backend) => {
      const ipam = new IpamClient({ backend });
      const res = await ipam.autoAssign({
        node: host.name,
        handleId: `${CNI_NETWORK}.${wl.containerId}`,
        num4: 1,
        num6: 0,
        pools: [state.poolCidr],
        attributes: { namespace: wl.namespace, pod: wl.name, node: host.name },
      });
      const a = res.ipv4[0];
      if (a === undefined) throw new Error(`IPAM gave ${wl.namespace}/${wl.name} no IPv4 address`);
      await plumbWorkload(host.ns, wl.ns, wl.iface, a.ip);
      await client.create(endpointResource(host, wl, a.ip) as unknown as CalicoResource);
      return a.ip;
    });
  }
  wl.ip = ip;
  return ip;
}

function endpointResource(host: LabHost, wl: LabWorkload, ip: string) {
  const named = wl.ports.filter((p) => p.name !== undefined);
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'WorkloadEndpoint',
    metadata: {
      name: endpointName(host.name, wl.name),
      namespace: wl.namespace,
      labels: {
        ...wl.labels,
        'projectcalico.org/namespace': wl.namespace,
        'projectcalico.org/orchestrator': 'k8s',
      },
    },
    spec: {
      orchestrator: 'k8s',
      node: host.name,
      containerID: wl.containerId,
      pod: wl.name,
      endpoint: 'eth0',
      ipNetworks: [`${ip}/32`],
      profiles: [`kns.${wl.namespace}`],
      interfaceName: wl.iface,
      mac: 'ee:ee:ee:ee:ee:ee',
      ...(named.length > 0
        ? { ports: named.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })) }
        : {}),
    },
  };
}

export async function deleteWorkloadNetwork(state: LabState, host: LabHost, wl: LabWorkload) {
  const plugin = wl.via === 'cni' ? pluginArgv() : undefined;
  if (plugin !== undefined) {
    await run(['ip', 'netns', 'exec', host.ns, ...plugin], {
      input: cniConfig(state, host, wl),
      env: cniEnv(state, wl, 'DEL'),
    });
    return;
  }
  await withStore(state.dataDir, async (client, backend) => {
    await new IpamClient({ backend }).releaseByHandle(`${CNI_NETWORK}.${wl.containerId}`);
    try {
      await client.delete('WorkloadEndpoint', endpointName(host.name, wl.name), {
        namespace: wl.namespace,
      });
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
    }
  });
  await run(['ip', '-n', host.ns, 'link', 'del', wl.iface], { allowFail: true });
}
