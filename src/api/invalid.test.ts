// Invalid documents: each must be rejected with an error at the given field path
// naming the given rule (calico-semantics.md §2-§6).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type FieldError, parseResource, ValidationError, validateAnyResource } from './index.js';

const V3 = 'projectcalico.org/v3';
type Doc = Record<string, unknown>;

function mk(kind: string, spec: unknown, metadata: Doc = { name: 'x' }): Doc {
  return { apiVersion: V3, kind, metadata, spec };
}
const ns = (name = 'x') => ({ name, namespace: 'default' });
const gnp = (spec: Doc) => mk('GlobalNetworkPolicy', spec);
const np = (spec: Doc) => mk('NetworkPolicy', spec, ns());
const rule = (r: Doc, dir: 'ingress' | 'egress' = 'ingress') => gnp({ [dir]: [r] });
const pool = (spec: Doc) => mk('IPPool', spec);
const peer = (spec: Doc) => mk('BGPPeer', spec);
const allocs = (n: number) => Array.from({ length: n }, () => null);

interface Case {
  name: string;
  doc: unknown;
  path: string;
  rule: string;
}

const long = (n: number) => 'a'.repeat(n);

const CASES: Case[] = [
  // --- document level ---
  { name: 'not an object', doc: 'hello', path: '', rule: 'type' },
  {
    name: 'missing kind',
    doc: { apiVersion: V3, metadata: { name: 'x' } },
    path: 'kind',
    rule: 'required',
  },
  { name: 'unknown kind', doc: mk('IpPool', {}), path: 'kind', rule: 'unknown-kind' },
  {
    name: 'wrong apiVersion',
    doc: { ...pool({ cidr: '10.0.0.0/16' }), apiVersion: 'projectcalico.org/v1' },
    path: 'apiVersion',
    rule: 'api-version',
  },
  {
    name: 'missing name',
    doc: { apiVersion: V3, kind: 'Tier', metadata: {}, spec: {} },
    path: 'metadata.name',
    rule: 'required',
  },
  {
    name: 'unknown spec field',
    doc: pool({ cidr: '10.0.0.0/16', natOutgoin: true }),
    path: 'spec.natOutgoin',
    rule: 'unknown-field',
  },
  {
    name: 'unknown top-level field',
    doc: { ...pool({ cidr: '10.0.0.0/16' }), extra: 1 },
    path: 'extra',
    rule: 'unknown-field',
  },
  {
    name: 'wrong type',
    doc: pool({ cidr: '10.0.0.0/16', natOutgoing: 'yes' }),
    path: 'spec.natOutgoing',
    rule: 'type',
  },
  // --- names ---
  {
    name: 'upper-case name',
    doc: mk('GlobalNetworkPolicy', {}, { name: 'tHiNg' }),
    path: 'metadata.name',
    rule: 'name-format',
  },
  {
    name: 'GNP name with two dots',
    doc: mk('GlobalNetworkPolicy', {}, { name: 't.h.i' }),
    path: 'metadata.name',
    rule: 'name-dots',
  },
  {
    name: 'NP name with two dots',
    doc: mk('NetworkPolicy', {}, { name: 't.h.i.ng', namespace: 'a' }),
    path: 'metadata.name',
    rule: 'name-dots',
  },
  {
    name: 'name too long',
    doc: mk('IPPool', { cidr: '10.0.0.0/16' }, { name: long(254) }),
    path: 'metadata.name',
    rule: 'name-too-long',
  },
  {
    name: 'tier name with a dot',
    doc: mk('Tier', {}, { name: 'a.b' }),
    path: 'metadata.name',
    rule: 'name-format',
  },
  {
    name: 'tier name 64 chars',
    doc: mk('Tier', {}, { name: long(64) }),
    path: 'metadata.name',
    rule: 'name-too-long',
  },
  {
    name: 'namespace on a cluster kind',
    doc: mk('Tier', {}, { name: 'a', namespace: 'b' }),
    path: 'metadata.namespace',
    rule: 'namespace-not-allowed',
  },
  {
    name: 'bad namespace',
    doc: mk('NetworkSet', {}, { name: 'a', namespace: 'B_ad' }),
    path: 'metadata.namespace',
    rule: 'namespace-format',
  },
  {
    name: 'IPAMConfiguration not named default',
    doc: mk('IPAMConfiguration', {}, { name: 'other' }),
    path: 'metadata.name',
    rule: 'singleton-name',
  },
  {
    name: 'ClusterInformation not named default',
    doc: mk('ClusterInformation', {}, { name: 'c' }),
    path: 'metadata.name',
    rule: 'singleton-name',
  },
  {
    name: 'WEP name does not match spec',
    doc: mk(
      'WorkloadEndpoint',
      { node: 'n-1', orchestrator: 'k8s', pod: 'p', endpoint: 'eth0' },
      { name: 'n-1-k8s-p-eth0', namespace: 'default' },
    ),
    path: 'metadata.name',
    rule: 'workload-endpoint-name',
  },
  // --- labels and annotations ---
  {
    name: 'label key starting with dot',
    doc: mk('Tier', {}, { name: 'a', labels: { '.mylabel': 'x' } }),
    path: 'metadata.labels[".mylabel"]',
    rule: 'label-key',
  },
  {
    name: 'label key with !',
    doc: mk('Tier', {}, { name: 'a', labels: { 'my!nvalid-label': 'x' } }),
    path: 'metadata.labels["my!nvalid-label"]',
    rule: 'label-key',
  },
  {
    name: 'upper-case label prefix',
    doc: mk('Tier', {}, { name: 'a', labels: { 'ProjectCalico.org/label': 'x' } }),
    path: 'metadata.labels["ProjectCalico.org/label"]',
    rule: 'label-key',
  },
  {
    name: 'label value 64 chars',
    doc: mk('Tier', {}, { name: 'a', labels: { k: long(64) } }),
    path: 'metadata.labels.k',
    rule: 'label-value',
  },
  {
    name: 'label value with space',
    doc: mk('Tier', {}, { name: 'a', labels: { k: 'a b' } }),
    path: 'metadata.labels.k',
    rule: 'label-value',
  },
  {
    name: 'labelsToApply bad value',
    doc: mk('Profile', { labelsToApply: { k: '-x' } }),
    path: 'spec.labelsToApply.k',
    rule: 'label-value',
  },
  {
    name: 'annotations too large',
    doc: mk('Tier', {}, { name: 'a', annotations: { k: long(256 * 1024) } }),
    path: 'metadata.annotations',
    rule: 'annotations-too-large',
  },
  {
    name: 'annotation key bad',
    doc: mk('Tier', {}, { name: 'a', annotations: { 'a b': 'x' } }),
    path: 'metadata.annotations["a b"]',
    rule: 'annotation-key',
  },
  // --- selectors ---
  {
    name: 'policy selector does not parse',
    doc: gnp({ selector: 'a ==' }),
    path: 'spec.selector',
    rule: 'selector-syntax',
  },
  {
    name: 'global() in policy selector',
    doc: gnp({ selector: 'global()' }),
    path: 'spec.selector',
    rule: 'selector-global',
  },
  {
    name: 'global() in GNP namespaceSelector',
    doc: gnp({ namespaceSelector: 'global()' }),
    path: 'spec.namespaceSelector',
    rule: 'selector-global',
  },
  {
    name: 'global() in serviceAccountSelector',
    doc: np({ serviceAccountSelector: 'global()' }),
    path: 'spec.serviceAccountSelector',
    rule: 'selector-global',
  },
  {
    name: 'global() combined in rule namespaceSelector',
    doc: rule({ action: 'Allow', source: { namespaceSelector: 'global() && all()' } }),
    path: 'spec.ingress[0].source.namespaceSelector',
    rule: 'selector-global',
  },
  {
    name: 'global() in rule selector',
    doc: rule({ action: 'Allow', source: { selector: 'global()' } }),
    path: 'spec.ingress[0].source.selector',
    rule: 'selector-global',
  },
  {
    name: 'selector over 1024 chars',
    doc: gnp({ selector: `a == "${long(1030)}"` }),
    path: 'spec.selector',
    rule: 'selector-too-long',
  },
  {
    name: 'rule notSelector does not parse',
    doc: rule({ action: 'Allow', destination: { notSelector: 'b == b' } }),
    path: 'spec.ingress[0].destination.notSelector',
    rule: 'selector-syntax',
  },
  {
    name: 'service account selector does not parse',
    doc: rule({ action: 'Allow', source: { serviceAccounts: { selector: 'has(' } } }),
    path: 'spec.ingress[0].source.serviceAccounts.selector',
    rule: 'selector-syntax',
  },
  {
    name: 'pool nodeSelector global()',
    doc: pool({ cidr: '10.0.0.0/16', nodeSelector: 'global()' }),
    path: 'spec.nodeSelector',
    rule: 'selector-global',
  },
  {
    name: 'BGPPeer peerSelector bad',
    doc: peer({ peerSelector: 'a in ""' }),
    path: 'spec.peerSelector',
    rule: 'selector-syntax',
  },
  // --- rules ---
  {
    name: 'missing action',
    doc: rule({ protocol: 'TCP' }),
    path: 'spec.ingress[0].action',
    rule: 'required',
  },
  {
    name: 'lower-case action',
    doc: rule({ action: 'allow' }),
    path: 'spec.ingress[0].action',
    rule: 'enum',
  },
  {
    name: 'ipVersion 0',
    doc: rule({ action: 'Allow', ipVersion: 0 }),
    path: 'spec.ingress[0].ipVersion',
    rule: 'enum',
  },
  {
    name: 'protocol 0',
    doc: rule({ action: 'Allow', protocol: 0 }),
    path: 'spec.ingress[0].protocol',
    rule: 'protocol',
  },
  {
    name: 'protocol 256',
    doc: rule({ action: 'Allow', protocol: 256 }),
    path: 'spec.ingress[0].protocol',
    rule: 'protocol',
  },
  {
    name: 'protocol tcpfoo',
    doc: rule({ action: 'Allow', protocol: 'tcpfoo' }),
    path: 'spec.ingress[0].protocol',
    rule: 'protocol',
  },
  {
    name: 'notProtocol footcp',
    doc: rule({ action: 'Allow', notProtocol: 'footcp' }),
    path: 'spec.ingress[0].notProtocol',
    rule: 'protocol',
  },
  {
    name: 'ICMP fields without protocol',
    doc: rule({ action: 'Allow', icmp: { type: 8 } }),
    path: 'spec.ingress[0].icmp',
    rule: 'icmp-needs-protocol',
  },
  {
    name: 'ICMP fields with TCP',
    doc: rule({ action: 'Allow', protocol: 'TCP', notICMP: { type: 8 } }),
    path: 'spec.ingress[0].notICMP',
    rule: 'icmp-needs-protocol',
  },
  {
    name: 'ICMP code without type',
    doc: rule({ action: 'Allow', protocol: 'ICMP', icmp: { code: 0 } }),
    path: 'spec.ingress[0].icmp.code',
    rule: 'icmp-code-needs-type',
  },
  {
    name: 'ICMP type 255',
    doc: rule({ action: 'Allow', protocol: 'ICMP', icmp: { type: 255 } }),
    path: 'spec.ingress[0].icmp.type',
    rule: 'range',
  },
  {
    name: 'ICMP code 256',
    doc: rule({ action: 'Allow', protocol: 'ICMP', icmp: { type: 3, code: 256 } }),
    path: 'spec.ingress[0].icmp.code',
    rule: 'range',
  },
  {
    name: 'ICMP with ipVersion 6',
    doc: rule({ action: 'Allow', protocol: 'ICMP', ipVersion: 6 }),
    path: 'spec.ingress[0].ipVersion',
    rule: 'icmp-version',
  },
  {
    name: 'ICMPv6 with ipVersion 4',
    doc: rule({ action: 'Allow', protocol: 'ICMPv6', ipVersion: 4 }),
    path: 'spec.ingress[0].ipVersion',
    rule: 'icmp-version',
  },
  {
    name: 'numeric port without protocol',
    doc: rule({ action: 'Allow', destination: { ports: [80] } }),
    path: 'spec.ingress[0].destination.ports[0]',
    rule: 'port-needs-protocol',
  },
  {
    name: 'port range without protocol',
    doc: rule({ action: 'Allow', source: { notPorts: ['80:90'] } }),
    path: 'spec.ingress[0].source.notPorts[0]',
    rule: 'port-needs-protocol',
  },
  {
    name: 'ports with ICMP',
    doc: rule({ action: 'Allow', protocol: 'ICMP', destination: { ports: [80] } }),
    path: 'spec.ingress[0].destination.ports[0]',
    rule: 'port-protocol',
  },
  {
    name: 'named port with protocol 7',
    doc: rule({ action: 'Allow', protocol: 7, destination: { ports: ['http'] } }),
    path: 'spec.ingress[0].destination.ports[0]',
    rule: 'port-protocol',
  },
  {
    name: 'port 0',
    doc: rule({ action: 'Allow', protocol: 'TCP', destination: { ports: [0] } }),
    path: 'spec.ingress[0].destination.ports[0]',
    rule: 'port-range',
  },
  {
    name: 'port 65536',
    doc: rule({ action: 'Allow', protocol: 'TCP', destination: { ports: [1, 65536] } }),
    path: 'spec.ingress[0].destination.ports[1]',
    rule: 'port-range',
  },
  {
    name: 'reversed range',
    doc: rule({ action: 'Allow', protocol: 'UDP', destination: { ports: ['90:80'] } }),
    path: 'spec.ingress[0].destination.ports[0]',
    rule: 'port-range',
  },
  {
    name: 'range with zero',
    doc: rule({ action: 'Allow', protocol: 'UDP', destination: { ports: ['0:80'] } }),
    path: 'spec.ingress[0].destination.ports[0]',
    rule: 'port-range',
  },
  {
    name: 'named port with space',
    doc: rule({ action: 'Allow', destination: { ports: ['my port'] } }),
    path: 'spec.ingress[0].destination.ports[0]',
    rule: 'port-name',
  },
  {
    name: 'more than 50 ports',
    doc: rule({
      action: 'Allow',
      protocol: 'TCP',
      destination: { ports: Array.from({ length: 51 }, (_, i) => i + 1) },
    }),
    path: 'spec.ingress[0].destination.ports',
    rule: 'max-items',
  },
  {
    name: 'named port without protocol',
    doc: rule({ action: 'Allow', destination: { ports: ['http'] } }),
    path: 'spec.ingress[0].destination.ports[0]',
    rule: 'port-needs-protocol',
  },
  {
    name: 'net with host bits',
    doc: rule({ action: 'Allow', source: { nets: ['10.0.0.1/8'] } }),
    path: 'spec.ingress[0].source.nets[0]',
    rule: 'cidr',
  },
  {
    name: 'services with notPorts',
    doc: rule(
      {
        action: 'Allow',
        protocol: 'TCP',
        destination: { services: { name: 's', namespace: 'n' }, notPorts: [80] },
      },
      'egress',
    ),
    path: 'spec.egress[0].destination.notPorts',
    rule: 'services-ports',
  },
  {
    name: 'http path without leading slash',
    doc: rule({ action: 'Allow', http: { paths: [{ prefix: 'api' }] } }),
    path: 'spec.ingress[0].http.paths[0].prefix',
    rule: 'http-path',
  },
  {
    name: 'bad net',
    doc: rule({ action: 'Allow', source: { nets: ['10.0.0.0/33'] } }),
    path: 'spec.ingress[0].source.nets[0]',
    rule: 'cidr',
  },
  {
    name: 'octal-looking net',
    doc: rule({ action: 'Allow', source: { nets: ['010.0.0.0/8'] } }),
    path: 'spec.ingress[0].source.nets[0]',
    rule: 'cidr',
  },
  {
    name: 'mixed families across nets',
    doc: rule({
      action: 'Allow',
      source: { nets: ['10.0.0.0/8'] },
      destination: { nets: ['fd00::/8'] },
    }),
    path: 'spec.ingress[0].destination.nets[0]',
    rule: 'ip-family-mix',
  },
  {
    name: 'ipVersion 6 with IPv4 net',
    doc: rule({ action: 'Allow', ipVersion: 6, source: { nets: ['10.0.0.0/8'] } }),
    path: 'spec.ingress[0].source.nets[0]',
    rule: 'ip-version-mismatch',
  },
  {
    name: '0.0.0.0/0 in notNets',
    doc: rule({ action: 'Allow', destination: { notNets: ['0.0.0.0/0'] } }),
    path: 'spec.ingress[0].destination.notNets[0]',
    rule: 'not-nets-all',
  },
  {
    name: 'services in an ingress destination',
    doc: rule({ action: 'Allow', destination: { services: { name: 's', namespace: 'n' } } }),
    path: 'spec.ingress[0].destination.services',
    rule: 'services-placement',
  },
  {
    name: 'services with selector',
    doc: rule(
      {
        action: 'Allow',
        destination: { services: { name: 's', namespace: 'n' }, selector: 'a == "b"' },
      },
      'egress',
    ),
    path: 'spec.egress[0].destination.selector',
    rule: 'services-exclusive',
  },
  {
    name: 'services with ports on egress',
    doc: rule(
      {
        action: 'Allow',
        protocol: 'TCP',
        destination: { services: { name: 's', namespace: 'n' }, ports: [80] },
      },
      'egress',
    ),
    path: 'spec.egress[0].destination.ports',
    rule: 'services-ports',
  },
  {
    name: 'GNP services without namespace',
    doc: rule({ action: 'Allow', destination: { services: { name: 's' } } }, 'egress'),
    path: 'spec.egress[0].destination.services.namespace',
    rule: 'services-namespace',
  },
  {
    name: 'http on a Deny rule',
    doc: rule({ action: 'Deny', http: { methods: ['GET'] } }),
    path: 'spec.ingress[0].http',
    rule: 'http-action',
  },
  {
    name: 'http on egress',
    doc: rule({ action: 'Allow', http: { methods: ['GET'] } }, 'egress'),
    path: 'spec.egress[0].http',
    rule: 'http-direction',
  },
  {
    name: 'http with UDP',
    doc: rule({ action: 'Allow', protocol: 'UDP', http: { methods: ['GET'] } }),
    path: 'spec.ingress[0].http',
    rule: 'http-protocol',
  },
  {
    name: 'http duplicate method',
    doc: rule({ action: 'Allow', http: { methods: ['GET', 'GET'] } }),
    path: 'spec.ingress[0].http.methods[1]',
    rule: 'http-method-duplicate',
  },
  {
    name: 'http path with both',
    doc: rule({ action: 'Allow', http: { paths: [{ exact: '/a', prefix: '/b' }] } }),
    path: 'spec.ingress[0].http.paths[0]',
    rule: 'http-path',
  },
  {
    name: 'http path with ?',
    doc: rule({ action: 'Allow', http: { paths: [{ exact: '/a?b' }] } }),
    path: 'spec.ingress[0].http.paths[0].exact',
    rule: 'http-path',
  },
  {
    name: 'more than 1024 rules',
    doc: gnp({ ingress: Array.from({ length: 1025 }, () => ({ action: 'Allow' })) }),
    path: 'spec.ingress',
    rule: 'max-items',
  },
  // --- policy level ---
  {
    name: 'types duplicated',
    doc: gnp({ types: ['Egress', 'Egress'] }),
    path: 'spec.types[1]',
    rule: 'types-duplicate',
  },
  { name: 'unknown type', doc: gnp({ types: ['ingress'] }), path: 'spec.types[0]', rule: 'enum' },
  {
    name: 'preDNAT with doNotTrack',
    doc: gnp({ preDNAT: true, doNotTrack: true, applyOnForward: true }),
    path: 'spec.preDNAT',
    rule: 'prednat-donottrack',
  },
  {
    name: 'preDNAT with egress rules',
    doc: gnp({ preDNAT: true, applyOnForward: true, egress: [{ action: 'Allow' }] }),
    path: 'spec.egress',
    rule: 'prednat-egress',
  },
  {
    name: 'preDNAT with Egress type',
    doc: gnp({ preDNAT: true, applyOnForward: true, types: ['Ingress', 'Egress'] }),
    path: 'spec.types[1]',
    rule: 'prednat-egress',
  },
  {
    name: 'doNotTrack without applyOnForward',
    doc: gnp({ doNotTrack: true }),
    path: 'spec.applyOnForward',
    rule: 'apply-on-forward',
  },
  {
    name: 'NetworkPolicy with preDNAT',
    doc: np({ preDNAT: true }),
    path: 'spec.preDNAT',
    rule: 'unknown-field',
  },
  {
    name: 'NetworkPolicy with namespaceSelector',
    doc: np({ namespaceSelector: 'all()' }),
    path: 'spec.namespaceSelector',
    rule: 'unknown-field',
  },
  {
    name: 'bad tier name on policy',
    doc: gnp({ tier: 'My_Tier' }),
    path: 'spec.tier',
    rule: 'tier-name',
  },
  {
    name: 'staged Delete with selector',
    doc: mk('StagedGlobalNetworkPolicy', { stagedAction: 'Delete', selector: 'all()' }),
    path: 'spec.selector',
    rule: 'staged-delete',
  },
  {
    name: 'bad stagedAction',
    doc: mk('StagedNetworkPolicy', { stagedAction: 'Remove' }, ns()),
    path: 'spec.stagedAction',
    rule: 'enum',
  },
  {
    name: 'reserved tier wrong order',
    doc: mk('Tier', { order: 5 }, { name: 'default' }),
    path: 'spec.order',
    rule: 'reserved-tier',
  },
  {
    name: 'reserved tier wrong action',
    doc: mk('Tier', { defaultAction: 'Deny' }, { name: 'kube-admin' }),
    path: 'spec.defaultAction',
    rule: 'reserved-tier',
  },
  {
    name: 'tier defaultAction Allow',
    doc: mk('Tier', { defaultAction: 'Allow' }, { name: 't' }),
    path: 'spec.defaultAction',
    rule: 'enum',
  },
  // --- endpoints ---
  {
    name: 'WEP ipNetwork wider than /32',
    doc: mk('WorkloadEndpoint', { ipNetworks: ['10.0.0.0/24'] }, ns()),
    path: 'spec.ipNetworks[0]',
    rule: 'workload-ip-network',
  },
  {
    name: 'WEP IPv6 net wider than /128',
    doc: mk('WorkloadEndpoint', { ipNetworks: ['fd00::/64'] }, ns()),
    path: 'spec.ipNetworks[0]',
    rule: 'workload-ip-network',
  },
  {
    name: 'WEP NAT internal IP not own',
    doc: mk(
      'WorkloadEndpoint',
      { ipNetworks: ['10.0.0.1/32'], ipNATs: [{ internalIP: '10.0.0.2', externalIP: '1.2.3.4' }] },
      ns(),
    ),
    path: 'spec.ipNATs[0].internalIP',
    rule: 'nat-internal-ip',
  },
  {
    name: 'WEP interface name too long',
    doc: mk('WorkloadEndpoint', { interfaceName: 'cali0123456789abc' }, ns()),
    path: 'spec.interfaceName',
    rule: 'interface-name',
  },
  {
    name: 'WEP bad MAC',
    doc: mk('WorkloadEndpoint', { mac: 'zz:zz' }, ns()),
    path: 'spec.mac',
    rule: 'mac',
  },
  {
    name: 'WEP v4 gateway is v6',
    doc: mk('WorkloadEndpoint', { ipv4Gateway: 'fd00::1' }, ns()),
    path: 'spec.ipv4Gateway',
    rule: 'ip-family',
  },
  {
    name: 'WEP port protocol ICMP',
    doc: mk('WorkloadEndpoint', { ports: [{ name: 'p', protocol: 'ICMP', port: 1 }] }, ns()),
    path: 'spec.ports[0].protocol',
    rule: 'protocol',
  },
  {
    name: 'WEP NAT of mixed versions',
    doc: mk(
      'WorkloadEndpoint',
      { ipNetworks: ['10.0.0.1/32'], ipNATs: [{ internalIP: '10.0.0.1', externalIP: 'fd00::1' }] },
      ns(),
    ),
    path: 'spec.ipNATs[0].externalIP',
    rule: 'ip-family',
  },
  {
    name: 'WEP port name not an IANA name',
    doc: mk('WorkloadEndpoint', { ports: [{ name: 'Web_Port', protocol: 'TCP', port: 80 }] }, ns()),
    path: 'spec.ports[0].name',
    rule: 'port-name',
  },
  {
    name: 'WEP port without name or hostPort',
    doc: mk('WorkloadEndpoint', { ports: [{ protocol: 'TCP', port: 80 }] }, ns()),
    path: 'spec.ports[0].name',
    rule: 'port-name',
  },
  {
    name: 'GNS with the namespace label',
    doc: mk(
      'GlobalNetworkSet',
      { nets: [] },
      { name: 's', labels: { 'projectcalico.org/namespace': 'x' } },
    ),
    path: 'metadata.labels["projectcalico.org/namespace"]',
    rule: 'reserved-label',
  },
  {
    name: 'HEP without interface or IPs',
    doc: mk('HostEndpoint', { node: 'n' }),
    path: 'spec.interfaceName',
    rule: 'host-endpoint-target',
  },
  {
    name: 'HEP without node',
    doc: mk('HostEndpoint', { interfaceName: 'eth0' }),
    path: 'spec.node',
    rule: 'required',
  },
  {
    name: 'HEP bad interface',
    doc: mk('HostEndpoint', { node: 'n', interfaceName: 'eth 0' }),
    path: 'spec.interfaceName',
    rule: 'interface-name',
  },
  {
    name: 'HEP bad expected IP',
    doc: mk('HostEndpoint', { node: 'n', expectedIPs: ['10.0.0.256'] }),
    path: 'spec.expectedIPs[0]',
    rule: 'ip',
  },
  {
    name: 'HEP numeric port name',
    doc: mk('HostEndpoint', {
      node: 'n',
      interfaceName: 'eth0',
      ports: [{ name: '80', protocol: 'TCP', port: 80 }],
    }),
    path: 'spec.ports[0].name',
    rule: 'port-name',
  },
  {
    name: 'network set bad net',
    doc: mk('GlobalNetworkSet', { nets: ['10.0.0.0/8', 'nope'] }),
    path: 'spec.nets[1]',
    rule: 'cidr',
  },
  // --- IPAM ---
  {
    name: 'pool with host bits',
    doc: pool({ cidr: '10.0.0.1/16' }),
    path: 'spec.cidr',
    rule: 'cidr',
  },
  { name: 'pool missing cidr', doc: pool({}), path: 'spec.cidr', rule: 'required' },
  {
    name: 'link-local pool',
    doc: pool({ cidr: '169.254.0.0/16' }),
    path: 'spec.cidr',
    rule: 'pool-link-local',
  },
  {
    name: 'IPv6 link-local pool',
    doc: pool({ cidr: 'fe80::/64' }),
    path: 'spec.cidr',
    rule: 'pool-link-local',
  },
  {
    name: 'pool covering link-local',
    doc: pool({ cidr: '128.0.0.0/1' }),
    path: 'spec.cidr',
    rule: 'pool-link-local',
  },
  {
    name: 'v4 block size 19',
    doc: pool({ cidr: '10.0.0.0/8', blockSize: 19 }),
    path: 'spec.blockSize',
    rule: 'block-size',
  },
  {
    name: 'v4 block size 33',
    doc: pool({ cidr: '10.0.0.0/8', blockSize: 33 }),
    path: 'spec.blockSize',
    rule: 'block-size',
  },
  {
    name: 'v6 block size 115',
    doc: pool({ cidr: 'fd00::/48', blockSize: 115 }),
    path: 'spec.blockSize',
    rule: 'block-size',
  },
  {
    name: 'pool smaller than block',
    doc: pool({ cidr: '10.0.0.0/28' }),
    path: 'spec.cidr',
    rule: 'pool-smaller-than-block',
  },
  {
    name: 'IPIP and VXLAN both',
    doc: pool({ cidr: '10.0.0.0/16', ipipMode: 'Always', vxlanMode: 'CrossSubnet' }),
    path: 'spec.vxlanMode',
    rule: 'ipip-vxlan-exclusive',
  },
  {
    name: 'IPIP on v6',
    doc: pool({ cidr: 'fd00::/48', ipipMode: 'Always' }),
    path: 'spec.ipipMode',
    rule: 'ipip-v6',
  },
  {
    name: 'lower-case ipipMode',
    doc: pool({ cidr: '10.0.0.0/16', ipipMode: 'never' }),
    path: 'spec.ipipMode',
    rule: 'enum',
  },
  {
    name: 'unknown allowed use',
    doc: pool({ cidr: '10.0.0.0/16', allowedUses: ['Workload', 'Pods'] }),
    path: 'spec.allowedUses[1]',
    rule: 'enum',
  },
  {
    name: 'reservation bad CIDR',
    doc: mk('IPReservation', { reservedCIDRs: ['10.0.0.0/40'] }),
    path: 'spec.reservedCIDRs[0]',
    rule: 'cidr',
  },
  {
    name: 'negative maxBlocksPerHost',
    doc: mk('IPAMConfiguration', { maxBlocksPerHost: -1 }, { name: 'default' }),
    path: 'spec.maxBlocksPerHost',
    rule: 'range',
  },
  {
    name: 'LoadBalancer pool with Workload use',
    doc: pool({ cidr: '10.0.0.0/24', allowedUses: ['LoadBalancer', 'Workload'] }),
    path: 'spec.allowedUses[1]',
    rule: 'pool-load-balancer',
  },
  {
    name: 'LoadBalancer pool with VXLAN',
    doc: pool({ cidr: '10.0.0.0/24', allowedUses: ['LoadBalancer'], vxlanMode: 'Always' }),
    path: 'spec.vxlanMode',
    rule: 'pool-load-balancer',
  },
  {
    name: 'LoadBalancer pool with node selector',
    doc: pool({ cidr: '10.0.0.0/24', allowedUses: ['LoadBalancer'], nodeSelector: "rack == 'a'" }),
    path: 'spec.nodeSelector',
    rule: 'pool-load-balancer',
  },
  {
    name: 'no auto allocation and no strict affinity',
    doc: mk('IPAMConfiguration', { autoAllocateBlocks: false }, { name: 'default' }),
    path: 'spec.autoAllocateBlocks',
    rule: 'auto-allocate-or-strict',
  },
  {
    name: 'ipCooldownSeconds too high',
    doc: mk('IPAMConfiguration', { ipCooldownSeconds: 1201 }, { name: 'default' }),
    path: 'spec.ipCooldownSeconds',
    rule: 'range',
  },
  {
    name: 'block with wrong slot count',
    doc: mk('IPAMBlock', {
      cidr: '10.0.0.0/30',
      allocations: allocs(3),
      unallocated: [],
      attributes: [],
    }),
    path: 'spec.allocations',
    rule: 'block-allocations',
  },
  {
    name: 'block ordinal out of range',
    doc: mk('IPAMBlock', {
      cidr: '10.0.0.0/30',
      allocations: allocs(4),
      unallocated: [4],
      attributes: [],
    }),
    path: 'spec.unallocated[0]',
    rule: 'block-ordinal',
  },
  {
    name: 'affinity bad state',
    doc: mk('BlockAffinity', { state: 'done', node: 'n', cidr: '10.0.0.0/26' }),
    path: 'spec.state',
    rule: 'enum',
  },
  // --- Node and BGP ---
  {
    name: 'empty Node bgp block',
    doc: mk('Node', { bgp: {} }),
    path: 'spec.bgp',
    rule: 'node-bgp-address',
  },
  {
    name: 'Node v6 in v4 field',
    doc: mk('Node', { bgp: { ipv4Address: 'fd00::1/64' } }),
    path: 'spec.bgp.ipv4Address',
    rule: 'ip-family',
  },
  {
    name: 'route reflector cluster ID not dotted v4',
    doc: mk('Node', { bgp: { ipv4Address: '10.0.0.1/24', routeReflectorClusterID: '1234' } }),
    path: 'spec.bgp.routeReflectorClusterID',
    rule: 'ip',
  },
  {
    name: 'Node bad AS number',
    doc: mk('Node', { bgp: { ipv4Address: '10.0.0.1/24', asNumber: 4294967296 } }),
    path: 'spec.bgp.asNumber',
    rule: 'as-number',
  },
  {
    name: 'bad standard community',
    doc: mk(
      'BGPConfiguration',
      { communities: [{ name: 'c', value: '65536:1' }] },
      { name: 'default' },
    ),
    path: 'spec.communities[0].value',
    rule: 'community-value',
  },
  {
    name: 'bad large community',
    doc: mk(
      'BGPConfiguration',
      { communities: [{ name: 'c', value: '1:2:3:4' }] },
      { name: 'default' },
    ),
    path: 'spec.communities[0].value',
    rule: 'community-value',
  },
  {
    name: 'prefix advertisement names undefined community',
    doc: mk(
      'BGPConfiguration',
      { prefixAdvertisements: [{ cidr: '10.0.0.0/8', communities: ['nope'] }] },
      { name: 'default' },
    ),
    path: 'spec.prefixAdvertisements[0].communities[0]',
    rule: 'community-undefined',
  },
  {
    name: 'prefix advertisement without communities',
    doc: mk(
      'BGPConfiguration',
      { prefixAdvertisements: [{ cidr: '10.0.0.0/8' }] },
      { name: 'default' },
    ),
    path: 'spec.prefixAdvertisements[0].communities',
    rule: 'required',
  },
  {
    name: 'more than 500 communities',
    doc: mk(
      'BGPConfiguration',
      { communities: Array.from({ length: 501 }, (_, i) => ({ name: `c${i}`, value: '1:1' })) },
      { name: 'default' },
    ),
    path: 'spec.communities',
    rule: 'max-items',
  },
  {
    name: 'BGP listen port 0',
    doc: mk('BGPConfiguration', { listenPort: 0 }, { name: 'default' }),
    path: 'spec.listenPort',
    rule: 'range',
  },
  {
    name: 'bad nodeMeshMaxRestartTime',
    doc: mk('BGPConfiguration', { nodeMeshMaxRestartTime: '2 minutes' }, { name: 'default' }),
    path: 'spec.nodeMeshMaxRestartTime',
    rule: 'duration',
  },
  {
    name: 'peer with node and nodeSelector',
    doc: peer({ node: 'a', nodeSelector: 'all()', peerIP: '10.0.0.1', asNumber: 1 }),
    path: 'spec.nodeSelector',
    rule: 'bgppeer-node-exclusive',
  },
  {
    name: 'peer with peerIP and peerSelector',
    doc: peer({ peerIP: '10.0.0.1', peerSelector: 'all()' }),
    path: 'spec.peerSelector',
    rule: 'bgppeer-peer-exclusive',
  },
  {
    name: 'peer with asNumber and peerSelector',
    doc: peer({ asNumber: 64512, peerSelector: 'all()' }),
    path: 'spec.asNumber',
    rule: 'bgppeer-asnumber-selector',
  },
  {
    name: 'peer keepOriginalNextHop with nextHopMode',
    doc: peer({ peerIP: '10.0.0.1', asNumber: 1, keepOriginalNextHop: true, nextHopMode: 'Keep' }),
    path: 'spec.nextHopMode',
    rule: 'bgppeer-next-hop',
  },
  {
    name: 'peer bad octets',
    doc: peer({ peerIP: '999.999.999.999', asNumber: 1 }),
    path: 'spec.peerIP',
    rule: 'peer-ip',
  },
  {
    name: 'peer bad port',
    doc: peer({ peerIP: '10.0.0.1:99999', asNumber: 1 }),
    path: 'spec.peerIP',
    rule: 'peer-ip',
  },
  {
    name: 'peer port without IP',
    doc: peer({ peerIP: ':179', asNumber: 1 }),
    path: 'spec.peerIP',
    rule: 'peer-ip',
  },
  {
    name: 'reachableBy without peerIP',
    doc: peer({ reachableBy: '10.0.0.1' }),
    path: 'spec.reachableBy',
    rule: 'bgppeer-reachable-by',
  },
  {
    name: 'reachableBy other family',
    doc: peer({ peerIP: '10.0.0.9', asNumber: 1, reachableBy: 'fd00::1' }),
    path: 'spec.reachableBy',
    rule: 'bgppeer-reachable-by',
  },
  {
    name: 'peer localWorkloadSelector without asNumber',
    doc: peer({ localWorkloadSelector: "app == 'bgp'" }),
    path: 'spec.asNumber',
    rule: 'bgppeer-local-workload',
  },
  {
    name: 'peer localWorkloadSelector with peerIP',
    doc: peer({ localWorkloadSelector: "app == 'bgp'", asNumber: 1, peerIP: '10.0.0.1' }),
    path: 'spec.peerIP',
    rule: 'bgppeer-local-workload',
  },
  {
    name: 'communities without prefix advertisements',
    doc: mk(
      'BGPConfiguration',
      { communities: [{ name: 'c', value: '1:1' }] },
      { name: 'default' },
    ),
    path: 'spec.communities',
    rule: 'community-unused',
  },
  {
    name: 'mesh password with mesh disabled',
    doc: mk(
      'BGPConfiguration',
      { nodeToNodeMeshEnabled: false, nodeMeshPassword: { secretKeyRef: { name: 's', key: 'k' } } },
      { name: 'default' },
    ),
    path: 'spec.nodeMeshPassword',
    rule: 'node-mesh-disabled',
  },
  {
    name: 'ignored interface "*"',
    doc: mk('BGPConfiguration', { ignoredInterfaces: ['*'] }, { name: 'default' }),
    path: 'spec.ignoredInterfaces[0]',
    rule: 'interface-name',
  },
  {
    name: 'filter prefixLength without cidr',
    doc: mk('BGPFilter', { exportV4: [{ action: 'Accept', prefixLength: { min: 24 } }] }),
    path: 'spec.exportV4[0].prefixLength',
    rule: 'filter-cidr-operator',
  },
  {
    name: 'filter interface too long',
    doc: mk('BGPFilter', { exportV4: [{ action: 'Accept', interface: 'a-very-long-interface' }] }),
    path: 'spec.exportV4[0].interface',
    rule: 'interface-name',
  },
  {
    name: 'filter cidr without operator',
    doc: mk('BGPFilter', { exportV4: [{ action: 'Accept', cidr: '10.0.0.0/8' }] }),
    path: 'spec.exportV4[0].matchOperator',
    rule: 'filter-cidr-operator',
  },
  {
    name: 'v4 filter with v6 cidr',
    doc: mk('BGPFilter', {
      importV4: [{ action: 'Reject', cidr: 'fd00::/8', matchOperator: 'In' }],
    }),
    path: 'spec.importV4[0].cidr',
    rule: 'ip-family',
  },
  {
    name: 'filter without action',
    doc: mk('BGPFilter', { exportV6: [{ source: 'RemotePeers' }] }),
    path: 'spec.exportV6[0].action',
    rule: 'required',
  },
  // --- configuration kinds ---
  {
    name: 'Felix bad enum',
    doc: mk('FelixConfiguration', { defaultEndpointToHostAction: 'drop' }, { name: 'default' }),
    path: 'spec.defaultEndpointToHostAction',
    rule: 'enum',
  },
  {
    name: 'Felix failsafe bad protocol',
    doc: mk(
      'FelixConfiguration',
      { failsafeInboundHostPorts: [{ protocol: 'tcpx', port: 22 }] },
      { name: 'default' },
    ),
    path: 'spec.failsafeInboundHostPorts[0].protocol',
    rule: 'enum',
  },
  {
    name: 'Felix failsafe lower-case protocol',
    doc: mk(
      'FelixConfiguration',
      { failsafeOutboundHostPorts: [{ protocol: 'udp', port: 53 }] },
      { name: 'default' },
    ),
    path: 'spec.failsafeOutboundHostPorts[0].protocol',
    rule: 'enum',
  },
  {
    name: 'Felix bad duration',
    doc: mk('FelixConfiguration', { reportingInterval: 'often' }, { name: 'default' }),
    path: 'spec.reportingInterval',
    rule: 'duration',
  },
  {
    name: 'KubeControllers bad healthChecks',
    doc: mk('KubeControllersConfiguration', { healthChecks: 'On' }, { name: 'default' }),
    path: 'spec.healthChecks',
    rule: 'enum',
  },
  {
    name: 'CalicoNodeStatus bad class',
    doc: mk('CalicoNodeStatus', { classes: ['Agents'] }),
    path: 'spec.classes[0]',
    rule: 'enum',
  },
  // --- Kubernetes documents ---
  {
    name: 'K8s NP ipBlock with podSelector',
    doc: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: ns(),
      spec: {
        podSelector: {},
        ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }],
      },
    },
    path: 'spec.ingress[0].from[0].ipBlock',
    rule: 'ipblock-exclusive',
  },
  {
    name: 'K8s NP In without values',
    doc: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: ns(),
      spec: { podSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } },
    },
    path: 'spec.podSelector.matchExpressions[0].values',
    rule: 'selector-values',
  },
  {
    name: 'K8s NP endPort below port',
    doc: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: ns(),
      spec: { podSelector: {}, egress: [{ ports: [{ port: 90, endPort: 80 }] }] },
    },
    path: 'spec.egress[0].ports[0].endPort',
    rule: 'end-port',
  },
  {
    name: 'K8s NP missing podSelector',
    doc: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: ns(), spec: {} },
    path: 'spec.podSelector',
    rule: 'required',
  },
  {
    name: 'K8s NP numeric string port',
    doc: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: ns(),
      spec: { podSelector: {}, ingress: [{ ports: [{ port: '80' }] }] },
    },
    path: 'spec.ingress[0].ports[0].port',
    rule: 'port-name',
  },
  {
    name: 'K8s NP port 0',
    doc: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: ns(),
      spec: { podSelector: {}, ingress: [{ ports: [{ port: 0 }] }] },
    },
    path: 'spec.ingress[0].ports[0].port',
    rule: 'port-range',
  },
  {
    name: 'K8s NP lower-case protocol',
    doc: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: ns(),
      spec: { podSelector: {}, ingress: [{ ports: [{ protocol: 'tcp', port: 80 }] }] },
    },
    path: 'spec.ingress[0].ports[0].protocol',
    rule: 'enum',
  },
  {
    name: 'Namespace name with a dot',
    doc: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a.b' } },
    path: 'metadata.name',
    rule: 'name-format',
  },
];

