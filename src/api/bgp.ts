// Node and the BGP kinds (calico-semantics.md §2, calico-dataplane.md §11).

import {
  addProblem,
  asNumberValue,
  cidrOrIpString,
  communityValueProblem,
  dnsSubdomain,
  durationString,
  ipOfFamily,
  ipString,
  isCommunityValue,
  isProblem,
  macAddress,
  type Problem,
  selectorString,
  tryParseCidrOrIp,
  tryParseInterfaceCidr,
  tryParseIp,
  withRule,
} from './formats.js';
import { API_VERSION, metadataFor, resourceShape } from './meta.js';
import * as z from './schema.js';

const ipv4 = (what: string) => withRule(z.string(), (v) => ipOfFamily(v, 4, what));
const ipv6 = (what: string) => withRule(z.string(), (v) => ipOfFamily(v, 6, what));
const interfaceCidrOf = (family: 4 | 6, what: string) =>
  withRule(z.string(), (v): Problem | undefined => {
    const c = tryParseInterfaceCidr(v);
    if (isProblem(c)) return c;
    return c.family === family
      ? undefined
      : { rule: 'ip-family', message: `${what} must be an IPv${family} address, got "${v}"` };
  });

// ---- Node ----

export const NodeBGPSpecSchema = z
  .strictObject({
    asNumber: asNumberValue().optional(),
    ipv4Address: interfaceCidrOf(4, 'ipv4Address').optional(),
    ipv6Address: interfaceCidrOf(6, 'ipv6Address').optional(),
    ipv4IPIPTunnelAddr: ipv4('ipv4IPIPTunnelAddr').optional(),
    routeReflectorClusterID: ipv4('routeReflectorClusterID').optional(),
  })
  .superRefine((b, ctx) => {
    if ((b.ipv4Address ?? '') === '' && (b.ipv6Address ?? '') === '')
      addProblem(
        ctx,
        [],
        'node-bgp-address',
        `bgp needs ipv4Address or ipv6Address; remove the bgp block if the node runs no BGP`,
      );
  });
export type NodeBGPSpec = z.infer<typeof NodeBGPSpecSchema>;

export const NodeAddressSchema = z.strictObject({
  address: withRule(z.string(), (v) => {
    const c = tryParseCidrOrIp(v);
    return isProblem(c) ? c : undefined;
  }),
  type: z.enum(['InternalIP', 'ExternalIP', 'CalicoNodeIP']).optional(),
});

export const NodeSpecSchema = z.strictObject({
  bgp: NodeBGPSpecSchema.optional(),
  ipv4VXLANTunnelAddr: ipv4('ipv4VXLANTunnelAddr').optional(),
  vxlanTunnelMACAddr: withRule(z.string(), macAddress).optional(),
  ipv6VXLANTunnelAddr: ipv6('ipv6VXLANTunnelAddr').optional(),
  vxlanTunnelMACAddrV6: withRule(z.string(), macAddress).optional(),
  wireguard: z
    .strictObject({
      interfaceIPv4Address: ipv4('interfaceIPv4Address').optional(),
      interfaceIPv6Address: ipv6('interfaceIPv6Address').optional(),
    })
    .optional(),
  addresses: z.array(NodeAddressSchema).optional(),
  orchRefs: z
    .array(z.strictObject({ nodeName: z.string().optional(), orchestrator: z.string() }))
    .optional(),
});
export type NodeSpec = z.infer<typeof NodeSpecSchema>;

export const NodeSchema = z.strictObject({
  ...resourceShape(API_VERSION, 'Node', metadataFor(dnsSubdomain, false)),
  spec: NodeSpecSchema,
  status: z.looseObject({}).optional(),
});
export type Node = z.infer<typeof NodeSchema>;

// ---- BGPConfiguration ----

export const MAX_COMMUNITIES = 500;

export const CommunitySchema = z.strictObject({
  name: z.string().min(1),
  value: withRule(z.string(), communityValueProblem),
});
export const PrefixAdvertisementSchema = z.strictObject({
  cidr: cidrOrIpString(),
  communities: z.array(z.string()).min(1),
});
const serviceCidrs = () => z.array(z.strictObject({ cidr: cidrOrIpString() }));

