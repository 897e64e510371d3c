// calico-node's environment (NODENAME, IP, AS, pools, FELIX_* overrides, CALICO_NETNS),
// parsed once at start into a typed AgentConfig. Everything here is pure so it can be
// unit-tested without a datastore.
import { hostname } from 'node:os';
import { FelixConfigurationSchema } from '../api/index.js';
import { tryParseCidr } from '../net/index.js';

export type AddressSetting =
  | { readonly mode: 'autodetect' }
  | { readonly mode: 'none' }
  | { readonly mode: 'explicit'; readonly cidr: string };

export interface AgentConfig {
  readonly nodeName: string;
  readonly ip: AddressSetting;
  readonly ip6: AddressSetting;
  readonly asNumber?: number;
  readonly ipv4PoolCidr: string;
  readonly ipv6PoolCidr?: string;
  readonly noDefaultPools: boolean;
  readonly networkingBackend: 'builtin' | 'none';
  /** where the BGP speaker writes its peers for `calicoctl node status` */
  readonly bgpStatusFile: string;
  /** BGP hold time offered to every peer, seconds (calico-ts extension; default 90) */
  readonly bgpHoldTime?: number;
  /** network namespace to program instead of our own (calico-ts extension) */
  readonly netns?: string;
  /** FELIX_* overrides, keyed by FelixConfiguration field name, values typed */
  readonly felixOverrides: Readonly<Record<string, unknown>>;
  /** FELIX_* variables that name no field we know; reported once at start */
  readonly unknownFelixEnv: readonly string[];
}

export class AgentConfigError extends Error {
  readonly code = 'INVALID_AGENT_CONFIG';
}

/** Lower-cased field name → FelixConfiguration field name, for FELIX_<NAME> lookups. */
const FELIX_SPEC = FelixConfigurationSchema.shape.spec;
const FELIX_FIELDS: ReadonlyMap<string, string> = new Map(
  Object.keys(FELIX_SPEC.shape).map((k) => [k.toLowerCase(), k]),
);

function parseAddress(name: string, raw: string | undefined, family: 4 | 6): AddressSetting {
  const v = (raw ?? '').trim();
  if (v === '' || v.toLowerCase() === 'autodetect') return { mode: 'autodetect' };
  if (v.toLowerCase() === 'none') return { mode: 'none' };
  const c = tryParseCidr(v.includes('/') ? v : `${v}/${family === 4 ? 32 : 128}`, {
    strict: false,
  });
  if (c === undefined || c.family !== family) {
    throw new AgentConfigError(
      `Cannot use ${name}="${v}": expected "autodetect", "none" or an IPv${family} address with optional /length`,
    );
  }
  return { mode: 'explicit', cidr: v.includes('/') ? v : `${v}/${family === 4 ? 32 : 128}` };
}

function parseAs(raw: string | undefined): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const t = raw.trim();
  // asdot notation ("1.10") as Calico accepts it
  const dot = /^(\d+)\.(\d+)$/.exec(t);
  const n = dot ? Number(dot[1]) * 65536 + Number(dot[2]) : /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 4294967295) {
    throw new AgentConfigError(`Cannot use AS="${t}": expected an AS number from 1 to 4294967295`);
  }
  return n;
}

/** Env text → the JSON type FelixConfiguration uses for that field. */
export function felixValue(field: string, text: string): unknown {
  const t = text.trim();
  const shape = (FELIX_SPEC.shape as Record<string, unknown>)[field];
  const probe = (v: unknown) =>
    shape !== undefined &&
    (shape as { safeParse(v: unknown): { success: boolean } }).safeParse(v).success;
  if (/^(true|false)$/i.test(t) && probe(t.toLowerCase() === 'true')) {
    return t.toLowerCase() === 'true';
  }
  if (/^-?\d+$/.test(t) && probe(Number(t))) return Number(t);
  if (t.startsWith('[') && probe(safeJson(t))) return safeJson(t);
  return t;
}

function safeJson(t: string): unknown {
  try {
    return JSON.parse(t);
  } catch {
    return undefined;
  }
}

