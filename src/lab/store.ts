// What the lab itself writes to and reads from the datastore: the IP pool, the
// Kubernetes namespace profiles (kube-controllers' job in a real cluster), and the
// block affinities that cross-host routes follow until BGP carries them.
import type { CalicoResource } from '../api/index.js';
import {
  type Backend,
  KeyExistsError,
  loadDatastoreConfig,
  openBackend,
  ResourceClient,
} from '../datastore/index.js';
import { IPAM_PREFIX, parseAffinityKey } from '../ipam/index.js';
import { formatCidr } from '../net/index.js';
import { ROUTER_AS, ROUTER_ID } from './topology.js';

export const POOL_NAME = 'lab-ipv4-pool';

export function datastoreEnv(dataDir: string): Record<string, string> {
  return { DATASTORE_TYPE: 'embedded', CALICO_DATA_DIR: dataDir };
}

export async function withStore<T>(
  dataDir: string,
  fn: (client: ResourceClient, backend: Backend) => Promise<T>,
): Promise<T> {
  const backend = await openBackend(loadDatastoreConfig(datastoreEnv(dataDir)));
  try {
    return await fn(new ResourceClient(backend), backend);
  } finally {
    await backend.close();
  }
}

async function createIfMissing(client: ResourceClient, r: unknown): Promise<void> {
  try {
    await client.create(r as CalicoResource);
  } catch (e) {
    if (!(e instanceof KeyExistsError)) throw e;
  }
}

export async function ensurePool(client: ResourceClient, cidr: string): Promise<void> {
  await createIfMissing(client, {
    apiVersion: 'projectcalico.org/v3',
    kind: 'IPPool',
    metadata: { name: POOL_NAME },
    spec: { cidr, blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false },
  });
}

/**
 * Calico's usual top-of-rack design: no node-to-node mesh, every node peers with the rack
 * router (a global BGPPeer to the router's loopback). The short restart time lets a
 * stopped host's routes go within seconds instead of Calico's default 120 s.
 */
export async function ensureBgp(client: ResourceClient): Promise<void> {
  await createIfMissing(client, {
    apiVersion: 'projectcalico.org/v3',
    kind: 'BGPConfiguration',
    metadata: { name: 'default' },
    spec: { nodeToNodeMeshEnabled: false, asNumber: 64512 },
  });
  await createIfMissing(client, {
    apiVersion: 'projectcalico.org/v3',
    kind: 'BGPPeer',
    metadata: { name: 'rack-router' },
    spec: { peerIP: ROUTER_ID, asNumber: ROUTER_AS, maxRestartTime: '10s' },
  });
}

/**
 * The profile Calico's Kubernetes integration gives every namespace: allow in both
 * directions (policies decide first) and the namespace's name as a label, so
 * namespaceSelector can match it.
 */
export async function ensureNamespaceProfile(client: ResourceClient, ns: string): Promise<void> {
  await createIfMissing(client, {
    apiVersion: 'projectcalico.org/v3',
    kind: 'Profile',
    metadata: { name: `kns.${ns}` },
    spec: {
      ingress: [{ action: 'Allow' }],
      egress: [{ action: 'Allow' }],
      labelsToApply: { 'pcns.projectcalico.org/name': ns, 'projectcalico.org/name': ns },
    },
  });
}

/** Block CIDR → the node it is affine to, read straight from IPAM's keys. */
export async function blockAffinities(backend: Backend): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const list = await backend.list(IPAM_PREFIX);
  for (const kv of list.items) {
    const a = parseAffinityKey(kv.key);
    if (a !== undefined) out.set(formatCidr(a.cidr), a.node);
  }
  return out;
}
