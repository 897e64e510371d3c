// IP pools, reservations, IPAM configuration and the IPAM internals (blocks,
// affinities, handles) that the IPAM floor stores as resources (calico-dataplane.md §10).

import { type Cidr, cidrOverlaps, parseCidr } from '../net/index.js';
import {
  addProblem,
  cidrOrIpString,
  dnsSubdomain,
  isProblem,
  type Problem,
  selectorString,
  strictCidrString,
  tryParseStrictCidr,
  uint32,
  withRule,
} from './formats.js';
import { API_VERSION, metadataFor, resourceShape } from './meta.js';
import * as z from './schema.js';

export const ENCAP_MODES = ['Never', 'Always', 'CrossSubnet'] as const;
export const EncapModeSchema = z.enum(ENCAP_MODES);
export type EncapMode = z.infer<typeof EncapModeSchema>;

export const IPPOOL_USES = ['Workload', 'Tunnel', 'LoadBalancer'] as const;
export const IPPoolUseSchema = z.enum(IPPOOL_USES);
export type IPPoolUse = z.infer<typeof IPPoolUseSchema>;

export const BLOCK_SIZE_RANGE = { 4: { min: 20, max: 32 }, 6: { min: 116, max: 128 } } as const;
export const DEFAULT_BLOCK_SIZE = { 4: 26, 6: 122 } as const;

const LINK_LOCAL: readonly Cidr[] = [parseCidr('169.254.0.0/16'), parseCidr('fe80::/10')];

function overlapsLinkLocal(c: Cidr): boolean {
  return LINK_LOCAL.some((ll) => ll.family === c.family && cidrOverlaps(ll, c));
}

export const IPPoolSpecSchema = z
  .strictObject({
    cidr: strictCidrString(),
    vxlanMode: EncapModeSchema.optional().meta({ default: 'Never' }),
    ipipMode: EncapModeSchema.optional().meta({ default: 'Never' }),
    natOutgoing: z.boolean().optional(),
    disabled: z.boolean().optional(),
    disableBGPExport: z.boolean().optional(),
    blockSize: z.int().optional().meta({
      description:
        'Prefix length of the blocks: 20-32 (default 26) for IPv4, 116-128 (default 122) for IPv6.',
    }),
    nodeSelector: selectorString()
      .optional()
      .meta({ description: 'Nodes that may allocate from this pool.', default: 'all()' }),
    namespaceSelector: selectorString().optional(),
    allowedUses: z
      .array(IPPoolUseSchema)
      .optional()
      .meta({ default: ['Workload', 'Tunnel'] }),
    assignmentMode: z.enum(['Automatic', 'Manual']).optional().meta({ default: 'Automatic' }),
  })
  .superRefine((s, ctx) => {
    const c = tryParseStrictCidr(s.cidr);
    if (!isProblem(c)) {
      if (overlapsLinkLocal(c))
        addProblem(
          ctx,
          ['cidr'],
          'pool-link-local',
          `pool ${s.cidr} overlaps the link-local range ${c.family === 4 ? '169.254.0.0/16' : 'fe80::/10'}`,
        );
      const range = BLOCK_SIZE_RANGE[c.family];
      const blockSize = s.blockSize ?? DEFAULT_BLOCK_SIZE[c.family];
      if (blockSize < range.min || blockSize > range.max)
        addProblem(
          ctx,
          ['blockSize'],
          'block-size',
          `blockSize ${blockSize} must be ${range.min}-${range.max} for an IPv${c.family} pool`,
        );
      else if (c.prefixLength > blockSize && s.disabled !== true)
        addProblem(
          ctx,
          ['cidr'],
          'pool-smaller-than-block',
          `pool ${s.cidr} is smaller than one /${blockSize} block; use a larger pool, a larger blockSize, or disabled: true`,
        );
      if (c.family === 6 && (s.ipipMode ?? 'Never') !== 'Never')
        addProblem(
          ctx,
          ['ipipMode'],
          'ipip-v6',
          `IPIP encapsulation is only supported for IPv4 pools`,
        );
    }
    if ((s.ipipMode ?? 'Never') !== 'Never' && (s.vxlanMode ?? 'Never') !== 'Never')
      addProblem(
        ctx,
        ['vxlanMode'],
        'ipip-vxlan-exclusive',
        `ipipMode and vxlanMode can't both be enabled on one pool`,
      );
    const seen = new Set<string>();
    s.allowedUses?.forEach((u, i) => {
      if (seen.has(u)) addProblem(ctx, ['allowedUses', i], 'duplicate', `use ${u} is listed twice`);
      seen.add(u);
    });
    // Load-balancer pools hand out service IPs from every node: no encapsulation,
    // no workload or tunnel addresses, no node restriction.
    if (seen.has('LoadBalancer')) {
      s.allowedUses?.forEach((u, i) => {
        if (u !== 'LoadBalancer')
          addProblem(
            ctx,
            ['allowedUses', i],
            'pool-load-balancer',
            `LoadBalancer can't be combined with ${u} in one pool`,
          );
      });
      for (const f of ['ipipMode', 'vxlanMode'] as const) {
        if ((s[f] ?? 'Never') !== 'Never')
          addProblem(ctx, [f], 'pool-load-balancer', `a LoadBalancer pool can't use ${f} ${s[f]}`);
      }
      if (
        s.nodeSelector !== undefined &&
        s.nodeSelector.trim() !== '' &&
        s.nodeSelector.trim() !== 'all()'
      )
        addProblem(
          ctx,
          ['nodeSelector'],
          'pool-load-balancer',
          `a LoadBalancer pool must have nodeSelector all()`,
        );
    }
  });
