/** Exit codes of the CLI contract (docs/architecture.md): scripts and CI depend on them. */
export const EXIT = {
  ok: 0,
  /** A check failed, or an operation failed and was rolled back. */
  failed: 1,
  /** Usage or bad input: nothing was written. */
  usage: 2,
  /** An operation failed and could not be fully rolled back; the journal says what is left. */
  partial: 3,
} as const;

/** An error the CLI reports as one line on stderr with its exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}
