// Policies, tiers and profiles (calico-semantics.md §2, §5, §6).

import { addProblem, dnsLabel, dnsSubdomain, type Problem, selectorString } from './formats.js';
import { k8sNetworkPolicySpecShape } from './k8s.js';
import { API_VERSION, LabelsSchema, metadataFor, resourceShape } from './meta.js';
import { rulesSchema } from './rules.js';
import * as z from './schema.js';

export const POLICY_TYPES = ['Ingress', 'Egress'] as const;
export const PolicyTypeSchema = z.enum(POLICY_TYPES);
export type PolicyType = z.infer<typeof PolicyTypeSchema>;

export const STAGED_ACTIONS = ['Set', 'Delete', 'Learn', 'Ignore'] as const;
export const StagedActionSchema = z.enum(STAGED_ACTIONS);
export type StagedAction = z.infer<typeof StagedActionSchema>;

const typesSchema = z
  .array(PolicyTypeSchema)
  .max(2)
  .superRefine((types, ctx) => {
    const seen = new Set<string>();
    types.forEach((t, i) => {
      if (seen.has(t)) addProblem(ctx, [i], 'types-duplicate', `policy type ${t} is listed twice`);
      seen.add(t);
    });
  });

const performanceHints = z.array(z.enum(['AssumeNeededOnEveryNode']));

const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const SUBDOMAIN = `${LABEL}(\\.${LABEL})*`;
const GNP_NAME = new RegExp(`^(${LABEL}\\.)?${LABEL}$`);
const NP_NAME = new RegExp(`^(${LABEL}(\\.${LABEL})?|(knp|ossg)\\.default\\.${SUBDOMAIN})$`);

/** GNP names: one DNS label, or two joined by a dot (the legacy `<tier>.<name>` form). */
export function globalPolicyName(name: string): Problem | undefined {
  const p = dnsSubdomain(name);
  if (p !== undefined) return p;
  if (!GNP_NAME.test(name))
    return { rule: 'name-dots', message: `policy name "${name}" may contain at most one '.'` };
  return undefined;
}

/** NP names: as GNP, or any subdomain behind the legacy `knp.default.` / `ossg.default.` prefixes. */
export function namespacedPolicyName(name: string): Problem | undefined {
  const p = dnsSubdomain(name);
  if (p !== undefined) return p;
  if (!NP_NAME.test(name))
    return {
      rule: 'name-dots',
      message: `policy name "${name}" may contain at most one '.' (unless it starts with knp.default. or ossg.default.)`,
    };
  return undefined;
}

function policySpecShape(global: boolean) {
  return {
    tier: withTierName().meta({ description: 'Tier the policy belongs to.', default: 'default' }),
    order: z
      .number()
      .optional()
      .meta({ description: 'Lower orders run first; absent means after every ordered policy.' }),
    selector: selectorString()
      .optional()
      .meta({ description: 'Endpoints the policy applies to; empty means all().' }),
    serviceAccountSelector: selectorString().optional(),
    types: typesSchema.optional().meta({
      description:
        'Directions the policy governs; defaulted from the rules present: Ingress unless only egress rules exist.',
    }),
    ingress: rulesSchema({ direction: 'ingress', global }).optional(),
    egress: rulesSchema({ direction: 'egress', global }).optional(),
    performanceHints: performanceHints.optional(),
  };
}

function withTierName() {
  return z
    .string()
    .check((ctx) => {
      const p = dnsLabel(ctx.value, 'tier');
      if (p !== undefined)
        ctx.issues.push({
          code: 'custom',
          input: ctx.value,
          message: p.message,
          params: { rule: 'tier-name' },
          continue: true,
        });
    })
    .optional();
}

const gnpSpecShape = {
  ...policySpecShape(true),
  namespaceSelector: selectorString().optional(),
  doNotTrack: z.boolean().optional(),
  preDNAT: z.boolean().optional(),
  applyOnForward: z.boolean().optional(),
};
const npSpecShape = policySpecShape(false);

