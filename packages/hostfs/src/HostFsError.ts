/**
 * The one error class of @passthru/hostfs. It keeps the errno code (`ENOENT`, `EBUSY`, ...) of
 * the failed system call, the host path as the caller spelled it, and the cause chain.
 * Message shape: "Failed <doing> <host path> via <real path>: <CODE> <detail>".
 */
import { PassthruError } from './PassthruError';

/** `kind` is `failed`, or `bad-input` when passthru refused to write over what is there (`refused`: nothing was written). */
export class HostFsError extends PassthruError {
  override readonly name = 'HostFsError';
  readonly code: string;
  readonly hostPath: string;
  readonly realPath: string | undefined;

  constructor(doing: string, hostPath: string, code: string, detail: string, options: { realPath?: string; cause?: unknown } = {}) {
    const via = options.realPath && options.realPath !== hostPath ? ` via ${options.realPath}` : '';
    super('failed', `Failed ${doing} ${hostPath}${via}: ${code} ${detail}`.trimEnd(), { cause: options.cause });
    this.code = code;
    this.hostPath = hostPath;
    this.realPath = options.realPath;
  }

  /** passthru refused to read or write what is there (a FIFO, a device node, a symlink out of the root): bad input, nothing written. */
  get refused(): boolean {
    return this.kind === 'bad-input';
  }

  set refused(refused: boolean) {
    this.kind = refused ? 'bad-input' : 'failed';
  }
}

/** An errno code from anything thrown by node:fs or a simulated kernel; EIO when there is none. */
export function errnoOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'EIO';
}

/** A node-style error carrying an errno code: what the simulated kernel throws for a failed write. */
export function errnoError(code: string, message: string): NodeJS.ErrnoException {
  const error = new Error(`${code}: ${message}`) as NodeJS.ErrnoException;
  error.code = code;
  return error;
}
