/**
 * The etcd key layout Calico uses (calico-dataplane.md §14), shared by both backends so
 * a store written by one tool is readable by every other.
 */
import { DatastoreError } from './errors.js';

export const RESOURCES_PREFIX = '/calico/resources/v3/projectcalico.org/';
export const IPAM_PREFIX = '/calico/ipam/v2/';

function segment(s: string, what: string): string {
  if (s === '' || s.includes('/')) {
    throw new DatastoreError(
      'INVALID_ARGUMENT',
      `Cannot build a datastore key: ${what} ${JSON.stringify(s)} must be non-empty and contain no "/"`,
    );
  }
  return s;
}

/** `/calico/resources/v3/projectcalico.org/<plural>/[<namespace>/]<name>` */
export function resourceKey(plural: string, name: string, namespace?: string): string {
  const ns = namespace === undefined ? '' : `${segment(namespace, 'namespace')}/`;
  return `${RESOURCES_PREFIX}${segment(plural, 'plural')}/${ns}${segment(name, 'name')}`;
}

/** Prefix of every resource of a kind, or of one namespace of a namespaced kind. */
export function resourcePrefix(plural: string, namespace?: string): string {
  const ns = namespace === undefined ? '' : `${segment(namespace, 'namespace')}/`;
  return `${RESOURCES_PREFIX}${segment(plural, 'plural')}/${ns}`;
}

/** Calico writes CIDRs in keys with "/" replaced by "-": 10.244.1.0/26 → 10.244.1.0-26. */
function cidrSegment(cidr: string): string {
  return segment(cidr.replace('/', '-'), 'CIDR');
}

function family(cidr: string): 'ipv4' | 'ipv6' {
  return cidr.includes(':') ? 'ipv6' : 'ipv4';
}

/** `/calico/ipam/v2/assignment/ipv4/block/10.244.1.0-26` */
export function ipamBlockKey(cidr: string): string {
  return `${IPAM_PREFIX}assignment/${family(cidr)}/block/${cidrSegment(cidr)}`;
}

export function ipamBlockPrefix(fam: 'ipv4' | 'ipv6'): string {
  return `${IPAM_PREFIX}assignment/${fam}/block/`;
}

/** `/calico/ipam/v2/host/<node>/ipv4/block/10.244.1.0-26` */
export function blockAffinityKey(host: string, cidr: string): string {
  return `${IPAM_PREFIX}host/${segment(host, 'host')}/${family(cidr)}/block/${cidrSegment(cidr)}`;
}

/** Every affinity of one host, or of all hosts when host is omitted. */
export function blockAffinityPrefix(host?: string): string {
  return host === undefined
    ? `${IPAM_PREFIX}host/`
    : `${IPAM_PREFIX}host/${segment(host, 'host')}/`;
}

/** `/calico/ipam/v2/handle/<handleID>` */
export function ipamHandleKey(handleId: string): string {
  return `${IPAM_PREFIX}handle/${segment(handleId, 'handle ID')}`;
}

export const IPAM_HANDLE_PREFIX = `${IPAM_PREFIX}handle/`;
export const IPAM_CONFIG_KEY = `${IPAM_PREFIX}config`;
