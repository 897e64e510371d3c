/** Stable machine-readable reasons; callers branch on these, never on message text. */
export type PolicyErrorCode =
  | 'INVALID_RESOURCE'
  | 'INVALID_PROTOCOL'
  | 'INVALID_PORT'
  | 'INVALID_NET'
  | 'INVALID_SELECTOR'
  | 'INVALID_FLOW'
  | 'DUPLICATE_RESOURCE'
  | 'UNKNOWN_ENDPOINT';

/**
 * Raised when a resource or flow cannot be interpreted. The message names the
 * resource (kind, namespace/name) and the field, so a user can find the bad YAML.
 */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
  readonly code: PolicyErrorCode;

  constructor(code: PolicyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