export const LOG_SEVERITIES = ['Trace', 'Debug', 'Info', 'Warning', 'Error', 'Fatal'] as const;

export const SecretKeyRefSchema = z.strictObject({
  secretKeyRef: z.strictObject({
    name: z.string().min(1),
    key: z.string().min(1),
    optional: z.boolean().optional(),
  }),
});

export const BGPConfigurationSpecSchema = z
  .strictObject({
    logSeverityScreen: z.enum(LOG_SEVERITIES).optional().meta({ default: 'Info' }),
    nodeToNodeMeshEnabled: z.boolean().optional().meta({ default: true }),
    asNumber: asNumberValue()
      .optional()
      .meta({ description: 'Default AS number of nodes.', default: 64512 }),
    listenPort: z.int().min(1).max(65535).optional().meta({ default: 179 }),
    serviceClusterIPs: serviceCidrs().optional(),
    serviceExternalIPs: serviceCidrs().optional(),
    serviceLoadBalancerIPs: serviceCidrs().optional(),
    communities: z.array(CommunitySchema).max(MAX_COMMUNITIES).optional(),
    prefixAdvertisements: z.array(PrefixAdvertisementSchema).optional(),
    nodeMeshPassword: SecretKeyRefSchema.optional(),
    nodeMeshMaxRestartTime: durationString().optional(),
    bindMode: z.enum(['None', 'NodeIP']).optional(),
    ignoredInterfaces: z
      .array(
        withRule(z.string(), (v) =>
          v !== '*' && /^[a-zA-Z0-9_.*-]{1,15}$/.test(v)
            ? undefined
            : {
                rule: 'interface-name',
                message: `ignored interface "${v}" must match ^[a-zA-Z0-9_.*-]{1,15}$ and not be "*"`,
              },
        ),
      )
      .optional(),
    localWorkloadPeeringIPV4: ipv4('localWorkloadPeeringIPV4').optional(),
    localWorkloadPeeringIPV6: ipv6('localWorkloadPeeringIPV6').optional(),
    programClusterRoutes: z.enum(['Enabled', 'Disabled']).optional(),
  })
  .superRefine((s, ctx) => {
    const names = new Set<string>();
    s.communities?.forEach((c, i) => {
      if (names.has(c.name))
        addProblem(
          ctx,
          ['communities', i, 'name'],
          'duplicate',
          `community "${c.name}" is defined twice`,
        );
      names.add(c.name);
    });
    if ((s.communities?.length ?? 0) > 0 && (s.prefixAdvertisements?.length ?? 0) === 0)
      addProblem(
        ctx,
        ['communities'],
        'community-unused',
        `communities are defined but no prefixAdvertisements use them`,
      );
    if (s.nodeToNodeMeshEnabled === false) {
      for (const f of ['nodeMeshPassword', 'nodeMeshMaxRestartTime'] as const) {
        if (s[f] !== undefined)
          addProblem(
            ctx,
            [f],
            'node-mesh-disabled',
            `${f} can't be set when nodeToNodeMeshEnabled is false`,
          );
      }
    }
    s.prefixAdvertisements?.forEach((pa, i) => {
      pa.communities.forEach((c, j) => {
        if (!names.has(c) && !isCommunityValue(c))
          addProblem(
            ctx,
            ['prefixAdvertisements', i, 'communities', j],
            'community-undefined',
            `"${c}" is neither a community value (aa:nn or aa:nn:mm) nor a community defined in spec.communities`,
          );
      });
    });
  });
export type BGPConfigurationSpec = z.infer<typeof BGPConfigurationSpecSchema>;

export const BGPConfigurationSchema = z.strictObject({
  ...resourceShape(API_VERSION, 'BGPConfiguration', metadataFor(dnsSubdomain, false)),
  spec: BGPConfigurationSpecSchema,
});
export type BGPConfiguration = z.infer<typeof BGPConfigurationSchema>;

// ---- BGPPeer ----