export type IPPoolSpec = z.infer<typeof IPPoolSpecSchema>;

export const IPPoolSchema = z.strictObject({
  ...resourceShape(API_VERSION, 'IPPool', metadataFor(dnsSubdomain, false)),
  spec: IPPoolSpecSchema,
  status: z.looseObject({}).optional(),
});
export type IPPool = z.infer<typeof IPPoolSchema>;

export const IPReservationSchema = z.strictObject({
  ...resourceShape(API_VERSION, 'IPReservation', metadataFor(dnsSubdomain, false)),
  spec: z.strictObject({ reservedCIDRs: z.array(cidrOrIpString()).optional() }),
});
export type IPReservation = z.infer<typeof IPReservationSchema>;

function singleton(name: string): Problem | undefined {
  return name === 'default'
    ? undefined
    : { rule: 'singleton-name', message: `this kind has a single resource, named "default"` };
}

export const IPAMConfigurationSpecSchema = z
  .strictObject({
    strictAffinity: z.boolean().optional().meta({ default: false }),
    maxBlocksPerHost: z
      .int()
      .min(0)
      .max(2147483647)
      .optional()
      .meta({ description: 'Blocks one host may claim; 0 means no limit.', default: 0 }),
    autoAllocateBlocks: z.boolean().optional().meta({ default: true }),
    ipCooldownSeconds: z.int().min(0).max(1200).optional(),
    kubeVirtVMAddressPersistence: z.enum(['Enabled', 'Disabled']).optional(),
  })
  .superRefine((s, ctx) => {
    if (s.strictAffinity !== true && s.autoAllocateBlocks === false)
      addProblem(
        ctx,
        ['autoAllocateBlocks'],
        'auto-allocate-or-strict',
        `autoAllocateBlocks: false needs strictAffinity: true, or no host could get addresses`,
      );
  });
export type IPAMConfigurationSpec = z.infer<typeof IPAMConfigurationSpecSchema>;

export const IPAMConfigurationSchema = z.strictObject({
  ...resourceShape(API_VERSION, 'IPAMConfiguration', metadataFor(singleton, false)),
  spec: IPAMConfigurationSpecSchema,
});
export type IPAMConfiguration = z.infer<typeof IPAMConfigurationSchema>;

// ---- IPAM internals ----

