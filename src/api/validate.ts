// Whole-document validation: find the kind, run its schema (structure, leaf rules
// and cross-field rules all report in one pass), turn schema issues into FieldErrors
// with Calico-style paths, then apply Calico's defaults.

import { applyDefaults } from './defaults.js';
import { type FieldError, ValidationError, type ValidationResult } from './errors.js';
import {
  type AnyResource,
  type CalicoKind,
  type CalicoResource,
  type CalicoResourceByKind,
  findKind,
  K8S_KINDS,
  type K8sResource,
  KINDS,
  type KindInfo,
} from './kinds.js';
import type * as z from './schema.js';

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `spec.ingress[0].destination.ports[1]`; odd keys (label keys) as `labels["a/b"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const s = String(seg);
      out += IDENT.test(s) ? (out === '' ? s : `.${s}`) : `[${JSON.stringify(s)}]`;
    }
  }
  return out;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string')
    return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

function join(path: readonly PropertyKey[], extra: PropertyKey): string {
  return formatPath([...path, extra]);
}

function issueToErrors(issue: z.Issue): FieldError[] {
  const path = formatPath(issue.path);
  switch (issue.code) {
    case 'custom': {
      const rule = (issue.params as { rule?: unknown } | undefined)?.rule;
      return [{ path, message: issue.message, rule: typeof rule === 'string' ? rule : 'invalid' }];
    }
    case 'unrecognized_keys':
      return issue.keys.map((k) => ({
        path: join(issue.path, k),
        message: `unknown field "${k}"`,
        rule: 'unknown-field',
      }));
    case 'invalid_type':
      if (issue.input === undefined) return [{ path, message: `is required`, rule: 'required' }];
      return [
        {
          path,
          message: `expected ${issue.expected === 'int' ? 'an integer' : issue.expected}, got ${describe(issue.input)}`,
          rule: 'type',
        },
      ];
    case 'invalid_value': {
      const opts = issue.values.map((v) => JSON.stringify(v)).join(', ');
      if (issue.input === undefined) return [{ path, message: `is required`, rule: 'required' }];
      return [
        {
          path,
          message:
            issue.values.length === 1
              ? `must be ${opts}, got ${describe(issue.input)}`
              : `must be one of ${opts} (case-sensitive), got ${describe(issue.input)}`,
          rule: 'enum',
        },
      ];
    }
    case 'invalid_union':
      if (issue.input === undefined) return [{ path, message: `is required`, rule: 'required' }];
      return [
        {
          path,
          message: `expected a number or a string, got ${describe(issue.input)}`,
          rule: 'type',
        },
      ];
    case 'too_big':
    case 'too_small': {
      const big = issue.code === 'too_big';
      const bound = issue.code === 'too_big' ? issue.maximum : issue.minimum;
      const what =
        issue.origin === 'array' ? 'items' : issue.origin === 'string' ? 'characters' : undefined;
      const message =
        what === undefined
          ? `must be ${big ? 'at most' : 'at least'} ${String(bound)}, got ${describe(issue.input)}`
          : `must have ${big ? 'at most' : 'at least'} ${String(bound)} ${what}`;
      const rule =
        what === undefined
          ? 'range'
          : what === 'items'
            ? big
              ? 'max-items'
              : 'min-items'
            : big
              ? 'max-length'
              : 'min-length';
      return [{ path, message, rule }];
    }
    case 'invalid_key':
      return [{ path, message: `has an invalid key`, rule: 'type' }];
    default:
      return [{ path, message: (issue as { message: string }).message, rule: 'invalid' }];
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kindOf(doc: Record<string, unknown>, kinds: readonly KindInfo[]): KindInfo | FieldError[] {
  const { apiVersion, kind } = doc;
  const errors: FieldError[] = [];
  if (typeof kind !== 'string' || kind === '')
    errors.push({
      path: 'kind',
      message: kind === undefined ? 'is required' : `expected a string, got ${describe(kind)}`,
      rule: kind === undefined ? 'required' : 'type',
    });
  if (typeof apiVersion !== 'string' || apiVersion === '')
    errors.push({
      path: 'apiVersion',
      message:
        apiVersion === undefined ? 'is required' : `expected a string, got ${describe(apiVersion)}`,
      rule: apiVersion === undefined ? 'required' : 'type',
    });
  if (errors.length > 0) return errors;
  const found = findKind(apiVersion as string, kind as string);
  if (found !== undefined && kinds.includes(found)) return found;
  const sameKind = kinds.filter((k) => k.kind === kind);
  if (sameKind.length > 0)
    return [
      {
        path: 'apiVersion',
        message: `kind ${String(kind)} needs apiVersion ${sameKind.map((k) => k.apiVersion).join(' or ')}, got "${String(apiVersion)}"`,
        rule: 'api-version',
      },
    ];
  const caseless = kinds.find((k) => k.kind.toLowerCase() === String(kind).toLowerCase());
  return [
    {
      path: 'kind',
      message:
        caseless !== undefined
          ? `unknown kind "${String(kind)}"; kinds are case-sensitive, did you mean ${caseless.kind}?`
          : `unknown kind "${String(kind)}" for apiVersion "${String(apiVersion)}"`,
      rule: 'unknown-kind',
    },
  ];
}

function validateWith<T extends AnyResource>(
  doc: unknown,
  kinds: readonly KindInfo[],
): ValidationResult<T> {
  try {
    if (!isRecord(doc))
      return {
        ok: false,
        errors: [
          { path: '', message: `a resource must be an object, got ${describe(doc)}`, rule: 'type' },
        ],
      };
    const info = kindOf(doc, kinds);
    if (Array.isArray(info)) return { ok: false, errors: info };
    // Go decodes a missing spec as the zero value; validating `{}` then names the
    // missing required fields inside it.
    const input = doc.spec === undefined && info.apiVersion !== 'v1' ? { ...doc, spec: {} } : doc;
    const parsed = info.schema.safeParse(input);
    if (!parsed.success) return { ok: false, errors: parsed.error.issues.flatMap(issueToErrors) };
    return { ok: true, value: applyDefaults(parsed.data as T) };
  } catch (err) {
    // Schemas must not throw; if one does, report instead of crashing the caller.
    return {
      ok: false,
      errors: [
        {
          path: '',
          message: `internal validation failure: ${err instanceof Error ? err.message : String(err)}`,
          rule: 'internal',
        },
      ],
    };
  }
}

/** Validate and default one projectcalico.org/v3 document; never throws. */
export function validateResource(doc: unknown): ValidationResult<CalicoResource> {
  return validateWith<CalicoResource>(doc, KINDS);
}

/** Validate one Kubernetes Namespace or networking.k8s.io/v1 NetworkPolicy. */
export function validateK8sResource(doc: unknown): ValidationResult<K8sResource> {
  return validateWith<K8sResource>(doc, K8S_KINDS);
}

/** Validate a document of any kind calico-ts reads. */
export function validateAnyResource(doc: unknown): ValidationResult<AnyResource> {
  return validateWith<AnyResource>(doc, [...KINDS, ...K8S_KINDS]);
}

/** Validate a document that must be of one given kind. */
export function validateKind<K extends CalicoKind>(
  kind: K,
  doc: unknown,
): ValidationResult<CalicoResourceByKind[K]> {
  if (isRecord(doc) && typeof doc.kind === 'string' && doc.kind !== kind)
    return {
      ok: false,
      errors: [
        {
          path: 'kind',
          message: `expected kind ${kind}, got "${doc.kind}"`,
          rule: 'kind-mismatch',
        },
      ],
    };
  const info = KINDS.filter((k) => k.kind === kind);
  return validateWith<CalicoResourceByKind[K]>(doc, info);
}

function nameOf(doc: unknown): string | undefined {
  if (!isRecord(doc) || !isRecord(doc.metadata)) return undefined;
  return typeof doc.metadata.name === 'string' ? doc.metadata.name : undefined;
}

/** Like validateResource, but returns the defaulted resource or throws ValidationError. */
export function parseResource(doc: unknown): CalicoResource {
  const r = validateResource(doc);
  if (r.ok) return r.value;
  const kind = isRecord(doc) && typeof doc.kind === 'string' ? doc.kind : undefined;
  throw new ValidationError(r.errors, kind, nameOf(doc));
}
