import type { CalicoResource } from './kinds.js';

/** One broken rule at one place in a document. */
export interface FieldError {
  /** where, e.g. `spec.ingress[0].destination.ports[1]`; empty for the document itself */
  path: string;
  /** what is wrong, readable without the path */
  message: string;
  /** stable id of the rule broken, e.g. `port-needs-protocol`; callers branch on this */
  rule: string;
}

export type ValidationResult<T = CalicoResource> =
  | { ok: true; value: T }
  | { ok: false; errors: FieldError[] };

/**
 * A document failed validation. Carries every error of the document, so a user fixes
 * them all in one round instead of one per attempt.
 */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  readonly code = 'VALIDATION';
  readonly errors: readonly FieldError[];
  /** kind of the rejected document when it could be told, else undefined */
  readonly kind: string | undefined;
  /** metadata.name of the rejected document when it could be told */
  readonly resourceName: string | undefined;

  constructor(errors: readonly FieldError[], kind?: string, resourceName?: string) {
    super(formatValidationMessage(errors, kind, resourceName));
    this.errors = errors;
    this.kind = kind;
    this.resourceName = resourceName;
  }
}

export function formatFieldError(e: FieldError): string {
  return `${e.path === '' ? '(document)' : e.path}: ${e.message} [${e.rule}]`;
}

function formatValidationMessage(
  errors: readonly FieldError[],
  kind: string | undefined,
  name: string | undefined,
): string {
  const what = kind === undefined ? 'resource' : name === undefined ? kind : `${kind} "${name}"`;
  const head = `${what} is invalid (${errors.length} error${errors.length === 1 ? '' : 's'}):`;
  return [head, ...errors.map((e) => `  - ${formatFieldError(e)}`)].join('\n');
}

/** Stable reasons a manifest could not be read at all (before any validation). */
export type ManifestParseErrorCode = 'YAML_SYNTAX' | 'JSON_SYNTAX' | 'BAD_LIST' | 'NOT_AN_OBJECT';

/** Text that is not a readable manifest. Lines and columns are 1-based. */
export class ManifestParseError extends SyntaxError {
  override readonly name = 'ManifestParseError';
  readonly code: ManifestParseErrorCode;
  readonly source: string;
  /** 0-based index of the document in the stream */
  readonly documentIndex: number;
  readonly line: number;
  readonly column: number;

  constructor(
    code: ManifestParseErrorCode,
    detail: string,
    where: { source: string; documentIndex: number; line: number; column: number },
  ) {
    super(
      `${where.source}:${where.line}:${where.column}: document ${where.documentIndex}: ${detail}`,
    );
    this.code = code;
    this.source = where.source;
    this.documentIndex = where.documentIndex;
    this.line = where.line;
    this.column = where.column;
  }
}
