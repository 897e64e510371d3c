import { cidrContainsIp, formatCidr, formatIp, type IpAddress, tryParseIp } from '../net/index.js';
import { affinityHost, type Block } from './block.js';
import type { IpamSnapshot } from './snapshot.js';

export interface CheckInput {
  /**
   * Handles that still have a live owner (a workload endpoint, a node's tunnel
   * address). Allocations under any other handle are reported as leaks.
   */
  liveHandles?: Iterable<string>;
  /**
   * handle → the addresses its endpoint uses. Marks the handle live, and each address
   * is checked to be allocated to that handle.
   */
  endpointsByHandle?: Readonly<Record<string, readonly string[]>>;
  /** nodes that exist; affinities of any other node are reported */
  knownNodes?: Iterable<string>;
}

export interface LeakedHandle {
  handleId: string;
  addresses: string[];
  /** the node/namespace/pod recorded with the allocation, when there was one */
  attributes: Record<string, string>;
}

export interface MissingAllocation {
  handleId: string;
  ip: string;
  problem: 'not-allocated' | 'allocated-to-other-handle' | 'no-block' | 'invalid-address';
  /** for allocated-to-other-handle: the handle that holds it */
  allocatedTo?: string;
}

export interface AffinityProblem {
  block: string;
  node: string;
  problem:
    | 'unknown-node'
    /** the block names host:<node> but that node holds no confirmed affinity for it */
    | 'block-without-affinity'
    /** a confirmed affinity whose block is missing or owned by someone else */
    | 'affinity-without-block';
  state?: string;
  blockAffinity?: string;
}

export interface HandleMismatch {
  /** "" when the allocation carries no handle at all */
  handleId: string;
  block: string;
  /** what the handle record says */
  handleCount: number;
  /** what the block holds */
  blockCount: number;
}

/** JSON-serialisable; `calicoctl ipam check -o json` prints it as is. */
export interface CheckReport {
  revision: string;
  ok: boolean;
  /** false when neither liveHandles nor endpointsByHandle was given */
  leaksChecked: boolean;
  nodesChecked: boolean;
  summary: {
    blocks: number;
    affinities: number;
    handles: number;
    allocatedAddresses: number;
    leakedHandles: number;
    leakedAddresses: number;
    missingAllocations: number;
    affinityProblems: number;
    handleMismatches: number;
    corruptKeys: number;
  };
  leakedHandles: LeakedHandle[];
  missingAllocations: MissingAllocation[];
  affinityProblems: AffinityProblem[];
  handleMismatches: HandleMismatch[];
  /** pending claims: normal while a claim is in flight, left behind by a crashed claimer */
  pendingAffinities: { node: string; block: string }[];
  corruptKeys: { key: string; error: string }[];
}

// A node's tunnel address handles are owned by the node itself, not by an endpoint.
const TUNNEL_HANDLE =
  /^(?:ipip-tunnel-addr|vxlan-tunnel-addr|vxlan-v6-tunnel-addr|wireguard-tunnel-addr|wireguard-v6-tunnel-addr)-(.+)$/;

function blockFor(blocks: readonly Block[], ip: IpAddress): Block | undefined {
  return blocks.find((b) => cidrContainsIp(b.cidr, ip));
}

