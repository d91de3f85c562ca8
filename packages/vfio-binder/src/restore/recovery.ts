import { HostFsError, type HostFs } from '@passthru/hostfs';
import { identityOf, type DeviceIdentity, type PciDevice, pciDevicePath, DRIVERS_PROBE, pciDriverPath } from '@passthru/pci-discovery';
import type { ApplyOptions, DeviceOutcome } from '../bind/apply';
import { VFIO_DRIVER } from '../bind/plan';
import { Journal, type JournalDevice } from '../Journal';
import { currentDriver, inTransaction, pollDriver, type Transaction } from '../transaction';
import { readOwnershipWith } from '../owners';

/**
 * A device on vfio-pci with driver_override `vfio-pci` that the journal has no readable record
 * of: what a bind leaves when its journal record was torn (a crash or a full disk under an
 * older passthru), or what another tool (driverctl) bound on purpose. The tree alone cannot
 * tell these apart, so recovery is offered, and automatic only when the journal is damaged.
 */
export interface UnrecordedDevice {
  address: string;
  identity: DeviceIdentity;
}

export interface RecoveryPlan {
  devices: UnrecordedDevice[];
  /** Unreadable journal lines (1-based): the evidence that a record may have been lost. */
  damagedLines: number[];
}

export interface RecoveryResult {
  status: 'restored' | 'noop' | 'partial';
  devices: DeviceOutcome[];
  writes: number;
}

/**
 * Devices on vfio-pci by driver_override `vfio-pci` with no readable journal record of being
 * bound by passthru (the journal read salvaging: unreadable lines are skipped), except those
 * driverctl or a libvirt domain holds (they stay where their manager put them).
 */
export function planRecovery(host: HostFs, devices: PciDevice[]): RecoveryPlan {
  const journal = new Journal(host);
  const { damaged } = journal.inspect();
  const recorded = journal.outstanding();
  // The one ownership rule: what driverctl or libvirt holds is theirs, never recovered.
  const { owners } = readOwnershipWith(host, devices, { outstanding: recorded });
  const managed = (d: PciDevice) => ['driverctl', 'libvirt'].includes(owners.get(d.address)?.kind ?? '');
  const unrecorded = devices
    .filter((d) => d.driver === VFIO_DRIVER && d.driverOverride === VFIO_DRIVER && !recorded.has(d.address) && !managed(d))
    .map((device) => ({ address: device.address, identity: identityOf(device) }));
  return { devices: unrecorded, damagedLines: damaged.map((d) => d.line) };
}

export function formatRecoveryPlan(plan: RecoveryPlan): string {
  return plan.devices
    .map(
      ({ address }) =>
        `  ${address}: vfio-pci -> the driver the kernel's id tables pick (no readable journal record; clear driver_override, unbind, drivers_probe)\n`,
    )
    .join('');
}

/**
 * Gives unrecorded devices back to their native drivers without knowing them: clear
 * driver_override, unbind from vfio-pci, write drivers_probe so the kernel matches the device
 * against the drivers' own id tables (the driver passthru took it from, unless the device was
 * bound by new_id). Journaled as a restore under the host lock; a device that no driver claims
 * ends unbound and is reported `left` with the reason.
 */
export function applyRecovery(host: HostFs, plan: RecoveryPlan, options: ApplyOptions = {}): RecoveryResult {
  if (plan.devices.length === 0) return { status: 'noop', devices: [], writes: 0 };
  const records: JournalDevice[] = plan.devices.map(({ address, identity }) => ({
    address,
    identity,
    originalDriver: null,
    originalOverride: VFIO_DRIVER,
    owner: 'passthru',
    status: 'pending',
    note: 'no readable journal record: given to the driver drivers_probe picks',
  }));
  return inTransaction(host, options, 'recovery', { operation: 'restore', devices: records }, (tx) => {
    const outcomes: DeviceOutcome[] = [];
    for (const record of [...tx.entry.devices].reverse()) {
      const outcome = recoverDevice(host, record.address, tx, options);
      record.status = outcome.status === 'left' ? 'left' : 'restored';
      record.note = outcome.note ?? `given to ${outcome.to ?? 'no driver'} by drivers_probe`;
      tx.mark(record);
      outcomes.push(outcome);
    }
    const left = outcomes.some((o) => o.status === 'left');
    tx.finish(left ? 'partial' : 'restored');
    return { status: left ? 'partial' : 'restored', devices: outcomes.reverse(), writes: tx.writes };
  });
}

function recoverDevice(host: HostFs, address: string, tx: Pick<Transaction, 'write'>, options: ApplyOptions): DeviceOutcome {
  const before = currentDriver(host, address);
  if (before === undefined)
    return { address, from: null, to: null, status: 'gone', note: 'the device is no longer present (hot-unplugged): nothing to restore' };
  try {
    tx.write(pciDevicePath(address, 'driver_override'), '\n');
    if (before) tx.write(pciDriverPath(before, 'unbind'), address);
    tx.write(DRIVERS_PROBE, address);
  } catch (error) {
    if (!(error instanceof HostFsError)) throw error;
    return { address, from: before, to: currentDriver(host, address) ?? null, status: 'left', note: error.message };
  }
  // The kernel may bind asynchronously after the probe: wait for any driver, bounded.
  const after = pollDriver(host, address, (d) => d !== null, options);
  if (after === undefined) return { address, from: before, to: null, status: 'gone', note: 'the device vanished while it was being restored' };
  if (after === null || after === VFIO_DRIVER)
    return {
      address,
      from: before,
      to: after,
      status: 'left',
      note: `no driver's id table claims it (the driver link names ${after ?? 'no driver'}); bind it to its driver by hand`,
    };
  return { address, from: before, to: after, status: 'restored' };
}