export function felixOverridesFromEnv(env: NodeJS.ProcessEnv): {
  overrides: Record<string, unknown>;
  unknown: string[];
} {
  const overrides: Record<string, unknown> = {};
  const unknown: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith('FELIX_') || v === undefined) continue;
    const field = FELIX_FIELDS.get(k.slice(6).toLowerCase());
    if (field === undefined) {
      unknown.push(k);
      continue;
    }
    overrides[field] = felixValue(field, v);
  }
  return { overrides, unknown: unknown.sort() };
}

export function loadAgentConfig(env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const backend = (env.CALICO_NETWORKING_BACKEND ?? 'builtin').trim() || 'builtin';
  if (backend !== 'builtin' && backend !== 'none') {
    throw new AgentConfigError(
      `Cannot use CALICO_NETWORKING_BACKEND="${backend}": expected "builtin" or "none"`,
    );
  }
  const v4 = (env.CALICO_IPV4POOL_CIDR ?? '').trim() || '192.168.0.0/16';
  if (tryParseCidr(v4)?.family !== 4) {
    throw new AgentConfigError(`Cannot use CALICO_IPV4POOL_CIDR="${v4}": expected an IPv4 CIDR`);
  }
  const v6 = (env.CALICO_IPV6POOL_CIDR ?? '').trim() || undefined;
  if (v6 !== undefined && tryParseCidr(v6)?.family !== 6) {
    throw new AgentConfigError(`Cannot use CALICO_IPV6POOL_CIDR="${v6}": expected an IPv6 CIDR`);
  }
  const nodeName = (env.NODENAME ?? env.HOSTNAME ?? '').trim() || hostname();
  const { overrides, unknown } = felixOverridesFromEnv(env);
  const asNumber = parseAs(env.AS);
  const netns = (env.CALICO_NETNS ?? '').trim() || undefined;
  const holdText = (env.CALICO_BGP_HOLD_TIME ?? '').trim();
  const bgpHoldTime = holdText === '' ? undefined : Number(holdText);
  // RFC 4271 §4.2: zero (no keepalives) or at least three seconds.
  if (
    bgpHoldTime !== undefined &&
    !(
      Number.isInteger(bgpHoldTime) &&
      (bgpHoldTime === 0 || (bgpHoldTime >= 3 && bgpHoldTime <= 65535))
    )
  ) {
    throw new AgentConfigError(
      `Cannot use CALICO_BGP_HOLD_TIME="${holdText}": expected 0 or whole seconds from 3 to 65535 (RFC 4271)`,
    );
  }
  return {
    nodeName,
    ip: parseAddress('IP', env.IP, 4),
    // calico-node detects IPv6 only when asked to: unset IP6 means no IPv6 address
    ip6: (env.IP6 ?? '').trim() === '' ? { mode: 'none' } : parseAddress('IP6', env.IP6, 6),
    ...(asNumber !== undefined ? { asNumber } : {}),
    ipv4PoolCidr: v4,
    ...(v6 !== undefined ? { ipv6PoolCidr: v6 } : {}),
    noDefaultPools: /^(true|1|yes)$/i.test((env.NO_DEFAULT_POOLS ?? '').trim()),
    networkingBackend: backend,
    bgpStatusFile: (env.CALICO_BGP_STATUS_FILE ?? '').trim() || '/var/run/calico/bgp-status.json',
    ...(bgpHoldTime !== undefined ? { bgpHoldTime } : {}),
    ...(netns !== undefined ? { netns } : {}),
    felixOverrides: overrides,
    unknownFelixEnv: unknown,
  };
}

/** Go-style durations as Felix writes them ("30s", "1m30s", "500ms", "90"); milliseconds. */
export function parseDurationMs(v: unknown, fallbackMs: number): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v * 1000;
  if (typeof v !== 'string' || v.trim() === '') return fallbackMs;
  const t = v.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(t); m !== null; m = re.exec(t)) {
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    total += Number(m[1]) * unit;
    consumed += m[0].length;
  }
  return consumed === t.length && consumed > 0 ? total : fallbackMs;
}
