// The network configuration on stdin, with Calico's keys (snake_case as in calico's
// NetConf). Validated by hand: zod would add ~50 ms to every plugin start.
import { CNI_CODES, CniError } from './errors.js';

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;

export interface IpamConf {
  type: string;
  assign_ipv4: boolean;
  assign_ipv6: boolean;
  ipv4_pools: string[];
  ipv6_pools: string[];
  raw: Record<string, unknown>;
}

export interface PortSpec {
  name: string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  port: number;
}

export interface NetConf {
  cniVersion: string;
  name: string;
  type: string;
  datastore_type: string | undefined;
  etcd_endpoints: string | undefined;
  etcd_ca_cert_file: string | undefined;
  etcd_cert_file: string | undefined;
  etcd_key_file: string | undefined;
  /** embedded store directory (else CALICO_DATA_DIR, else /var/lib/calico) */
  data_dir: string | undefined;
  nodename: string | undefined;
  nodename_file: string | undefined;
  mtu: number;
  log_level: string;
  ipam: IpamConf;
  policy_setup_timeout_seconds: number;
  endpoint_status_dir: string;
  labels: Record<string, string>;
  ports: PortSpec[];
  prevResult: Record<string, unknown> | undefined;
  raw: Record<string, unknown>;
}

function bad(msg: string): CniError {
  return new CniError(CNI_CODES.INVALID_CONFIG, msg);
}

function optStr(o: Record<string, unknown>, k: string): string | undefined {
  const v = o[k];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw bad(`network config field "${k}" must be a string`);
  return v;
}

function optBool(o: Record<string, unknown>, k: string, dflt: boolean): boolean {
  const v = o[k];
  if (v === undefined || v === null) return dflt;
  // Calico's NetConf takes these as strings ("true"); accept real booleans too.
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw bad(`ipam field "${k}" must be true or false, got ${JSON.stringify(v)}`);
}

function strList(o: Record<string, unknown>, k: string): string[] {
  const v = o[k];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw bad(`ipam field "${k}" must be a list of pool names or CIDRs`);
  return v as string[];
}

function optNum(o: Record<string, unknown>, k: string, dflt: number, min: number, max: number) {
  const v = o[k];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw bad(`network config field "${k}" must be an integer from ${min} to ${max}`);
  return v;
}

/** Only the version, for VERSION (whose stdin may carry nothing else). */
export function decode(text: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new CniError(
      CNI_CODES.DECODE,
      `Cannot decode the network configuration on stdin: ${(err as Error).message}`,
    );
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw new CniError(
      CNI_CODES.DECODE,
      'The network configuration on stdin must be a JSON object',
    );
  return doc as Record<string, unknown>;
}

export function checkVersion(v: unknown): string {
  if (typeof v !== 'string' || v === '') throw bad('network config field "cniVersion" is required');
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(v))
    throw new CniError(
      CNI_CODES.INCOMPATIBLE_VERSION,
      `CNI version ${v} is not supported; supported: ${SUPPORTED_VERSIONS.join(', ')}`,
    );
  return v;
}

const NETWORK_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const PORT_NAME = /^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/;

function parsePorts(v: unknown): PortSpec[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw bad('args.cni.ports must be a list of {name, protocol, port}');
  return v.map((p, i) => {
    const o = (p ?? {}) as Record<string, unknown>;
    const name = o.name;
    const port = o.port;
    const proto = String(o.protocol ?? 'TCP').toUpperCase();
    if (typeof name !== 'string' || !PORT_NAME.test(name) || !/[a-z]/.test(name))
      throw bad(`args.cni.ports[${i}].name must be an IANA service name (lower case, ≤15 chars)`);
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
      throw bad(`args.cni.ports[${i}].port must be an integer from 1 to 65535`);
    if (proto !== 'TCP' && proto !== 'UDP' && proto !== 'SCTP')
      throw bad(`args.cni.ports[${i}].protocol must be TCP, UDP or SCTP`);
    return { name, protocol: proto, port };
  });
}

