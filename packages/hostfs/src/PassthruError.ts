/**
 * How a failure ends, the one thing every caller needs to know (the CLI maps it onto its exit
 * codes in one table):
 * - `bad-input`: the request, a file passthru was given or an output target cannot be used;
 *   refused before any write (exit 2, nothing written);
 * - `refused`: a guard or the host refused the change; nothing was written (exit 1);
 * - `failed`: the operation failed; what it changed was put back (exit 1);
 * - `partial`: it failed and could not be fully put back: `leftover` and the journal say what is left (exit 3).
 */
export type ErrorKind = 'bad-input' | 'refused' | 'failed' | 'partial';

/**
 * The one error shape of passthru's packages: a message "Failed <doing> <what> via <path>:
 * <detail>", a fixed `kind`, the cause kept. Each package's error class extends it; its `name`
 * says which package raised it, and its own fields (an errno, LXD's status, a line) say more.
 */
export class PassthruError extends Error {
  kind: ErrorKind;
  /** For `partial`: what could not be undone, one line each (an operator undoes it by hand). */
  readonly leftover: string[];

  constructor(kind: ErrorKind, message: string, options: { cause?: unknown; leftover?: string[] } = {}) {
    super(message, { cause: options.cause });
    this.kind = kind;
    this.leftover = options.leftover ?? [];
  }
}