function show(errors: FieldError[]): string {
  return errors.map((e) => `  ${e.path}: ${e.message} [${e.rule}]`).join('\n');
}

describe('invalid documents are rejected at the right path with the right rule', () => {
  test('the table has at least 80 cases', () => {
    assert.ok(CASES.length >= 80, `${CASES.length} cases`);
  });
  for (const c of CASES) {
    test(c.name, () => {
      const r = validateAnyResource(c.doc);
      assert.equal(r.ok, false, `accepted: ${JSON.stringify(r.ok ? r.value : null).slice(0, 300)}`);
      if (r.ok) return;
      const hit = r.errors.find((e) => e.path === c.path && e.rule === c.rule);
      assert.ok(hit, `expected ${c.path} [${c.rule}], got:\n${show(r.errors)}`);
      assert.ok(hit.message.length > 0);
    });
  }
});

describe('error reporting', () => {
  test('all errors of a document are reported at once', () => {
    const r = validateAnyResource(
      gnp({
        selector: 'a ==',
        ingress: [
          { action: 'Allow', destination: { ports: [80] } },
          { action: 'Allow', protocol: 'TCP', icmp: { type: 1 } },
        ],
        egress: [{ action: 'Nope' }],
        preDNAT: true,
      }),
    );
    assert.equal(r.ok, false);
    if (r.ok) return;
    const got = r.errors.map((e) => `${e.path} ${e.rule}`).sort();
    assert.deepEqual(got, [
      'spec.egress[0].action enum',
      'spec.ingress[0].destination.ports[0] port-needs-protocol',
      'spec.ingress[1].icmp icmp-needs-protocol',
      'spec.selector selector-syntax',
    ]);
  });

  test('selector errors name the column', () => {
    const r = validateAnyResource(gnp({ selector: 'a == "b" &&' }));
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.match(r.errors[0]!.message, /column \d+/);
  });

  test('ValidationError carries the errors and a readable message', () => {
    try {
      parseResource(mk('IPPool', { cidr: '10.0.0.1/16', ipipMode: 'always' }, { name: 'my-pool' }));
      assert.fail('should throw');
    } catch (err) {
      assert.ok(err instanceof ValidationError);
      assert.equal(err.code, 'VALIDATION');
      assert.equal(err.name, 'ValidationError');
      assert.equal(err.kind, 'IPPool');
      assert.equal(err.errors.length, 2);
      assert.match(
        err.message,
        /^IPPool "my-pool" is invalid \(2 errors\):\n {2}- spec\.cidr: .* \[cidr\]\n {2}- spec\.ipipMode: .* \[enum\]$/,
      );
    }
  });
});
