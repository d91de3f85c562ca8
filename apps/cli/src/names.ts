import { existsSync } from 'node:fs';
import { PciIds, findPciIdsFile, scanPciDevices, type PciScan } from '@passthru/pci-discovery';
import { CliError } from './CliError';
import type { CliContext } from './context';

/**
 * The pci.ids of this machine (or --pci-ids FILE). Names are a convenience: when no database
 * is found the numeric ids stay the truth and the scan goes on without names. A named file
 * that is not a regular file, or is too large, is bad input (PciIds.fromFile says why).
 */
export function loadNames(ctx: CliContext): PciIds | undefined {
  const explicit = ctx.options.pciIds;
  if (explicit === '') throw new CliError('--pci-ids must name a file (got an empty path)');
  if (explicit && !existsSync(explicit)) throw new CliError(`--pci-ids ${explicit}: no such file`);
  const file = findPciIdsFile(existsSync, explicit);
  if (!file) {
    ctx.verbose('no pci.ids found (apt-get install pciutils, or --pci-ids FILE): showing numeric ids only');
    return undefined;
  }
  ctx.verbose(`device names from ${file}`);
  return PciIds.fromFile(file);
}

/** Scans the host's PCI devices with names, and says on stderr what could not be read. */
export function scanHost(ctx: CliContext): PciScan {
  const scan = scanPciDevices(ctx.host, loadNames(ctx));
  for (const problem of scan.problems) ctx.note(`passthru: warning: ${problem.message}`);
  return scan;
}
