import type { HostFs } from '@passthru/hostfs';
import type { PciDevice } from '@passthru/pci-discovery';
import { currentDriver, restoreDevice, type ApplyOptions, type DeviceOutcome } from './applyBind';
import { identityOf, type DeviceIdentity } from './BindPlan';
import { Journal, acquireHostLock, type JournalDevice } from './Journal';
import { VfioBinderError } from './VfioBinderError';

export interface RestorePlan {
  devices: Array<{ record: JournalDevice; current: string | null | undefined }>;
}

export interface RestoreResult {
  status: 'restored' | 'noop' | 'partial';
  devices: DeviceOutcome[];
  writes: number;
}

/** Differences that mean an address now names another device (renumbering after a change). */
export function identityMismatch(recorded: DeviceIdentity, device: PciDevice): string[] {
  const now = identityOf(device);
  return (['vendorId', 'deviceId', 'subsystemVendorId', 'subsystemDeviceId', 'class'] as const)
    .filter((k) => recorded[k] !== now[k])
    .map((k) => `${k} was ${recorded[k] ?? 'none'}, is ${now[k] ?? 'none'}`);
}

/**
 * What `restore` would put back: the journal's outstanding devices, all of them or those the
 * chosen addresses name. Refuses (nothing written) when an address now names another device.
 */
export function planRestore(host: HostFs, devices: PciDevice[], chosen: string[] | 'all'): RestorePlan {
  const outstanding = new Journal(host).outstanding();
  const byAddress = new Map(devices.map((d) => [d.address, d]));
  const addresses = chosen === 'all' ? [...outstanding.keys()] : chosen;
  const missing = addresses.filter((a) => !outstanding.has(a));
  if (chosen !== 'all' && missing.length) {
    throw new VfioBinderError('usage', `Failed planning restore of ${missing.join(', ')} via /var/lib/passthru/journal.jsonl: passthru has no record of binding it (nothing to restore; \`passthru bind\` journals what it changes)`);
  }
  const planned = addresses.map((address) => ({ record: outstanding.get(address)!.device, current: currentDriver(host, address) }));
  for (const { record } of planned) {
    const device = byAddress.get(record.address);
    const changed = device ? identityMismatch(record.identity, device) : [];
    if (changed.length) {
      throw new VfioBinderError('refused', `Failed planning restore of ${record.address}: the address now names another device (${changed.join('; ')}); refusing to touch it`);
    }
  }
  return { devices: planned };
}

export function formatRestorePlan(plan: RestorePlan): string {
  if (plan.devices.length === 0) return 'Nothing to restore: the journal lists no device left on vfio-pci.\n';
  return (
    plan.devices
      .map(({ record, current }) =>
        current === undefined
          ? `  ${record.address}: gone (hot-unplugged), nothing to do`
          : `  ${record.address}: ${current ?? '(no driver)'} -> ${record.originalDriver ?? '(no driver)'}${record.originalOverride ? ` (override ${record.originalOverride})` : ', clear driver_override'}`,
      )
      .join('\n') + '\n'
  );
}

/** Restores the planned devices in reverse bind order under the host lock, journaled. */
export function applyRestore(host: HostFs, plan: RestorePlan, options: ApplyOptions = {}): RestoreResult {
  if (plan.devices.length === 0) return { status: 'noop', devices: [], writes: 0 };
  const release = acquireHostLock(host, options.lock);
  try {
    const journal = new Journal(host, options.clock);
    const entry = journal.begin('restore', plan.devices.map(({ record }) => ({ ...record, status: 'pending' as const })));
    let writes = 0;
    const writer = {
      write: (path: string, data: string) => {
        writes++;
        host.writeAttribute(path, data);
      },
    };
    const outcomes: DeviceOutcome[] = [];
    for (const record of [...entry.devices].reverse()) {
      const outcome = restoreDevice(host, record, writer, options);
      record.status = outcome.status === 'left' ? 'left' : 'restored';
      if (outcome.note) record.note = outcome.note;
      outcomes.push(outcome);
      journal.mark(entry, record);
    }
    const left = outcomes.some((o) => o.status === 'left');
    journal.finish(entry, left ? 'partial' : 'restored');
    return { status: left ? 'partial' : 'restored', devices: outcomes.reverse(), writes };
  } finally {
    release();
  }
}
