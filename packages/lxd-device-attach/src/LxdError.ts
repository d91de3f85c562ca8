import { PassthruError, type ErrorKind } from '@passthru/hostfs';

/**
 * What went wrong, for callers that map errors to exit codes:
 * - `bad-input`: a malformed name or target, refused before any request (nothing written);
 * - `not-found`: LXD (or the host) has no such instance, project, device or PCI address;
 * - `preflight`: the change is refused by passthru's checks before anything is written;
 * - `conflict`: the instance changed between read and write (HTTP 412 on If-Match), or the
 *   device name / host device is already taken; nothing was overwritten;
 * - `unreachable`: the socket or URL does not answer (connection refused, no socket, TLS);
 * - `lxd`: LXD refused or failed the request (its message is kept);
 * - `verify`: the write returned success but re-reading the instance shows something else;
 * - `rollback`: a failed change could not be fully undone (`leftover` says what is left).
 */
export type LxdErrorReason = 'bad-input' | 'not-found' | 'preflight' | 'conflict' | 'unreachable' | 'lxd' | 'verify' | 'rollback';

export interface LxdErrorOptions {
  reason?: LxdErrorReason;
  /** HTTP status of LXD's answer (404, 412, 500...). */
  status?: number;
  /** LXD's `error_code` (an error envelope) or the operation's `status_code` (400 = Failure). */
  errorCode?: number;
  cause?: unknown;
  /** For `rollback`: what could not be undone. */
  leftover?: string[];
}

/**
 * The one error class of @passthru/lxd-device-attach (Incus wording).
 * Message shape: "Failed <doing> <what> via <socket or URL>: <LXD's or the socket's message>".
 */
export class LxdError extends PassthruError {
  override readonly name = 'LxdError';
  /** What went wrong in LXD's terms (see LxdErrorReason); `kind` is passthru's (bad-input, failed, partial). */
  readonly reason: LxdErrorReason;
  readonly doing: string;
  readonly what: string;
  readonly via: string;
  /** LXD's own message (or the socket's), without passthru's prefix. */
  readonly detail: string;
  readonly status: number | undefined;
  readonly errorCode: number | undefined;

  constructor(doing: string, what: string, via: string, detail: string, options: LxdErrorOptions = {}) {
    const reason = options.reason ?? reasonOfStatus(options.status);
    super(KIND_OF[reason], `Failed ${doing} ${what}${via ? ` via ${via}` : ''}: ${detail}`, { cause: options.cause, leftover: options.leftover ?? [] });
    this.reason = reason;
    this.doing = doing;
    this.what = what;
    this.via = via;
    this.detail = detail;
    this.status = options.status;
    this.errorCode = options.errorCode;
  }

  /** True when the instance was left as it was before the call (safe to retry). */
  get unchanged(): boolean {
    return this.reason !== 'rollback';
  }
}

/** passthru's kind of each reason: refused before a write is bad input; a failed rollback is partial. */
const KIND_OF: Record<LxdErrorReason, ErrorKind> = {
  'bad-input': 'bad-input',
  'not-found': 'bad-input',
  preflight: 'bad-input',
  conflict: 'failed',
  unreachable: 'failed',
  lxd: 'failed',
  verify: 'failed',
  rollback: 'partial',
};

function reasonOfStatus(status: number | undefined): LxdErrorReason {
  if (status === 404) return 'not-found';
  if (status === 412 || status === 409) return 'conflict';
  if (status === 400) return 'bad-input';
  return 'lxd';
}
