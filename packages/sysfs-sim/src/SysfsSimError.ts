/**
 * The one error class of @passthru/sysfs-sim. Message: "Failed <doing> <what> via <path>: <detail>".
 * `code` carries an errno when the error stands for a failed kernel write.
 */
export class SysfsSimError extends Error {
  override readonly name = 'SysfsSimError';
  readonly code: string | undefined;

  constructor(doing: string, what: string, via: string | undefined, detail: string, options: { cause?: unknown; code?: string } = {}) {
    super(`Failed ${doing} ${what}${via ? ` via ${via}` : ''}${detail ? `: ${detail}` : ''}`, { cause: options.cause });
    this.code = options.code;
  }
}
