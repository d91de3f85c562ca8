/** Exit codes of the CLI contract (docs/architecture.md): scripts and CI depend on them. */
export const EXIT = {
  ok: 0,
  /** A check failed, or an operation failed and was rolled back. */
  failed: 1,
  /** Usage or bad input: nothing was written. */
  usage: 2,
  /** An operation failed and could not be fully rolled back; the journal says what is left. */
  partial: 3,
} as const;

/** An error the CLI reports as one line on stderr with its exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

/**
 * The one mapping of errors onto the exit codes, applied where commands run (cli.ts): commands
 * throw their packages' errors as they are. The package error is kept as `cause`.
 * - vfio-binder: by `kind` (usage 2, refused 1, failed 1, partial 3);
 * - lxd-device-attach: bad input, unknown names and refused preflight are 2 (nothing written);
 *   a conflict, an unreachable LXD, LXD's refusal or a verified-and-rolled-back failure are 1;
 *   a failed rollback is 3, with what is left to undo by hand;
 * - iommu-check: a boot-loader, modprobe or initramfs file (or a --device) that cannot be
 *   understood is raised while planning, before any write: 2;
 * - pci-discovery: the pci.ids database or lspci text it was given cannot be read: 2;
 * - sysfs-sim: a fixture tree, host spec or snapshot folder that cannot be used: 2;
 * - baseline: a baseline file that cannot be read or is not one: 2; writing one failed: 1;
 * - zod: data at a boundary has the wrong shape: 2;
 * - fleet: bad input 2 (nothing written), anything else 1;
 * - hostfs: a read or write of the host failed: 1;
 * - anything else (a bug, or a system error no package wrapped): 1.
 */
export function toCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  const wrap = (code: number, message = (error as Error).message) => new CliError(message, code, { cause: error });
  // By the packages' error names, not their classes: importing every package here would make
  // each command load all of them (and zod) at start-up.
  if (isError(error, 'VfioBinderError'))
    return wrap({ usage: EXIT.usage, refused: EXIT.failed, failed: EXIT.failed, partial: EXIT.partial }[error.kind as string] ?? EXIT.failed);
  if (isError(error, 'LxdError')) {
    const code =
      error.kind === 'bad-input' || error.kind === 'not-found' || error.kind === 'preflight'
        ? EXIT.usage
        : error.kind === 'rollback'
          ? EXIT.partial
          : EXIT.failed;
    const left = (error.leftover as string[] | undefined) ?? [];
    const leftover = left.length ? `\nleft to undo by hand:\n${left.map((l) => `  ${l}`).join('\n')}` : '';
    return wrap(code, `${error.message}${leftover}`);
  }
  if (isError(error, 'FleetError')) return wrap(error.kind === 'bad-input' ? EXIT.usage : EXIT.failed);
  if (isError(error, 'BaselineError')) return wrap(error.kind === 'usage' ? EXIT.usage : EXIT.failed);
  if (isError(error, 'IommuCheckError') || isError(error, 'PciDiscoveryError') || isError(error, 'SysfsSimError')) return wrap(EXIT.usage);
  // An output file passthru refused to write over (not a regular file): nothing was written.
  if (isError(error, 'HostFsError') && error.refused === true) return wrap(EXIT.usage);
  if (isError(error, 'ZodError') && Array.isArray(error.issues)) {
    const issues = error.issues as Array<{ path: PropertyKey[]; message: string }>;
    return wrap(EXIT.usage, `Failed validating input: ${issues.map((i) => `${i.path.map(String).join('.') || '(value)'} ${i.message}`).join('; ')}`);
  }
  if (error instanceof Error) return wrap(EXIT.failed);
  return new CliError(String(error), EXIT.failed, { cause: error });
}

/** An Error of the given class name (each package's base error sets `name`), with its fields. */
function isError(error: unknown, name: string): error is Error & Record<string, unknown> {
  return error instanceof Error && error.name === name;
}
