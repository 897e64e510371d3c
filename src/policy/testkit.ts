// Compact builders for policy scenarios, shared by this component's tests and
// benchmark. They produce plain v3 / Kubernetes resource objects.
import type { ResourceLike, V3EndpointPort, V3PolicySpec, V3ProfileSpec, V3Rule } from './input.js';

export interface WepOptions {
  ns?: string;
  node?: string;
  profiles?: string[];
  ports?: V3EndpointPort[];
  orchestrator?: string;
  sa?: string;
  ips?: string[];
}

export function wep(
  name: string,
  ip: string,
  labels: Record<string, string> = {},
  o: WepOptions = {},
): ResourceLike {
  const spec: Record<string, unknown> = {
    node: o.node ?? 'node1',
    orchestrator: o.orchestrator ?? 'k8s',
    pod: name,
    endpoint: 'eth0',
    interfaceName: `cali${name.slice(0, 11)}`,
    ipNetworks: o.ips ?? [ip.includes(':') ? `${ip}/128` : `${ip}/32`],
    profiles: o.profiles ?? ['allow-all'],
  };
  if (o.ports) spec.ports = o.ports;
  if (o.sa) spec.serviceAccountName = o.sa;
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'WorkloadEndpoint',
    metadata: { name, namespace: o.ns ?? 'default', labels },
    spec,
  };
}

export interface HepOptions {
  interfaceName?: string;
  labels?: Record<string, string>;
  profiles?: string[];
  ports?: V3EndpointPort[];
}

export function hep(name: string, node: string, ips: string[], o: HepOptions = {}): ResourceLike {
  const spec: Record<string, unknown> = { node, expectedIPs: ips, profiles: o.profiles ?? [] };
  if (o.interfaceName !== undefined) spec.interfaceName = o.interfaceName;
  if (o.ports) spec.ports = o.ports;
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'HostEndpoint',
    metadata: { name, labels: o.labels ?? {} },
    spec,
  };
}

export function gnp(name: string, spec: V3PolicySpec, kind = 'GlobalNetworkPolicy'): ResourceLike {
  return { apiVersion: 'projectcalico.org/v3', kind, metadata: { name }, spec };
}

export function np(
  ns: string,
  name: string,
  spec: V3PolicySpec,
  kind = 'NetworkPolicy',
): ResourceLike {
  return { apiVersion: 'projectcalico.org/v3', kind, metadata: { name, namespace: ns }, spec };
}

export function tier(name: string, order: number | undefined, defaultAction = 'Deny') {
  const spec: Record<string, unknown> = { defaultAction };
  if (order !== undefined) spec.order = order;
  return { apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata: { name }, spec };
}

export function profile(
  name: string,
  spec: V3ProfileSpec = {},
  labels?: Record<string, string>,
): ResourceLike {
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'Profile',
    metadata: { name },
    spec: labels ? { ...spec, labelsToApply: labels } : spec,
  };
}

export const ALLOW: V3Rule = { action: 'Allow' };
export const DENY: V3Rule = { action: 'Deny' };
export const PASS: V3Rule = { action: 'Pass' };
export const LOG: V3Rule = { action: 'Log' };

/** The profile most test endpoints list: allow everything both ways. */
export const allowAll = profile('allow-all', { ingress: [ALLOW], egress: [ALLOW] });

export function namespace(name: string, labels: Record<string, string> = {}): ResourceLike {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

export function serviceAccount(
  ns: string,
  name: string,
  labels: Record<string, string> = {},
): ResourceLike {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns, labels } };
}

export function knp(ns: string, name: string, spec: Record<string, unknown>): ResourceLike {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: ns },
    spec,
  };
}

export function netset(
  name: string,
  nets: string[],
  labels: Record<string, string>,
  ns?: string,
): ResourceLike {
  return ns === undefined
    ? {
        apiVersion: 'projectcalico.org/v3',
        kind: 'GlobalNetworkSet',
        metadata: { name, labels },
        spec: { nets },
      }
    : {
        apiVersion: 'projectcalico.org/v3',
        kind: 'NetworkSet',
        metadata: { name, namespace: ns, labels },
        spec: { nets },
      };
}

export function felix(name: string, spec: Record<string, unknown>): ResourceLike {
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'FelixConfiguration',
    metadata: { name },
    spec,
  };
}
