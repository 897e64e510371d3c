// Endpoints and network sets (calico-semantics.md §2, §8, §9).

import {
  addProblem,
  cidrOrIpString,
  dnsSubdomain,
  ianaPortName,
  interfaceName,
  ipString,
  isProblem,
  macAddress,
  protocolHasPorts,
  protocolProblem,
  tryParseCidrOrIp,
  tryParseIp,
  withRule,
} from './formats.js';
import { API_VERSION, metadataFor, resourceShape } from './meta.js';
import * as z from './schema.js';

const endpointPortProtocol = () =>
  withRule(z.union([z.int(), z.string()]), (p) =>
    protocolProblem(p) === undefined && protocolHasPorts(p)
      ? undefined
      : {
          rule: 'protocol',
          message: `endpoint port protocol ${JSON.stringify(p)} must be TCP, UDP or SCTP (or 6, 17, 132)`,
        },
  );

/** A named port an endpoint declares; rule named ports resolve against these. */
export const EndpointPortSchema = z.strictObject({
  name: withRule(z.string(), ianaPortName),
  protocol: endpointPortProtocol(),
  port: z.int().min(1).max(65535),
});
export type EndpointPort = z.infer<typeof EndpointPortSchema>;

export const WorkloadEndpointPortSchema = z
  .strictObject({
    // A port that only maps a host port may go without a name.
    name: z.string().optional(),
    protocol: endpointPortProtocol(),
    port: z.int().min(1).max(65535),
    hostPort: z.int().min(0).max(65535).optional(),
    hostIP: ipString().optional(),
  })
  .superRefine((p, ctx) => {
    if (p.name === undefined || p.name === '') {
      if ((p.hostPort ?? 0) === 0)
        addProblem(ctx, ['name'], 'port-name', `a port needs a name unless it sets hostPort`);
    } else {
      const bad = ianaPortName(p.name);
      if (bad !== undefined) addProblem(ctx, ['name'], bad.rule, bad.message);
    }
  });
export type WorkloadEndpointPort = z.infer<typeof WorkloadEndpointPortSchema>;

export const IPNATSchema = z
  .strictObject({ internalIP: ipString(), externalIP: ipString() })
  .superRefine((n, ctx) => {
    const a = tryParseIp(n.internalIP);
    const b = tryParseIp(n.externalIP);
    if (!isProblem(a) && !isProblem(b) && a.family !== b.family)
      addProblem(
        ctx,
        ['externalIP'],
        'ip-family',
        `internalIP and externalIP must be of one IP version`,
      );
  });
export type IPNAT = z.infer<typeof IPNATSchema>;

export const WorkloadEndpointSpecSchema = z
  .strictObject({
    orchestrator: z.string().optional(),
    workload: z.string().optional(),
    node: z.string().optional(),
    containerID: z.string().optional(),
    pod: z.string().optional(),
    endpoint: z.string().optional(),
    serviceAccountName: z.string().optional(),
    ipNetworks: z.array(cidrOrIpString()).optional(),
    ipNATs: z.array(IPNATSchema).optional(),
    ipv4Gateway: ipString().optional(),
    ipv6Gateway: ipString().optional(),
    profiles: z.array(withRule(z.string(), (n) => dnsSubdomain(n, 'profile name'))).optional(),
    interfaceName: withRule(z.string(), interfaceName).optional(),
    mac: withRule(z.string(), macAddress).optional(),
    ports: z.array(WorkloadEndpointPortSchema).optional(),
    allowSpoofedSourcePrefixes: z.array(cidrOrIpString()).optional(),
    qosControls: z.looseObject({}).optional(),
  })
  .superRefine((s, ctx) => {
    const own: string[] = [];
    (s.ipNetworks ?? []).forEach((text, i) => {
      const c = tryParseCidrOrIp(text);
      if (isProblem(c)) return;
      const full = c.family === 4 ? 32 : 128;
      if (c.prefixLength !== full)
        addProblem(
          ctx,
          ['ipNetworks', i],
          'workload-ip-network',
          `"${text}" must be a single address (/${full}); a workload's nets cover one address each`,
        );
      own.push(`${c.address}/${c.family}`);
    });
    (s.ipNATs ?? []).forEach((nat, i) => {
      const ip = tryParseIp(nat.internalIP);
      if (isProblem(ip)) return;
      if (!own.includes(`${ip.value}/${ip.family}`))
        addProblem(
          ctx,
          ['ipNATs', i, 'internalIP'],
          'nat-internal-ip',
          `internalIP ${nat.internalIP} must be one of the endpoint's ipNetworks`,
        );
    });
    for (const [field, fam] of [
      ['ipv4Gateway', 4],
      ['ipv6Gateway', 6],
    ] as const) {
      const v = s[field];
      if (v === undefined) continue;
      const ip = tryParseIp(v);
      if (!isProblem(ip) && ip.family !== fam)
        addProblem(ctx, [field], 'ip-family', `${field} must be an IPv${fam} address`);
    }
  });
