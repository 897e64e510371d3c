// Realistic manifests in the shape of Calico's documentation: each is accepted and
// defaulted exactly as Calico does.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  applyDefaults,
  type CalicoResource,
  parseManifests,
  validateAnyResource,
  validateResource,
} from './index.js';

function accept(yaml: string): CalicoResource {
  const docs = parseManifests(yaml);
  assert.equal(docs.length, 1);
  const r = validateResource(docs[0]!.value);
  if (!r.ok)
    assert.fail(
      `rejected:\n${r.errors.map((e) => `${e.path}: ${e.message} [${e.rule}]`).join('\n')}`,
    );
  return r.value;
}

function specOf(yaml: string): Record<string, unknown> {
  return (accept(yaml) as unknown as { spec: Record<string, unknown> }).spec;
}

describe('policies', () => {
  test('GlobalNetworkPolicy from the docs: types from rules, tier default, nil order stays absent', () => {
    const spec = specOf(`
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: allow-tcp-6379
spec:
  selector: role == 'database'
  ingress:
    - action: Allow
      metadata:
        annotations:
          from: frontend
          to: database
      protocol: TCP
      source:
        selector: role == 'frontend'
      destination:
        ports:
          - 6379
  egress:
    - action: Allow
`);
    assert.deepEqual(spec, {
      selector: "role == 'database'",
      ingress: [
        {
          action: 'Allow',
          metadata: { annotations: { from: 'frontend', to: 'database' } },
          protocol: 'TCP',
          source: { selector: "role == 'frontend'" },
          destination: { ports: [6379] },
        },
      ],
      egress: [{ action: 'Allow' }],
      tier: 'default',
      types: ['Ingress', 'Egress'],
    });
    assert.equal('order' in spec, false);
  });

  test('types default: none -> Ingress, ingress only -> Ingress, egress only -> Egress', () => {
    const base = (rules: string) => `
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: p}
spec:
${rules}`;
    assert.deepEqual(specOf(base('  selector: all()')).types, ['Ingress']);
    assert.deepEqual(specOf(base('  ingress: [{action: Deny}]')).types, ['Ingress']);
    assert.deepEqual(specOf(base('  egress: [{action: Deny}]')).types, ['Egress']);
    assert.deepEqual(specOf(base('  types: [Egress]\n  ingress: [{action: Deny}]')).types, [
      'Egress',
    ]);
  });

  test('NetworkPolicy with tier, order, named ports, ICMP, nets and service accounts', () => {
    const r = accept(`
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: internal-access.allow-tcp-6379
  namespace: production
spec:
  tier: internal-access
  order: 100.5
  selector: role == 'database'
  types:
    - Ingress
    - Egress
  ingress:
    - action: Allow
      protocol: tcp
      source:
        selector: role == 'frontend'
        namespaceSelector: global()
        serviceAccounts:
          names: [api, web]
      destination:
        ports: [6379, "7000:7010", redis-metrics]
    - action: Allow
      protocol: ICMP
      icmp: {type: 8, code: 0}
      source:
        nets: [10.0.0.0/8, 192.168.1.7]
        notNets: [10.1.0.0/16]
  egress:
    - action: Allow
      destination:
        services:
          name: kubernetes
          namespace: default
    - action: Log
    - action: Pass
`);
    assert.equal(r.kind, 'NetworkPolicy');
    if (r.kind !== 'NetworkPolicy') return;
    assert.equal(r.spec.tier, 'internal-access');
    assert.equal(r.spec.order, 100.5);
    assert.deepEqual(r.spec.types, ['Ingress', 'Egress']);
    assert.equal(r.spec.ingress?.[0]?.protocol, 'TCP', 'protocol name is stored in canonical case');
    assert.deepEqual(r.spec.ingress?.[0]?.destination?.ports, [6379, '7000:7010', 'redis-metrics']);
  });

  test('legacy NetworkPolicy names and numeric protocols are accepted', () => {
    for (const name of ['knp.default.thing', 'th.ing', 'ossg.default.x.y']) {
      accept(`
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: ${name}, namespace: default}
spec:
  ingress: [{action: Allow, protocol: 17, destination: {ports: [53]}}, {action: Allow, protocol: "132", destination: {ports: [9]}}, {action: Deny, protocol: 7}]
`);
    }
  });

  test('host-endpoint GNP with preDNAT and applyOnForward, doNotTrack variant', () => {
    const spec = specOf(`
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: allow-cluster-internal-ingress}
spec:
  order: 10
  preDNAT: true
  applyOnForward: true
  ingress:
    - action: Allow
      source:
        nets: [10.240.0.0/16, 192.168.0.0/16]
  selector: has(host-endpoint)
`);
    assert.deepEqual(spec.types, ['Ingress']);
    accept(`
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: untracked}
spec:
  doNotTrack: true
  applyOnForward: true
  namespaceSelector: has(projectcalico.org/name)
  serviceAccountSelector: role == 'x'
  performanceHints: [AssumeNeededOnEveryNode]
  ingress: [{action: Allow, protocol: UDP, notProtocol: TCP, source: {notPorts: [1, "5:6"]}}]
  egress: [{action: Allow, ipVersion: 6, protocol: ICMPv6, notICMP: {type: 128}, destination: {nets: ["fd00::/8"]}}]
`);
  });

  test('http match is accepted on an ingress Allow rule (ignored by the L3/L4 dataplane)', () => {
    accept(`
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: l7}
spec:
  ingress:
    - action: Allow
      http:
        methods: [GET, POST]
        paths: [{exact: /healthz}, {prefix: /api}]
`);
  });

  test('staged policies: stagedAction defaults to Set; Delete keeps only its tier', () => {
    const s = specOf(`
apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata: {name: staged}
spec:
  selector: app == 'x'
  egress: [{action: Deny}]
`);
    assert.deepEqual(s, {
      selector: "app == 'x'",
      egress: [{ action: 'Deny' }],
      stagedAction: 'Set',
      tier: 'default',
      types: ['Egress'],
    });
    const d = specOf(`
apiVersion: projectcalico.org/v3
kind: StagedNetworkPolicy
metadata: {name: gone, namespace: prod}
spec:
  stagedAction: Delete
`);
    assert.deepEqual(d, { stagedAction: 'Delete', tier: 'default' });
    const k = specOf(`
apiVersion: projectcalico.org/v3
kind: StagedKubernetesNetworkPolicy
metadata: {name: k, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  egress: [{ports: [{port: 53, protocol: UDP}, {port: 5432}]}]
`);
    assert.deepEqual(k, {
      podSelector: { matchLabels: { app: 'db' } },
      egress: [
        {
          ports: [
            { port: 53, protocol: 'UDP' },
            { port: 5432, protocol: 'TCP' },
          ],
        },
      ],
      stagedAction: 'Set',
      policyTypes: ['Ingress', 'Egress'],
    });
  });
});

