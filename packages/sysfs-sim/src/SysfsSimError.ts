import { PassthruError } from '@passthru/hostfs';

/**
 * The one error class of @passthru/sysfs-sim. Message: "Failed <doing> <what> via <path>: <detail>".
 * Always `bad-input` (a fixture tree, host spec or snapshot folder that cannot be used).
 * `code` carries an errno when the error stands for a failed kernel write.
 */
export class SysfsSimError extends PassthruError {
  override readonly name = 'SysfsSimError';
  readonly code: string | undefined;

  constructor(doing: string, what: string, via: string | undefined, detail: string, options: { cause?: unknown; code?: string } = {}) {
    super('bad-input', `Failed ${doing} ${what}${via ? ` via ${via}` : ''}${detail ? `: ${detail}` : ''}`, { cause: options.cause });
    this.code = options.code;
  }
}
