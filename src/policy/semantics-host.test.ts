// Host endpoint scenarios (calico-semantics.md §7 table, §8): failsafe ports,
// workload -> own host, forwarded traffic and applyOnForward, preDNAT, doNotTrack,
// interfaceName "*", and the default deny of a host endpoint.
import { test } from 'node:test';
import {
  ALLOW,
  allowAll,
  type Case,
  DENY,
  felix,
  gnp,
  hep,
  runCase,
  tcp,
  udp,
  wep,
} from './testkit.js';

// node1: host 192.168.0.1 (HEP eth0), workloads a 10.0.1.1 and b 10.0.1.2
// node2: host 192.168.0.2 (HEP eth0), workload c 10.0.2.1
const A = wep('a', '10.0.1.1', { app: 'a' }, { node: 'node1' });
const B = wep('b', '10.0.1.2', { app: 'b' }, { node: 'node1' });
const C = wep('c', '10.0.2.1', { app: 'c' }, { node: 'node2' });
const H1 = hep('node1-eth0', 'node1', ['192.168.0.1'], {
  interfaceName: 'eth0',
  labels: { host: 'node1' },
});
const H2 = hep('node2-eth0', 'node2', ['192.168.0.2'], {
  interfaceName: 'eth0',
  labels: { host: 'node2' },
});
const base = [allowAll, A, B, C, H1, H2];
const OUTSIDE = '203.0.113.9';
const hostSel = 'has(host)';