type GnpLike = {
  preDNAT?: boolean | undefined;
  doNotTrack?: boolean | undefined;
  applyOnForward?: boolean | undefined;
  egress?: unknown[] | undefined;
  types?: string[] | undefined;
};

function checkGnpFlags(s: GnpLike, ctx: z.RefinementCtx): void {
  if (s.preDNAT === true && s.doNotTrack === true)
    addProblem(ctx, ['preDNAT'], 'prednat-donottrack', `preDNAT and doNotTrack can't both be true`);
  if (s.preDNAT === true) {
    if ((s.egress?.length ?? 0) > 0)
      addProblem(ctx, ['egress'], 'prednat-egress', `a preDNAT policy can't have egress rules`);
    s.types?.forEach((t, i) => {
      if (t === 'Egress')
        addProblem(ctx, ['types', i], 'prednat-egress', `a preDNAT policy can't have type Egress`);
    });
  }
  if ((s.preDNAT === true || s.doNotTrack === true) && s.applyOnForward !== true)
    addProblem(
      ctx,
      ['applyOnForward'],
      'apply-on-forward',
      `${s.preDNAT === true ? 'preDNAT' : 'doNotTrack'} policies need applyOnForward: true`,
    );
}

/**
 * A staged Delete names the policy to delete (and its tier); any other field would
 * be ignored, so it is refused.
 */
function checkStagedDelete(s: Record<string, unknown>, ctx: z.RefinementCtx): void {
  if (s.stagedAction !== 'Delete') return;
  for (const [k, v] of Object.entries(s)) {
    if (k === 'stagedAction' || k === 'tier' || v === undefined) continue;
    addProblem(
      ctx,
      [k],
      'staged-delete',
      `stagedAction Delete can't be combined with other spec fields; remove ${k}`,
    );
  }
}

export const GlobalNetworkPolicySpecSchema = z
  .strictObject(gnpSpecShape)
  .superRefine(checkGnpFlags);
export const NetworkPolicySpecSchema = z.strictObject(npSpecShape);
export const StagedGlobalNetworkPolicySpecSchema = z
  .strictObject({ stagedAction: StagedActionSchema.optional(), ...gnpSpecShape })
  .superRefine((s, ctx) => {
    checkGnpFlags(s, ctx);
    checkStagedDelete(s, ctx);
  });
export const StagedNetworkPolicySpecSchema = z
  .strictObject({ stagedAction: StagedActionSchema.optional(), ...npSpecShape })
  .superRefine(checkStagedDelete);
export const StagedKubernetesNetworkPolicySpecSchema = z
  .strictObject({
    stagedAction: StagedActionSchema.optional(),
    ...k8sNetworkPolicySpecShape,
    podSelector: k8sNetworkPolicySpecShape.podSelector.optional(),
  })
  .superRefine(checkStagedDelete);

export type GlobalNetworkPolicySpec = z.infer<typeof GlobalNetworkPolicySpecSchema>;
export type NetworkPolicySpec = z.infer<typeof NetworkPolicySpecSchema>;
export type StagedGlobalNetworkPolicySpec = z.infer<typeof StagedGlobalNetworkPolicySpecSchema>;
export type StagedNetworkPolicySpec = z.infer<typeof StagedNetworkPolicySpecSchema>;
export type StagedKubernetesNetworkPolicySpec = z.infer<
  typeof StagedKubernetesNetworkPolicySpecSchema
>;

