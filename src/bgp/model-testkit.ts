// Test-only builders of the datastore resources the BGP model reads (Node, BGPConfiguration,
// BGPPeer, IPPool, IPAM blocks and affinities as src/ipam stores them). Production code
// never imports this file.
import type {
  BGPConfiguration,
  BGPPeer,
  BlockAffinity,
  IPAMBlock,
  IPPool,
  Node,
} from '../api/index.js';

const V3 = 'projectcalico.org/v3';

export function node(
  name: string,
  bgp: Node['spec']['bgp'],
  labels: Record<string, string> = {},
): Node {
  return { apiVersion: V3, kind: 'Node', metadata: { name, labels }, spec: bgp ? { bgp } : {} };
}

export function bgpConfig(name: string, spec: BGPConfiguration['spec']): BGPConfiguration {
  return { apiVersion: V3, kind: 'BGPConfiguration', metadata: { name }, spec };
}

export function peer(name: string, spec: BGPPeer['spec']): BGPPeer {
  return { apiVersion: V3, kind: 'BGPPeer', metadata: { name }, spec };
}

export function pool(name: string, cidr: string, extra: Partial<IPPool['spec']> = {}): IPPool {
  return { apiVersion: V3, kind: 'IPPool', metadata: { name }, spec: { cidr, ...extra } };
}

export function affinity(nodeName: string, cidr: string, state = 'confirmed'): BlockAffinity {
  return {
    apiVersion: V3,
    kind: 'BlockAffinity',
    metadata: { name: `${nodeName}-${cidr.replace(/[./:]/g, '-')}` },
    spec: { node: nodeName, cidr, state: state as BlockAffinity['spec']['state'] },
  };
}

/** A stored block with `holders[ordinal] = node` allocations (as src/ipam writes them). */
export function block(
  cidr: string,
  owner: string | undefined,
  holders: Record<number, string> = {},
  size = 64,
): IPAMBlock {
  const allocations: (number | null)[] = new Array(size).fill(null);
  const attributes: IPAMBlock['spec']['attributes'] = [];
  for (const [ord, holder] of Object.entries(holders)) {
    allocations[Number(ord)] = attributes.length;
    attributes.push({ handle_id: `k8s-pod-network.${holder}-${ord}`, secondary: { node: holder } });
  }
  return {
    apiVersion: V3,
    kind: 'IPAMBlock',
    metadata: { name: cidr.replace(/[./:]/g, '-') },
    spec: {
      cidr,
      ...(owner ? { affinity: `host:${owner}` } : {}),
      allocations,
      unallocated: allocations.flatMap((a, i) => (a === null ? [i] : [])),
      attributes,
    },
  };
}
