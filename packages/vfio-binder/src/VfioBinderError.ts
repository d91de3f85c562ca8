/**
 * The one error class of @passthru/vfio-binder. `kind` maps onto the CLI's exit codes:
 * usage (2: bad input, nothing written), refused (1: a guard or precondition said no, nothing
 * written), failed (1: rolled back), partial (3: not fully rolled back; the journal says what
 * is left). Message: "Failed <doing> <what> via <path>: <detail>".
 */
export type BinderErrorKind = 'usage' | 'refused' | 'failed' | 'partial';

export class VfioBinderError extends Error {
  override readonly name = 'VfioBinderError';

  constructor(
    readonly kind: BinderErrorKind,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}
