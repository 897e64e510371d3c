// Leaf rules shared by every kind: names, labels, selectors, addresses, ports,
// protocols. Each returns a Problem instead of throwing, so the schema layer can
// collect every error of a document in one pass.

import { type Cidr, type IpAddress, parseCidr, parseCidrOrIp, parseIp } from '../net/index.js';
import { parseSelector, type Selector, SelectorParseError } from '../selector/index.js';
import * as z from './schema.js';

export interface Problem {
  rule: string;
  message: string;
}

type Checker<T> = (value: T) => Problem | undefined;

/** Attach a leaf rule to a schema; the issue does not stop other checks from running. */
export function withRule<S extends z.ZodType>(schema: S, fn: Checker<z.output<S>>): S {
  return schema.check((ctx) => {
    const p = fn(ctx.value as z.output<S>);
    if (p !== undefined) {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        message: p.message,
        params: { rule: p.rule },
        continue: true,
      });
    }
  }) as S;
}

/** Issue helper for object-level (cross-field) rules. */
export function addProblem(
  ctx: z.RefinementCtx,
  path: readonly (string | number)[],
  rule: string,
  message: string,
): void {
  ctx.addIssue({ code: 'custom', path: [...path], message, params: { rule } });
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const INTERFACE_NAME = /^[a-zA-Z0-9_.-]{1,15}$/;
const NAMED_PORT = /^[a-zA-Z0-9_.-]{1,128}$/;
// micro as U+00B5 and U+03BC, written as escapes: the calicoctl bundle must stay ASCII
const GO_DURATION = /^[-+]?(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h))+)$/;
const MAC = /^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$/;

export function dnsSubdomain(name: string, what = 'name'): Problem | undefined {
  if (name.length === 0) return { rule: 'name-empty', message: `${what} must not be empty` };
  if (name.length > 253)
    return { rule: 'name-too-long', message: `${what} must be at most 253 characters` };
  if (!DNS_SUBDOMAIN.test(name))
    return {
      rule: 'name-format',
      message: `${what} "${name}" must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit`,
    };
  return undefined;
}

export function dnsLabel(name: string, what = 'name'): Problem | undefined {
  if (name.length === 0) return { rule: 'name-empty', message: `${what} must not be empty` };
  if (name.length > 63)
    return { rule: 'name-too-long', message: `${what} must be at most 63 characters` };
  if (!DNS_LABEL.test(name))
    return {
      rule: 'name-format',
      message: `${what} "${name}" must be a DNS-1123 label: lower-case letters, digits and '-', no dots, starting and ending with a letter or digit`,
    };
  return undefined;
}

/** Kubernetes qualified name: `[prefix/]name`; `lowerPrefix` is false for annotation keys. */
export function qualifiedName(key: string, lowerPrefix = true): Problem | undefined {
  const slash = key.lastIndexOf('/');
  let name = key;
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    name = key.slice(slash + 1);
    const p = dnsSubdomain(lowerPrefix ? prefix : prefix.toLowerCase(), 'key prefix');
    if (p !== undefined) return { rule: 'label-key', message: `key "${key}": ${p.message}` };
  }
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME_PART.test(name))
    return {
      rule: 'label-key',
      message: `key "${key}" must be a qualified name: an optional DNS subdomain prefix and '/', then 1-63 characters of [A-Za-z0-9-_.] starting and ending with a letter or digit`,
    };
  return undefined;
}

export function labelValue(value: string): Problem | undefined {
  if (value.length > 63)
    return { rule: 'label-value', message: `label value must be at most 63 characters` };
  if (value !== '' && !QUALIFIED_NAME_PART.test(value))
    return {
      rule: 'label-value',
      message: `label value "${value}" may contain only [A-Za-z0-9-_.] and must start and end with a letter or digit`,
    };
  return undefined;
}

export function interfaceName(name: string): Problem | undefined {
  return INTERFACE_NAME.test(name)
    ? undefined
    : {
        rule: 'interface-name',
        message: `interface name "${name}" must match ^[a-zA-Z0-9_.-]{1,15}$`,
      };
}

export function goDuration(text: string): Problem | undefined {
  return GO_DURATION.test(text)
    ? undefined
    : { rule: 'duration', message: `"${text}" is not a duration such as 90s, 5m or 1h30m` };
}

export function macAddress(text: string): Problem | undefined {
  return MAC.test(text)
    ? undefined
    : { rule: 'mac', message: `"${text}" is not a MAC address such as ee:ee:ee:ee:ee:ee` };
}

// ---- selectors ----

export const MAX_SELECTOR_LENGTH = 1024;

export type SelectorPlacement = 'no-global' | 'rule-namespace';