/** `ip`, `ipv4:port` or `[ipv6]:port`; returns the address part or a problem. */
export function parsePeerIP(text: string): { ip: string; family: 4 | 6; port?: number } | Problem {
  let host = text;
  let portText: string | undefined;
  const bracket = /^\[([^\]]+)\]:([0-9]+)$/.exec(text);
  if (bracket !== null) {
    host = bracket[1]!;
    portText = bracket[2]!;
  } else if (text.split(':').length === 2) {
    [host, portText] = text.split(':') as [string, string];
  }
  if (host === '')
    return { rule: 'peer-ip', message: `peerIP "${text}" needs an address before the port` };
  const ip = tryParseIp(host);
  if (isProblem(ip)) return { rule: 'peer-ip', message: `peerIP "${text}": ${ip.message}` };
  if (portText !== undefined) {
    const port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : 0;
    if (port < 1 || port > 65535)
      return { rule: 'peer-ip', message: `peerIP "${text}" has a bad port; use 1-65535` };
    if (bracket === null && ip.family === 6)
      return { rule: 'peer-ip', message: `write an IPv6 peer with a port as [addr]:port` };
    return { ip: host, family: ip.family, port };
  }
  return { ip: host, family: ip.family };
}

export const BGPPeerSpecSchema = z
  .strictObject({
    node: z.string().optional(),
    nodeSelector: selectorString().optional(),
    peerIP: withRule(z.string(), (v) => {
      const r = parsePeerIP(v);
      return isProblem(r) ? r : undefined;
    }).optional(),
    peerSelector: selectorString().optional(),
    asNumber: asNumberValue().optional(),
    localASNumber: asNumberValue().optional(),
    password: SecretKeyRefSchema.optional(),
    sourceAddress: z.enum(['UseNodeIP', 'None']).optional(),
    maxRestartTime: durationString().optional(),
    keepaliveTime: durationString().optional(),
    numAllowedLocalASNumbers: z.int().min(0).max(2147483647).optional(),
    ttlSecurity: z.int().min(0).max(255).optional(),
    reachableBy: ipString().optional(),
    filters: z.array(z.string()).optional(),
    localWorkloadSelector: selectorString().optional(),
    nextHopMode: z.enum(['Auto', 'Self', 'Keep']).optional(),
    keepOriginalNextHop: z.boolean().optional(),
    reversePeering: z.enum(['Auto', 'Manual']).optional(),
  })
  .superRefine((s, ctx) => {
    if ((s.node ?? '') !== '' && (s.nodeSelector ?? '') !== '')
      addProblem(
        ctx,
        ['nodeSelector'],
        'bgppeer-node-exclusive',
        `node and nodeSelector can't both be set`,
      );
    if ((s.peerIP ?? '') !== '' && (s.peerSelector ?? '') !== '')
      addProblem(
        ctx,
        ['peerSelector'],
        'bgppeer-peer-exclusive',
        `peerIP and peerSelector can't both be set`,
      );
    if (s.asNumber !== undefined && (s.peerSelector ?? '') !== '')
      addProblem(
        ctx,
        ['asNumber'],
        'bgppeer-asnumber-selector',
        `asNumber can't be set with peerSelector; the selected nodes' AS numbers are used`,
      );
    const lws = (s.localWorkloadSelector ?? '') !== '';
    if (lws && s.asNumber === undefined)
      addProblem(
        ctx,
        ['asNumber'],
        'bgppeer-local-workload',
        `asNumber is required with localWorkloadSelector`,
      );
    if (lws && (s.peerIP ?? '') !== '')
      addProblem(
        ctx,
        ['peerIP'],
        'bgppeer-local-workload',
        `peerIP can't be set with localWorkloadSelector`,
      );
    if (lws && (s.peerSelector ?? '') !== '')
      addProblem(
        ctx,
        ['peerSelector'],
        'bgppeer-local-workload',
        `peerSelector can't be set with localWorkloadSelector`,
      );
    if (s.keepOriginalNextHop === true && s.nextHopMode !== undefined)
      addProblem(
        ctx,
        ['nextHopMode'],
        'bgppeer-next-hop',
        `keepOriginalNextHop and nextHopMode can't both be set; use nextHopMode: Keep`,
      );
    if (s.reachableBy !== undefined) {
      const peer = s.peerIP === undefined ? undefined : parsePeerIP(s.peerIP);
      const via = tryParseIp(s.reachableBy);
      if (peer === undefined)
        addProblem(ctx, ['reachableBy'], 'bgppeer-reachable-by', `reachableBy needs peerIP`);
      else if (!isProblem(peer) && !isProblem(via) && peer.family !== via.family)
        addProblem(
          ctx,
          ['reachableBy'],
          'bgppeer-reachable-by',
          `reachableBy must be in the same address family as peerIP`,
        );
    }
  });