describe('tiers and profiles', () => {
  test('user tier: defaultAction Deny, order kept, nil order stays absent', () => {
    assert.deepEqual(
      specOf(`
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: internal-access}
spec:
  order: 100
`),
      { order: 100, defaultAction: 'Deny' },
    );
    assert.deepEqual(
      specOf('apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: t2}\n'),
      { defaultAction: 'Deny' },
    );
  });

  test('reserved tiers get their fixed order and default action', () => {
    const tier = (name: string) =>
      specOf(`apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: ${name}}\nspec: {}\n`);
    assert.deepEqual(tier('default'), { defaultAction: 'Deny', order: 1_000_000 });
    assert.deepEqual(tier('kube-admin'), { defaultAction: 'Pass', order: 1_000 });
    assert.deepEqual(tier('kube-baseline'), { defaultAction: 'Pass', order: 10_000_000 });
  });

  test('profile with labelsToApply and rules', () => {
    const s = specOf(`
apiVersion: projectcalico.org/v3
kind: Profile
metadata:
  name: dev-apps
spec:
  ingress:
    - action: Deny
      source:
        nets: [10.0.20.0/24]
    - action: Allow
      source:
        selector: stage == 'development'
  egress:
    - action: Allow
  labelsToApply:
    stage: development
`);
    assert.deepEqual(s.labelsToApply, { stage: 'development' });
  });
});

