import { PassthruError } from '@passthru/hostfs';

/**
 * The one error class of @passthru/exporters: an output file could not be written, or the host
 * could not be read into a report. Message: "Failed <doing> <what> via <path>: <detail>".
 */
export class ExportersError extends PassthruError {
  override readonly name = 'ExportersError';

  constructor(message: string, options: { cause?: unknown } = {}) {
    super('failed', message, options);
  }
}