/** Handle IDs come from CNI container IDs and node names, so they are looser than names. */
function handleName(name: string): Problem | undefined {
  return /^[A-Za-z0-9._:-]{1,253}$/.test(name)
    ? undefined
    : { rule: 'name-format', message: `handle "${name}" must be 1-253 of [A-Za-z0-9._:-]` };
}

export const AllocationAttributeSchema = z.looseObject({
  handle_id: z.string().optional(),
  secondary: z.record(z.string(), z.string()).optional(),
  alternateOwnerAttrs: z.record(z.string(), z.string()).optional(),
  releasedAt: z.string().optional(),
});
export type AllocationAttribute = z.infer<typeof AllocationAttributeSchema>;

export const IPAMBlockSpecSchema = z
  .strictObject({
    cidr: strictCidrString(),
    affinity: withRule(z.string(), (a) =>
      /^(host|virtual):.+$/.test(a)
        ? undefined
        : { rule: 'affinity', message: `affinity "${a}" must be host:<node> or virtual:<name>` },
    ).optional(),
    affinityClaimTime: z.string().optional(),
    strictAffinity: z.boolean().optional(),
    allocations: z.array(z.union([z.int().min(0), z.null()])),
    unallocated: z.array(z.int().min(0)),
    attributes: z.array(AllocationAttributeSchema),
    sequenceNumber: z.int().min(0).optional(),
    sequenceNumberForAllocation: z.record(z.string(), z.int().min(0)).optional(),
    deleted: z.boolean().optional(),
  })
  .superRefine((s, ctx) => {
    const c = tryParseStrictCidr(s.cidr);
    if (isProblem(c)) return;
    const size = 2 ** ((c.family === 4 ? 32 : 128) - c.prefixLength);
    if (s.allocations.length !== size)
      addProblem(
        ctx,
        ['allocations'],
        'block-allocations',
        `a ${s.cidr} block needs exactly ${size} allocation slots, got ${s.allocations.length}`,
      );
    s.allocations.forEach((a, i) => {
      if (a !== null && a >= s.attributes.length)
        addProblem(
          ctx,
          ['allocations', i],
          'block-allocations',
          `attribute index ${a} does not exist`,
        );
    });
    s.unallocated.forEach((o, i) => {
      if (o >= size)
        addProblem(ctx, ['unallocated', i], 'block-ordinal', `ordinal ${o} is outside the block`);
    });
  });
export type IPAMBlockSpec = z.infer<typeof IPAMBlockSpecSchema>;

export const IPAMBlockSchema = z.strictObject({
  ...resourceShape(API_VERSION, 'IPAMBlock', metadataFor(dnsSubdomain, false)),
  spec: IPAMBlockSpecSchema,
});
export type IPAMBlock = z.infer<typeof IPAMBlockSchema>;

export const BlockAffinitySpecSchema = z.strictObject({
  state: z.enum(['', 'pending', 'confirmed', 'pendingDeletion']),
  node: z.string().min(1),
  type: z.enum(['host', 'virtual']).optional(),
  cidr: strictCidrString(),
  deleted: z.boolean().optional(),
});
export type BlockAffinitySpec = z.infer<typeof BlockAffinitySpecSchema>;

export const BlockAffinitySchema = z.strictObject({
  ...resourceShape(API_VERSION, 'BlockAffinity', metadataFor(dnsSubdomain, false)),
  spec: BlockAffinitySpecSchema,
});
export type BlockAffinity = z.infer<typeof BlockAffinitySchema>;

export const IPAMHandleSpecSchema = z.strictObject({
  handleID: z.string().min(1),
  block: z.record(z.string(), uint32()),
  deleted: z.boolean().optional(),
});
export type IPAMHandleSpec = z.infer<typeof IPAMHandleSpecSchema>;

export const IPAMHandleSchema = z.strictObject({
  ...resourceShape(API_VERSION, 'IPAMHandle', metadataFor(handleName, false)),
  spec: IPAMHandleSpecSchema,
});
export type IPAMHandle = z.infer<typeof IPAMHandleSchema>;

export { singleton as singletonName };