describe('endpoints and sets', () => {
  test('WorkloadEndpoint with the canonical name', () => {
    const r = accept(`
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata:
  name: node1-k8s-my--nginx--b1337a-eth0
  namespace: default
  labels:
    app: frontend
    projectcalico.org/namespace: default
    projectcalico.org/orchestrator: k8s
spec:
  node: node1
  orchestrator: k8s
  pod: my-nginx-b1337a
  endpoint: eth0
  containerID: "1337495556942031415926535"
  interfaceName: cali0ef24ba
  mac: ca:fe:1d:52:bb:e9
  ipNetworks:
    - 192.168.0.0/32
    - fd00::1
  ipNATs:
    - internalIP: 192.168.0.0
      externalIP: 172.16.0.9
  profiles:
    - kns.default
    - ksa.default.default
  ports:
    - name: connect
      port: 8080
      protocol: tcp
    - name: another-port
      port: 5555
      protocol: UDP
      hostPort: 5555
`);
    if (r.kind !== 'WorkloadEndpoint') assert.fail('kind');
    assert.equal(r.spec.ports?.[0]?.protocol, 'TCP');
    assert.equal(r.spec.containerID, '1337495556942031415926535');
  });

  test('HostEndpoint with interface, expected IPs and named ports', () => {
    accept(`
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata:
  name: some.name
  labels:
    type: production
spec:
  interfaceName: eth0
  node: myhost
  expectedIPs:
    - 192.168.0.1
    - 192.168.0.2
  profiles:
    - profile1
    - profile2
  ports:
    - name: some-port
      port: 1234
      protocol: TCP
`);
    accept(`
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: all-interfaces}
spec: {node: myhost, interfaceName: "*"}
`);
  });

  test('GlobalNetworkSet and NetworkSet', () => {
    accept(`
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata:
  name: a-name-for-the-set
  labels:
    role: external-database
spec:
  nets:
    - 198.51.100.0/28
    - 203.0.113.0/24
`);
    accept(`
apiVersion: projectcalico.org/v3
kind: NetworkSet
metadata:
  name: external-database
  namespace: staging
  labels:
    role: db
spec:
  nets: [198.51.100.0/28, "2001:db8::/32"]
`);
  });
});

describe('IPAM kinds', () => {
  test('IPPool defaults: blockSize 26, nodeSelector all(), allowedUses, modes', () => {
    assert.deepEqual(
      specOf(`
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: my.ippool-1
spec:
  cidr: 10.1.0.0/16
  ipipMode: CrossSubnet
  natOutgoing: true
  disabled: false
`),
      {
        cidr: '10.1.0.0/16',
        ipipMode: 'CrossSubnet',
        natOutgoing: true,
        disabled: false,
        blockSize: 26,
        nodeSelector: 'all()',
        allowedUses: ['Workload', 'Tunnel'],
        vxlanMode: 'Never',
        assignmentMode: 'Automatic',
      },
    );
  });

  test('IPv6 pool gets blockSize 122; explicit values are never changed', () => {
    const s = specOf(`
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: v6}
spec:
  cidr: fd00:10::/64
  vxlanMode: Always
  nodeSelector: "rack == 'a'"
`);
    assert.equal(s.blockSize, 122);
    assert.equal(s.nodeSelector, "rack == 'a'");
    assert.equal(s.vxlanMode, 'Always');
    const lb = specOf(`
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: lb}
spec: {cidr: 10.9.0.0/24, blockSize: 29, allowedUses: [LoadBalancer], assignmentMode: Manual}
`);
    assert.deepEqual(lb.allowedUses, ['LoadBalancer']);
    assert.equal(lb.blockSize, 29);
    assert.equal(lb.assignmentMode, 'Manual');
  });

  test('a tiny disabled pool is allowed', () => {
    accept(`
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: tiny}
spec: {cidr: 10.9.9.0/30, disabled: true}
`);
  });

  test('IPReservation and IPAMConfiguration defaults', () => {
    accept(`
apiVersion: projectcalico.org/v3
kind: IPReservation
metadata:
  name: my-ipreservation-1
spec:
  reservedCIDRs:
    - 192.168.2.3
    - 10.0.2.3/32
    - cafe:f00d::/123
`);
    assert.deepEqual(
      specOf(
        'apiVersion: projectcalico.org/v3\nkind: IPAMConfiguration\nmetadata: {name: default}\nspec: {}\n',
      ),
      { strictAffinity: false, maxBlocksPerHost: 0, autoAllocateBlocks: true },
    );
    assert.deepEqual(
      specOf(
        'apiVersion: projectcalico.org/v3\nkind: IPAMConfiguration\nmetadata: {name: default}\nspec: {strictAffinity: true, maxBlocksPerHost: 4, autoAllocateBlocks: false, ipCooldownSeconds: 30}\n',
      ),
      {
        strictAffinity: true,
        maxBlocksPerHost: 4,
        autoAllocateBlocks: false,
        ipCooldownSeconds: 30,
      },
    );
  });

  test('IPAM internals: block, affinity, handle', () => {
    const allocations = Array.from({ length: 64 }, (_, i) => (i === 0 ? 0 : null));
    const block = {
      apiVersion: 'projectcalico.org/v3',
      kind: 'IPAMBlock',
      metadata: { name: '10-244-1-0-26' },
      spec: {
        cidr: '10.244.1.0/26',
        affinity: 'host:node1',
        allocations,
        unallocated: Array.from({ length: 63 }, (_, i) => i + 1),
        attributes: [
          {
            handle_id: 'k8s-pod-network.abc',
            secondary: { namespace: 'default', pod: 'p', node: 'node1' },
          },
        ],
        sequenceNumber: 3,
        deleted: false,
      },
    };
    const r = validateResource(block);
    assert.ok(r.ok, JSON.stringify(r));
    assert.ok(
      validateResource({
        apiVersion: 'projectcalico.org/v3',
        kind: 'BlockAffinity',
        metadata: { name: 'node1-10-244-1-0-26' },
        spec: { state: 'confirmed', node: 'node1', cidr: '10.244.1.0/26', deleted: false },
      }).ok,
    );
    assert.ok(
      validateResource({
        apiVersion: 'projectcalico.org/v3',
        kind: 'IPAMHandle',
        metadata: { name: 'k8s-pod-network.abc' },
        spec: { handleID: 'k8s-pod-network.abc', block: { '10.244.1.0/26': 1 } },
      }).ok,
    );
  });
});

