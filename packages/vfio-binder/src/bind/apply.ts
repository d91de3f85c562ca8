import { HostFsError, type HostFs } from '@passthru/hostfs';
import { VFIO_DRIVER, type BindPlan, type PlannedDevice } from './plan';
import type { LockOptions } from '../HostLock';
import { JOURNAL_PATH, type JournalDevice } from '../Journal';
import { isForeign, unrestorableOverride } from '../owners';
import { currentDriver, inTransaction, waitForDriver, type PollOptions } from '../transaction';
import { VfioBinderError } from '../VfioBinderError';
import { pciDevicePath, DRIVERS_PROBE, pciDriverPath } from '@passthru/pci-discovery';

export interface ApplyOptions extends PollOptions {
  clock?: () => Date;
  lock?: LockOptions;
  /** Take over devices another manager holds (bind only): the journal records them as adopted. */
  adopt?: boolean;
  /** Called before each device: long runs (hundreds of VFs) print a line per device. */
  onDevice?: (device: PlannedDevice, index: number, total: number) => void;
}

export interface DeviceOutcome {
  address: string;
  from: string | null;
  to: string | null;
  status: 'bound' | 'already-bound' | 'restored' | 'left' | 'gone' | 'untouched';
  note?: string;
}

export interface ApplyResult {
  status: 'applied' | 'noop' | 'rolled-back' | 'partial';
  journalId: string | null;
  devices: DeviceOutcome[];
  writes: number;
  error?: string;
}

function currentOverride(host: HostFs, address: string): string | null {
  try {
    const value = host.readAttributeIfExists(pciDevicePath(address, 'driver_override'));
    return value === undefined || value === '(null)' || value === '' ? null : value;
  } catch {
    return null;
  }
}

/**
 * Puts one device back as the journal recorded it: its override, then its driver (explicit
 * bind to the original driver, drivers_probe as the fallback), verified by the driver link.
 * Returns the outcome; never throws for kernel errors (they become status 'left' with a note).
 */
export function restoreDevice(
  host: HostFs,
  record: JournalDevice,
  writer: { write(path: string, data: string): void },
  options: ApplyOptions = {},
): DeviceOutcome {
  const { address, originalDriver } = record;
  const before = currentDriver(host, address);
  if (before === undefined)
    return { address, from: null, to: null, status: 'gone', note: 'the device is no longer present (hot-unplugged): nothing to restore' };
  // An override the kernel refuses (PAGE_SIZE-1 bytes or more) is not written back: cleared instead, and said.
  const cannot = record.unrestorable ?? unrestorableOverride(record.originalOverride);
  const originalOverride = cannot ? null : record.originalOverride;
  // pci_bus_match lets driver_override decide alone: an override naming another driver than the
  // original one would make the bind fail, so it is written after the bind (as it was set: late).
  const late = originalOverride !== null && originalDriver !== null && originalOverride !== originalDriver;
  try {
    const first = late ? null : originalOverride;
    if (currentOverride(host, address) !== first) writer.write(pciDevicePath(address, 'driver_override'), first ?? '\n');
    if (before !== originalDriver) {
      if (before) writer.write(pciDriverPath(before, 'unbind'), address);
      if (originalDriver) {
        try {
          writer.write(pciDriverPath(originalDriver, 'bind'), address);
        } catch (error) {
          // The explicit bind can fail where a probe succeeds (the driver matched by a dynamic id).
          if (!(error instanceof HostFsError) || currentDriver(host, address) !== null) throw error;
          writer.write(DRIVERS_PROBE, address);
        }
      }
    }
    if (late && waitForDriver(host, address, originalDriver, options)) writer.write(pciDevicePath(address, 'driver_override'), originalOverride);
  } catch (error) {
    if (!(error instanceof HostFsError)) throw error;
    const now = currentDriver(host, address);
    if (now === undefined) return { address, from: before, to: null, status: 'gone', note: 'the device vanished while it was being restored' };
    return { address, from: before, to: now, status: 'left', note: error.message };
  }
  if (!waitForDriver(host, address, originalDriver, options)) {
    const now = currentDriver(host, address);
    if (now === undefined) return { address, from: before, to: null, status: 'gone', note: 'the device vanished while it was being restored' };
    return { address, from: before, to: now, status: 'left', note: `the driver link names ${now ?? 'no driver'}, expected ${originalDriver ?? 'no driver'}` };
  }
  return { address, from: before, to: originalDriver, status: 'restored', ...(cannot ? { note: `could not put back: ${cannot}; it is cleared` } : {}) };
}

