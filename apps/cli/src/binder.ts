import { readIommuGroups, type IommuGroup, type PciDevice } from '@passthru/pci-discovery';
import type { ApplyOptions, DeviceOutcome } from '@passthru/vfio-binder';
import { CliError, EXIT } from './CliError';
import type { CliContext } from './context';
import { scanHost } from './names';
import { paint, progressLine, renderTable } from './output';

export function hostState(ctx: CliContext): { devices: PciDevice[]; groups: IommuGroup[] } {
  const { devices } = scanHost(ctx);
  return { devices, groups: readIommuGroups(ctx.host, devices) };
}

/** A progress line per device on a terminal (long runs: hundreds of VFs); nothing otherwise. */
export function progressOptions(ctx: CliContext): ApplyOptions {
  const tty = Boolean((ctx.out.stderr as { isTTY?: boolean }).isTTY) && ctx.out.color;
  return {
    lock: { onTakeover: (message) => ctx.note(`passthru: ${message}`) },
    onDevice: (device, index, total) => {
      if (tty) progressLine(ctx.out, `[${index + 1}/${total}] ${device.address} ${device.originalDriver ?? '(none)'} -> vfio-pci`);
      if (tty && index + 1 === total) ctx.out.stderr.write('\n');
      ctx.verbose(`binding ${device.address} (${index + 1}/${total})`);
    },
  };
}

export function outcomeTable(ctx: CliContext, outcomes: DeviceOutcome[]): string {
  const colour = { bound: 'green', restored: 'green', 'already-bound': 'gray', untouched: 'gray', left: 'red', gone: 'yellow' } as const;
  return renderTable(
    ['ADDRESS', 'FROM', 'TO', 'STATUS', 'NOTE'],
    outcomes.map((o) => [o.address, o.from ?? '-', o.to ?? '-', paint(ctx.out, colour[o.status], o.status), o.note ?? '']),
  );
}

/** Live changes need --yes: this machine's drivers are about to move. */
export function requireConsent(ctx: CliContext, yes: boolean | undefined, what: string): void {
  if (ctx.host.isLive && !yes) {
    throw new CliError(`${what} changes drivers on this machine: re-run with --yes to proceed, or --dry-run to see the plan`, EXIT.usage);
  }
}
