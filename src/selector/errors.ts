/**
 * A selector that does not follow Calico's grammar. `column` is 1-based and counts
 * UTF-16 code units of `input`; a column one past the end means "at end of input".
 */
export class SelectorParseError extends SyntaxError {
  readonly code = 'SELECTOR_PARSE';
  readonly column: number;
  readonly expected: string;
  readonly input: string;

  constructor(input: string, column: number, expected: string) {
    super(
      `Cannot parse selector ${JSON.stringify(input)}: expected ${expected} at column ${column}`,
    );
    this.name = 'SelectorParseError';
    this.input = input;
    this.column = column;
    this.expected = expected;
  }
}