function journalDevice(d: PlannedDevice): JournalDevice {
  return {
    address: d.address,
    identity: d.identity,
    originalDriver: d.originalDriver,
    originalOverride: d.originalOverride,
    status: 'pending',
    owner: isForeign(d.owner) ? 'adopted' : 'passthru',
    ...(isForeign(d.owner) ? { adoptedFrom: d.owner.summary } : {}),
    ...(d.unrestorable ? { unrestorable: d.unrestorable } : {}),
  };
}

/**
 * Refuses (nothing written) a plan that holds devices another manager owns, unless `adopt`;
 * also every device whose original state could not be put back (it has a foreign override).
 */
export function refuseForeign(plan: BindPlan, adopt: boolean | undefined): void {
  const foreign = plan.devices.filter((d) => isForeign(d.owner));
  if (foreign.length === 0 || adopt) return;
  const why = foreign.map((d) => `${d.address} is held by ${d.owner!.summary}${d.unrestorable ? ` (and ${d.unrestorable})` : ''}`).join('; ');
  throw new VfioBinderError(
    'refused',
    `Failed planning bind via /sys/bus/pci/devices/*/driver_override: ${why}; passthru changes another manager's device only with --adopt (the journal then keeps its original state for restore)`,
  );
}

/**
 * Loads the plan's modules (vfio-pci) before anything else is written, and checks that the
 * driver is there after: a module that cannot load refuses the bind with the module loader's
 * reason and no write. The module stays loaded (LXD, Incus and driverctl leave it so too).
 */
function loadModules(host: HostFs, plan: BindPlan): void {
  for (const module of plan.modules) {
    try {
      host.loadModule(module);
    } catch (error) {
      if (!(error instanceof HostFsError)) throw error;
      throw new VfioBinderError('refused', `${error.message}; nothing was written (see passthru doctor: vfio.modules)`, { cause: error });
    }
  }
  if (!host.exists(pciDriverPath(VFIO_DRIVER))) {
    throw new VfioBinderError(
      'refused',
      `Failed binding to vfio-pci via ${pciDriverPath(VFIO_DRIVER)}: the vfio-pci driver is not registered${plan.modules.length ? ' although modprobe vfio-pci succeeded' : ''}; nothing was written (see passthru doctor: vfio.modules)`,
    );
  }
}

/**
 * Applies a bind plan under the host lock: journal first (fsynced), then per device the
 * planned writes and a verify of the driver link; on any failure every touched device is
 * put back in reverse order and verified. Result status: applied, noop, rolled-back (exit 1)
 * or partial (exit 3: the journal lists what is left, and `restore` finishes it).
 */
