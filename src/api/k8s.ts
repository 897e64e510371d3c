// The two Kubernetes documents calico-ts reads: v1 Namespace (labels feed namespace
// selectors) and networking.k8s.io/v1 NetworkPolicy (converted by the policy engine).
// Only shape and validity live here; conversion belongs to the policy floor.

import {
  addProblem,
  cidrOrIpString,
  dnsSubdomain,
  ianaPortName,
  isProblem,
  labelValue,
  qualifiedName,
  tryParseCidrOrIp,
  withRule,
} from './formats.js';
import { LabelsSchema, metadataFor, resourceShape } from './meta.js';
import * as z from './schema.js';

export const LabelSelectorRequirementSchema = z
  .strictObject({
    key: withRule(z.string(), (k) => qualifiedName(k)),
    operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
    values: z.array(withRule(z.string(), labelValue)).optional(),
  })
  .superRefine((r, ctx) => {
    const n = r.values?.length ?? 0;
    if ((r.operator === 'In' || r.operator === 'NotIn') && n === 0)
      addProblem(ctx, ['values'], 'selector-values', `operator ${r.operator} needs values`);
    if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && n > 0)
      addProblem(ctx, ['values'], 'selector-values', `operator ${r.operator} takes no values`);
  });

/** Kubernetes label selector (matchLabels AND matchExpressions). */
export const LabelSelectorSchema = z.strictObject({
  matchLabels: LabelsSchema.optional(),
  matchExpressions: z.array(LabelSelectorRequirementSchema).optional(),
});
export type LabelSelector = z.infer<typeof LabelSelectorSchema>;

export const IPBlockSchema = z
  .strictObject({
    cidr: cidrOrIpString(),
    except: z.array(cidrOrIpString()).optional(),
  })
  .superRefine((b, ctx) => {
    const outer = tryParseCidrOrIp(b.cidr);
    if (isProblem(outer)) return;
    (b.except ?? []).forEach((e, i) => {
      const inner = tryParseCidrOrIp(e);
      if (isProblem(inner)) return;
      if (inner.family !== outer.family)
        addProblem(
          ctx,
          ['except', i],
          'ip-family-mix',
          `except "${e}" is not in the family of cidr`,
        );
    });
  });

export const NetworkPolicyPeerSchema = z
  .strictObject({
    podSelector: LabelSelectorSchema.optional(),
    namespaceSelector: LabelSelectorSchema.optional(),
    ipBlock: IPBlockSchema.optional(),
  })
  .superRefine((p, ctx) => {
    if (
      p.ipBlock !== undefined &&
      (p.podSelector !== undefined || p.namespaceSelector !== undefined)
    )
      addProblem(
        ctx,
        ['ipBlock'],
        'ipblock-exclusive',
        `ipBlock can't be combined with podSelector or namespaceSelector`,
      );
    if (p.ipBlock === undefined && p.podSelector === undefined && p.namespaceSelector === undefined)
      addProblem(
        ctx,
        [],
        'peer-empty',
        `a peer needs at least one of podSelector, namespaceSelector or ipBlock`,
      );
  });

export const NetworkPolicyPortSchema = z
  .strictObject({
    protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(),
    port: z.union([z.int(), z.string()]).optional(),
    endPort: z.int().min(1).max(65535).optional(),
  })
  .superRefine((p, ctx) => {
    // Kubernetes IntOrString: a number 1-65535, or a string that is a port name
    // (a numeric string is a name that fails the name rules, as in Kubernetes).
    if (typeof p.port === 'number' && (p.port < 1 || p.port > 65535))
      addProblem(ctx, ['port'], 'port-range', `port ${p.port} must be 1-65535`);
    if (typeof p.port === 'string') {
      const bad = ianaPortName(p.port);
      if (bad !== undefined) addProblem(ctx, ['port'], bad.rule, bad.message);
    }
    if (p.endPort !== undefined) {
      if (typeof p.port !== 'number')
        addProblem(ctx, ['endPort'], 'end-port', `endPort needs a numeric port`);
      else if (p.endPort < p.port)
        addProblem(ctx, ['endPort'], 'end-port', `endPort must not be less than port`);
    }
  });

export const K8sIngressRuleSchema = z.strictObject({
  from: z.array(NetworkPolicyPeerSchema).optional(),
  ports: z.array(NetworkPolicyPortSchema).optional(),
});
export const K8sEgressRuleSchema = z.strictObject({
  to: z.array(NetworkPolicyPeerSchema).optional(),
  ports: z.array(NetworkPolicyPortSchema).optional(),
});

const policyTypes = () =>
  z
    .array(z.enum(['Ingress', 'Egress']))
    .max(2)
    .superRefine((t, ctx) => {
      if (t.length === 2 && t[0] === t[1])
        addProblem(ctx, [1], 'types-duplicate', `policy type ${t[1]} is listed twice`);
    });

export const k8sNetworkPolicySpecShape = {
  podSelector: LabelSelectorSchema,
  ingress: z.array(K8sIngressRuleSchema).optional(),
  egress: z.array(K8sEgressRuleSchema).optional(),
  policyTypes: policyTypes().optional(),
};

export const K8sNetworkPolicySpecSchema = z.strictObject(k8sNetworkPolicySpecShape);

export const K8sNetworkPolicySchema = z.strictObject({
  ...resourceShape('networking.k8s.io/v1', 'NetworkPolicy', metadataFor(dnsSubdomain, true)),
  spec: K8sNetworkPolicySpecSchema,
  status: z.looseObject({}).optional(),
});
export type K8sNetworkPolicy = z.infer<typeof K8sNetworkPolicySchema>;

export const K8sNamespaceSchema = z.strictObject({
  ...resourceShape(
    'v1',
    'Namespace',
    metadataFor((n) => dnsSubdomainLabel(n), false),
  ),
  spec: z.looseObject({ finalizers: z.array(z.string()).optional() }).optional(),
  status: z.looseObject({}).optional(),
});
export type K8sNamespace = z.infer<typeof K8sNamespaceSchema>;

function dnsSubdomainLabel(n: string) {
  // Namespace names are DNS labels (no dots).
  const p = dnsSubdomain(n);
  if (p !== undefined) return p;
  if (n.includes('.') || n.length > 63)
    return {
      rule: 'name-format',
      message: `namespace name "${n}" must be a DNS-1123 label (no dots, at most 63 characters)`,
    };
  return undefined;
}
