import { type Cidr, formatCidr, type IpFamily, parseCidr, tryParseCidr } from '../net/index.js';
import { IpamError } from './errors.js';

// Calico's etcd v3 layout (calico-dataplane.md §14). The CIDR in a key keeps dots and
// colons and only turns "/" into "-", so keys sort and parse like libcalico-go's.

export const IPAM_PREFIX = '/calico/ipam/v2/';
export const CONFIG_KEY = '/calico/ipam/v2/config';
export const HANDLE_PREFIX = '/calico/ipam/v2/handle/';
export const HOST_PREFIX = '/calico/ipam/v2/host/';
export const POOL_PREFIX = '/calico/resources/v3/projectcalico.org/ippools/';
export const RESERVATION_PREFIX = '/calico/resources/v3/projectcalico.org/ipreservations/';
export const NODE_PREFIX = '/calico/resources/v3/projectcalico.org/nodes/';

export function blockPrefix(family: IpFamily): string {
  return `/calico/ipam/v2/assignment/ipv${family}/block/`;
}

function cidrSegment(cidr: Cidr): string {
  return formatCidr(cidr).replace('/', '-');
}

export function blockKey(cidr: Cidr): string {
  return blockPrefix(cidr.family) + cidrSegment(cidr);
}

export function hostAffinityPrefix(node: string, family: IpFamily): string {
  return `${HOST_PREFIX}${node}/ipv${family}/block/`;
}

export function affinityKey(node: string, cidr: Cidr): string {
  return hostAffinityPrefix(node, cidr.family) + cidrSegment(cidr);
}

export function handleKey(handleId: string): string {
  return HANDLE_PREFIX + handleId;
}

export function nodeKey(node: string): string {
  return NODE_PREFIX + node;
}

function segmentToCidr(segment: string): Cidr | undefined {
  const dash = segment.lastIndexOf('-');
  if (dash < 0) return undefined;
  return tryParseCidr(`${segment.slice(0, dash)}/${segment.slice(dash + 1)}`);
}

const BLOCK_KEY = /^\/calico\/ipam\/v2\/assignment\/ipv([46])\/block\/([^/]+)$/;
const AFFINITY_KEY = /^\/calico\/ipam\/v2\/host\/([^/]+)\/ipv([46])\/block\/([^/]+)$/;

/** The block CIDR a block key names, or undefined for any other key. */
export function parseBlockKey(key: string): Cidr | undefined {
  const m = BLOCK_KEY.exec(key);
  if (!m) return undefined;
  const cidr = segmentToCidr(m[2]!);
  return cidr !== undefined && String(cidr.family) === m[1] ? cidr : undefined;
}

/** The node and block CIDR an affinity key names, or undefined for any other key. */
export function parseAffinityKey(key: string): { node: string; cidr: Cidr } | undefined {
  const m = AFFINITY_KEY.exec(key);
  if (!m) return undefined;
  const cidr = segmentToCidr(m[3]!);
  return cidr !== undefined && String(cidr.family) === m[2] ? { node: m[1]!, cidr } : undefined;
}

/** Parses the CIDR string stored inside a block or handle ("10.0.0.0/26"). */
export function parseStoredCidr(text: string, where: string): Cidr {
  try {
    return parseCidr(text);
  } catch (err) {
    throw new IpamError(
      'CORRUPT_DATA',
      `Stored CIDR ${JSON.stringify(text)} in ${where} is invalid`,
      {
        key: where,
      },
      { cause: err },
    );
  }
}

// Node names become key segments, so "/" (and anything a Kubernetes node name cannot
// hold) would let one node's keys alias another's.
const NODE_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$/;

export function checkNodeName(node: unknown, what = 'node'): string {
  if (typeof node !== 'string' || !NODE_NAME.test(node)) {
    throw new IpamError(
      'INVALID_ARGUMENT',
      `Invalid ${what} name ${JSON.stringify(node)}: expected 1-253 letters, digits, ".", "_" or "-", starting and ending with a letter or digit`,
      { [what]: node },
    );
  }
  return node;
}

// Handle IDs are key segments too; Calico's are like "k8s-pod-network.<containerID>".
const HANDLE_ID = /^[A-Za-z0-9._:@=+-]{1,512}$/;

export function checkHandleId(handleId: unknown): string {
  if (typeof handleId !== 'string' || !HANDLE_ID.test(handleId)) {
    throw new IpamError(
      'INVALID_ARGUMENT',
      `Invalid handle ID ${JSON.stringify(handleId)}: expected 1-512 letters, digits or ".:_@=+-" (no "/" or spaces)`,
      { handleId },
    );
  }
  return handleId;
}