export type BGPPeerSpec = z.infer<typeof BGPPeerSpecSchema>;

export const BGPPeerSchema = z.strictObject({
  ...resourceShape(API_VERSION, 'BGPPeer', metadataFor(dnsSubdomain, false)),
  spec: BGPPeerSpecSchema,
});
export type BGPPeer = z.infer<typeof BGPPeerSchema>;

// ---- BGPFilter ----

function filterRuleSchema(family: 4 | 6) {
  const max = family === 4 ? 32 : 128;
  return z
    .strictObject({
      cidr: cidrOrIpString().optional(),
      matchOperator: z.enum(['Equal', 'NotEqual', 'In', 'NotIn']).optional(),
      prefixLength: z
        .strictObject({
          min: z.int().min(0).max(max).optional(),
          max: z.int().min(0).max(max).optional(),
        })
        .optional(),
      source: z.enum(['RemotePeers']).optional(),
      interface: withRule(z.string(), (v) =>
        /^[a-zA-Z0-9_.*-]{1,15}$/.test(v)
          ? undefined
          : {
              rule: 'interface-name',
              message: `interface "${v}" must match ^[a-zA-Z0-9_.*-]{1,15}$`,
            },
      ).optional(),
      peerType: z.enum(['eBGP', 'iBGP']).optional(),
      communities: z.looseObject({}).optional(),
      asPathPrefix: z.array(z.union([z.int(), z.string()])).optional(),
      priority: z.int().optional(),
      operations: z.array(z.looseObject({})).optional(),
      action: z.enum(['Accept', 'Reject']),
    })
    .superRefine((r, ctx) => {
      if ((r.cidr === undefined) !== (r.matchOperator === undefined))
        addProblem(
          ctx,
          [r.cidr === undefined ? 'cidr' : 'matchOperator'],
          'filter-cidr-operator',
          `cidr and matchOperator must be set together`,
        );
      if (r.cidr !== undefined) {
        const c = tryParseCidrOrIp(r.cidr);
        if (!isProblem(c)) {
          if (c.family !== family)
            addProblem(
              ctx,
              ['cidr'],
              'ip-family',
              `an IPv${family} filter rule needs an IPv${family} cidr`,
            );
          else if (r.prefixLength?.min !== undefined && r.prefixLength.min < c.prefixLength)
            addProblem(
              ctx,
              ['prefixLength', 'min'],
              'filter-prefix-length',
              `prefixLength.min must be at least the cidr's prefix length ${c.prefixLength}`,
            );
        }
      }
      const pl = r.prefixLength;
      if (pl?.min !== undefined && pl.max !== undefined && pl.min > pl.max)
        addProblem(ctx, ['prefixLength'], 'filter-prefix-length', `prefixLength.min exceeds max`);
      if (r.cidr === undefined && r.prefixLength !== undefined)
        addProblem(ctx, ['prefixLength'], 'filter-cidr-operator', `prefixLength needs cidr`);
      if (r.operations !== undefined && r.action !== 'Accept')
        addProblem(
          ctx,
          ['operations'],
          'filter-operations',
          `operations are only allowed with action Accept`,
        );
    });
}

export const BGPFilterSpecSchema = z.strictObject({
  exportV4: z.array(filterRuleSchema(4)).optional(),
  importV4: z.array(filterRuleSchema(4)).optional(),
  exportV6: z.array(filterRuleSchema(6)).optional(),
  importV6: z.array(filterRuleSchema(6)).optional(),
});
export type BGPFilterSpec = z.infer<typeof BGPFilterSpecSchema>;
export type BGPFilterRule = NonNullable<BGPFilterSpec['exportV4']>[number];

export const BGPFilterSchema = z.strictObject({
  ...resourceShape(API_VERSION, 'BGPFilter', metadataFor(dnsSubdomain, false)),
  spec: BGPFilterSpecSchema,
});
export type BGPFilter = z.infer<typeof BGPFilterSchema>;