describe('node and BGP', () => {
  test('Node', () => {
    accept(`
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: node-hostname
spec:
  bgp:
    asNumber: 64512
    ipv4Address: 10.244.0.1/24
    ipv6Address: 2001:db8:85a3::8a2e:370:7334/120
    ipv4IPIPTunnelAddr: 192.168.0.1
    routeReflectorClusterID: 10.255.0.1
  ipv4VXLANTunnelAddr: 192.168.5.1
  vxlanTunnelMACAddr: 66:cf:23:df:22:07
  addresses: [{address: 10.244.0.1, type: InternalIP}]
  orchRefs: [{nodeName: node-hostname, orchestrator: k8s}]
status:
  podCIDRs: [10.244.0.0/24]
`);
  });

  test('BGPConfiguration default gets the global defaults; node.<name> does not', () => {
    assert.deepEqual(
      specOf(`
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  serviceClusterIPs:
    - cidr: 10.96.0.0/12
  serviceExternalIPs:
    - cidr: 104.244.42.129/32
  communities:
    - name: bgp-large-community
      value: 63400:300:100
  prefixAdvertisements:
    - cidr: 172.218.4.0/26
      communities:
        - bgp-large-community
        - 63400:120
`),
      {
        serviceClusterIPs: [{ cidr: '10.96.0.0/12' }],
        serviceExternalIPs: [{ cidr: '104.244.42.129/32' }],
        communities: [{ name: 'bgp-large-community', value: '63400:300:100' }],
        prefixAdvertisements: [
          { cidr: '172.218.4.0/26', communities: ['bgp-large-community', '63400:120'] },
        ],
        nodeToNodeMeshEnabled: true,
        asNumber: 64512,
        listenPort: 179,
        logSeverityScreen: 'Info',
      },
    );
    assert.deepEqual(
      specOf(`
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: node.node1}
spec: {logSeverityScreen: Debug}
`),
      { logSeverityScreen: 'Debug' },
    );
    assert.equal(
      specOf(
        'apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata: {name: default}\nspec: {nodeToNodeMeshEnabled: false}\n',
      ).nodeToNodeMeshEnabled,
      false,
    );
  });

  test('BGPPeer forms from the docs', () => {
    for (const spec of [
      '{peerIP: 192.168.1.1, asNumber: 63400}',
      '{node: rack1-host1, peerIP: "10.0.0.2:4444", asNumber: 64567}',
      '{peerIP: "[fd00::1]:4444", asNumber: 64567, keepaliveTime: 30s, maxRestartTime: 2m}',
      "{nodeSelector: rack == 'rack-1', peerSelector: route-reflector == 'true'}",
      '{peerIP: 10.0.0.9, asNumber: "1.10", reachableBy: 10.0.0.1, filters: [my-filter], nextHopMode: Self, password: {secretKeyRef: {name: bgp-secrets, key: rr-password}}}',
    ]) {
      accept(
        `apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: some.name}\nspec: ${spec}\n`,
      );
    }
  });

  test('BGPFilter', () => {
    accept(`
apiVersion: projectcalico.org/v3
kind: BGPFilter
metadata:
  name: my-filter
spec:
  exportV4:
    - action: Accept
      matchOperator: In
      cidr: 77.0.0.0/16
      prefixLength: {min: 16, max: 24}
    - action: Reject
      interface: "*.calico"
  importV6:
    - action: Reject
      matchOperator: NotIn
      cidr: 9000::0/64
      source: RemotePeers
`);
  });
});

