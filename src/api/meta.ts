import { addProblem, dnsLabel, labelValue, type Problem, qualifiedName } from './formats.js';
import * as z from './schema.js';

export const API_VERSION = 'projectcalico.org/v3';
export const MAX_ANNOTATIONS_BYTES = 256 * 1024;

export const LabelsSchema = z.record(z.string(), z.string()).superRefine((labels, ctx) => {
  for (const [k, v] of Object.entries(labels)) {
    const pk = qualifiedName(k);
    if (pk !== undefined) addProblem(ctx, [k], pk.rule, pk.message);
    const pv = labelValue(v);
    if (pv !== undefined) addProblem(ctx, [k], pv.rule, pv.message);
  }
});
export type Labels = Record<string, string>;

export const AnnotationsSchema = z.record(z.string(), z.string()).superRefine((ann, ctx) => {
  let size = 0;
  for (const [k, v] of Object.entries(ann)) {
    size += Buffer.byteLength(k) + Buffer.byteLength(v);
    // Kubernetes checks annotation keys case-insensitively in the prefix.
    const pk = qualifiedName(k, false);
    if (pk !== undefined) addProblem(ctx, [k], 'annotation-key', pk.message);
  }
  if (size > MAX_ANNOTATIONS_BYTES)
    addProblem(
      ctx,
      [],
      'annotations-too-large',
      `annotations total ${size} bytes; at most ${MAX_ANNOTATIONS_BYTES} are allowed`,
    );
});

const metaShape = {
  name: z.string(),
  namespace: z.string().optional(),
  generateName: z.string().optional(),
  labels: LabelsSchema.optional(),
  annotations: AnnotationsSchema.optional(),
  resourceVersion: z.string().optional(),
  uid: z.string().optional(),
  creationTimestamp: z.union([z.string(), z.null()]).optional(),
  deletionTimestamp: z.union([z.string(), z.null()]).optional(),
  generation: z.int().optional(),
  finalizers: z.array(z.string()).optional(),
  ownerReferences: z.array(z.looseObject({})).optional(),
};

/**
 * Unknown metadata fields (managedFields, …) are kept so a round trip through
 * calico-ts never loses what another tool wrote.
 */
export const ObjectMetaSchema = z.looseObject(metaShape);
export type ObjectMeta = z.infer<typeof ObjectMetaSchema>;

export type NameRule = (name: string) => Problem | undefined;

/** Metadata of one kind: its name rule and whether it lives in a namespace. */
export function metadataFor(nameRule: NameRule, namespaced: boolean) {
  return z.looseObject(metaShape).superRefine((m, ctx) => {
    const p = nameRule(m.name);
    if (p !== undefined) addProblem(ctx, ['name'], p.rule, p.message);
    if (namespaced) {
      if (m.namespace !== undefined && m.namespace !== '') {
        const pn = dnsLabel(m.namespace, 'namespace');
        if (pn !== undefined) addProblem(ctx, ['namespace'], 'namespace-format', pn.message);
      }
    } else if (m.namespace !== undefined && m.namespace !== '') {
      addProblem(
        ctx,
        ['namespace'],
        'namespace-not-allowed',
        `this kind is cluster-scoped; remove namespace "${m.namespace}"`,
      );
    }
  });
}

/** Resource shape shared by every kind: literal apiVersion and kind, metadata, spec. */
export function resourceShape<K extends string, V extends string, M extends z.ZodType>(
  apiVersion: V,
  kind: K,
  metadata: M,
) {
  return {
    apiVersion: z.literal(apiVersion),
    kind: z.literal(kind),
    metadata,
  };
}
