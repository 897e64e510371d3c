// Kubernetes NetworkPolicy scenarios (calico-semantics.md §11): pods in namespaces
// with kns. profiles, policies converted to knp.default.<name> in tier default.
import { test } from 'node:test';
import { type Case, DENY, knp, namespace, netset, np, runCase, tcp, udp, wep } from './testkit.js';

const ns = (name: string, labels: Record<string, string> = {}) => namespace(name, labels);
const pod = (name: string, ip: string, labels: Record<string, string>, nsName = 'prod', o = {}) =>
  wep(name, ip, labels, { ns: nsName, profiles: [], ...o });
const client = pod('client', '10.0.0.1', { role: 'api' });
const db = pod('db', '10.0.0.2', { app: 'db' }, 'prod', {
  ports: [{ name: 'pg', protocol: 'TCP', port: 5432 }],
});
const base = [ns('prod', { team: 'a' }), ns('other', { team: 'b' }), client, db];
const dbSel = { matchLabels: { app: 'db' } };
const knpRule = (name: string) =>
  ({
    kind: 'rule',
    policy: `knp.default.${name}`,
    policyKind: 'NetworkPolicy',
    namespace: 'prod',
    tier: 'default',
    action: 'Allow',
  }) as const;

const cases: Case[] = [
  {
    name: 'k8s: pods are open until a policy selects them',
    res: base,
    flow: tcp(5432),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule', profile: 'kns.prod' }],
  },
  {
    name: 'k8s: ingress: [] with Ingress type denies all ingress (end of tier default)',
    res: [...base, knp('prod', 'deny', { podSelector: {}, policyTypes: ['Ingress'], ingress: [] })],
    flow: tcp(5432),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier', tier: 'default' }],
  },
  {
    name: 'k8s: missing ingress with Ingress type also denies all ingress',
    res: [...base, knp('prod', 'deny', { podSelector: {}, policyTypes: ['Ingress'] })],
    flow: tcp(5432),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier', tier: 'default' }],
  },
  {
    name: 'k8s: ingress: [{}] is one empty rule that allows everything',
    res: [
      ...base,
      knp('prod', 'open', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{}] }),
    ],
    flow: tcp(9999, '192.168.7.7'),
    verdict: 'Allow',
    by: ['ingress', { ...knpRule('open'), ruleIndex: 0 }],
  },
  {
    name: 'k8s: policyTypes absent means Ingress only (egress left to the profile)',
    res: [...base, knp('prod', 'iso', { podSelector: {}, egress: [] })],
    flow: tcp(5432),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
    extra: (t) => {
      if (t.egress.decidedBy.kind !== 'profile-rule')
        throw new Error('egress should use the profile');
    },
  },
  {
    name: 'k8s: Egress type with egress: [] denies all egress',
    res: [
      ...base,
      knp('prod', 'no-out', {
        podSelector: { matchLabels: { role: 'api' } },
        policyTypes: ['Egress'],
        egress: [],
      }),
    ],
    flow: tcp(5432),
    verdict: 'Deny',
    by: ['egress', { kind: 'end-of-tier' }],
  },
  {
    name: 'k8s: egress to a podSelector peer is allowed',
    res: [
      ...base,
      knp('prod', 'out', {
        podSelector: { matchLabels: { role: 'api' } },
        policyTypes: ['Egress'],
        egress: [{ to: [{ podSelector: dbSel }] }],
      }),
    ],
    flow: tcp(5432),
    verdict: 'Allow',
    by: ['egress', { ...knpRule('out'), ruleIndex: 0 }],
  },
  {
    name: 'k8s: from podSelector in the same namespace allows',
    res: [
      ...base,
      knp('prod', 'db', {
        podSelector: dbSel,
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: { matchLabels: { role: 'api' } } }] }],
      }),
    ],
    flow: tcp(5432),
    verdict: 'Allow',
    by: ['ingress', knpRule('db')],
  },
  {
    name: 'k8s: podSelector without namespaceSelector is limited to the own namespace',
    res: [
      ...base.filter((r) => r !== client),
      pod('client', '10.0.0.1', { role: 'api' }, 'other'),
      knp('prod', 'db', {
        podSelector: dbSel,
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: { matchLabels: { role: 'api' } } }] }],
      }),
    ],
    flow: tcp(5432),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'k8s: namespaceSelector {} selects pods in all namespaces',
    res: [
      ...base.filter((r) => r !== client),
      pod('client', '10.0.0.1', { role: 'api' }, 'other'),
      knp('prod', 'db', {
        podSelector: dbSel,
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ namespaceSelector: {} }] }],
      }),
    ],
    flow: tcp(5432),
    verdict: 'Allow',
    by: ['ingress', knpRule('db')],
  },
  {
    name: 'k8s: namespaceSelector with labels AND podSelector (both must match)',
    res: [
      ...base.filter((r) => r !== client),
      pod('client', '10.0.0.1', { role: 'web' }, 'other'),
      knp('prod', 'db', {
        podSelector: dbSel,
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { team: 'b' } },
                podSelector: { matchLabels: { role: 'api' } },
              },
            ],
          },
        ],
      }),
    ],
    flow: tcp(5432),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'k8s: namespaceSelector with labels matches a pod of that namespace',
    res: [
      ...base.filter((r) => r !== client),
      pod('client', '10.0.0.1', { role: 'api' }, 'other'),
      knp('prod', 'db', {
        podSelector: dbSel,
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { team: 'b' } },
                podSelector: { matchLabels: { role: 'api' } },
              },
            ],
          },
        ],
      }),
    ],
    flow: tcp(5432),
    verdict: 'Allow',
    by: ['ingress', knpRule('db')],
  },
  {
    name: 'k8s: podSelector peers never match an outside address',
    res: [
      ...base,
      knp('prod', 'db', {
        podSelector: dbSel,
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: {} }] }],
      }),
    ],
    flow: tcp(5432, '192.168.1.1'),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'k8s: podSelector {} does not match a network set (orchestrator clause)',
    res: [
      ...base,
      netset('office', ['192.168.0.0/16'], {}, 'prod'),
      knp('prod', 'db', {
        podSelector: dbSel,
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: {} }] }],
      }),
    ],
    flow: tcp(5432, '192.168.1.1'),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'k8s: ipBlock allows its CIDR',
    res: [
      ...base,
      knp('prod', 'db', {
        podSelector: dbSel,
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ ipBlock: { cidr: '192.168.0.0/16', except: ['192.168.5.0/24'] } }] }],
      }),
    ],
    flow: tcp(5432, '192.168.1.1'),
    verdict: 'Allow',
    by: ['ingress', knpRule('db')],
  },
  {
    name: 'k8s: ipBlock except carves out a subnet',
    res: [
      ...base,
      knp('prod', 'db', {
        podSelector: dbSel,
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ ipBlock: { cidr: '192.168.0.0/16', except: ['192.168.5.0/24'] } }] }],
      }),
    ],
    flow: tcp(5432, '192.168.5.9'),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'k8s: a port without protocol defaults to TCP (UDP is not allowed)',
    res: [
      ...base,
      knp('prod', 'db', {
        podSelector: dbSel,
        policyTypes: ['Ingress'],
        ingress: [{ ports: [{ port: 5432 }] }],
      }),
    ],
    flow: udp(5432),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'k8s: a TCP port entry allows that port',
    res: [
      ...base,
      knp('prod', 'db', {
        podSelector: dbSel,
        policyTypes: ['Ingress'],
        ingress: [{ ports: [{ port: 5432 }] }],
      }),
    ],
    flow: tcp(5432),
    verdict: 'Allow',
    by: ['ingress', knpRule('db')],
  },
  {
    name: 'k8s: endPort makes a range (inside)',
    res: [
      ...base,
      knp('prod', 'db', {
        podSelector: dbSel,
        policyTypes: ['Ingress'],
        ingress: [{ ports: [{ port: 5000, endPort: 6000 }] }],
      }),
    ],
    flow: tcp(5999),
    verdict: 'Allow',
    by: ['ingress', knpRule('db')],
  },
  {
    name: 'k8s: endPort makes a range (outside)',
    res: [
      ...base,
      knp('prod', 'db', {
        podSelector: dbSel,
        policyTypes: ['Ingress'],
        ingress: [{ ports: [{ port: 5000, endPort: 6000 }] }],
      }),
    ],
    flow: tcp(6001),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'k8s: a protocol without a port allows all ports of that protocol',
    res: [
      ...base,
      knp('prod', 'db', {
        podSelector: dbSel,
        policyTypes: ['Ingress'],
        ingress: [{ ports: [{ protocol: 'UDP' }] }],
      }),
    ],
    flow: udp(31337),
    verdict: 'Allow',
    by: ['ingress', knpRule('db')],
  },
  {
    name: 'k8s: a named port resolves against the destination pod',
    res: [
      ...base,
      knp('prod', 'db', {
        podSelector: dbSel,
        policyTypes: ['Ingress'],
        ingress: [{ ports: [{ port: 'pg' }] }],
      }),
    ],
    flow: tcp(5432),
    verdict: 'Allow',
    by: ['ingress', knpRule('db')],
  },
  {
    name: 'k8s: a named port does not allow other port numbers',
    res: [
      ...base,
      knp('prod', 'db', {
        podSelector: dbSel,
        policyTypes: ['Ingress'],
        ingress: [{ ports: [{ port: 'pg' }] }],
      }),
    ],
    flow: tcp(5433),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'k8s: the union of two policies (second policy allows 443)',
    res: [
      ...base,
      knp('prod', 'a-web', {
        podSelector: dbSel,
        policyTypes: ['Ingress'],
        ingress: [{ ports: [{ port: 80 }] }],
      }),
      knp('prod', 'b-tls', {
        podSelector: dbSel,
        policyTypes: ['Ingress'],
        ingress: [{ ports: [{ port: 443 }] }],
      }),
    ],
    flow: tcp(443),
    verdict: 'Allow',
    by: ['ingress', knpRule('b-tls')],
  },
  {
    name: 'k8s: the union of two policies (first policy allows 80)',
    res: [
      ...base,
      knp('prod', 'a-web', {
        podSelector: dbSel,
        policyTypes: ['Ingress'],
        ingress: [{ ports: [{ port: 80 }] }],
      }),
      knp('prod', 'b-tls', {
        podSelector: dbSel,
        policyTypes: ['Ingress'],
        ingress: [{ ports: [{ port: 443 }] }],
      }),
    ],
    flow: tcp(80),
    verdict: 'Allow',
    by: ['ingress', knpRule('a-web')],
  },
  {
    name: 'k8s: the union of two policies (neither allows 22)',
    res: [
      ...base,
      knp('prod', 'a-web', {
        podSelector: dbSel,
        policyTypes: ['Ingress'],
        ingress: [{ ports: [{ port: 80 }] }],
      }),
      knp('prod', 'b-tls', {
        podSelector: dbSel,
        policyTypes: ['Ingress'],
        ingress: [{ ports: [{ port: 443 }] }],
      }),
    ],
    flow: tcp(22),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'k8s: several peers in one rule are ORed',
    res: [
      ...base,
      knp('prod', 'db', {
        podSelector: dbSel,
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              { ipBlock: { cidr: '1.2.3.0/24' } },
              { podSelector: { matchLabels: { role: 'api' } } },
            ],
          },
        ],
      }),
    ],
    flow: tcp(5432),
    verdict: 'Allow',
    by: ['ingress', { ...knpRule('db'), ruleIndex: 1 }],
  },
  {
    name: 'k8s: matchExpressions In selects the pod',
    res: [
      ...base,
      knp('prod', 'db', {
        podSelector: {
          matchExpressions: [{ key: 'app', operator: 'In', values: ['db', 'cache'] }],
        },
        policyTypes: ['Ingress'],
        ingress: [],
      }),
    ],
    flow: tcp(5432),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
  {
    name: 'k8s: matchExpressions DoesNotExist excludes the pod',
    res: [
      ...base,
      knp('prod', 'db', {
        podSelector: { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] },
        policyTypes: ['Ingress'],
        ingress: [],
      }),
    ],
    flow: tcp(5432),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule', profile: 'kns.prod' }],
  },
  {
    name: 'k8s: a policy in another namespace does not select the pod',
    res: [
      ...base,
      knp('other', 'deny', { podSelector: {}, policyTypes: ['Ingress'], ingress: [] }),
    ],
    flow: tcp(5432),
    verdict: 'Allow',
    by: ['ingress', { kind: 'profile-rule', profile: 'kns.prod' }],
  },
  {
    name: 'k8s: a Calico NP with order < 1000 decides before the converted policy',
    res: [
      ...base,
      knp('prod', 'db', { podSelector: dbSel, policyTypes: ['Ingress'], ingress: [{}] }),
      np('prod', 'zz-first', { order: 500, selector: "app == 'db'", ingress: [DENY] }),
    ],
    flow: tcp(5432),
    verdict: 'Deny',
    by: ['ingress', { kind: 'rule', policy: 'zz-first', action: 'Deny' }],
  },
  {
    name: 'k8s: a Calico NP with order > 1000 comes after the converted policy',
    res: [
      ...base,
      knp('prod', 'db', { podSelector: dbSel, policyTypes: ['Ingress'], ingress: [{}] }),
      np('prod', 'aa-late', { order: 2000, selector: "app == 'db'", ingress: [DENY] }),
    ],
    flow: tcp(5432),
    verdict: 'Allow',
    by: ['ingress', knpRule('db')],
  },
  {
    name: 'k8s: an unordered Calico NP comes after the converted policy',
    res: [
      ...base,
      knp('prod', 'db', { podSelector: dbSel, policyTypes: ['Ingress'], ingress: [{}] }),
      np('prod', 'aaa', { selector: "app == 'db'", ingress: [DENY] }),
    ],
    flow: tcp(5432),
    verdict: 'Allow',
    by: ['ingress', knpRule('db')],
  },
  {
    name: 'k8s: both directions must allow (egress isolated source)',
    res: [
      ...base,
      knp('prod', 'db', { podSelector: dbSel, policyTypes: ['Ingress'], ingress: [{}] }),
      knp('prod', 'api-out', {
        podSelector: { matchLabels: { role: 'api' } },
        policyTypes: ['Egress'],
        egress: [{ ports: [{ protocol: 'UDP', port: 53 }] }],
      }),
    ],
    flow: tcp(5432),
    verdict: 'Deny',
    by: ['egress', { kind: 'end-of-tier' }],
  },
  {
    name: 'k8s: a namespace label change is seen through pcns. (team a vs b)',
    res: [
      ns('prod', { team: 'a' }),
      ns('other', { team: 'c' }),
      pod('client', '10.0.0.1', { role: 'api' }, 'other'),
      db,
      knp('prod', 'db', {
        podSelector: dbSel,
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'b' } } }] }],
      }),
    ],
    flow: tcp(5432),
    verdict: 'Deny',
    by: ['ingress', { kind: 'end-of-tier' }],
  },
];

for (const c of cases) test(c.name, () => void runCase(c));
