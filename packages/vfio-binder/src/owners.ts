import { HostFsError, type HostFs } from '@passthru/hostfs';
import type { PciDevice } from '@passthru/pci-discovery';
import { VFIO_DRIVER } from './bind/plan';
import { libvirtHostdevs } from './bind/guards';
import type { JournalRecords } from './journalRecords';
import { pciDevicePath } from '@passthru/pci-discovery';

/** driverctl keeps one override per device: /etc/driverctl.d/<bus>-<device> holds the driver name. */
export const DRIVERCTL_DIR = '/etc/driverctl.d';
/** driver_set_override: a write of PAGE_SIZE - 1 bytes or more is EINVAL (PAGE_SIZE 4096). */
export const MAX_OVERRIDE_BYTES = 4094;

/**
 * Who holds a device. passthru: bound by passthru (the journal says so); adopted: another
 * manager's device that `bind --adopt` took over (the journal keeps its original state); the
 * others are foreign owners passthru never restores and changes only with `--adopt`:
 * libvirt (a domain with `<hostdev managed='yes'>`), driverctl (/etc/driverctl.d), a
 * driver_override passthru did not write, or other (on vfio-pci by vfio-pci.ids, new_id, a
 * vfio manager or a DRA driver: not by passthru).
 */
export type OwnerKind = 'passthru' | 'adopted' | 'libvirt' | 'driverctl' | 'driver_override' | 'other';

export interface DeviceOwner {
  kind: OwnerKind;
  /** One line for a person: who holds it and how that was seen. */
  summary: string;
  /** What was read to decide it. */
  evidence: string[];
}

export const isForeign = (owner: DeviceOwner | null | undefined): owner is DeviceOwner =>
  owner !== null && owner !== undefined && owner.kind !== 'passthru' && owner.kind !== 'adopted';

/** Why an original driver_override cannot be written back (null: it can). */
export function unrestorableOverride(override: string | null): string | null {
  if (override === null) return null;
  const bytes = Buffer.byteLength(override);
  if (bytes > MAX_OVERRIDE_BYTES)
    return `driver_override held ${bytes} bytes; the kernel refuses overrides of PAGE_SIZE-1 (4095) bytes or more (EINVAL), so it cannot be written back`;
  return null;
}

function readDriverctl(host: HostFs, address: string): string | undefined {
  try {
    return host.readTextIfExists(`${DRIVERCTL_DIR}/pci-${address}`)?.trim();
  } catch (error) {
    if (error instanceof HostFsError) return undefined;
    throw error;
  }
}

export interface Ownership {
  /** The devices someone holds (absent: the host's own driver, nobody's in particular). */
  owners: Map<string, DeviceOwner>;
  /** The journal could not be read: passthru's own devices may show as foreign. */
  journalError?: string;
}

/**
 * Who holds each device: the journal's outstanding records first (passthru's, adopted), then
 * the foreign managers' evidence, read once: domain XMLs under /etc/libvirt/qemu and
 * /run/libvirt/qemu, /etc/driverctl.d, each device's driver_override and driver. The caller reads
 * the journal (readJournalRecords, or loadJournalRecords, which loads its reader and zod only when
 * there is a journal); readOwnership reads it itself.
 */
export function readOwnershipWith(host: HostFs, devices: PciDevice[], journal: JournalRecords): Ownership {
  const owners = new Map<string, DeviceOwner>();
  const { outstanding, error: journalError } = journal;
  const managed = libvirtHostdevs(host).filter((h) => h.managed);
  const hasDriverctl = host.exists(DRIVERCTL_DIR);
  for (const d of devices) {
    const ours = outstanding.get(d.address);
    if (ours) {
      const adopted = ours.device.owner === 'adopted';
      owners.set(d.address, {
        kind: ours.device.owner,
        summary: adopted ? `passthru (adopted from ${ours.device.adoptedFrom ?? 'another manager'})` : 'passthru',
        evidence: [`/var/lib/passthru/journal.jsonl: ${adopted ? 'adopted' : 'bound'} by passthru`],
      });
      continue;
    }
    const evidence: string[] = [];
    let kind: OwnerKind | undefined;
    let summary = '';
    const domains = managed.filter((h) => h.address === d.address);
    if (domains.length) {
      kind = 'libvirt';
      summary = `libvirt (managed='yes' in ${domains.map((h) => h.file).join(', ')})`;
      evidence.push(...domains.map((h) => `${h.file}: <hostdev mode='subsystem' type='pci' managed='yes'> ${d.address}`));
    }
    const driverctl = hasDriverctl ? readDriverctl(host, d.address) : undefined;
    if (driverctl !== undefined) {
      if (!kind) {
        kind = 'driverctl';
        summary = `driverctl (override ${driverctl || '(empty)'} in ${DRIVERCTL_DIR}/pci-${d.address})`;
      }
      evidence.push(`${DRIVERCTL_DIR}/pci-${d.address} = ${driverctl}`);
    }
    if (d.driverOverride !== null) {
      const shown = d.driverOverride.length > 40 ? `${d.driverOverride.slice(0, 40)}... (${Buffer.byteLength(d.driverOverride)} bytes)` : d.driverOverride;
      if (!kind) {
        kind = 'driver_override';
        summary = `a driver_override passthru did not write (${shown})`;
      }
      evidence.push(`${pciDevicePath(d.address, 'driver_override')} = ${shown}`);
    }
    if (d.driver === VFIO_DRIVER) {
      if (!kind) {
        kind = 'other';
        summary = 'on vfio-pci, not bound by passthru (vfio-pci.ids, new_id or another manager)';
      }
      evidence.push(`${pciDevicePath(d.address, 'driver')} -> ${VFIO_DRIVER}, no passthru journal record`);
    }
    if (kind) owners.set(d.address, { kind, summary, evidence });
  }
  return journalError === undefined ? { owners } : { owners, journalError };
}