/** Cross-checks one IPAM snapshot against the endpoints and nodes that exist. */
export function checkConsistency(snap: IpamSnapshot, input: CheckInput = {}): CheckReport {
  const blocks = snap.blocks.map((b) => b.block);
  const knownNodes = input.knownNodes === undefined ? undefined : new Set(input.knownNodes);
  const leaksChecked = input.liveHandles !== undefined || input.endpointsByHandle !== undefined;
  const live = new Set<string>(input.liveHandles ?? []);
  for (const h of Object.keys(input.endpointsByHandle ?? {})) live.add(h);
  const isLive = (handleId: string): boolean => {
    if (live.has(handleId)) return true;
    const tunnel = TUNNEL_HANDLE.exec(handleId);
    return tunnel !== null && knownNodes?.has(tunnel[1]!) === true;
  };

  // Leaks, and the per-block count each handle really has.
  const leaks = new Map<string, LeakedHandle>();
  const blockCounts = new Map<string, Map<string, number>>();
  let allocated = 0;
  for (const b of blocks) {
    const cidr = b.data.cidr;
    for (const o of b.allocatedOrdinals()) {
      allocated++;
      const attr = b.attributeOf(o);
      const h = attr?.handle_id ?? '';
      const per = blockCounts.get(h) ?? new Map<string, number>();
      blockCounts.set(h, per);
      per.set(cidr, (per.get(cidr) ?? 0) + 1);
      if (leaksChecked && !isLive(h)) {
        let leak = leaks.get(h);
        if (leak === undefined) {
          leak = { handleId: h, addresses: [], attributes: { ...(attr?.secondary ?? {}) } };
          leaks.set(h, leak);
        }
        leak.addresses.push(formatIp(b.ipAt(o)));
      }
    }
  }

  const missing: MissingAllocation[] = [];
  for (const [handleId, ips] of Object.entries(input.endpointsByHandle ?? {})) {
    for (const text of ips) {
      const ip = tryParseIp(text.replace(/\/(32|128)$/, ''));
      if (ip === undefined) {
        missing.push({ handleId, ip: text, problem: 'invalid-address' });
        continue;
      }
      const b = blockFor(blocks, ip);
      if (b === undefined) {
        missing.push({ handleId, ip: formatIp(ip), problem: 'no-block' });
        continue;
      }
      const o = b.ordinalOf(ip);
      if (!b.isAllocated(o)) missing.push({ handleId, ip: formatIp(ip), problem: 'not-allocated' });
      else if (b.handleOf(o) !== handleId) {
        missing.push({
          handleId,
          ip: formatIp(ip),
          problem: 'allocated-to-other-handle',
          allocatedTo: b.handleOf(o) ?? '',
        });
      }
    }
  }

  // Affinities: unknown nodes, and agreement between affinity keys and blocks.
  const affinityProblems: AffinityProblem[] = [];
  const pending: { node: string; block: string }[] = [];
  const confirmed = new Map<string, Set<string>>();
  for (const a of snap.affinities) {
    const block = formatCidr(a.cidr);
    if (knownNodes !== undefined && !knownNodes.has(a.node)) {
      affinityProblems.push({ block, node: a.node, problem: 'unknown-node', state: a.data.state });
    }
    if (a.data.state === 'pending') pending.push({ node: a.node, block });
    if (a.data.state !== 'pending') {
      const nodes = confirmed.get(block) ?? new Set<string>();
      confirmed.set(block, nodes);
      nodes.add(a.node);
    }
  }
  const byCidr = new Map(blocks.map((b) => [b.data.cidr, b]));
  for (const [block, nodes] of confirmed) {
    for (const node of nodes) {
      const b = byCidr.get(block);
      if (b === undefined || affinityHost(b.affinity) !== node) {
        affinityProblems.push({
          block,
          node,
          problem: 'affinity-without-block',
          ...(b?.affinity === undefined ? {} : { blockAffinity: b.affinity }),
        });
      }
    }
  }
  for (const b of blocks) {
    const host = affinityHost(b.affinity);
    if (host !== undefined && confirmed.get(b.data.cidr)?.has(host) !== true) {
      affinityProblems.push({
        block: b.data.cidr,
        node: host,
        problem: 'block-without-affinity',
        blockAffinity: b.affinity!,
      });
    }
  }

  // Handle records against what the blocks really hold.
  const handleMismatches: HandleMismatch[] = [];
  const recorded = new Map(snap.handles.map((h) => [h.handle.handleID, h.handle]));
  for (const h of snap.handles) {
    const actual = blockCounts.get(h.handle.handleID) ?? new Map<string, number>();
    const cidrs = new Set([...Object.keys(h.handle.block), ...actual.keys()]);
    for (const cidr of cidrs) {
      const handleCount = h.handle.block[cidr] ?? 0;
      const blockCount = actual.get(cidr) ?? 0;
      if (handleCount !== blockCount) {
        handleMismatches.push({
          handleId: h.handle.handleID,
          block: cidr,
          handleCount,
          blockCount,
        });
      }
    }
  }
  for (const [handleId, per] of blockCounts) {
    if (recorded.has(handleId)) continue;
    for (const [cidr, blockCount] of per) {
      handleMismatches.push({ handleId, block: cidr, handleCount: 0, blockCount });
    }
  }

  const leakedHandles = [...leaks.values()].sort((a, b) => (a.handleId < b.handleId ? -1 : 1));
  const leakedAddresses = leakedHandles.reduce((n, l) => n + l.addresses.length, 0);
  const problems =
    leakedHandles.length +
    missing.length +
    affinityProblems.length +
    handleMismatches.length +
    snap.corrupt.length;
  return {
    revision: snap.revision,
    ok: problems === 0,
    leaksChecked,
    nodesChecked: knownNodes !== undefined,
    summary: {
      blocks: blocks.length,
      affinities: snap.affinities.length,
      handles: snap.handles.length,
      allocatedAddresses: allocated,
      leakedHandles: leakedHandles.length,
      leakedAddresses,
      missingAllocations: missing.length,
      affinityProblems: affinityProblems.length,
      handleMismatches: handleMismatches.length,
      corruptKeys: snap.corrupt.length,
    },
    leakedHandles,
    missingAllocations: missing,
    affinityProblems,
    handleMismatches,
    pendingAffinities: pending,
    corruptKeys: snap.corrupt,
  };
}
