// `bind --persist`: the bind and the boot configuration are one transaction. The persist plan
// (every file it will write checked) comes before the bind's first write; when the persist
// writes fail after the bind, persist puts its files back and the bind is restored from its
// journal record, so the host is as it was, or the error says exactly what is left.
import type { HostFs } from '@passthru/hostfs';
import { readIommuGroups, scanPciDevices } from '@passthru/pci-discovery';
import type { ApplyOptions } from './apply';
import { bindDevices, type BindOutcome, type BindRequest, type HostState } from './bindDevices';
import { persistDevices, type PersistOutcome, type PersistRequest } from '../persist/persistDevices';
import { restoreDevices } from '../restore/restoreDevices';
import { parseTarget } from './targets';
import { VfioBinderError } from '../VfioBinderError';

export interface BindPersistOutcome {
  bind: BindOutcome;
  /** Absent when the bind did not apply (planned, blocked, refused, rolled back). */
  persist?: PersistOutcome;
}

/** A fresh scan after the bind: persist plans from the devices as they are now. */
const rescan = (host: HostFs): HostState => {
  const { devices } = scanPciDevices(host);
  return { devices, groups: readIommuGroups(host, devices) };
};

/**
 * The bind use case followed by persist, as one transaction: the persist plan is made (and its
 * files checked: a refusal changes nothing) before the bind; after a bind that applied, the
 * persist writes; if they fail, the devices the bind changed are restored and the error says so
 * (kind `partial` when the restore did not finish either).
 */
export async function bindAndPersist(
  host: HostFs,
  state: HostState,
  request: BindRequest & { persist: Omit<PersistRequest, 'targets' | 'dryRun' | 'force'> },
  options: Omit<ApplyOptions, 'adopt'> = {},
): Promise<BindPersistOutcome> {
  const persistRequest = { ...request.persist, targets: request.targets, force: request.force };
  // Planned (and checked) first: a boot configuration that cannot be written stops the bind before it starts.
  await persistDevices(host, state, { ...persistRequest, dryRun: true, onPlanned: undefined });
  const bind = bindDevices(host, state, request, options);
  if (request.dryRun || (bind.status !== 'applied' && bind.status !== 'noop')) return { bind };
  try {
    return { bind, persist: await persistDevices(host, rescan(host), persistRequest) };
  } catch (error) {
    if (!(error instanceof VfioBinderError) || bind.status === 'noop') throw error;
    const changed = bind.result!.devices.filter((d) => d.from !== d.to).map((d) => d.address);
    if (changed.length === 0) throw error;
    const restored = restoreDevices(host, rescan(host), { targets: changed.map(parseTarget), splitGroup: true }, options);
    const left = restored.status === 'partial';
    throw new VfioBinderError(
      left || error.kind === 'partial' ? 'partial' : 'failed',
      `${error.message}; ${left ? `and restoring the bind did not finish (see passthru restore --all): ${changed.join(', ')}` : `the bind was undone: ${changed.join(', ')} are back on their drivers`}`,
      { cause: error },
    );
  }
}