export const GlobalNetworkPolicySchema = z.strictObject({
  ...resourceShape(API_VERSION, 'GlobalNetworkPolicy', metadataFor(globalPolicyName, false)),
  spec: GlobalNetworkPolicySpecSchema,
});
export const NetworkPolicySchema = z.strictObject({
  ...resourceShape(API_VERSION, 'NetworkPolicy', metadataFor(namespacedPolicyName, true)),
  spec: NetworkPolicySpecSchema,
});
export const StagedGlobalNetworkPolicySchema = z.strictObject({
  ...resourceShape(API_VERSION, 'StagedGlobalNetworkPolicy', metadataFor(globalPolicyName, false)),
  spec: StagedGlobalNetworkPolicySpecSchema,
});
export const StagedNetworkPolicySchema = z.strictObject({
  ...resourceShape(API_VERSION, 'StagedNetworkPolicy', metadataFor(namespacedPolicyName, true)),
  spec: StagedNetworkPolicySpecSchema,
});
export const StagedKubernetesNetworkPolicySchema = z.strictObject({
  ...resourceShape(API_VERSION, 'StagedKubernetesNetworkPolicy', metadataFor(dnsSubdomain, true)),
  spec: StagedKubernetesNetworkPolicySpecSchema,
});

export type GlobalNetworkPolicy = z.infer<typeof GlobalNetworkPolicySchema>;
export type NetworkPolicy = z.infer<typeof NetworkPolicySchema>;
export type StagedGlobalNetworkPolicy = z.infer<typeof StagedGlobalNetworkPolicySchema>;
export type StagedNetworkPolicy = z.infer<typeof StagedNetworkPolicySchema>;
export type StagedKubernetesNetworkPolicy = z.infer<typeof StagedKubernetesNetworkPolicySchema>;

// ---- tiers ----

export const TIER_DEFAULT_ACTIONS = ['Deny', 'Pass'] as const;

/** Tiers whose order and default action Calico fixes. */
export const RESERVED_TIERS: Readonly<
  Record<string, { order: number; defaultAction: 'Deny' | 'Pass' }>
> = {
  default: { order: 1_000_000, defaultAction: 'Deny' },
  'kube-admin': { order: 1_000, defaultAction: 'Pass' },
  'kube-baseline': { order: 10_000_000, defaultAction: 'Pass' },
};

export const TierSpecSchema = z.strictObject({
  order: z.number().optional(),
  defaultAction: z.enum(TIER_DEFAULT_ACTIONS).optional().meta({
    description: 'What happens at the end of the tier when a policy in it applied.',
    default: 'Deny',
  }),
});
export type TierSpec = z.infer<typeof TierSpecSchema>;

export const TierSchema = z
  .strictObject({
    ...resourceShape(
      API_VERSION,
      'Tier',
      metadataFor((n) => dnsLabel(n, 'tier name'), false),
    ),
    spec: TierSpecSchema,
  })
  .superRefine((t, ctx) => {
    const reserved = Object.hasOwn(RESERVED_TIERS, t.metadata.name)
      ? RESERVED_TIERS[t.metadata.name]
      : undefined;
    if (reserved === undefined) return;
    if (t.spec.order !== undefined && t.spec.order !== reserved.order)
      addProblem(
        ctx,
        ['spec', 'order'],
        'reserved-tier',
        `tier "${t.metadata.name}" is reserved and must have order ${reserved.order}`,
      );
    if (t.spec.defaultAction !== undefined && t.spec.defaultAction !== reserved.defaultAction)
      addProblem(
        ctx,
        ['spec', 'defaultAction'],
        'reserved-tier',
        `tier "${t.metadata.name}" is reserved and must have defaultAction ${reserved.defaultAction}`,
      );
  });
export type Tier = z.infer<typeof TierSchema>;

// ---- profiles ----

export const ProfileSpecSchema = z.strictObject({
  ingress: rulesSchema({ direction: 'ingress', global: true }).optional(),
  egress: rulesSchema({ direction: 'egress', global: true }).optional(),
  labelsToApply: LabelsSchema.optional(),
});
export type ProfileSpec = z.infer<typeof ProfileSpecSchema>;

export const ProfileSchema = z.strictObject({
  ...resourceShape(API_VERSION, 'Profile', metadataFor(dnsSubdomain, false)),
  spec: ProfileSpecSchema,
});
export type Profile = z.infer<typeof ProfileSchema>;
