import type { CheckStatus, DoctorReport, HostIdentity, RunChecksOptions } from '@passthru/iommu-check';
import type { CliContext } from '../../context';
import type { Colour } from '../../render/output';

// What `doctor` says about the host besides its checks: the live host's identity, the verdict
// line and the host line.

export const STATUS_COLOUR: Record<CheckStatus, Colour> = { PASS: 'green', WARN: 'yellow', FAIL: 'red', SKIP: 'gray' };

/**
 * Board, BIOS and "is this a VM" of the live host from systeminformation (dmidecode / DMI with
 * its own VM detection). Best effort: a failure leaves the facts to the DMI files.
 */
export async function liveIdentity(ctx: CliContext): Promise<RunChecksOptions['identity']> {
  try {
    const si = await import('systeminformation');
    const [system, bios, board] = await Promise.all([si.system(), si.bios(), si.baseboard()]);
    const join = (...parts: Array<string | undefined>): string | undefined => {
      const s = parts
        .map((p) => (p ?? '').trim())
        .filter((p) => p !== '' && p !== '-')
        .join(' ');
      return s === '' ? undefined : s;
    };
    const identity: NonNullable<RunChecksOptions['identity']> = {};
    const b = join(board.manufacturer, board.model);
    const v = join(bios.vendor, bios.version);
    if (b !== undefined) identity.board = b;
    if (v !== undefined) identity.bios = v;
    // systeminformation's `virtual` misses some hypervisors (Firecracker): the CPU flag decides too.
    if (system.virtual) identity.isVirtualMachine = true;
    return identity;
  } catch (error) {
    ctx.verbose(`systeminformation failed: ${(error as Error).message}`);
    return {};
  }
}

export function headline(report: DoctorReport): string {
  const failed = report.checks.filter((c) => c.status === 'FAIL');
  const warned = report.checks.filter((c) => c.status === 'WARN');
  if (report.verdict === 'not-ready')
    return `NOT READY for passthrough: ${failed.length} check${failed.length === 1 ? '' : 's'} failed (${failed.map((c) => c.id).join(', ')})`;
  if (report.verdict === 'incomplete') {
    return `INCOMPLETE: no check failed, but ${report.absent.join(', ')} ${report.absent.length === 1 ? 'is' : 'are'} not in this tree, so readiness cannot be shown (${report.checks.filter((c) => c.status === 'SKIP').length} checks skipped)`;
  }
  if (report.verdict === 'ready-with-warnings')
    return `READY with ${warned.length} warning${warned.length === 1 ? '' : 's'} (${warned.map((c) => c.id).join(', ')})`;
  return 'READY for passthrough: every check passed';
}

export function hostLine(h: HostIdentity): string {
  const parts = [
    `CPU ${h.cpuModel ?? h.cpuVendor}${h.virtualization ? ` (${h.virtualization})` : ' (no vmx/svm)'}`,
    h.kernelRelease ? `kernel ${h.kernelRelease}` : undefined,
    h.board ? `board ${h.board}` : undefined,
    h.bios ? `BIOS ${h.bios}` : undefined,
    h.isVirtualMachine ? 'this host is a virtual machine (nested passthrough needs a virtual IOMMU)' : undefined,
  ];
  return `Host: ${parts.filter((p) => p !== undefined).join('; ')}`;
}