export function applyBind(host: HostFs, plan: BindPlan, options: ApplyOptions = {}): ApplyResult {
  refuseForeign(plan, options.adopt);
  if (plan.noop) {
    return {
      status: 'noop',
      journalId: null,
      writes: 0,
      devices: plan.devices.map((d) => ({ address: d.address, from: d.originalDriver, to: VFIO_DRIVER, status: 'already-bound' })),
    };
  }
  // Adopted devices are journaled even when already on vfio-pci: restore gives them back to their owner's state.
  const todo = plan.devices.filter((d) => !d.alreadyBound || isForeign(d.owner));
  const begin = {
    operation: 'bind' as const,
    devices: todo.map(journalDevice),
    extra: plan.modules.length > 0 ? { modulesLoaded: plan.modules } : {},
    prepare: () => loadModules(host, plan),
  };
  return inTransaction(host, options, 'bind', begin, (tx) => {
    const outcomes: DeviceOutcome[] = plan.devices
      .filter((d) => !todo.includes(d))
      .map((d) => ({ address: d.address, from: d.originalDriver, to: VFIO_DRIVER, status: 'already-bound' }));
    const rolled: DeviceOutcome[] = [];
    let unjournalled: string | undefined;
    const record = (write: () => void) => {
      try {
        write();
      } catch (error) {
        if (!(error instanceof HostFsError)) throw error;
        unjournalled ??= error.code;
      }
    };
    let failure: string | undefined;
    for (const [index, device] of todo.entries()) {
      options.onDevice?.(device, index, todo.length);
      const journalled = tx.entry.devices[index]!;
      try {
        // The device is marked touched (fsynced) before its first write: rollback and a
        // restore after a crash must consider it.
        journalled.status = 'bound';
        try {
          tx.mark(journalled);
        } catch (error) {
          journalled.status = 'pending';
          if (!(error instanceof HostFsError)) throw error;
          throw new VfioBinderError(
            'failed',
            `Failed journalling ${device.address} before binding it via ${JOURNAL_PATH}: ${error.message}; ${device.address} was not touched`,
            { cause: error },
          );
        }
        // Undone newest first: the device back as the journal recorded it. The rollback goes on
        // when the journal cannot record it (a full disk): the devices matter more than the record.
        tx.onUndo(() => {
          const outcome = restoreDevice(host, journalled, tx, options);
          journalled.status = outcome.status === 'restored' || outcome.status === 'gone' ? 'restored' : 'left';
          if (outcome.note) journalled.note = outcome.note;
          record(() => tx.mark(journalled));
          rolled.push(outcome);
        });
        for (const w of device.writes) tx.write(w.path, w.data);
        if (!waitForDriver(host, device.address, VFIO_DRIVER, options)) {
          const now = currentDriver(host, device.address);
          throw new VfioBinderError(
            'failed',
            `Failed binding ${device.address} to vfio-pci via ${pciDevicePath(device.address, 'driver')}: ${now === undefined ? 'the device vanished' : `the driver link names ${now ?? 'no driver'} after the probe`}`,
          );
        }
        const adopted = isForeign(device.owner)
          ? { note: `adopted from ${device.owner.summary}${device.unrestorable ? `; restore cannot put back: ${device.unrestorable}` : ''}` }
          : {};
        outcomes.push({
          address: device.address,
          from: device.originalDriver,
          to: VFIO_DRIVER,
          status: device.alreadyBound ? 'already-bound' : 'bound',
          ...adopted,
        });
      } catch (error) {
        if (!(error instanceof HostFsError) && !(error instanceof VfioBinderError)) throw error;
        failure = error instanceof HostFsError ? `Failed binding ${device.address} to vfio-pci: ${error.message}` : error.message;
        break;
      }
    }
    if (failure === undefined) {
      try {
        tx.finish('applied');
        return { status: 'applied', journalId: tx.entry.id, writes: tx.writes, devices: outcomes };
      } catch (error) {
        if (!(error instanceof HostFsError)) throw error;
        // A bind the journal cannot call finished is not reported as done: it is rolled back.
        failure = `Failed journalling the end of the bind via ${JOURNAL_PATH}: ${error.message}`;
      }
    }
    tx.undo();
    const untouched = tx.entry.devices
      .filter((d) => d.status === 'pending')
      .map((d): DeviceOutcome => ({ address: d.address, from: d.originalDriver, to: d.originalDriver, status: 'untouched' }));
    // A device that vanished needs no restore, but the host is not as it was: say so (exit 3).
    const state = rolled.some((o) => o.status === 'left' || o.status === 'gone') ? 'partial' : 'rolled-back';
    record(() => tx.finish(state));
    const devices = [...outcomes.filter((o) => o.status === 'already-bound'), ...rolled.reverse(), ...untouched];
    const note = unjournalled
      ? `; the journal could not record the rollback (${unjournalled}): once ${JOURNAL_PATH} can be written, \`passthru restore --all\` brings it up to date`
      : '';
    return { status: state, journalId: tx.entry.id, writes: tx.writes, devices, error: `${failure}${note}` };
  });
}
