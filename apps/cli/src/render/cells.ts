import type { PciDevice } from '@passthru/pci-discovery';
import { isForeign, loadJournalRecords, readOwnershipWith, type DeviceOwner } from '@passthru/vfio-binder';
import { CliError, EXIT } from '../CliError';
import type { CliContext } from '../context';
import { paint, type Output } from './output';

// Table cells and checks shared by `list` and `groups`.

/** `--tree` draws; JSON has no tree form here (the report has one: `passthru report --format json`). */
export function refuseJsonTree(format: string): void {
  if (format === 'json') throw new CliError('--tree draws the table view; for the topology as JSON use `passthru report --format json`', EXIT.usage);
}

export function driverCell(out: Output, d: PciDevice): string {
  if (!d.driver) return paint(out, 'gray', '-');
  return d.driver === 'vfio-pci' ? paint(out, 'green', d.driver) : d.driver;
}

/**
 * Who holds each device; a journal passthru cannot read is said on stderr (owners may then show as
 * foreign). The journal's reader (zod validates each line) is loaded only when there is a journal.
 */
export async function ownersOf(ctx: CliContext, devices: PciDevice[]): Promise<Map<string, DeviceOwner>> {
  const { owners, journalError } = readOwnershipWith(ctx.host, devices, await loadJournalRecords(ctx.host));
  if (journalError) ctx.note(`passthru: warning: ${journalError}`);
  return owners;
}

/** The OWNER cell: passthru, passthru (adopted from ...), or the foreign manager (yellow). */
export function ownerCell(out: Output, owner: DeviceOwner | undefined): string {
  if (!owner) return paint(out, 'gray', '-');
  const text = owner.kind === 'passthru' ? 'passthru' : owner.kind === 'adopted' ? 'passthru (adopted)' : owner.kind === 'other' ? 'not passthru' : owner.kind;
  return isForeign(owner) ? paint(out, 'yellow', text) : text;
}
