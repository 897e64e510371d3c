/** Stable machine-readable reasons; callers branch on these, never on message text. */
export type IpParseErrorCode =
  | 'INVALID_IP'
  | 'INVALID_CIDR'
  | 'HOST_BITS_SET'
  | 'PREFIX_OUT_OF_RANGE'
  | 'FAMILY_MISMATCH';

/**
 * Raised for text that is not an acceptable address or CIDR. It is a SyntaxError so
 * that generic handlers treat it as bad input rather than an internal fault.
 */
export class IpParseError extends SyntaxError {
  override readonly name = 'IpParseError';
  readonly code: IpParseErrorCode;
  /** the exact text that was rejected */
  readonly input: string;
  /** 1-based column of the offending character, when one can be named */
  readonly column: number | undefined;

  constructor(code: IpParseErrorCode, input: string, message: string, column?: number) {
    super(message);
    this.code = code;
    this.input = input;
    this.column = column;
  }
}

/**
 * Quotes input for an error message, shortened so that a megabyte of garbage does not
 * become a megabyte of log line (the full text stays on the error's `input`).
 */
export function quoteInput(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}
