import { BaselineError } from '@passthru/baseline';
import { HostFsError } from '@passthru/hostfs';
import { IommuCheckError } from '@passthru/iommu-check';
import { LxdError } from '@passthru/lxd-device-attach';
import { PciDiscoveryError } from '@passthru/pci-discovery';
import { SysfsSimError } from '@passthru/sysfs-sim';
import { VfioBinderError } from '@passthru/vfio-binder';
import { z } from 'zod';

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
 * - hostfs: a read or write of the host failed: 1;
 * - anything else (a bug, or a system error no package wrapped): 1.
 */
export function toCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  const wrap = (code: number, message = (error as Error).message) => new CliError(message, code, { cause: error });
  if (error instanceof VfioBinderError) return wrap({ usage: EXIT.usage, refused: EXIT.failed, failed: EXIT.failed, partial: EXIT.partial }[error.kind]);
  if (error instanceof LxdError) {
    const code = error.kind === 'bad-input' || error.kind === 'not-found' || error.kind === 'preflight' ? EXIT.usage : error.kind === 'rollback' ? EXIT.partial : EXIT.failed;
    const leftover = error.leftover.length ? `\nleft to undo by hand:\n${error.leftover.map((l) => `  ${l}`).join('\n')}` : '';
    return wrap(code, `${error.message}${leftover}`);
  }
  if (error instanceof BaselineError) return wrap(error.kind === 'usage' ? EXIT.usage : EXIT.failed);
  if (error instanceof IommuCheckError || error instanceof PciDiscoveryError || error instanceof SysfsSimError) return wrap(EXIT.usage);
  if (error instanceof z.core.$ZodError) return wrap(EXIT.usage, `Failed validating input: ${error.issues.map((i) => `${i.path.join('.') || '(value)'} ${i.message}`).join('; ')}`);
  if (error instanceof HostFsError) return wrap(EXIT.failed);
  if (error instanceof Error) return wrap(EXIT.failed);
  return new CliError(String(error), EXIT.failed, { cause: error });
}