describe('configuration kinds', () => {
  test('FelixConfiguration keeps parameters it does not model', () => {
    const s = specOf(`
apiVersion: projectcalico.org/v3
kind: FelixConfiguration
metadata:
  name: default
spec:
  ipv6Support: false
  ipipMTU: 1400
  chainInsertMode: Append
  failsafeInboundHostPorts: [{protocol: TCP, port: 22}, {protocol: UDP, port: 68, net: 10.0.0.0/8}]
  bpfLogLevel: Debug
`);
    assert.equal(s.bpfLogLevel, 'Debug');
  });

  test('ClusterInformation, KubeControllersConfiguration, CalicoNodeStatus', () => {
    accept(`
apiVersion: projectcalico.org/v3
kind: ClusterInformation
metadata: {name: default}
spec: {clusterGUID: abc, clusterType: "k8s,bgp", calicoVersion: v3.34.0, datastoreReady: true}
`);
    assert.deepEqual(
      specOf(`
apiVersion: projectcalico.org/v3
kind: KubeControllersConfiguration
metadata:
  name: default
spec:
  logSeverityScreen: Info
  controllers:
    node:
      syncLabels: Enabled
      hostEndpoint:
        autoCreate: Disabled
    policy: {}
`),
      {
        logSeverityScreen: 'Info',
        controllers: {
          node: {
            syncLabels: 'Enabled',
            hostEndpoint: { autoCreate: 'Disabled' },
            reconcilerPeriod: '5m',
            leakGracePeriod: '15m',
          },
          policy: { reconcilerPeriod: '5m' },
        },
        healthChecks: 'Enabled',
        etcdV3CompactionPeriod: '10m',
        prometheusMetricsPort: 9094,
      },
    );
    accept(`
apiVersion: projectcalico.org/v3
kind: CalicoNodeStatus
metadata: {name: my-caliconodestatus-1}
spec:
  classes: [Agent, BGP, Routes]
  node: my-node
  updatePeriodSeconds: 10
status:
  agent: {birdV4: {state: Ready}}
`);
  });
});

describe('Kubernetes documents', () => {
  test('Namespace and NetworkPolicy are validated and defaulted like the API server', () => {
    const ns = validateAnyResource(
      parseManifests(
        'apiVersion: v1\nkind: Namespace\nmetadata: {name: prod, labels: {team: a}}\n',
      )[0]!.value,
    );
    assert.ok(ns.ok);
    const np = validateAnyResource(
      parseManifests(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {team: a}}
          podSelector: {matchLabels: {role: api}}
        - ipBlock: {cidr: 10.20.0.0/16, except: [10.20.5.0/24]}
      ports: [{port: 5432}, {port: 5433}, {protocol: UDP, port: 53}, {port: 8000, endPort: 8080}]
`)[0]!.value,
    );
    assert.ok(np.ok, JSON.stringify(np));
    if (
      !np.ok ||
      np.value.kind !== 'NetworkPolicy' ||
      np.value.apiVersion !== 'networking.k8s.io/v1'
    )
      return;
    assert.deepEqual(np.value.spec.policyTypes, ['Ingress']);
    assert.equal(np.value.spec.ingress?.[0]?.ports?.[0]?.protocol, 'TCP');
  });
});

describe('defaulting never drops or changes user fields', () => {
  test('annotations, unknown metadata, status and explicit values survive', () => {
    const doc = {
      apiVersion: 'projectcalico.org/v3',
      kind: 'IPPool',
      metadata: {
        name: 'p',
        annotations: { 'Example.COM/Owner': 'me' },
        resourceVersion: '42',
        managedFields: [{ manager: 'x' }],
      },
      spec: { cidr: '10.2.0.0/16', blockSize: 24, nodeSelector: 'all()', natOutgoing: false },
      status: { conditions: [{ type: 'Allocatable', status: 'True' }] },
    };
    const r = validateResource(structuredClone(doc));
    assert.ok(r.ok);
    const v = r.value as unknown as typeof doc;
    assert.deepEqual(v.metadata, doc.metadata);
    assert.deepEqual(v.status, doc.status);
    for (const [k, val] of Object.entries(doc.spec))
      assert.deepEqual((v.spec as Record<string, unknown>)[k], val);
  });

  test('applyDefaults does not mutate its input and is idempotent', () => {
    const r = validateResource({
      apiVersion: 'projectcalico.org/v3',
      kind: 'GlobalNetworkPolicy',
      metadata: { name: 'x' },
      spec: { ingress: [{ action: 'Allow', protocol: 'udp' }] },
    });
    assert.ok(r.ok);
    const once = r.value;
    const frozen = structuredClone(once);
    const twice = applyDefaults(once);
    assert.deepEqual(once, frozen);
    assert.deepEqual(twice, once);
  });
});
