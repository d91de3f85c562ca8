import { PassthruError, type ErrorKind } from '@passthru/hostfs';

/**
 * The one error class of @passthru/vfio-binder, with passthru's fixed `kind`: bad-input (2:
 * nothing written), refused (1: a guard or precondition said no, nothing written), failed (1:
 * rolled back), partial (3: not fully rolled back; the journal says what is left).
 * Message: "Failed <doing> <what> via <path>: <detail>".
 */
export class VfioBinderError extends PassthruError {
  override readonly name = 'VfioBinderError';

  constructor(kind: ErrorKind, message: string, options: { cause?: unknown } = {}) {
    super(kind, message, options);
  }
}
