/**
 * The one error class of @passthru/boot-config.
 * Message shape: "Failed <doing> <what> via <path>[:<line>]: <detail>", the cause chain kept.
 * `path` is the host path as a live host spells it (/etc/default/grub), `line` is 1-based.
 */
import { PassthruError } from '@passthru/hostfs';

/** Always `bad-input`: a configuration file that cannot be understood or edited safely is raised while planning, before any write. */
export class BootConfigError extends PassthruError {
  override readonly name = 'BootConfigError';
  readonly doing: string;
  readonly what: string;
  readonly path: string;
  readonly line: number | undefined;
  readonly detail: string;

  constructor(doing: string, what: string, path: string, detail: string, options: { line?: number; cause?: unknown } = {}) {
    const at = options.line === undefined ? path : `${path}:${options.line}`;
    super('bad-input', `Failed ${doing} ${what} via ${at}: ${detail}`.trimEnd(), { cause: options.cause });
    this.doing = doing;
    this.what = what;
    this.path = path;
    this.line = options.line;
    this.detail = detail;
  }
}
