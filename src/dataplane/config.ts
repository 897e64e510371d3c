// The Felix configuration keys the nftables renderer honours, with Felix's defaults
// (calico-dataplane.md §13, calico-semantics.md §8).
import { FELIX_FAILSAFE_INBOUND_DEFAULT, FELIX_FAILSAFE_OUTBOUND_DEFAULT } from '../api/index.js';
import type { EffectiveConfig } from '../calc/index.js';

export interface FailsafePort {
  protocol: 'tcp' | 'udp' | 'sctp';
  port: number;
  net?: string;
}

export interface Marks {
  accept: number;
  pass: number;
  drop: number;
  scratch0: number;
  scratch1: number;
  /** every bit we own (for clearing) */
  all: number;
}

export interface RenderConfig {
  marks: Marks;
  defaultEndpointToHostAction: 'Drop' | 'Accept' | 'Return';
  failsafeIn: FailsafePort[];
  failsafeOut: FailsafePort[];
  invalidCheck: boolean;
  interfacePrefixes: string[];
  allowIpipFromWorkloads: boolean;
  allowVxlanFromWorkloads: boolean;
  vxlanPort: number;
  logPrefix: string;
  /** allowSpoofedSourcePrefixes is honoured only with workloadSourceSpoofing: Any (Felix) */
  allowSpoofing: boolean;
  ipv6: boolean;
}

export class DataplaneConfigError extends RangeError {
  readonly code = 'DATAPLANE_CONFIG';
}

/** Allocates accept, pass, drop, scratch0, scratch1 from the mask, lowest bit first (§6). */
export function allocateMarks(mask: number): Marks {
  const bits: number[] = [];
  for (let b = 0; b < 32 && bits.length < 5; b++) {
    const v = 2 ** b;
    if (Math.floor(mask / v) % 2 === 1) bits.push(v);
  }
  if (bits.length < 5)
    throw new DataplaneConfigError(
      `nftablesMarkMask 0x${mask.toString(16)} has ${bits.length} bits; at least 5 are needed`,
    );
  const [accept, pass, drop, scratch0, scratch1] = bits as [number, number, number, number, number];
  return {
    accept,
    pass,
    drop,
    scratch0,
    scratch1,
    all: accept + pass + drop + scratch0 + scratch1,
  };
}

function parseMask(v: unknown): number {
  if (v === undefined || v === null || v === '') return 0xffff0000;
  const n = typeof v === 'number' ? v : Number(String(v));
  if (!Number.isInteger(n) || n <= 0 || n > 0xffffffff)
    throw new DataplaneConfigError(`nftablesMarkMask ${String(v)} is not a 32-bit mask`);
  return n;
}

function parseFailsafe(v: unknown, key: string, dflt: FailsafePort[]): FailsafePort[] {
  if (v === undefined || v === null) return dflt;
  if (v === 'none') return [];
  const list = typeof v === 'string' ? v.split(',').filter((s) => s.trim() !== '') : v;
  if (!Array.isArray(list)) throw new DataplaneConfigError(`${key} must be a list`);
  return list.map((e: unknown) => {
    if (typeof e === 'string') {
      const m = /^\s*(tcp|udp|sctp):(\d+)\s*$/i.exec(e);
      if (!m) throw new DataplaneConfigError(`${key} entry "${e}" is not "<proto>:<port>"`);
      return { protocol: m[1]!.toLowerCase() as FailsafePort['protocol'], port: Number(m[2]) };
    }
    const o = e as { protocol?: string; port?: number; net?: string };
    const protocol = String(o.protocol ?? 'tcp').toLowerCase();
    if (!['tcp', 'udp', 'sctp'].includes(protocol) || !Number.isInteger(o.port))
      throw new DataplaneConfigError(`${key} entry ${JSON.stringify(e)} is invalid`);
    const fp: FailsafePort = { protocol: protocol as FailsafePort['protocol'], port: o.port! };
    if (o.net) fp.net = o.net;
    return fp;
  });
}

export const DEFAULT_FAILSAFE_IN: FailsafePort[] = parseFailsafe(
  FELIX_FAILSAFE_INBOUND_DEFAULT,
  'failsafeInboundHostPorts',
  [],
);
export const DEFAULT_FAILSAFE_OUT: FailsafePort[] = parseFailsafe(
  FELIX_FAILSAFE_OUTBOUND_DEFAULT,
  'failsafeOutboundHostPorts',
  [],
);

function bool(v: unknown): boolean {
  return v === true || v === 'true' || v === 'True';
}

export function parseRenderConfig(c: EffectiveConfig): RenderConfig {
  const action = String(c.defaultEndpointToHostAction ?? 'Drop').toLowerCase();
  const defaultEndpointToHostAction =
    action === 'accept' ? 'Accept' : action === 'return' ? 'Return' : 'Drop';
  const prefixes = String(c.interfacePrefix ?? 'cali')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return {
    marks: allocateMarks(parseMask(c.nftablesMarkMask ?? c.iptablesMarkMask)),
    defaultEndpointToHostAction,
    failsafeIn: parseFailsafe(
      c.failsafeInboundHostPorts,
      'failsafeInboundHostPorts',
      DEFAULT_FAILSAFE_IN,
    ),
    failsafeOut: parseFailsafe(
      c.failsafeOutboundHostPorts,
      'failsafeOutboundHostPorts',
      DEFAULT_FAILSAFE_OUT,
    ),
    invalidCheck: !bool(c.disableConntrackInvalidCheck),
    interfacePrefixes: prefixes.length > 0 ? prefixes : ['cali'],
    allowIpipFromWorkloads: bool(c.allowIPIPPacketsFromWorkloads),
    allowVxlanFromWorkloads: bool(c.allowVXLANPacketsFromWorkloads),
    vxlanPort: Number(c.vxlanPort ?? 4789),
    logPrefix: String(c.logPrefix ?? 'calico-packet'),
    allowSpoofing: String(c.workloadSourceSpoofing ?? 'Disabled').toLowerCase() === 'any',
    ipv6: c.ipv6Support === undefined ? true : bool(c.ipv6Support),
  };
}