/** Parse a selector field; `global()` is only ever allowed as a whole rule namespaceSelector. */
export function selectorProblem(
  text: string,
  placement: SelectorPlacement = 'no-global',
): Problem | undefined {
  if (text.length > MAX_SELECTOR_LENGTH)
    return {
      rule: 'selector-too-long',
      message: `selector is ${text.length} characters; at most ${MAX_SELECTOR_LENGTH} are allowed`,
    };
  let sel: Selector;
  try {
    sel = parseSelector(text);
  } catch (err) {
    if (err instanceof SelectorParseError)
      return {
        rule: 'selector-syntax',
        message: `cannot parse selector ${JSON.stringify(text)}: expected ${err.expected} at column ${err.column}`,
      };
    return {
      rule: 'selector-syntax',
      message: `cannot parse selector ${JSON.stringify(text)}: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  if (sel.usesGlobal && !(placement === 'rule-namespace' && text.trim() === 'global()'))
    return {
      rule: 'selector-global',
      message:
        placement === 'rule-namespace'
          ? `global() must be the entire namespaceSelector, not part of "${text}"`
          : `global() is not allowed in this selector ("${text}"); it may only be a rule's entire namespaceSelector`,
    };
  return undefined;
}

// ---- addresses ----

function ipErrorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function tryParseIp(text: string): IpAddress | Problem {
  try {
    return parseIp(text);
  } catch (err) {
    return { rule: 'ip', message: `"${text}" is not a valid IP address: ${ipErrorText(err)}` };
  }
}

/** A network with host bits rejected (pool CIDRs, block CIDRs). */
export function tryParseStrictCidr(text: string): Cidr | Problem {
  try {
    return parseCidr(text, { strict: true });
  } catch (err) {
    return { rule: 'cidr', message: `"${text}" is not a valid network CIDR: ${ipErrorText(err)}` };
  }
}

/** A CIDR (host bits allowed, as Calico masks them) or a bare address. */
export function tryParseCidrOrIp(text: string): Cidr | Problem {
  try {
    return parseCidrOrIp(text, { strict: false });
  } catch (err) {
    return {
      rule: 'cidr',
      message: `"${text}" is not a valid CIDR or IP address: ${ipErrorText(err)}`,
    };
  }
}

/** A network that must be strictly masked; a bare address counts as /32 or /128. */
export function tryParseNetwork(text: string): Cidr | Problem {
  try {
    return parseCidrOrIp(text, { strict: true });
  } catch (err) {
    return {
      rule: 'cidr',
      message: `"${text}" is not a valid, strictly masked network: ${ipErrorText(err)}`,
    };
  }
}

/** An address written in CIDR form with host bits, like Node `bgp.ipv4Address: 10.0.0.1/24`. */
export function tryParseInterfaceCidr(text: string): Cidr | Problem {
  try {
    return parseCidr(text, { strict: false });
  } catch (err) {
    return {
      rule: 'cidr',
      message: `"${text}" is not a valid address/prefix: ${ipErrorText(err)}`,
    };
  }
}

export function isProblem(x: unknown): x is Problem {
  return typeof x === 'object' && x !== null && 'rule' in x && 'message' in x;
}

export function ipOfFamily(text: string, family: 4 | 6, what: string): Problem | undefined {
  const ip = tryParseIp(text);
  if (isProblem(ip)) return ip;
  if (ip.family !== family)
    return { rule: 'ip-family', message: `${what} must be an IPv${family} address, got "${text}"` };
  return undefined;
}

// ---- protocols ----

export const PROTOCOL_NAMES = ['TCP', 'UDP', 'ICMP', 'ICMPv6', 'SCTP', 'UDPLite'] as const;
const PROTOCOL_NUMBERS: Record<string, number> = {
  TCP: 6,
  UDP: 17,
  ICMP: 1,
  ICMPv6: 58,
  SCTP: 132,
  UDPLite: 136,
};

/** Canonical spelling of a protocol, or undefined when it is not a protocol at all. */
export function canonicalProtocol(p: number | string): number | string | undefined {
  if (typeof p === 'number') return Number.isInteger(p) && p >= 1 && p <= 255 ? p : undefined;
  const named = PROTOCOL_NAMES.find((n) => n.toLowerCase() === p.toLowerCase());
  if (named !== undefined) return named;
  if (/^[0-9]+$/.test(p)) {
    const n = Number(p);
    return n >= 1 && n <= 255 ? p : undefined;
  }
  return undefined;
}

/** IP protocol number of a valid protocol value. */
export function protocolNumber(p: number | string): number | undefined {
  const c = canonicalProtocol(p);
  if (c === undefined) return undefined;
  if (typeof c === 'number') return c;
  return PROTOCOL_NUMBERS[c] ?? Number(c);
}

export function protocolProblem(p: number | string): Problem | undefined {
  return canonicalProtocol(p) === undefined
    ? {
        rule: 'protocol',
        message: `protocol ${JSON.stringify(p)} must be one of ${PROTOCOL_NAMES.join(', ')} or a number 1-255`,
      }
    : undefined;
}

// ---- ports ----

export type ParsedPort =
  | { kind: 'number'; min: number; max: number }
  | { kind: 'named'; name: string };

function portNumber(text: string): number | undefined {
  if (!/^[0-9]{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** A rule port: an int, `"min:max"`, a number as a string, or a named port. */
export function parsePort(p: number | string): ParsedPort | Problem {
  if (typeof p === 'number') {
    if (!Number.isInteger(p) || p < 1 || p > 65535)
      return { rule: 'port-range', message: `port ${p} must be an integer 1-65535` };
    return { kind: 'number', min: p, max: p };
  }
  if (p.includes(':')) {
    const parts = p.split(':');
    const min = parts.length === 2 ? portNumber(parts[0]!) : undefined;
    const max = parts.length === 2 ? portNumber(parts[1]!) : undefined;
    if (min === undefined || max === undefined)
      return {
        rule: 'port-range',
        message: `port range "${p}" must be "min:max" with both ends 1-65535`,
      };
    if (min > max)
      return { rule: 'port-range', message: `port range "${p}": min must not exceed max` };
    return { kind: 'number', min, max };
  }
  if (/^[0-9]+$/.test(p)) {
    const n = portNumber(p);
    if (n === undefined)
      return { rule: 'port-range', message: `port "${p}" must be an integer 1-65535` };
    return { kind: 'number', min: n, max: n };
  }
  if (!NAMED_PORT.test(p))
    return {
      rule: 'port-name',
      message: `named port "${p}" must match ^[a-zA-Z0-9_.-]{1,128}$`,
    };
  return { kind: 'named', name: p };
}

/**
 * Kubernetes port names (IANA service names): at most 15 of [a-z0-9-], at least
 * one letter, no leading, trailing or doubled '-'.
 */
export function ianaPortName(name: string): Problem | undefined {
  const ok =
    name.length >= 1 &&
    name.length <= 15 &&
    /^[a-z0-9-]+$/.test(name) &&
    /[a-z]/.test(name) &&
    !name.startsWith('-') &&
    !name.endsWith('-') &&
    !name.includes('--');
  return ok
    ? undefined
    : {
        rule: 'port-name',
        message: `port name "${name}" must be 1-15 of [a-z0-9-] with at least one letter and no leading, trailing or doubled '-'`,
      };
}

/** Whether a protocol has ports: TCP, UDP or SCTP by name or number. */
export function protocolHasPorts(p: number | string): boolean {
  const n = protocolNumber(p);
  return n === 6 || n === 17 || n === 132;
}

// ---- BGP numbers ----

export function asNumberProblem(v: number | string): Problem | undefined {
  if (typeof v === 'number') {
    return Number.isInteger(v) && v >= 0 && v <= 4294967295
      ? undefined
      : { rule: 'as-number', message: `AS number ${v} must be an integer 0-4294967295` };
  }
  const m = /^([0-9]+)(?:\.([0-9]+))?$/.exec(v);
  if (m !== null) {
    if (m[2] === undefined && Number(m[1]) <= 4294967295) return undefined;
    if (m[2] !== undefined && Number(m[1]) <= 65535 && Number(m[2]) <= 65535) return undefined;
  }
  return {
    rule: 'as-number',
    message: `AS number "${v}" must be 0-4294967295 or in dotted form a.b (each 0-65535)`,
  };
}

/** `aa:nn` standard (16-bit parts) or `aa:nn:mm` large (32-bit parts) BGP community. */
export function communityValueProblem(v: string): Problem | undefined {
  const parts = v.split(':');
  const digits = parts.every((x) => /^[0-9]{1,10}$/.test(x));
  if (digits && parts.length === 2 && parts.every((x) => Number(x) <= 65535)) return undefined;
  if (digits && parts.length === 3 && parts.every((x) => Number(x) <= 4294967295)) return undefined;
  return {
    rule: 'community-value',
    message: `community "${v}" must be aa:nn (each 0-65535) or aa:nn:mm (each 0-4294967295)`,
  };
}

export function isCommunityValue(v: string): boolean {
  return communityValueProblem(v) === undefined;
}

// ---- ready-made leaf schemas ----

export const selectorString = (placement: SelectorPlacement = 'no-global') =>
  withRule(z.string(), (v) => selectorProblem(v, placement));
export const ipString = () =>
  withRule(z.string(), (v) => {
    const r = tryParseIp(v);
    return isProblem(r) ? r : undefined;
  });
export const cidrOrIpString = () =>
  withRule(z.string(), (v) => {
    const r = tryParseCidrOrIp(v);
    return isProblem(r) ? r : undefined;
  });
export const networkString = () =>
  withRule(z.string(), (v) => {
    const r = tryParseNetwork(v);
    return isProblem(r) ? r : undefined;
  });
export const strictCidrString = () =>
  withRule(z.string(), (v) => {
    const r = tryParseStrictCidr(v);
    return isProblem(r) ? r : undefined;
  });
export const durationString = () => withRule(z.string(), goDuration);
export const interfaceNameString = () => withRule(z.string(), interfaceName);
export const protocolValue = () =>
  withRule(z.union([z.int(), z.string()]), (v) => protocolProblem(v));
export const asNumberValue = () =>
  withRule(z.union([z.int(), z.string()]), (v) => asNumberProblem(v));
export const portValue = () =>
  withRule(z.union([z.int(), z.string()]), (v) => {
    const r = parsePort(v);
    return isProblem(r) ? r : undefined;
  });
export const int32 = () => z.int().min(-2147483648).max(2147483647);
export const uint16 = () => z.int().min(0).max(65535);
export const uint32 = () => z.int().min(0).max(4294967295);
