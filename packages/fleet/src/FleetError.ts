import { PassthruError } from '@passthru/hostfs';

/**
 * - `bad-input`: unknown member, not a cluster, a server without per-member `user.*` config or
 *   cluster groups, a malformed target: refused before any write (nothing written);
 * - `conflict`: the member kept changing under every retry (ETag), nothing overwritten;
 * - `failed`: LXD refused or failed a request.
 */
export type FleetErrorReason = 'bad-input' | 'conflict' | 'failed';

/** The one error class of @passthru/fleet: "Failed <doing> <what> via <socket or URL>: <why>". */
export class FleetError extends PassthruError {
  override readonly name = 'FleetError';
  constructor(
    doing: string,
    what: string,
    via: string,
    readonly detail: string,
    readonly reason: FleetErrorReason = 'failed',
    options: { cause?: unknown } = {},
  ) {
    super(reason === 'bad-input' ? 'bad-input' : 'failed', `Failed ${doing} ${what}${via ? ` via ${via}` : ''}: ${detail}`, options);
  }
}