function parseLabels(v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  // Both the map form and the runtime-style [{key, value}] list are common.
  if (Array.isArray(v)) {
    const out: Record<string, string> = {};
    for (const [i, item] of v.entries()) {
      const o = (item ?? {}) as Record<string, unknown>;
      if (typeof o.key !== 'string' || typeof o.value !== 'string')
        throw bad(`args.cni.labels[${i}] must be {"key": string, "value": string}`);
      out[o.key] = o.value;
    }
    return out;
  }
  if (typeof v !== 'object' || Object.values(v).some((x) => typeof x !== 'string'))
    throw bad('args.cni.labels must map label keys to string values');
  return { ...(v as Record<string, string>) };
}

export function parseNetConf(text: string, opts: { requireIpam: boolean }): NetConf {
  const raw = decode(text);
  const cniVersion = checkVersion(raw.cniVersion);
  const name = raw.name;
  if (typeof name !== 'string' || name === '') throw bad('network config field "name" is required');
  // The name becomes a Profile name and a label key, so it must be both.
  if (!NETWORK_NAME.test(name))
    throw bad(
      `network name "${name}" must be lower-case alphanumerics and '-', at most 63 characters`,
    );
  const type = optStr(raw, 'type') ?? '';
  const ipamRaw = raw.ipam;
  if (ipamRaw !== undefined && (ipamRaw === null || typeof ipamRaw !== 'object'))
    throw bad('network config field "ipam" must be an object');
  const ipamObj = (ipamRaw ?? {}) as Record<string, unknown>;
  const ipamType = optStr(ipamObj, 'type') ?? '';
  if (opts.requireIpam && ipamType === '')
    throw bad('network config field "ipam.type" is required');
  const ipam: IpamConf = {
    type: ipamType,
    assign_ipv4: optBool(ipamObj, 'assign_ipv4', true),
    assign_ipv6: optBool(ipamObj, 'assign_ipv6', false),
    ipv4_pools: strList(ipamObj, 'ipv4_pools'),
    ipv6_pools: strList(ipamObj, 'ipv6_pools'),
    raw: ipamObj,
  };
  if (!ipam.assign_ipv4 && !ipam.assign_ipv6)
    throw bad('ipam: at least one of assign_ipv4 and assign_ipv6 must be true');
  const args = (raw.args ?? {}) as Record<string, unknown>;
  const cni = ((args && typeof args === 'object' ? args.cni : undefined) ?? {}) as Record<
    string,
    unknown
  >;
  const logLevel = (optStr(raw, 'log_level') ?? 'warning').toLowerCase();
  if (!['debug', 'info', 'warning', 'warn', 'error', 'fatal', 'panic', 'none'].includes(logLevel))
    throw bad(`log_level "${logLevel}" must be debug, info, warning, error or none`);
  const datastoreType = optStr(raw, 'datastore_type');
  // Checked here, not only when the store opens, so a bad config is reported as such
  // before any environment problem (missing netns) is.
  if (datastoreType !== undefined && !['etcdv3', 'etcd', 'embedded'].includes(datastoreType))
    throw bad(`datastore_type "${datastoreType}" is not supported; use "etcdv3" or "embedded"`);
  const prev = raw.prevResult;
  if (prev !== undefined && (prev === null || typeof prev !== 'object'))
    throw new CniError(CNI_CODES.DECODE, 'prevResult must be an object');
  return {
    cniVersion,
    name,
    type,
    datastore_type: datastoreType,
    etcd_endpoints: optStr(raw, 'etcd_endpoints'),
    etcd_ca_cert_file: optStr(raw, 'etcd_ca_cert_file'),
    etcd_cert_file: optStr(raw, 'etcd_cert_file'),
    etcd_key_file: optStr(raw, 'etcd_key_file'),
    data_dir: optStr(raw, 'data_dir'),
    nodename: optStr(raw, 'nodename'),
    nodename_file: optStr(raw, 'nodename_file'),
    mtu: optNum(raw, 'mtu', 1500, 0, 65535),
    log_level: logLevel,
    ipam,
    policy_setup_timeout_seconds: optNum(raw, 'policy_setup_timeout_seconds', 0, 0, 3600),
    endpoint_status_dir: optStr(raw, 'endpoint_status_dir') ?? '/var/run/calico/endpoint-status',
    labels: parseLabels(cni.labels),
    ports: parsePorts(cni.ports),
    prevResult: prev as Record<string, unknown> | undefined,
    raw,
  };
}
