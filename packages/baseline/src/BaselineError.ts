/**
 * The one error class of @passthru/baseline. `bad-input`: a baseline file that cannot be read or is
 * not a baseline (exit 2, nothing compared); `failed`: writing it failed (exit 1).
 * Message: "Failed <doing> <what> via <path>: <detail>".
 */
import { PassthruError } from '@passthru/hostfs';

export class BaselineError extends PassthruError {
  override readonly name = 'BaselineError';
  constructor(kind: 'bad-input' | 'failed', message: string, options: { cause?: unknown } = {}) {
    super(kind, message, options);
  }
}