const cases: Case[] = [
  {
    name: 'host: a HEP with no policy and no profile drops non-failsafe traffic',
    res: base,
    flow: tcp(80, OUTSIDE, '192.168.0.1'),
    verdict: 'Deny',
    by: ['ingress', { kind: 'no-profile-accepted' }],
  },
  {
    name: 'host: failsafe inbound tcp:22 is always allowed',
    res: base,
    flow: tcp(22, OUTSIDE, '192.168.0.1'),
    verdict: 'Allow',
    by: ['ingress', { kind: 'failsafe', direction: 'inbound', protocol: 'TCP', port: 22 }],
  },
  {
    name: 'host: failsafe inbound udp:68 (DHCP client)',
    res: base,
    flow: udp(68, OUTSIDE, '192.168.0.1'),
    verdict: 'Allow',
    by: ['ingress', { kind: 'failsafe', port: 68 }],
  },
  {
    name: 'host: failsafe inbound tcp:6443 beats an explicit deny policy',
    res: [...base, gnp('deny-host', { selector: hostSel, ingress: [DENY] })],
    flow: tcp(6443, OUTSIDE, '192.168.0.1'),
    verdict: 'Allow',
    by: ['ingress', { kind: 'failsafe', port: 6443 }],
  },
  {
    name: 'host: failsafe matches the destination port, not the source port',
    res: base,
    flow: tcp(80, OUTSIDE, '192.168.0.1', 22),
    verdict: 'Deny',
    by: ['ingress', { kind: 'no-profile-accepted' }],
  },
  {
    name: 'host: failsafeInboundHostPorts [] disables failsafes',
    res: [...base, felix('default', { failsafeInboundHostPorts: [] })],
    flow: tcp(22, OUTSIDE, '192.168.0.1'),
    verdict: 'Deny',
    by: ['ingress', { kind: 'no-profile-accepted' }],
  },
  {
    name: 'host: a custom failsafe list with a net restriction (inside)',
    res: [
      ...base,
      felix('default', {
        failsafeInboundHostPorts: [{ protocol: 'TCP', port: 8443, net: '203.0.113.0/24' }],
      }),
    ],
    flow: tcp(8443, OUTSIDE, '192.168.0.1'),
    verdict: 'Allow',
    by: ['ingress', { kind: 'failsafe', port: 8443 }],
  },
  {
    name: 'host: a custom failsafe list with a net restriction (outside)',
    res: [
      ...base,
      felix('default', {
        failsafeInboundHostPorts: [{ protocol: 'TCP', port: 8443, net: '198.51.100.0/24' }],
      }),
    ],
    flow: tcp(8443, OUTSIDE, '192.168.0.1'),
    verdict: 'Deny',
    by: ['ingress', { kind: 'no-profile-accepted' }],
  },
  {
    name: 'host: failsafe outbound udp:53 from the host',
    res: base,
    flow: udp(53, '192.168.0.1', '8.8.8.8'),
    verdict: 'Allow',
    by: ['egress', { kind: 'failsafe', direction: 'outbound', port: 53 }],
  },
  {
    name: 'host: host egress without policy or profile is denied',
    res: base,
    flow: tcp(80, '192.168.0.1', '8.8.8.8'),
    verdict: 'Deny',
    by: ['egress', { kind: 'no-profile-accepted' }],
  },
  {
    name: 'host: a HEP ingress policy allows traffic to the host',
    res: [
      ...base,
      gnp('web', {
        selector: hostSel,
        ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [80] } }],
      }),
    ],
    flow: tcp(80, OUTSIDE, '192.168.0.1'),
    verdict: 'Allow',
    by: ['ingress', { kind: 'rule', policy: 'web', action: 'Allow' }],
  },
  {
    name: 'host: a HEP with a profile uses its rules',
    res: [
      allowAll,
      A,
      hep('h', 'node1', ['192.168.0.1'], { interfaceName: 'eth0', profiles: ['allow-all'] }),
    ],
    flow: tcp(80, OUTSIDE, '192.168.0.1'),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule', profile: 'allow-all' }],
  },
  {
    name: 'host: a HEP ingress policy with no match ends in the end-of-tier drop',
    res: [
      ...base,
      gnp('web', { selector: hostSel, ingress: [{ action: 'Allow', protocol: 'UDP' }] }),
    ],
    flow: tcp(80, OUTSIDE, '192.168.0.1'),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'host: named ports on a HEP resolve for traffic to the host',
    res: [
      allowAll,
      hep('h', 'node1', ['192.168.0.1'], {
        interfaceName: 'eth0',
        labels: { host: 'x' },
        ports: [{ name: 'admin', protocol: 'TCP', port: 9000 }],
      }),
      gnp('admin', {
        selector: hostSel,
        ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: ['admin'] } }],
      }),
    ],
    flow: tcp(9000, OUTSIDE, '192.168.0.1'),
    verdict: 'Allow',
    by: ['ingress', { kind: 'rule', policy: 'admin' }],
  },
  {
    name: 'host: interfaceName "*" polices the host',
    res: [
      allowAll,
      hep('all', 'node1', ['192.168.0.1'], { interfaceName: '*', labels: { host: 'x' } }),
      gnp('deny', { selector: hostSel, ingress: [DENY] }),
    ],
    flow: tcp(80, OUTSIDE, '192.168.0.1'),
    verdict: 'Deny',
    by: ['ingress', { kind: 'rule', policy: 'deny', action: 'Deny' }],
  },
  {
    name: 'host: a HEP without interfaceName polices nothing (no host endpoint)',
    res: [allowAll, hep('ips-only', 'node1', ['192.168.0.1'], { labels: { host: 'x' } })],
    flow: tcp(80, OUTSIDE, '192.168.0.1'),
    verdict: 'Allow',
    by: ['ingress', { kind: 'no-host-endpoint', node: 'node1' }],
  },
  {
    name: 'host: a HEP without interfaceName is still selectable by rule selectors',
    res: [
      allowAll,
      A,
      hep('ips-only', 'node9', ['192.168.0.9'], { labels: { role: 'bastion' } }),
      gnp('p', {
        selector: "app == 'a'",
        ingress: [{ action: 'Allow', source: { selector: "role == 'bastion'" } }],
      }),
    ],
    flow: tcp(22, '192.168.0.9', '10.0.1.1'),
    verdict: 'Allow',
    by: ['ingress', { kind: 'rule', policy: 'p' }],
  },
  {
    name: 'host: global() namespaceSelector matches a host endpoint',
    res: [
      allowAll,
      A,
      hep('ips-only', 'node9', ['192.168.0.9']),
      gnp('p', {
        selector: "app == 'a'",
        ingress: [{ action: 'Allow', source: { namespaceSelector: 'global()' } }],
      }),
    ],
    flow: tcp(22, '192.168.0.9', '10.0.1.1'),
    verdict: 'Allow',
    by: ['ingress', { kind: 'rule', policy: 'p' }],
  },
  // ---- workload -> own host
  {
    name: 'wl->host: DefaultEndpointToHostAction defaults to Drop',
    res: base,
    flow: tcp(10250, '10.0.1.1', '192.168.0.1'),
    verdict: 'Deny',
    by: ['ingress', { kind: 'default-endpoint-to-host-action', action: 'Drop' }],
  },
  {
    name: 'wl->host: Accept lets workload traffic reach the host',
    res: [...base, felix('default', { defaultEndpointToHostAction: 'Accept' })],
    flow: tcp(10250, '10.0.1.1', '192.168.0.1'),
    verdict: 'Allow',
    by: ['ingress', { kind: 'default-endpoint-to-host-action', action: 'Accept' }],
  },
  {
    name: 'wl->host: Return hands over to host-endpoint ingress policy (default deny)',
    res: [...base, felix('default', { defaultEndpointToHostAction: 'Return' })],
    flow: tcp(10250, '10.0.1.1', '192.168.0.1'),
    verdict: 'Deny',
    by: ['ingress', { kind: 'no-profile-accepted' }],
  },
  {
    name: 'wl->host: Return then a HEP policy allows',
    res: [
      ...base,
      felix('default', { defaultEndpointToHostAction: 'Return' }),
      gnp('kubelet', {
        selector: hostSel,
        ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [10250] } }],
      }),
    ],
    flow: tcp(10250, '10.0.1.1', '192.168.0.1'),
    verdict: 'Allow',
    by: ['ingress', { kind: 'rule', policy: 'kubelet' }],
  },
  {
    name: 'wl->host: Return with no host endpoint on the node allows',
    res: [allowAll, A, felix('default', { defaultEndpointToHostAction: 'Return' })],
    flow: { ...tcp(10250, '10.0.1.1', '192.168.0.1'), dstNode: 'node1' },
    verdict: 'Allow',
    by: ['ingress', { kind: 'default-endpoint-to-host-action', action: 'Return' }],
  },
  {
    name: 'wl->host: the node may be named explicitly with dstNode',
    res: [allowAll, A],
    flow: { ...tcp(10250, '10.0.1.1', '172.17.0.1'), dstNode: 'node1' },
    verdict: 'Deny',
    by: ['ingress', { kind: 'default-endpoint-to-host-action', action: 'Drop' }],
  },
  {
    name: 'wl->host: a per-node FelixConfiguration overrides the default',
    res: [
      ...base,
      felix('default', { defaultEndpointToHostAction: 'Drop' }),
      felix('node.node1', { defaultEndpointToHostAction: 'Accept' }),
    ],
    flow: tcp(10250, '10.0.1.1', '192.168.0.1'),
    verdict: 'Allow',
    by: ['ingress', { kind: 'default-endpoint-to-host-action', action: 'Accept' }],
  },
  {
    name: 'wl->host: workload egress policy runs first',
    res: [
      ...base,
      felix('default', { defaultEndpointToHostAction: 'Accept' }),
      gnp('no-out', { selector: "app == 'a'", types: ['Egress'], egress: [DENY] }),
    ],
    flow: tcp(10250, '10.0.1.1', '192.168.0.1'),
    verdict: 'Deny',
    by: ['egress', { kind: 'rule', policy: 'no-out', action: 'Deny' }],
  },
  {
    name: 'wl->host: ICMPv6 neighbour discovery is always accepted',
    res: [
      allowAll,
      wep('a6', 'fd00::1', { app: 'a' }, { node: 'node1' }),
      hep('h6', 'node1', ['fd00::ff'], { interfaceName: 'eth0' }),
      gnp('no-out', { selector: "app == 'a'", types: ['Egress'], egress: [DENY] }),
    ],
    flow: { srcIp: 'fd00::1', dstIp: 'fd00::ff', protocol: 'ICMPv6', icmpType: 135 },
    verdict: 'Allow',
    by: ['egress', { kind: 'icmpv6-neighbour-discovery', icmpType: 135 }],
  },
  {
    name: 'wl->host: other ICMPv6 types are not exempt',
    res: [
      allowAll,
      wep('a6', 'fd00::1', { app: 'a' }, { node: 'node1' }),
      hep('h6', 'node1', ['fd00::ff'], { interfaceName: 'eth0' }),
    ],
    flow: { srcIp: 'fd00::1', dstIp: 'fd00::ff', protocol: 'ICMPv6', icmpType: 128 },
    verdict: 'Deny',
    by: ['ingress', { kind: 'default-endpoint-to-host-action' }],
  },
  // ---- host -> workload
  {
    name: 'host->local workload is not policed by workload ingress',
    res: [...base, gnp('deny-in', { selector: "app == 'a'", ingress: [DENY] })],
    flow: tcp(80, '192.168.0.1', '10.0.1.1'),
    verdict: 'Allow',
    by: ['ingress', { kind: 'host-to-local-workload' }],
  },
  {
    name: 'host->remote workload is policed by the workload ingress',
    res: [
      ...base,
      gnp('deny-in', { selector: "app == 'c'", ingress: [DENY] }),
      gnp('host-out', { selector: hostSel, egress: [ALLOW] }),
    ],
    flow: tcp(80, '192.168.0.1', '10.0.2.1'),
    verdict: 'Deny',
    by: ['ingress', { kind: 'rule', policy: 'deny-in' }],
  },
  // ---- forwarded traffic
  {
    name: 'forward: workload -> outside with no applyOnForward policy is allowed',
    res: base,
    flow: tcp(443, '10.0.1.1', '8.8.8.8'),
    verdict: 'Allow',
    by: ['egress', { kind: 'forward-default-allow' }],
  },
  {
    name: 'forward: an applyOnForward egress policy on the HEP denies',
    res: [
      ...base,
      gnp('fwd', {
        selector: hostSel,
        applyOnForward: true,
        types: ['Egress'],
        egress: [{ action: 'Deny', destination: { nets: ['8.8.8.0/24'] } }],
      }),
    ],
    flow: tcp(443, '10.0.1.1', '8.8.8.8'),
    verdict: 'Deny',
    by: ['egress', { kind: 'rule', policy: 'fwd', action: 'Deny' }],
  },
  {
    name: 'forward: an applyOnForward policy that matches nothing hits the end-of-tier drop',
    res: [
      ...base,
      gnp('fwd', {
        selector: hostSel,
        applyOnForward: true,
        types: ['Egress'],
        egress: [{ action: 'Allow', protocol: 'UDP' }],
      }),
    ],
    flow: tcp(443, '10.0.1.1', '8.8.8.8'),
    verdict: 'Deny',
    by: ['egress', { kind: 'end-of-tier' }],
  },
  {
    name: 'forward: a HEP policy without applyOnForward does not police forwarded traffic',
    res: [...base, gnp('host-only', { selector: hostSel, types: ['Egress'], egress: [DENY] })],
    flow: tcp(443, '10.0.1.1', '8.8.8.8'),
    verdict: 'Allow',
    by: ['egress', { kind: 'forward-default-allow' }],
  },
  {
    name: 'forward: workload -> workload on the same node never crosses the HEP',
    res: [
      ...base,
      gnp('fwd', { selector: hostSel, applyOnForward: true, egress: [DENY], ingress: [DENY] }),
    ],
    flow: tcp(80, '10.0.1.1', '10.0.1.2'),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule' }],
  },
  {
    name: 'forward: workload -> workload across nodes crosses both HEPs',
    res: [
      ...base,
      gnp('fwd-in', {
        selector: "host == 'node2'",
        applyOnForward: true,
        types: ['Ingress'],
        ingress: [DENY],
      }),
    ],
    flow: tcp(80, '10.0.1.1', '10.0.2.1'),
    verdict: 'Deny',
    by: ['ingress', { kind: 'rule', policy: 'fwd-in' }],
  },
  {
    name: 'forward: outside -> workload, applyOnForward ingress allows, workload ingress still applies',
    res: [
      ...base,
      gnp('fwd-in', {
        selector: hostSel,
        applyOnForward: true,
        types: ['Ingress'],
        ingress: [ALLOW],
      }),
      gnp('wl-in', { selector: "app == 'a'", ingress: [DENY] }),
    ],
    flow: tcp(80, OUTSIDE, '10.0.1.1'),
    verdict: 'Deny',
    by: ['ingress', { kind: 'rule', policy: 'wl-in' }],
  },
  {
    name: 'preDNAT: a preDNAT deny drops outside -> workload',
    res: [
      ...base,
      gnp('pre', {
        selector: hostSel,
        preDNAT: true,
        applyOnForward: true,
        types: ['Ingress'],
        ingress: [{ action: 'Deny', source: { nets: ['203.0.113.0/24'] } }],
      }),
    ],
    flow: tcp(80, OUTSIDE, '10.0.1.1'),
    verdict: 'Deny',
    by: ['ingress', { kind: 'rule', policy: 'pre', action: 'Deny' }],
    extra: (t) => {
      if (!t.ingress.stages.some((s) => s.stage === 'host-pre-dnat'))
        throw new Error('no pre-dnat stage');
    },
  },
  {
    name: 'preDNAT: an unmatched preDNAT policy passes (tier default Pass)',
    res: [
      ...base,
      gnp('pre', {
        selector: hostSel,
        preDNAT: true,
        applyOnForward: true,
        types: ['Ingress'],
        ingress: [{ action: 'Deny', protocol: 'UDP' }],
      }),
    ],
    flow: tcp(80, OUTSIDE, '10.0.1.1'),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule', profile: 'allow-all' }],
  },
  {
    name: 'preDNAT: an allow skips the HEP filter policy but not the workload ingress',
    res: [
      ...base,
      gnp('pre', {
        selector: hostSel,
        preDNAT: true,
        applyOnForward: true,
        types: ['Ingress'],
        ingress: [ALLOW],
      }),
      gnp('fwd', { selector: hostSel, applyOnForward: true, types: ['Ingress'], ingress: [DENY] }),
    ],
    flow: tcp(80, OUTSIDE, '10.0.1.1'),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule', profile: 'allow-all' }],
  },
  {
    name: 'preDNAT: policies never apply to workload endpoints',
    res: [
      ...base,
      gnp('pre', {
        selector: 'all()',
        preDNAT: true,
        applyOnForward: true,
        types: ['Ingress'],
        ingress: [DENY],
      }),
    ],
    flow: tcp(80, '10.0.1.1', '10.0.1.2'),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule' }],
  },
  {
    name: 'preDNAT: a preDNAT allow accepts traffic to the host despite the default deny',
    res: [
      ...base,
      gnp('pre', {
        selector: hostSel,
        preDNAT: true,
        applyOnForward: true,
        types: ['Ingress'],
        ingress: [ALLOW],
      }),
    ],
    flow: tcp(80, OUTSIDE, '192.168.0.1'),
    verdict: 'Allow',
    by: ['ingress', { kind: 'rule', policy: 'pre' }],
  },
  {
    name: 'doNotTrack: an untracked deny drops traffic to the host',
    res: [
      ...base,
      gnp('raw', {
        selector: hostSel,
        doNotTrack: true,
        applyOnForward: true,
        types: ['Ingress'],
        ingress: [DENY],
      }),
    ],
    flow: tcp(80, OUTSIDE, '192.168.0.1'),
    verdict: 'Deny',
    by: ['ingress', { kind: 'rule', policy: 'raw', action: 'Deny' }],
    extra: (t) => {
      if (t.ingress.stages[0]!.stage !== 'host-untracked-ingress') throw new Error('stage');
    },
  },
  {
    name: 'doNotTrack: an untracked allow accepts traffic to the host',
    res: [
      ...base,
      gnp('raw', {
        selector: hostSel,
        doNotTrack: true,
        applyOnForward: true,
        types: ['Ingress'],
        ingress: [ALLOW],
      }),
    ],
    flow: tcp(80, OUTSIDE, '192.168.0.1'),
    verdict: 'Allow',
    by: ['ingress', { kind: 'rule', policy: 'raw', action: 'Allow' }],
  },
  {
    name: 'doNotTrack: failsafe beats an untracked deny',
    res: [
      ...base,
      gnp('raw', {
        selector: hostSel,
        doNotTrack: true,
        applyOnForward: true,
        types: ['Ingress'],
        ingress: [DENY],
      }),
    ],
    flow: tcp(22, OUTSIDE, '192.168.0.1'),
    verdict: 'Allow',
    by: ['ingress', { kind: 'failsafe', port: 22 }],
  },
  {
    name: 'doNotTrack: an untracked egress deny drops host output',
    res: [
      ...base,
      gnp('raw', {
        selector: hostSel,
        doNotTrack: true,
        applyOnForward: true,
        types: ['Egress'],
        egress: [DENY],
      }),
    ],
    flow: tcp(80, '192.168.0.1', '8.8.8.8'),
    verdict: 'Deny',
    by: ['egress', { kind: 'rule', policy: 'raw', action: 'Deny' }],
  },
  {
    name: 'doNotTrack: untracked policies never apply to workloads',
    res: [
      ...base,
      gnp('raw', {
        selector: 'all()',
        doNotTrack: true,
        applyOnForward: true,
        ingress: [DENY],
        egress: [DENY],
      }),
    ],
    flow: tcp(80, '10.0.1.1', '10.0.1.2'),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule' }],
  },
  {
    name: 'host: host -> host on another node runs egress then the remote ingress',
    res: [
      ...base,
      gnp('h-out', { selector: hostSel, types: ['Egress'], egress: [ALLOW] }),
      gnp('h-in', {
        selector: "host == 'node2'",
        types: ['Ingress'],
        ingress: [{ action: 'Allow', source: { selector: "host == 'node1'" } }],
      }),
    ],
    flow: tcp(8080, '192.168.0.1', '192.168.0.2'),
    verdict: 'Allow',
    by: ['ingress', { kind: 'rule', policy: 'h-in' }],
  },
  {
    name: 'host: a flow may name its source host with srcNode',
    res: [...base, gnp('h-out', { selector: hostSel, types: ['Egress'], egress: [DENY] })],
    flow: { ...tcp(80, '192.168.0.1', '8.8.8.8'), srcNode: 'node1' },
    verdict: 'Deny',
    by: ['egress', { kind: 'rule', policy: 'h-out' }],
  },
  {
    name: 'transit: routed through a host with no applyOnForward policy is allowed',
    res: base,
    flow: { ...tcp(80, OUTSIDE, '198.51.100.1'), viaNode: 'node1' },
    verdict: 'Allow',
    by: ['ingress', { kind: 'forward-default-allow' }],
  },
  {
    name: 'transit: an applyOnForward egress policy of the via host denies',
    res: [
      ...base,
      gnp('fwd', {
        selector: "host == 'node1'",
        applyOnForward: true,
        types: ['Egress'],
        egress: [{ action: 'Deny', destination: { nets: ['198.51.100.0/24'] } }],
      }),
    ],
    flow: { ...tcp(80, OUTSIDE, '198.51.100.1'), viaNode: 'node1' },
    verdict: 'Deny',
    by: ['ingress', { kind: 'rule', policy: 'fwd', action: 'Deny' }],
    extra: (t) => {
      const stages = t.ingress.stages.map((s) => s.stage).join(',');
      if (stages !== 'forward-ingress,forward-egress') throw new Error(stages);
    },
  },
  {
    name: 'transit: an applyOnForward ingress policy of the via host denies first',
    res: [
      ...base,
      gnp('fwd-in', {
        selector: "host == 'node1'",
        applyOnForward: true,
        types: ['Ingress'],
        ingress: [DENY],
      }),
    ],
    flow: { ...tcp(80, OUTSIDE, '198.51.100.1'), viaNode: 'node1' },
    verdict: 'Deny',
    by: ['ingress', { kind: 'rule', policy: 'fwd-in' }],
  },
  {
    name: 'transit: a via host without host endpoints polices nothing',
    res: base,
    flow: { ...tcp(80, OUTSIDE, '198.51.100.1'), viaNode: 'node7' },
    verdict: 'Allow',
    by: ['ingress', { kind: 'no-host-endpoint', node: 'node7' }],
  },
];

for (const c of cases) test(c.name, () => void runCase(c));