export type WorkloadEndpointSpec = z.infer<typeof WorkloadEndpointSpecSchema>;

/** `-` inside each component is doubled so the four parts can be split again. */
export function workloadEndpointName(ids: {
  node: string;
  orchestrator: string;
  workload: string;
  endpoint: string;
}): string {
  const esc = (s: string) => s.replaceAll('-', '--');
  return [ids.node, ids.orchestrator, ids.workload, ids.endpoint].map(esc).join('-');
}

export const WorkloadEndpointSchema = z
  .strictObject({
    ...resourceShape(API_VERSION, 'WorkloadEndpoint', metadataFor(dnsSubdomain, true)),
    spec: WorkloadEndpointSpecSchema,
  })
  .superRefine((w, ctx) => {
    const s = w.spec;
    const workload = s.orchestrator === 'k8s' ? (s.pod ?? s.workload) : (s.workload ?? s.pod);
    if (
      s.node === undefined ||
      s.orchestrator === undefined ||
      s.endpoint === undefined ||
      workload === undefined
    )
      return;
    const expected = workloadEndpointName({
      node: s.node,
      orchestrator: s.orchestrator,
      workload,
      endpoint: s.endpoint,
    });
    if (w.metadata.name !== expected)
      addProblem(
        ctx,
        ['metadata', 'name'],
        'workload-endpoint-name',
        `name "${w.metadata.name}" does not match the spec's identifiers; expected "${expected}" (<node>-<orchestrator>-<workload>-<endpoint>, with '-' doubled inside each part)`,
      );
  });
export type WorkloadEndpoint = z.infer<typeof WorkloadEndpointSchema>;

export const HostEndpointSpecSchema = z
  .strictObject({
    node: z.string().min(1),
    interfaceName: withRule(z.string(), (n) =>
      n === '*' ? undefined : interfaceName(n),
    ).optional(),
    expectedIPs: z.array(ipString()).optional(),
    profiles: z.array(withRule(z.string(), (n) => dnsSubdomain(n, 'profile name'))).optional(),
    ports: z.array(EndpointPortSchema).optional(),
  })
  .superRefine((s, ctx) => {
    if ((s.interfaceName ?? '') === '' && (s.expectedIPs ?? []).length === 0)
      addProblem(
        ctx,
        ['interfaceName'],
        'host-endpoint-target',
        `a host endpoint needs interfaceName or at least one expectedIPs entry`,
      );
  });
export type HostEndpointSpec = z.infer<typeof HostEndpointSpecSchema>;

export const HostEndpointSchema = z.strictObject({
  ...resourceShape(API_VERSION, 'HostEndpoint', metadataFor(dnsSubdomain, false)),
  spec: HostEndpointSpecSchema,
});
export type HostEndpoint = z.infer<typeof HostEndpointSchema>;

export const NetworkSetSpecSchema = z.strictObject({
  nets: z.array(cidrOrIpString()).optional(),
});
export type NetworkSetSpec = z.infer<typeof NetworkSetSpecSchema>;

/** Calico sets this label itself when it maps a set to the backend model. */
function noNamespaceLabel(
  s: { metadata: { labels?: Record<string, string> | undefined } },
  ctx: z.RefinementCtx,
) {
  if (s.metadata.labels !== undefined && Object.hasOwn(s.metadata.labels, NAMESPACE_LABEL))
    addProblem(
      ctx,
      ['metadata', 'labels', NAMESPACE_LABEL],
      'reserved-label',
      `${NAMESPACE_LABEL} is set by Calico and can't be used as a label here`,
    );
}
const NAMESPACE_LABEL = 'projectcalico.org/namespace';

export const GlobalNetworkSetSchema = z
  .strictObject({
    ...resourceShape(API_VERSION, 'GlobalNetworkSet', metadataFor(dnsSubdomain, false)),
    spec: NetworkSetSpecSchema,
  })
  .superRefine(noNamespaceLabel);
export type GlobalNetworkSet = z.infer<typeof GlobalNetworkSetSchema>;

export const NetworkSetSchema = z
  .strictObject({
    ...resourceShape(API_VERSION, 'NetworkSet', metadataFor(dnsSubdomain, true)),
    spec: NetworkSetSpecSchema,
  })
  .superRefine(noNamespaceLabel);
export type NetworkSet = z.infer<typeof NetworkSetSchema>;
