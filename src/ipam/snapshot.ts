import type { Cidr } from '../net/index.js';
import { type AffinityData, decodeAffinity } from './affinity.js';
import { Block } from './block.js';
import { decodeHandle, type HandleData } from './handle.js';
import { CONFIG_KEY, HANDLE_PREFIX, parseAffinityKey, parseBlockKey } from './keys.js';
import { DEFAULT_CONFIG, decodeConfig, type IpamConfig } from './pools.js';

export interface StoredBlock {
  key: string;
  modRevision: string;
  block: Block;
}

export interface StoredAffinity {
  key: string;
  modRevision: string;
  createRevision: string;
  node: string;
  cidr: Cidr;
  data: AffinityData;
}

export interface StoredHandle {
  key: string;
  modRevision: string;
  handle: HandleData;
}

/** Everything under /calico/ipam/v2/ at one store revision. */
export interface IpamSnapshot {
  revision: string;
  config: IpamConfig;
  blocks: StoredBlock[];
  affinities: StoredAffinity[];
  handles: StoredHandle[];
  /** keys under the IPAM prefix that failed to decode, with why */
  corrupt: { key: string; error: string }[];
}

/** Sorts one listing of the IPAM prefix into its kinds; pure so check() can be tested. */
export function buildSnapshot(
  items: ReadonlyArray<{ key: string; value: string; modRevision: string; createRevision: string }>,
  revision: string,
): IpamSnapshot {
  const snap: IpamSnapshot = {
    revision,
    config: { ...DEFAULT_CONFIG },
    blocks: [],
    affinities: [],
    handles: [],
    corrupt: [],
  };
  for (const kv of items) {
    try {
      if (kv.key === CONFIG_KEY) {
        snap.config = decodeConfig(kv.value);
        continue;
      }
      if (kv.key.startsWith(HANDLE_PREFIX)) {
        snap.handles.push({
          key: kv.key,
          modRevision: kv.modRevision,
          handle: decodeHandle(kv.value, kv.key),
        });
        continue;
      }
      const blockCidr = parseBlockKey(kv.key);
      if (blockCidr !== undefined) {
        snap.blocks.push({
          key: kv.key,
          modRevision: kv.modRevision,
          block: Block.decode(kv.value, kv.key),
        });
        continue;
      }
      const aff = parseAffinityKey(kv.key);
      if (aff !== undefined) {
        snap.affinities.push({
          key: kv.key,
          modRevision: kv.modRevision,
          createRevision: kv.createRevision,
          node: aff.node,
          cidr: aff.cidr,
          data: decodeAffinity(kv.value, kv.key),
        });
      }
    } catch (err) {
      snap.corrupt.push({ key: kv.key, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return snap;
}
