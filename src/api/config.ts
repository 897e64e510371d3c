// Configuration kinds: FelixConfiguration, ClusterInformation,
// KubeControllersConfiguration and CalicoNodeStatus.

import { LOG_SEVERITIES } from './bgp.js';
import { cidrOrIpString, dnsSubdomain, durationString, uint32 } from './formats.js';
import { singletonName } from './ipam.js';
import { API_VERSION, metadataFor, resourceShape } from './meta.js';
import * as z from './schema.js';

export const ProtoPortSchema = z.strictObject({
  protocol: z.enum(['TCP', 'UDP', 'SCTP']),
  port: z.int().min(0).max(65535),
  net: cidrOrIpString().optional(),
});
export type ProtoPort = z.infer<typeof ProtoPortSchema>;

const onOff = () => z.enum(['Enabled', 'Disabled']);
const logSeverity = () => z.enum(LOG_SEVERITIES);
const port = () => z.int().min(0).max(65535);

/**
 * The parameters calico-ts acts on are typed; Felix has about 200, and the rest are
 * kept as written (looseObject) so a configuration shared with real Felix round-trips.
 */
export const FelixConfigurationSpecSchema = z.looseObject({
  healthEnabled: z.boolean().optional(),
  healthHost: z.string().optional(),
  healthPort: port().optional(),
  prometheusMetricsEnabled: z.boolean().optional(),
  prometheusMetricsHost: z.string().optional(),
  prometheusMetricsPort: port().optional(),
  reportingInterval: durationString().optional(),
  reportingTTL: durationString().optional(),
  iptablesRefreshInterval: durationString().optional(),
  nftablesRefreshInterval: durationString().optional(),
  ipsetsRefreshInterval: durationString().optional(),
  routeRefreshInterval: durationString().optional(),
  interfaceRefreshInterval: durationString().optional(),
  dataplaneWatchdogTimeout: durationString().optional(),
  defaultEndpointToHostAction: z.enum(['Drop', 'Return', 'Accept']).optional(),
  failsafeInboundHostPorts: z.array(ProtoPortSchema).optional(),
  failsafeOutboundHostPorts: z.array(ProtoPortSchema).optional(),
  chainInsertMode: z.enum(['Insert', 'Append']).optional(),
  iptablesBackend: z.enum(['Legacy', 'NFT', 'Auto']).optional(),
  nftablesMode: z.enum(['Disabled', 'Enabled', 'Auto']).optional(),
  iptablesMarkMask: uint32().optional(),
  nftablesMarkMask: uint32().optional(),
  iptablesFilterAllowAction: z.enum(['Accept', 'Return']).optional(),
  iptablesFilterDenyAction: z.enum(['Drop', 'Reject']).optional(),
  nftablesFilterAllowAction: z.enum(['Accept', 'Return']).optional(),
  nftablesFilterDenyAction: z.enum(['Drop', 'Reject']).optional(),
  interfacePrefix: z.string().optional(),
  interfaceExclude: z.string().optional(),
  logPrefix: z.string().optional(),
  logSeverityScreen: logSeverity().optional(),
  logSeverityFile: logSeverity().optional(),
  logFilePath: z.string().optional(),
  endpointStatusPathPrefix: z.string().optional(),
  ipv6Support: z.boolean().optional(),
  ipipEnabled: z.boolean().optional(),
  ipipMTU: z.int().min(0).optional(),
  vxlanEnabled: z.boolean().optional(),
  vxlanPort: port().optional(),
  vxlanVNI: z.int().min(0).max(16777215).optional(),
  vxlanMTU: z.int().min(0).optional(),
  wireguardEnabled: z.boolean().optional(),
  wireguardListeningPort: port().optional(),
  maxIpsetSize: z.int().min(0).optional(),
  deviceRouteProtocol: z.int().min(0).max(255).optional(),
  serviceLoopPrevention: z.enum(['Drop', 'Reject', 'Disabled']).optional(),
  workloadSourceSpoofing: z.enum(['Disabled', 'Any']).optional(),
  disableConntrackInvalidCheck: z.boolean().optional(),
  natPortRange: z.union([z.int(), z.string()]).optional(),
  natOutgoingExclusions: z.enum(['IPPoolsOnly', 'IPPoolsAndHostIPs']).optional(),
  kubeNodePortRanges: z.array(z.union([z.int(), z.string()])).optional(),
  usageReportingEnabled: z.boolean().optional(),
  routeSource: z.enum(['WorkloadIPs', 'CalicoIPAM']).optional(),
  bpfEnabled: z.boolean().optional(),
});
export type FelixConfigurationSpec = z.infer<typeof FelixConfigurationSpecSchema>;

export const FelixConfigurationSchema = z.strictObject({
  ...resourceShape(API_VERSION, 'FelixConfiguration', metadataFor(dnsSubdomain, false)),
  spec: FelixConfigurationSpecSchema,
});
export type FelixConfiguration = z.infer<typeof FelixConfigurationSchema>;

export const ClusterInformationSchema = z.strictObject({
  ...resourceShape(API_VERSION, 'ClusterInformation', metadataFor(singletonName, false)),
  spec: z.strictObject({
    clusterGUID: z.string().optional(),
    clusterType: z.string().optional(),
    calicoVersion: z.string().optional(),
    datastoreReady: z.boolean().optional(),
    variant: z.string().optional(),
  }),
});
export type ClusterInformation = z.infer<typeof ClusterInformationSchema>;

const reconciler = () => ({ reconcilerPeriod: durationString().optional() });

export const KubeControllersConfigurationSpecSchema = z.strictObject({
  logSeverityScreen: logSeverity().optional(),
  healthChecks: onOff().optional(),
  etcdV3CompactionPeriod: durationString().optional(),
  prometheusMetricsPort: port().optional(),
  debugProfilePort: port().optional(),
  controllers: z
    .strictObject({
      node: z
        .looseObject({
          ...reconciler(),
          syncLabels: onOff().optional(),
          hostEndpoint: z.looseObject({ autoCreate: onOff().optional() }).optional(),
          leakGracePeriod: durationString().optional(),
        })
        .optional(),
      policy: z.looseObject(reconciler()).optional(),
      workloadEndpoint: z.looseObject(reconciler()).optional(),
      serviceAccount: z.looseObject(reconciler()).optional(),
      namespace: z.looseObject(reconciler()).optional(),
      loadBalancer: z.looseObject({ assignIPs: z.string().optional() }).optional(),
    })
    .optional(),
});
export type KubeControllersConfigurationSpec = z.infer<
  typeof KubeControllersConfigurationSpecSchema
>;

export const KubeControllersConfigurationSchema = z.strictObject({
  ...resourceShape(API_VERSION, 'KubeControllersConfiguration', metadataFor(singletonName, false)),
  spec: KubeControllersConfigurationSpecSchema,
  status: z.looseObject({}).optional(),
});
export type KubeControllersConfiguration = z.infer<typeof KubeControllersConfigurationSchema>;

export const CalicoNodeStatusSchema = z.strictObject({
  ...resourceShape(API_VERSION, 'CalicoNodeStatus', metadataFor(dnsSubdomain, false)),
  spec: z.strictObject({
    node: z.string().optional(),
    classes: z.array(z.enum(['Agent', 'BGP', 'Routes'])).optional(),
    updatePeriodSeconds: uint32().optional(),
  }),
  status: z.looseObject({}).optional(),
});
export type CalicoNodeStatus = z.infer<typeof CalicoNodeStatusSchema>;
