import { PassthruError, type ErrorKind } from '@passthru/hostfs';

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

/** The one table: every package error's `kind` (hostfs's PassthruError) onto an exit code. */
const EXIT_OF_KIND: Record<ErrorKind, number> = { 'bad-input': EXIT.usage, refused: EXIT.failed, failed: EXIT.failed, partial: EXIT.partial };

/**
 * The one mapping of errors onto the exit codes, applied where commands run (cli.ts): commands
 * throw their packages' errors as they are, and every package error is a PassthruError whose
 * `kind` says how it ended (bad-input 2, refused 1, failed 1, partial 3); what is left to undo
 * by hand (`leftover`) is printed under the message. A zod error at a boundary is bad input (2);
 * anything else (a bug, or a system error no package wrapped) is 1. The package error is kept
 * as `cause`.
 */
export function toCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  const wrap = (code: number, message = (error as Error).message) => new CliError(message, code, { cause: error });
  if (error instanceof PassthruError) {
    const leftover = error.leftover.length ? `\nleft to undo by hand:\n${error.leftover.map((l) => `  ${l}`).join('\n')}` : '';
    return wrap(EXIT_OF_KIND[error.kind], `${error.message}${leftover}`);
  }
  if (isError(error, 'ZodError') && Array.isArray(error.issues)) {
    const issues = error.issues as Array<{ path: PropertyKey[]; message: string }>;
    return wrap(EXIT.usage, `Failed validating input: ${issues.map((i) => `${i.path.map(String).join('.') || '(value)'} ${i.message}`).join('; ')}`);
  }
  if (error instanceof Error) return wrap(EXIT.failed);
  return new CliError(String(error), EXIT.failed, { cause: error });
}

/** An Error of the given class name (each package's base error sets `name`), with its fields. */
function isError(error: unknown, name: string): error is Error & Record<string, unknown> {
  return error instanceof Error && error.name === name;
}
