/**
 * A failure calicoctl reports to its user: the message is the whole story (one line,
 * or one line per problem for input validation) and the process exits with `exitCode`.
 */
export class CtlError extends Error {
  override readonly name = 'CtlError';
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}
