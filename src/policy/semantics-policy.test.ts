// Semantic scenarios: ordering, actions, profiles, rule matching and labels. Each
// case is a small set of resources plus one flow, with the verdict and the step
// that decided it (calico-semantics.md §5-§7, §9, §10).
import { test } from 'node:test';
import {
  ALLOW,
  allowAll,
  type Case,
  DENY,
  gnp,
  LOG,
  namespace,
  netset,
  np,
  PASS,
  profile,
  runCase,
  serviceAccount,
  tcp,
  tier,
  udp,
  wep,
} from './testkit.js';

const A = wep('a', '10.0.0.1', { app: 'a' });
const B = wep('b', '10.0.0.2', { app: 'b' });
const base = [allowAll, A, B];
const selB = "app == 'b'";
const selA = "app == 'a'";

const rule = (p: string, ruleIndex: number, action: string, tierName = 'default') =>
  ({ kind: 'rule', policy: p, ruleIndex, action, tier: tierName }) as const;

const cases: Case[] = [
  // ---- profiles and defaults
  {
    name: 'no policy: the allow-all profile decides both directions',
    res: base,
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule', profile: 'allow-all', ruleIndex: 0, action: 'Allow' }],
    staged: 'none',
  },
  {
    name: 'endpoint without profiles is default-deny (no profile accepted)',
    res: [allowAll, A, wep('b', '10.0.0.2', { app: 'b' }, { profiles: [], orchestrator: 'cni' })],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', { kind: 'no-profile-accepted' }],
  },
  {
    name: 'a referenced profile that does not exist fails closed',
    res: [allowAll, A, wep('b', '10.0.0.2', {}, { profiles: ['ghost', 'allow-all'] })],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', { kind: 'missing-profile', profile: 'ghost' }],
  },
  {
    name: 'profiles are evaluated in the endpoint order: first deny wins',
    res: [
      allowAll,
      profile('deny-all', { ingress: [DENY] }),
      A,
      wep('b', '10.0.0.2', {}, { profiles: ['deny-all', 'allow-all'] }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', { kind: 'profile-rule', profile: 'deny-all', action: 'Deny' }],
  },
  {
    name: 'a profile without a matching rule falls through to the next profile',
    res: [
      allowAll,
      profile('udp-only', { ingress: [{ action: 'Allow', protocol: 'UDP' }] }),
      A,
      wep('b', '10.0.0.2', {}, { profiles: ['udp-only', 'allow-all'] }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule', profile: 'allow-all' }],
  },
  {
    name: 'Pass in a profile leaves that profile for the next one',
    res: [
      allowAll,
      profile('passer', { ingress: [PASS, DENY] }),
      A,
      wep('b', '10.0.0.2', {}, { profiles: ['passer', 'allow-all'] }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule', profile: 'allow-all' }],
  },
  {
    name: 'Log in a profile continues with the next rule',
    res: [
      profile('p1', { ingress: [LOG, DENY] }),
      allowAll,
      A,
      wep('b', '10.0.0.2', {}, { profiles: ['p1'] }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', { kind: 'profile-rule', profile: 'p1', ruleIndex: 1, action: 'Deny' }],
  },
  // ---- actions in policies
  {
    name: 'an Allow rule accepts and skips profiles',
    res: [
      profile('deny-all', { ingress: [DENY], egress: [ALLOW] }),
      allowAll,
      A,
      wep('b', '10.0.0.2', { app: 'b' }, { profiles: ['deny-all'] }),
      gnp('p', { selector: selB, ingress: [ALLOW] }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', rule('p', 0, 'Allow')],
  },
  {
    name: 'a Deny rule drops at once',
    res: [...base, gnp('p', { selector: selB, ingress: [DENY, ALLOW] })],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', rule('p', 0, 'Deny')],
  },
  {
    name: 'first Allow stops evaluation: a later Deny policy is not reached',
    res: [
      ...base,
      gnp('p1', { order: 1, selector: selB, ingress: [ALLOW] }),
      gnp('p2', { order: 2, selector: selB, ingress: [DENY] }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', rule('p1', 0, 'Allow')],
  },
  {
    name: 'no matching rule in the only policy: end-of-tier drop',
    res: [...base, gnp('p', { selector: selB, ingress: [{ action: 'Allow', protocol: 'UDP' }] })],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier', tier: 'default', action: 'Deny' }],
  },
  {
    name: 'log-only trap: a policy of only Log rules makes its tier drop',
    res: [...base, gnp('logger', { selector: selB, ingress: [LOG] })],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier', tier: 'default' }],
    extra: (t) => {
      const steps = t.ingress.stages[0]!.steps;
      if (steps[0]!.kind !== 'rule' || steps[0]!.action !== 'Log')
        throw new Error('Log step missing');
    },
  },
  {
    name: 'Log then Pass lets the packet continue to profiles',
    res: [
      ...base,
      tier('t1', 10),
      gnp('logger', { tier: 't1', selector: selB, ingress: [LOG, PASS] }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule', profile: 'allow-all' }],
  },
  {
    name: 'Log then Allow: logged and accepted',
    res: [...base, gnp('p', { selector: selB, ingress: [LOG, ALLOW] })],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', rule('p', 1, 'Allow')],
  },
  // ---- policy ordering
  {
    name: 'equal order: ties broken by name (a-deny before b-allow)',
    res: [
      ...base,
      gnp('b-allow', { order: 10, selector: selB, ingress: [ALLOW] }),
      gnp('a-deny', { order: 10, selector: selB, ingress: [DENY] }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', rule('a-deny', 0, 'Deny')],
  },
  {
    name: 'equal order: ties broken by name (a-allow before b-deny)',
    res: [
      ...base,
      gnp('b-deny', { order: 10, selector: selB, ingress: [DENY] }),
      gnp('a-allow', { order: 10, selector: selB, ingress: [ALLOW] }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', rule('a-allow', 0, 'Allow')],
  },
  {
    name: 'nil order sorts after every ordered policy',
    res: [
      ...base,
      gnp('aaa-unordered', { selector: selB, ingress: [ALLOW] }),
      gnp('zzz-ordered', { order: 1e9, selector: selB, ingress: [DENY] }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', rule('zzz-ordered', 0, 'Deny')],
  },
  {
    name: 'two unordered policies are sorted by name',
    res: [
      ...base,
      gnp('y', { selector: selB, ingress: [DENY] }),
      gnp('x', { selector: selB, ingress: [ALLOW] }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', rule('x', 0, 'Allow')],
  },
  {
    name: 'fractional orders compare numerically (1.5 before 2)',
    res: [
      ...base,
      gnp('p2', { order: 2, selector: selB, ingress: [ALLOW] }),
      gnp('p15', { order: 1.5, selector: selB, ingress: [DENY] }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', rule('p15', 0, 'Deny')],
  },
  {
    name: 'order ties between a GNP and an NP are broken by name',
    res: [
      ...base,
      gnp('m-gnp', { order: 5, selector: selB, ingress: [ALLOW] }),
      np('default', 'k-np', { order: 5, selector: selB, ingress: [DENY] }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: [
      'ingress',
      { kind: 'rule', policy: 'k-np', policyKind: 'NetworkPolicy', namespace: 'default' },
    ],
  },
  // ---- tiers
  {
    name: 'a lower-order tier decides before the default tier',
    res: [
      ...base,
      tier('security', 100),
      gnp('sec-deny', { tier: 'security', selector: selB, ingress: [DENY] }),
      gnp('allow', { selector: selB, ingress: [ALLOW] }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', rule('sec-deny', 0, 'Deny', 'security')],
  },
  {
    name: 'tiers with equal order are sorted by name',
    res: [
      ...base,
      tier('tb', 5),
      tier('ta', 5),
      gnp('tb-allow', { tier: 'tb', selector: selB, ingress: [ALLOW] }),
      gnp('ta-deny', { tier: 'ta', selector: selB, ingress: [DENY] }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', rule('ta-deny', 0, 'Deny', 'ta')],
  },
  {
    name: 'a tier without order sorts after the default tier',
    res: [
      ...base,
      tier('last', undefined),
      gnp('last-allow', { tier: 'last', selector: selB, ingress: [ALLOW] }),
      gnp('default-deny', { selector: selB, ingress: [DENY] }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', rule('default-deny', 0, 'Deny')],
  },
  {
    name: 'Pass skips the rest of the tier and goes to the next tier',
    res: [
      ...base,
      tier('t1', 10),
      gnp('t1-pass', { tier: 't1', order: 1, selector: selB, ingress: [PASS] }),
      gnp('t1-deny', { tier: 't1', order: 2, selector: selB, ingress: [DENY] }),
      gnp('default-allow', { selector: selB, ingress: [ALLOW] }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', rule('default-allow', 0, 'Allow')],
    extra: (t) => {
      const kinds = t.ingress.stages[0]!.steps.map((s) => (s.kind === 'rule' ? s.action : s.kind));
      if (kinds.join(',') !== 'Pass,Allow') throw new Error(`steps ${kinds}`);
    },
  },
  {
    name: 'Pass in the last applicable tier goes to the profiles',
    res: [...base, gnp('passer', { selector: selB, ingress: [PASS] })],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule', profile: 'allow-all' }],
  },
  {
    name: 'Pass skips a next tier that does not select the endpoint',
    res: [
      ...base,
      tier('t1', 10),
      tier('t2', 20),
      gnp('t1-pass', { tier: 't1', selector: selB, ingress: [PASS] }),
      gnp('t2-deny-a', { tier: 't2', selector: selA, ingress: [DENY] }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule', profile: 'allow-all' }],
  },
  {
    name: 'Pass without profiles ends in the final drop',
    res: [
      allowAll,
      A,
      wep('b', '10.0.0.2', { app: 'b' }, { profiles: [], orchestrator: 'cni' }),
      gnp('passer', { selector: selB, ingress: [PASS] }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', { kind: 'no-profile-accepted' }],
  },
  {
    name: 'tier defaultAction Pass: unmatched traffic continues to the next tier',
    res: [
      ...base,
      tier('soft', 10, 'Pass'),
      gnp('soft-udp', {
        tier: 'soft',
        selector: selB,
        ingress: [{ action: 'Deny', protocol: 'UDP' }],
      }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule', profile: 'allow-all' }],
    extra: (t) => {
      if (!t.ingress.stages[0]!.steps.some((s) => s.kind === 'tier-pass' && s.tier === 'soft')) {
        throw new Error('tier-pass step missing');
      }
    },
  },
  {
    name: 'tier defaultAction Pass still obeys an explicit Deny',
    res: [
      ...base,
      tier('soft', 10, 'Pass'),
      gnp('soft-deny', { tier: 'soft', selector: selB, ingress: [DENY] }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', rule('soft-deny', 0, 'Deny', 'soft')],
  },
  {
    name: 'the default tier drops at its end after an earlier tier passed',
    res: [
      ...base,
      tier('t1', 10),
      gnp('t1-pass', { tier: 't1', selector: selB, ingress: [PASS] }),
      gnp('default-udp', { selector: selB, ingress: [{ action: 'Allow', protocol: 'UDP' }] }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier', tier: 'default' }],
  },
  {
    name: 'a tier whose policies do not govern this direction is not applied',
    res: [
      ...base,
      tier('t1', 10),
      gnp('egress-only', { tier: 't1', selector: selB, types: ['Egress'], egress: [DENY] }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule', profile: 'allow-all' }],
  },
  {
    name: 'an ingress-only policy leaves egress to the profiles',
    res: [...base, gnp('in-only', { selector: selA, types: ['Ingress'], ingress: [DENY] })],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['egress', { kind: 'profile-rule', profile: 'allow-all' }],
  },
  {
    name: 'an egress policy with no matching rule drops at the end of its tier',
    res: [
      ...base,
      gnp('eg', {
        selector: selA,
        types: ['Egress'],
        egress: [{ action: 'Allow', protocol: 'UDP' }],
      }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['egress', { kind: 'end-of-tier', tier: 'default' }],
  },
  {
    name: 'types defaulted from the rules: egress rules only -> governs Egress only',
    res: [...base, gnp('eg', { selector: selB, egress: [DENY] })],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule', profile: 'allow-all' }],
  },
  {
    name: 'types defaulted from the rules: no rules at all -> governs Ingress (deny all in)',
    res: [...base, gnp('isolate', { selector: selB })],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier', tier: 'default' }],
  },
  {
    name: 'egress rules without Egress in types are inert',
    res: [...base, gnp('p', { selector: selA, types: ['Ingress'], egress: [DENY] })],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['egress', { kind: 'profile-rule' }],
  },
  {
    name: 'a policy naming a tier that does not exist is ignored',
    res: [...base, gnp('orphan', { tier: 'ghost', selector: selB, ingress: [DENY] })],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule' }],
    extra: (_t, snap) => {
      if (!snap.warnings.some((w) => w.includes('ghost'))) throw new Error('no warning');
    },
  },
  {
    name: 'a policy whose selector does not match the endpoint is not applied',
    res: [...base, gnp('p', { selector: "app == 'zzz'", ingress: [DENY] })],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule' }],
  },
  {
    name: 'the egress side denies even when the ingress side allows',
    res: [...base, gnp('eg', { selector: selA, types: ['Egress'], egress: [DENY] })],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['egress', rule('eg', 0, 'Deny')],
  },
  // ---- staged policies
  {
    name: 'a staged deny never changes the verdict but is reported',
    res: [...base, gnp('s-deny', { selector: selB, ingress: [DENY] }, 'StagedGlobalNetworkPolicy')],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule' }],
    staged: 'Deny',
    extra: (t) => {
      const d = t.staged!.ingress.decidedBy;
      if (d.kind !== 'rule' || !d.staged || d.policy !== 's-deny')
        throw new Error(JSON.stringify(d));
    },
  },
  {
    name: 'a tier holding only staged policies ends in pass, not drop',
    res: [
      ...base,
      tier('t1', 10),
      gnp('s-log', { tier: 't1', selector: selB, ingress: [LOG] }, 'StagedGlobalNetworkPolicy'),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule' }],
    staged: 'Deny',
  },
  {
    name: 'a staged Set replaces its enforced namesake in the what-if',
    res: [
      ...base,
      np('default', 'web', { selector: selB, ingress: [ALLOW] }),
      np('default', 'web', { selector: selB, ingress: [DENY] }, 'StagedNetworkPolicy'),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', rule('web', 0, 'Allow')],
    staged: 'Deny',
  },
  {
    name: 'a staged Delete removes the enforced policy in the what-if',
    res: [
      ...base,
      gnp('block', { selector: selB, ingress: [DENY] }),
      gnp('block', { stagedAction: 'Delete' }, 'StagedGlobalNetworkPolicy'),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', rule('block', 0, 'Deny')],
    staged: 'Allow',
  },
  {
    name: 'a staged policy that selects nothing on the path leaves no staged section',
    res: [
      ...base,
      gnp('s', { selector: "app == 'zzz'", ingress: [DENY] }, 'StagedGlobalNetworkPolicy'),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule' }],
    staged: 'none',
  },
  {
    name: 'a StagedKubernetesNetworkPolicy is reported as its knp.default. what-if',
    res: [
      ...base,
      {
        apiVersion: 'projectcalico.org/v3',
        kind: 'StagedKubernetesNetworkPolicy',
        metadata: { name: 'iso', namespace: 'default' },
        spec: { podSelector: {}, policyTypes: ['Ingress'] },
      },
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule' }],
    staged: 'Deny',
    extra: (t) => {
      if (t.staged!.ingress.decidedBy.kind !== 'end-of-tier')
        throw new Error('expected end of tier');
    },
  },
  // ---- protocol, ICMP, ipVersion
  ...(
    [
      ['TCP', 'TCP', true],
      ['tcp', 'TCP', true],
      [6, 'TCP', true],
      ['6', 'TCP', true],
      ['UDP', 'TCP', false],
      [17, 'UDP', true],
      ['SCTP', 'SCTP', true],
    ] as const
  ).map(
    ([ruleProto, flowProto, match]): Case => ({
      name: `protocol ${JSON.stringify(ruleProto)} vs a ${flowProto} flow: ${match ? 'match' : 'no match'}`,
      res: [
        ...base,
        gnp('p', { selector: selB, ingress: [{ action: 'Allow', protocol: ruleProto }] }),
      ],
      flow: { ...tcp(80), protocol: flowProto },
      verdict: match ? 'Allow' : 'Deny',
      by: ['ingress', match ? rule('p', 0, 'Allow') : { kind: 'end-of-tier' }],
    }),
  ),
  {
    name: 'notProtocol UDP matches a TCP flow',
    res: [
      ...base,
      gnp('p', { selector: selB, ingress: [{ action: 'Allow', notProtocol: 'UDP' }] }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', rule('p', 0, 'Allow')],
  },
  {
    name: 'notProtocol TCP does not match a TCP flow',
    res: [...base, gnp('p', { selector: selB, ingress: [{ action: 'Allow', notProtocol: 6 }] })],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'ICMP type matches (echo request)',
    res: [
      ...base,
      gnp('p', {
        selector: selB,
        ingress: [{ action: 'Allow', protocol: 'ICMP', icmp: { type: 8 } }],
      }),
    ],
    flow: { srcIp: '10.0.0.1', dstIp: '10.0.0.2', protocol: 'ICMP', icmpType: 8, icmpCode: 0 },
    verdict: 'Allow',
    by: ['ingress', rule('p', 0, 'Allow')],
  },
  {
    name: 'ICMP type mismatch (echo reply vs echo request rule)',
    res: [
      ...base,
      gnp('p', {
        selector: selB,
        ingress: [{ action: 'Allow', protocol: 'ICMP', icmp: { type: 8 } }],
      }),
    ],
    flow: { srcIp: '10.0.0.1', dstIp: '10.0.0.2', protocol: 'ICMP', icmpType: 0 },
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'ICMP type and code must both match',
    res: [
      ...base,
      gnp('p', {
        selector: selB,
        ingress: [{ action: 'Allow', protocol: 'ICMP', icmp: { type: 3, code: 1 } }],
      }),
    ],
    flow: { srcIp: '10.0.0.1', dstIp: '10.0.0.2', protocol: 1, icmpType: 3, icmpCode: 2 },
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'ICMP type and code match',
    res: [
      ...base,
      gnp('p', {
        selector: selB,
        ingress: [{ action: 'Allow', protocol: 'ICMP', icmp: { type: 3, code: 1 } }],
      }),
    ],
    flow: { srcIp: '10.0.0.1', dstIp: '10.0.0.2', protocol: 1, icmpType: 3, icmpCode: 1 },
    verdict: 'Allow',
    by: ['ingress', rule('p', 0, 'Allow')],
  },
  {
    name: 'notICMP excludes the named type',
    res: [
      ...base,
      gnp('p', {
        selector: selB,
        ingress: [{ action: 'Allow', protocol: 'ICMP', notICMP: { type: 8 } }],
      }),
    ],
    flow: { srcIp: '10.0.0.1', dstIp: '10.0.0.2', protocol: 'ICMP', icmpType: 8 },
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'notICMP matches other types',
    res: [
      ...base,
      gnp('p', {
        selector: selB,
        ingress: [{ action: 'Allow', protocol: 'ICMP', notICMP: { type: 8 } }],
      }),
    ],
    flow: { srcIp: '10.0.0.1', dstIp: '10.0.0.2', protocol: 'ICMP', icmpType: 0 },
    verdict: 'Allow',
    by: ['ingress', rule('p', 0, 'Allow')],
  },
  {
    name: 'ipVersion 6 rule does not match an IPv4 flow',
    res: [...base, gnp('p', { selector: selB, ingress: [{ action: 'Allow', ipVersion: 6 }] })],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'a rule whose CIDRs are all IPv6 is dropped for IPv4 (even a notNets-only rule)',
    res: [
      ...base,
      gnp('p', {
        selector: selB,
        ingress: [{ action: 'Deny', source: { notNets: ['fd00::/8'] } }, ALLOW],
      }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', rule('p', 1, 'Allow')],
  },
  {
    name: 'IPv6 flow between IPv6 workloads with ICMPv6 and nets',
    res: [
      allowAll,
      wep('a6', 'fd00::1', { app: 'a' }),
      wep('b6', 'fd00::2', { app: 'b' }),
      gnp('p', {
        selector: selB,
        ingress: [{ action: 'Allow', protocol: 'ICMPv6', source: { nets: ['fd00::/64'] } }],
      }),
    ],
    flow: { srcIp: 'fd00::1', dstIp: 'fd00::2', protocol: 'ICMPv6', icmpType: 128 },
    verdict: 'Allow',
    by: ['ingress', rule('p', 0, 'Allow')],
  },
  // ---- nets
  {
    name: 'source nets contain the peer',
    res: [
      ...base,
      gnp('p', {
        selector: selB,
        ingress: [{ action: 'Allow', source: { nets: ['10.0.0.0/24'] } }],
      }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', rule('p', 0, 'Allow')],
  },
  {
    name: 'source nets do not contain the peer',
    res: [
      ...base,
      gnp('p', {
        selector: selB,
        ingress: [{ action: 'Allow', source: { nets: ['10.1.0.0/16'] } }],
      }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'several nets are ORed',
    res: [
      ...base,
      gnp('p', {
        selector: selB,
        ingress: [{ action: 'Allow', source: { nets: ['10.9.0.0/16', '10.0.0.1/32'] } }],
      }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', rule('p', 0, 'Allow')],
  },
  {
    name: 'notNets exclude the peer',
    res: [
      ...base,
      gnp('p', {
        selector: selB,
        ingress: [{ action: 'Allow', source: { nets: ['10.0.0.0/8'], notNets: ['10.0.0.0/30'] } }],
      }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'destination nets in an egress rule',
    res: [
      ...base,
      gnp('p', {
        selector: selA,
        types: ['Egress'],
        egress: [{ action: 'Deny', destination: { nets: ['10.0.0.2/32'] } }],
      }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['egress', rule('p', 0, 'Deny')],
  },
  {
    name: 'nets match addresses outside Calico',
    res: [
      ...base,
      gnp('p', {
        selector: selA,
        types: ['Egress'],
        egress: [{ action: 'Allow', destination: { nets: ['8.8.8.0/24'] } }],
      }),
    ],
    flow: tcp(53, '10.0.0.1', '8.8.8.8'),
    verdict: 'Allow',
    by: ['egress', rule('p', 0, 'Allow')],
  },
  // ---- ports
  {
    name: 'destination port range contains the port',
    res: [
      ...base,
      gnp('p', {
        selector: selB,
        ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: ['80:90'] } }],
      }),
    ],
    flow: tcp(85),
    verdict: 'Allow',
    by: ['ingress', rule('p', 0, 'Allow')],
  },
  {
    name: 'destination port list without the port',
    res: [
      ...base,
      gnp('p', {
        selector: selB,
        ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [22, 443] } }],
      }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'notPorts excludes the port',
    res: [
      ...base,
      gnp('p', {
        selector: selB,
        ingress: [{ action: 'Allow', protocol: 'TCP', destination: { notPorts: [80] } }],
      }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'notPorts matches other ports',
    res: [
      ...base,
      gnp('p', {
        selector: selB,
        ingress: [{ action: 'Allow', protocol: 'TCP', destination: { notPorts: [80] } }],
      }),
    ],
    flow: tcp(81),
    verdict: 'Allow',
    by: ['ingress', rule('p', 0, 'Allow')],
  },
  {
    name: 'source ports match the source port',
    res: [
      ...base,
      gnp('p', {
        selector: selB,
        ingress: [{ action: 'Deny', protocol: 'TCP', source: { ports: ['30000:50000'] } }, ALLOW],
      }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', rule('p', 0, 'Deny')],
  },
  {
    name: 'port rules never match a protocol without ports',
    res: [
      ...base,
      gnp('p', {
        selector: selB,
        ingress: [{ action: 'Allow', destination: { ports: ['http'] } }],
      }),
    ],
    flow: { srcIp: '10.0.0.1', dstIp: '10.0.0.2', protocol: 'ICMP', icmpType: 8 },
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  // ---- named ports
  ...((): Case[] => {
    const bPorts = wep(
      'b',
      '10.0.0.2',
      { app: 'b' },
      {
        ports: [
          { name: 'http', protocol: 'TCP', port: 8080 },
          { name: 'dns', protocol: 'TCP', port: 53 },
          { name: 'dns', protocol: 'UDP', port: 5353 },
        ],
      },
    );
    const eg = (ports: (string | number)[], protocol?: string, extra: object = {}) =>
      gnp('eg', {
        selector: selA,
        types: ['Egress'],
        egress: [
          { action: 'Allow', ...(protocol ? { protocol } : {}), destination: { ports, ...extra } },
        ],
      });
    const mk = (name: string, pol: unknown, flow: ReturnType<typeof tcp>, ok: boolean): Case => ({
      name,
      res: [allowAll, A, bPorts, pol],
      flow,
      verdict: ok ? 'Allow' : 'Deny',
      by: ['egress', ok ? rule('eg', 0, 'Allow') : { kind: 'end-of-tier' }],
    });
    return [
      mk(
        'named port resolves against the destination endpoint',
        eg(['http'], 'TCP'),
        tcp(8080),
        true,
      ),
      mk(
        'named port does not match an undeclared port number',
        eg(['http'], 'TCP'),
        tcp(80),
        false,
      ),
      mk(
        'named port with two protocols: UDP rule, UDP 5353 matches',
        eg(['dns'], 'UDP'),
        udp(5353),
        true,
      ),
      mk(
        'named port with two protocols: UDP rule, UDP 53 does not',
        eg(['dns'], 'UDP'),
        udp(53),
        false,
      ),
      mk('named port with two protocols: no protocol, TCP 53 matches', eg(['dns']), tcp(53), true),
      mk(
        'named port with two protocols: no protocol, UDP 5353 matches',
        eg(['dns']),
        udp(5353),
        true,
      ),
      mk('named port with two protocols: TCP 5353 does not match', eg(['dns']), tcp(5353), false),
      mk(
        'named port honours the side selector',
        eg(['http'], 'TCP', { selector: "app == 'c'" }),
        tcp(8080),
        false,
      ),
      mk('named and numeric ports are ORed', eg(['http', 22], 'TCP'), tcp(22), true),
      mk(
        'named port to an address outside Calico never matches',
        eg(['http'], 'TCP'),
        tcp(8080, '10.0.0.1', '10.9.9.9'),
        false,
      ),
      {
        name: 'named port in an ingress rule resolves against the local endpoint',
        res: [
          allowAll,
          A,
          bPorts,
          gnp('in', {
            selector: selB,
            ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: ['http'] } }],
          }),
        ],
        flow: tcp(8080),
        verdict: 'Allow',
        by: ['ingress', rule('in', 0, 'Allow')],
      },
      {
        name: 'named notPorts exclude the declared port',
        res: [
          allowAll,
          A,
          bPorts,
          gnp('in', {
            selector: selB,
            ingress: [{ action: 'Allow', protocol: 'TCP', destination: { notPorts: ['http'] } }],
          }),
        ],
        flow: tcp(8080),
        verdict: 'Deny',
        by: ['ingress', { kind: 'end-of-tier' }],
      },
    ];
  })(),
  // ---- selectors and peers
  {
    name: 'source selector matches a Calico peer',
    res: [
      ...base,
      gnp('p', { selector: selB, ingress: [{ action: 'Allow', source: { selector: selA } }] }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', rule('p', 0, 'Allow')],
  },
  {
    name: 'source selector does not match other labels',
    res: [
      ...base,
      gnp('p', {
        selector: selB,
        ingress: [{ action: 'Allow', source: { selector: "app == 'c'" } }],
      }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: "a positive selector '!has(x)' does not match a non-Calico peer",
    res: [
      ...base,
      gnp('p', { selector: selB, ingress: [{ action: 'Allow', source: { selector: '!has(x)' } }] }),
    ],
    flow: tcp(80, '192.168.9.9'),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: "notSelector 'has(x)' matches a non-Calico peer",
    res: [
      ...base,
      gnp('p', {
        selector: selB,
        ingress: [{ action: 'Allow', source: { notSelector: 'has(x)' } }],
      }),
    ],
    flow: tcp(80, '192.168.9.9'),
    verdict: 'Allow',
    by: ['ingress', rule('p', 0, 'Allow')],
  },
  {
    name: 'notSelector matches a Calico peer without the label',
    res: [
      ...base,
      gnp('p', {
        selector: selB,
        ingress: [{ action: 'Allow', source: { notSelector: "app == 'z'" } }],
      }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', rule('p', 0, 'Allow')],
  },
  {
    name: 'notSelector excludes a Calico peer with the label',
    res: [
      ...base,
      gnp('p', { selector: selB, ingress: [{ action: 'Allow', source: { notSelector: selA } }] }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'selector all() matches any Calico peer',
    res: [
      ...base,
      gnp('p', { selector: selB, ingress: [{ action: 'Allow', source: { selector: 'all()' } }] }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', rule('p', 0, 'Allow')],
  },
  {
    name: 'selector all() does not match a non-Calico peer',
    res: [
      ...base,
      gnp('p', { selector: selB, ingress: [{ action: 'Allow', source: { selector: 'all()' } }] }),
    ],
    flow: tcp(80, '172.16.0.1'),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'a rule without criteria matches a non-Calico peer',
    res: [...base, gnp('p', { selector: selB, ingress: [ALLOW] })],
    flow: tcp(80, '172.16.0.1'),
    verdict: 'Allow',
    by: ['ingress', rule('p', 0, 'Allow')],
  },
  {
    name: 'all criteria are ANDed: right protocol, wrong source',
    res: [
      ...base,
      gnp('p', {
        selector: selB,
        ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "app == 'c'" } }],
      }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'a GlobalNetworkSet makes an outside address selectable',
    res: [
      ...base,
      netset('dns', ['8.8.8.0/24'], { role: 'dns' }),
      gnp('p', {
        selector: selA,
        types: ['Egress'],
        egress: [{ action: 'Allow', destination: { selector: "role == 'dns'" } }],
      }),
    ],
    flow: udp(53, '10.0.0.1', '8.8.8.8'),
    verdict: 'Allow',
    by: ['egress', rule('p', 0, 'Allow')],
  },
  {
    name: 'a GNP rule selector matches endpoints in every namespace',
    res: [
      allowAll,
      wep('a', '10.0.0.1', { app: 'a' }, { ns: 'other' }),
      B,
      gnp('p', { selector: selB, ingress: [{ action: 'Allow', source: { selector: selA } }] }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', rule('p', 0, 'Allow')],
  },
  {
    name: "an NP rule selector is scoped to the policy's namespace",
    res: [
      allowAll,
      wep('a', '10.0.0.1', { app: 'a' }, { ns: 'other' }),
      B,
      np('default', 'p', {
        selector: selB,
        ingress: [{ action: 'Allow', source: { selector: selA } }],
      }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'an NP rule selector matches in its own namespace',
    res: [
      ...base,
      np('default', 'p', {
        selector: selB,
        ingress: [{ action: 'Allow', source: { selector: selA } }],
      }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', { kind: 'rule', policy: 'p', namespace: 'default', action: 'Allow' }],
  },
  {
    name: 'an NP rule with only nets is not namespace-scoped',
    res: [
      allowAll,
      wep('a', '10.0.0.1', { app: 'a' }, { ns: 'other' }),
      B,
      np('default', 'p', {
        selector: selB,
        ingress: [{ action: 'Allow', source: { nets: ['10.0.0.1/32'] } }],
      }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', { kind: 'rule', policy: 'p' }],
  },
  {
    name: 'an NP rule with only notSelector is still scoped to its namespace',
    res: [
      allowAll,
      wep('a', '10.0.0.1', { app: 'a' }, { ns: 'other' }),
      B,
      np('default', 'p', {
        selector: selB,
        ingress: [{ action: 'Allow', source: { notSelector: 'has(x)' } }],
      }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'an NP only selects endpoints in its own namespace',
    res: [
      allowAll,
      A,
      wep('b', '10.0.0.2', { app: 'b' }, { ns: 'prod' }),
      np('default', 'p', { selector: selB, ingress: [DENY] }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule' }],
  },
  {
    name: 'an NP with an empty selector selects every endpoint of its namespace',
    res: [...base, np('default', 'iso', { ingress: [DENY] })],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', { kind: 'rule', policy: 'iso', action: 'Deny' }],
  },
  {
    name: 'namespaceSelector matches peers through pcns. labels from the namespace',
    res: [
      allowAll,
      namespace('team-a', { team: 'a' }),
      wep('a', '10.0.0.1', { app: 'a' }, { ns: 'team-a', profiles: ['kns.team-a'] }),
      B,
      np('default', 'p', {
        selector: selB,
        ingress: [{ action: 'Allow', source: { namespaceSelector: "team == 'a'" } }],
      }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', { kind: 'rule', policy: 'p' }],
  },
  {
    name: 'namespaceSelector does not match a namespace with other labels',
    res: [
      allowAll,
      namespace('team-b', { team: 'b' }),
      wep('a', '10.0.0.1', { app: 'a' }, { ns: 'team-b', profiles: ['kns.team-b'] }),
      B,
      np('default', 'p', {
        selector: selB,
        ingress: [{ action: 'Allow', source: { namespaceSelector: "team == 'a'" } }],
      }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'namespaceSelector global() matches a GlobalNetworkSet',
    res: [
      ...base,
      netset('ext', ['192.168.0.0/16'], { kind: 'ext' }),
      np('default', 'p', {
        selector: selB,
        ingress: [{ action: 'Allow', source: { namespaceSelector: 'global()' } }],
      }),
    ],
    flow: tcp(80, '192.168.1.1'),
    verdict: 'Allow',
    by: ['ingress', { kind: 'rule', policy: 'p' }],
  },
  {
    name: 'namespaceSelector global() does not match a workload',
    res: [
      ...base,
      np('default', 'p', {
        selector: selB,
        ingress: [{ action: 'Allow', source: { namespaceSelector: 'global()' } }],
      }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'GNP rule namespaceSelector all() matches a workload in any namespace',
    res: [
      allowAll,
      wep('a', '10.0.0.1', {}, { ns: 'x' }),
      B,
      gnp('p', {
        selector: selB,
        ingress: [{ action: 'Allow', source: { namespaceSelector: 'all()' } }],
      }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', rule('p', 0, 'Allow')],
  },
  {
    name: 'GNP rule namespaceSelector all() does not match a GlobalNetworkSet',
    res: [
      ...base,
      netset('ext', ['192.168.0.0/16'], {}),
      gnp('p', {
        selector: selB,
        ingress: [{ action: 'Allow', source: { namespaceSelector: 'all()' } }],
      }),
    ],
    flow: tcp(80, '192.168.1.1'),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'a namespaced NetworkSet is selectable by an NP rule in its namespace',
    res: [
      ...base,
      netset('office', ['192.168.0.0/16'], { site: 'hq' }, 'default'),
      np('default', 'p', {
        selector: selB,
        ingress: [{ action: 'Allow', source: { selector: "site == 'hq'" } }],
      }),
    ],
    flow: tcp(80, '192.168.1.1'),
    verdict: 'Allow',
    by: ['ingress', { kind: 'rule', policy: 'p' }],
  },
  {
    name: 'a NetworkSet in another namespace is not selectable by an NP rule',
    res: [
      ...base,
      netset('office', ['192.168.0.0/16'], { site: 'hq' }, 'other'),
      np('default', 'p', {
        selector: selB,
        ingress: [{ action: 'Allow', source: { selector: "site == 'hq'" } }],
      }),
    ],
    flow: tcp(80, '192.168.1.1'),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'a namespaced NetworkSet inherits its namespace labels (pcns.)',
    res: [
      ...base,
      namespace('corp', { zone: 'trusted' }),
      netset('office', ['192.168.0.0/16'], {}, 'corp'),
      gnp('p', {
        selector: selB,
        ingress: [{ action: 'Allow', source: { selector: "pcns.zone == 'trusted'" } }],
      }),
    ],
    flow: tcp(80, '192.168.1.1'),
    verdict: 'Allow',
    by: ['ingress', rule('p', 0, 'Allow')],
  },
  {
    name: 'serviceAccounts.names matches the peer service account',
    res: [
      allowAll,
      wep('a', '10.0.0.1', {}, { sa: 'api' }),
      B,
      np('default', 'p', {
        selector: selB,
        ingress: [{ action: 'Allow', source: { serviceAccounts: { names: ['api', 'web'] } } }],
      }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', { kind: 'rule', policy: 'p' }],
  },
  {
    name: 'serviceAccounts.names does not match another service account',
    res: [
      allowAll,
      wep('a', '10.0.0.1', {}, { sa: 'batch' }),
      B,
      np('default', 'p', {
        selector: selB,
        ingress: [{ action: 'Allow', source: { serviceAccounts: { names: ['api'] } } }],
      }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'serviceAccounts.selector matches pcsa. labels from the ServiceAccount',
    res: [
      allowAll,
      namespace('default'),
      serviceAccount('default', 'api', { tier: 'gold' }),
      wep('a', '10.0.0.1', {}, { sa: 'api', profiles: ['kns.default', 'ksa.default.api'] }),
      B,
      gnp('p', {
        selector: selB,
        ingress: [{ action: 'Allow', source: { serviceAccounts: { selector: "tier == 'gold'" } } }],
      }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', rule('p', 0, 'Allow')],
  },
  // ---- policy-level scoping
  {
    name: 'GNP namespaceSelector selects endpoints by their namespace labels',
    res: [
      allowAll,
      namespace('prod', { env: 'prod' }),
      A,
      wep('b', '10.0.0.2', { app: 'b' }, { ns: 'prod', profiles: ['kns.prod', 'allow-all'] }),
      gnp('p', { namespaceSelector: "env == 'prod'", ingress: [DENY] }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', rule('p', 0, 'Deny')],
  },
  {
    name: 'GNP namespaceSelector does not select endpoints of other namespaces',
    res: [...base, gnp('p', { namespaceSelector: "env == 'prod'", ingress: [DENY] })],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule' }],
  },
  {
    name: 'GNP namespaceSelector all() selects every namespaced endpoint',
    res: [...base, gnp('p', { namespaceSelector: 'all()', ingress: [DENY] })],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', rule('p', 0, 'Deny')],
  },
  {
    name: 'serviceAccountSelector on a policy selects by pcsa. labels',
    res: [
      allowAll,
      serviceAccount('default', 'db', { tier: 'gold' }),
      A,
      wep('b', '10.0.0.2', {}, { sa: 'db', profiles: ['allow-all', 'ksa.default.db'] }),
      np('default', 'p', { serviceAccountSelector: "tier == 'gold'", ingress: [DENY] }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', { kind: 'rule', policy: 'p', action: 'Deny' }],
  },
  // ---- labels and inheritance
  {
    name: 'policy selectors see labelsToApply of the endpoint profiles',
    res: [
      allowAll,
      profile('web', {}, { role: 'web' }),
      A,
      wep('b', '10.0.0.2', {}, { profiles: ['web', 'allow-all'] }),
      gnp('p', { selector: "role == 'web'", ingress: [DENY] }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', rule('p', 0, 'Deny')],
  },
  {
    name: "the endpoint's own label wins over a profile label",
    res: [
      allowAll,
      profile('web', {}, { role: 'web' }),
      A,
      wep('b', '10.0.0.2', { role: 'db' }, { profiles: ['web', 'allow-all'] }),
      gnp('p', { selector: "role == 'web'", ingress: [DENY] }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule', profile: 'allow-all' }],
  },
  {
    name: 'among profiles the first one to set a key wins',
    res: [
      allowAll,
      profile('p1', {}, { role: 'one' }),
      profile('p2', {}, { role: 'two' }),
      A,
      wep('b', '10.0.0.2', {}, { profiles: ['p1', 'p2', 'allow-all'] }),
      gnp('p', { selector: "role == 'two'", ingress: [DENY] }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule', profile: 'allow-all' }],
  },
  {
    name: 'labelsToApply are inherited even when the profile rules are never reached',
    res: [
      allowAll,
      profile('tagger', { ingress: [DENY] }, { tag: 'x' }),
      A,
      wep('b', '10.0.0.2', {}, { profiles: ['tagger'] }),
      gnp('p', { selector: "tag == 'x'", ingress: [ALLOW] }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', rule('p', 0, 'Allow')],
  },
  {
    name: 'rule selectors see inherited peer labels too',
    res: [
      allowAll,
      profile('fe', {}, { tier: 'frontend' }),
      wep('a', '10.0.0.1', {}, { profiles: ['fe', 'allow-all'] }),
      B,
      gnp('p', {
        selector: selB,
        ingress: [{ action: 'Allow', source: { selector: "tier == 'frontend'" } }],
      }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', rule('p', 0, 'Allow')],
  },
  {
    name: 'Calico adds projectcalico.org/namespace to workload endpoints',
    res: [
      allowAll,
      A,
      wep('b', '10.0.0.2', {}, { ns: 'prod' }),
      gnp('p', { selector: "projectcalico.org/namespace == 'prod'", ingress: [DENY] }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', rule('p', 0, 'Deny')],
  },
  {
    name: 'Calico adds projectcalico.org/orchestrator',
    res: [
      allowAll,
      A,
      wep('b', '10.0.0.2', {}, { orchestrator: 'cni' }),
      gnp('p', { selector: "projectcalico.org/orchestrator == 'cni'", ingress: [DENY] }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', rule('p', 0, 'Deny')],
  },
  {
    name: 'Calico adds projectcalico.org/serviceaccount',
    res: [
      allowAll,
      A,
      wep('b', '10.0.0.2', {}, { sa: 'db' }),
      gnp('p', { selector: "projectcalico.org/serviceaccount == 'db'", ingress: [DENY] }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', rule('p', 0, 'Deny')],
  },
  {
    name: "a namespace label does not match the pod directly ('team == a' needs pcns.)",
    res: [
      allowAll,
      namespace('prod', { team: 'a' }),
      A,
      wep('b', '10.0.0.2', {}, { ns: 'prod', profiles: ['kns.prod'] }),
      gnp('p', { selector: "team == 'a'", ingress: [DENY] }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule', profile: 'kns.prod' }],
  },
  {
    name: 'namespace labels are inherited as pcns.<key>',
    res: [
      allowAll,
      namespace('prod', { team: 'a' }),
      A,
      wep('b', '10.0.0.2', {}, { ns: 'prod', profiles: ['kns.prod'] }),
      gnp('p', { selector: "pcns.team == 'a'", ingress: [DENY] }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', rule('p', 0, 'Deny')],
  },
  {
    name: 'namespace name is inherited as pcns.projectcalico.org/name',
    res: [
      allowAll,
      namespace('prod'),
      A,
      wep('b', '10.0.0.2', {}, { ns: 'prod', profiles: ['kns.prod'] }),
      gnp('p', { selector: "pcns.projectcalico.org/name == 'prod'", ingress: [DENY] }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', rule('p', 0, 'Deny')],
  },
  {
    name: 'a Kubernetes endpoint without profiles gets kns.<ns> (allow all)',
    res: [
      namespace('prod'),
      wep('a', '10.0.0.1', {}, { ns: 'prod', profiles: [] }),
      wep('b', '10.0.0.2', {}, { ns: 'prod', profiles: [] }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule', profile: 'kns.prod' }],
  },
  {
    name: 'a Kubernetes endpoint whose namespace is unknown fails closed',
    res: [allowAll, A, wep('b', '10.0.0.2', {}, { ns: 'ghost', profiles: [] })],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['ingress', { kind: 'missing-profile', profile: 'kns.ghost' }],
  },
  {
    name: 'a Services match never matches without EndpointSlices (and is reported)',
    res: [
      ...base,
      gnp('svc', {
        selector: selA,
        types: ['Egress'],
        egress: [
          { action: 'Allow', destination: { services: { name: 'api', namespace: 'default' } } },
        ],
      }),
    ],
    flow: tcp(80),
    verdict: 'Deny',
    by: ['egress', { kind: 'end-of-tier' }],
    extra: (_t, snap) => {
      if (!snap.warnings.some((w) => w.includes('Services'))) throw new Error('no warning');
    },
  },
  // ---- attribution
  {
    name: 'a flow between two outside addresses is not Calico traffic',
    res: base,
    flow: tcp(80, '1.1.1.1', '2.2.2.2'),
    verdict: 'Allow',
    by: ['egress', { kind: 'not-calico-endpoint', ip: '1.1.1.1' }],
    extra: (t) => {
      if (t.ingress.decidedBy.kind !== 'not-calico-endpoint') throw new Error('ingress');
    },
  },
  {
    name: 'an outside source is judged only by the destination ingress',
    res: [
      ...base,
      gnp('p', { selector: selB, ingress: [{ action: 'Deny', source: { nets: ['1.1.1.0/24'] } }] }),
    ],
    flow: tcp(80, '1.1.1.1'),
    verdict: 'Deny',
    by: ['ingress', rule('p', 0, 'Deny')],
  },
];

for (const c of cases) test(c.name, () => void runCase(c));

export const POLICY_CASE_COUNT = cases.length;
