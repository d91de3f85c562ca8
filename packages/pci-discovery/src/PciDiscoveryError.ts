import { PassthruError } from '@passthru/hostfs';

/**
 * The one error class of @passthru/pci-discovery. Message shape:
 * "Failed <doing> <what> via <via>: <detail>", where the detail defaults to the first line of
 * the cause's message so a bare `String(error)` still says why; the full cause chain is kept
 * in `cause`. Always `bad-input`: a text it was given cannot be read (the pci.ids database; lspci's
 * output, which the test tooling in tools/peers parses and reports with this class).
 */
export class PciDiscoveryError extends PassthruError {
  override readonly name = 'PciDiscoveryError';
  readonly doing: string;
  readonly what: string;
  readonly via: string | undefined;
  /** The message after "Failed <doing> <what> via <via>: " (for callers that word the prefix their own way). */
  readonly detail: string | undefined;

  constructor(doing: string, what: string, via: string | undefined, options: { cause?: unknown; detail?: string } = {}) {
    const detail = options.detail ?? firstLineOf(options.cause);
    super('bad-input', `Failed ${doing} ${what}${via ? ` via ${via}` : ''}${detail ? `: ${detail}` : ''}`, { cause: options.cause });
    this.doing = doing;
    this.what = what;
    this.via = via;
    this.detail = detail;
  }
}

function firstLineOf(cause: unknown): string | undefined {
  if (cause instanceof Error) return cause.message.split('\n', 1)[0] || undefined;
  return undefined;
}
