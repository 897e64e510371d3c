// Compact builders for policy scenarios, shared by this component's tests and
// benchmark. They produce plain v3 / Kubernetes resource objects.
import assert from 'node:assert/strict';
import { evaluateFlow, type Flow, type Step, type Trace, type Verdict } from './evaluate.js';
import type { ResourceLike, V3EndpointPort, V3PolicySpec, V3ProfileSpec, V3Rule } from './input.js';
import { buildSnapshot, type Snapshot } from './snapshot.js';

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

// ---------------------------------------------------------------- scenario cases

export interface Case {
  name: string;
  res: unknown[];
  flow: Flow;
  verdict: Verdict;
  /** the side that decided and a subset of its deciding step */
  by: ['egress' | 'ingress', { kind: Step['kind'] } & Record<string, unknown>];
  /** the verdict with staged policies enforced; 'none' asserts no staged section */
  staged?: Verdict | 'none';
  extra?: (t: Trace, snap: Snapshot) => void;
}

function assertSubset(actual: unknown, expected: Record<string, unknown>, where: string) {
  for (const [k, v] of Object.entries(expected)) {
    assert.deepEqual(
      (actual as Record<string, unknown>)[k],
      v,
      `${where}.${k}: ${JSON.stringify(actual)}`,
    );
  }
}

export function runCase(c: Case): Trace {
  const snap = buildSnapshot(c.res);
  const t = evaluateFlow(snap, c.flow);
  const explain = JSON.stringify(t, null, 1);
  assert.equal(t.verdict, c.verdict, `verdict; trace: ${explain}`);
  const [sideName, step] = c.by;
  const sideTrace = t[sideName];
  if (c.verdict === 'Deny') {
    assert.equal(sideTrace.verdict, 'Deny', `${sideName} should deny; trace: ${explain}`);
  }
  assertSubset(sideTrace.decidedBy, step as Record<string, unknown>, `${sideName}.decidedBy`);
  // The deciding step is always the last step of the deciding stage.
  const stage = sideTrace.stages.find((s) => s.decidedBy === sideTrace.decidedBy);
  if (stage !== undefined) assert.equal(stage.steps[stage.steps.length - 1], stage.decidedBy);
  if (c.staged === 'none') assert.equal(t.staged, undefined, 'no staged section expected');
  else if (c.staged !== undefined) assert.equal(t.staged?.verdict, c.staged, `staged; ${explain}`);
  c.extra?.(t, snap);
  // JSON round trip keeps the shape (no Maps, bigints or undefined holes).
  assert.deepEqual(JSON.parse(JSON.stringify(t)), t);
  return t;
}

export function tcp(
  dstPort: number,
  srcIp = '10.0.0.1',
  dstIp = '10.0.0.2',
  srcPort = 40000,
): Flow {
  return { srcIp, dstIp, protocol: 'TCP', srcPort, dstPort };
}

export function udp(
  dstPort: number,
  srcIp = '10.0.0.1',
  dstIp = '10.0.0.2',
  srcPort = 40000,
): Flow {
  return { srcIp, dstIp, protocol: 'UDP', srcPort, dstPort };
}
