/**
 * The one error class of @passthru/baseline. `usage`: a baseline file that cannot be read or is
 * not a baseline (exit 2, nothing compared); `failed`: writing it failed (exit 1).
 * Message: "Failed <doing> <what> via <path>: <detail>".
 */
export class BaselineError extends Error {
  override readonly name = 'BaselineError';
  constructor(
    readonly kind: 'usage' | 'failed',
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}
