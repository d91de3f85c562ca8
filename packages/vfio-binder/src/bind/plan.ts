import {
  identityOf,
  notPassable,
  platformFunctionsOf,
  slotOf,
  type DeviceIdentity,
  type IommuGroup,
  type PciDevice,
  pciDevicePath,
  DRIVERS_PROBE,
  pciDriverPath,
  iommuGroupPath,
} from '@passthru/pci-discovery';
import { isForeign, unrestorableOverride, type DeviceOwner } from '../owners';
import { VfioBinderError } from '../VfioBinderError';

export const VFIO_DRIVER = 'vfio-pci';

/** One sysfs write of a plan and what the kernel should make of it. */
export interface PlannedWrite {
  path: string;
  data: string;
  /** What the write is for, in the user's words. */
  purpose: string;
}

export interface PlannedDevice {
  address: string;
  identity: DeviceIdentity;
  /** The driver before the bind (null: none), and the override before it. */
  originalDriver: string | null;
  originalOverride: string | null;
  /** Named by the user, or pulled in because it shares the IOMMU group. */
  reason: 'named' | 'same-slot' | 'same-group';
  /** Already on vfio-pci: nothing to write (a second bind is a no-op). */
  alreadyBound: boolean;
  /** Who holds it now (null: nobody but its driver). A foreign owner is changed only with --adopt. */
  owner: DeviceOwner | null;
  /** What a restore could not put back of its original state (null: everything). */
  unrestorable: string | null;
  writes: PlannedWrite[];
}

export interface PlannedGroup {
  id: number;
  devices: PlannedDevice[];
  /** Bridges of the group stay on their driver (the kernel accepts them in a viable group). */
  bridges: string[];
}

export interface BindPlan {
  groups: PlannedGroup[];
  /** Every planned device in apply order (groups in order, functions in order). */
  devices: PlannedDevice[];
  /** True when every device is already on vfio-pci and none has a foreign owner to adopt. */
  noop: boolean;
  /** Modules loaded before the first write (`modprobe vfio-pci` when its driver is not registered). */
  modules: string[];
}

export interface PlanOptions {
  /** Is vfio-pci's driver registered (/sys/bus/pci/drivers/vfio-pci)? When not, the plan loads it first. */
  vfioLoaded?: boolean;
}

/** The writes that move one device to vfio-pci: override, unbind, probe (kernel order). */
export function bindWrites(device: PciDevice): PlannedWrite[] {
  if (device.driver === VFIO_DRIVER) return [];
  const writes: PlannedWrite[] = [];
  if (device.driverOverride !== VFIO_DRIVER) {
    writes.push({ path: pciDevicePath(device.address, 'driver_override'), data: VFIO_DRIVER, purpose: 'only vfio-pci may claim it' });
  }
  if (device.driver) writes.push({ path: pciDriverPath(device.driver, 'unbind'), data: device.address, purpose: `release it from ${device.driver}` });
  writes.push({ path: DRIVERS_PROBE, data: device.address, purpose: 'let vfio-pci claim it' });
  return writes;
}

/**
 * Expands the chosen devices to whole IOMMU groups: every endpoint of each touched group is
 * planned (the kernel only lets a group be used when all its endpoints are on vfio-pci, or
 * pci-stub, or no driver); bridges are left alone. A device with no group cannot be planned,
 * nor a group that holds a platform function (host bridge, LPC bridge, SMBus, SPI flash, ...):
 * that refusal is not a guard, and --force does not override it.
 */
export function planBind(
  chosen: PciDevice[],
  devices: PciDevice[],
  groups: IommuGroup[],
  owners: Map<string, DeviceOwner> = new Map(),
  options: PlanOptions = {},
): BindPlan {
  const byAddress = new Map(devices.map((d) => [d.address, d]));
  const named = new Set(chosen.map((d) => d.address));
  const namedSlots = new Set(chosen.map((d) => slotOf(d.address)));
  const bridgesNamed = chosen.filter((d) => d.isBridge);
  if (bridgesNamed.length) {
    throw new VfioBinderError(
      'bad-input',
      `Failed planning bind of ${bridgesNamed.map((d) => d.address).join(', ')}: a PCI bridge is never bound to vfio-pci (name the endpoints behind it)`,
    );
  }
  const noGroup = chosen.filter((d) => d.iommuGroup === null);
  if (noGroup.length) {
    throw new VfioBinderError(
      'refused',
      `Failed planning bind of ${noGroup.map((d) => d.address).join(', ')} via /sys/bus/pci/devices/*/iommu_group: no IOMMU group (the IOMMU is off or does not cover it, or its iommu_group link is broken: see the scan problems; run passthru doctor)`,
    );
  }
  const groupIds = [...new Set(chosen.map((d) => d.iommuGroup!))].sort((a, b) => a - b);
  for (const id of groupIds) {
    const group = groups.find((g) => g.id === id) ?? { devices: chosen.filter((d) => d.iommuGroup === id).map((d) => d.address) };
    const platform = platformFunctionsOf(group, byAddress);
    if (platform.length === 0) continue;
    const named = chosen.filter((d) => d.iommuGroup === id).map((d) => d.address);
    const np = notPassable(platform);
    throw new VfioBinderError(
      'refused',
      `Failed planning bind of ${named.join(', ')} via ${iommuGroupPath(id, 'devices')}: IOMMU group ${id} is ${np.summary} (${np.why}); the host cannot give it away, and --force does not override this. ${np.fix}`,
    );
  }
  const planned: PlannedGroup[] = groupIds.map((id) => {
    const group = groups.find((g) => g.id === id);
    const members = (group?.endpoints ?? chosen.filter((d) => d.iommuGroup === id).map((d) => d.address)).map((a) => byAddress.get(a)!).filter(Boolean);
    return {
      id,
      bridges: group?.bridges ?? [],
      devices: members.map((d) => ({
        address: d.address,
        identity: identityOf(d),
        originalDriver: d.driver,
        originalOverride: d.driverOverride,
        reason: named.has(d.address) ? 'named' : namedSlots.has(slotOf(d.address)) ? 'same-slot' : 'same-group',
        alreadyBound: d.driver === VFIO_DRIVER,
        owner: owners.get(d.address) ?? null,
        unrestorable: unrestorableOverride(d.driverOverride),
        writes: bindWrites(d),
      })),
    };
  });
  const all = planned.flatMap((g) => g.devices);
  const noop = all.every((d) => d.alreadyBound && !isForeign(d.owner));
  return { groups: planned, devices: all, noop, modules: noop || options.vfioLoaded !== false ? [] : [VFIO_DRIVER] };
}

/** The plan as the text `--dry-run` prints: every write, in order, with its purpose. */
export function formatPlan(plan: BindPlan): string {
  if (plan.noop) return `Nothing to do: ${plan.devices.map((d) => d.address).join(', ')} already on vfio-pci.\n`;
  const lines: string[] = plan.modules.map((m) => `modprobe ${m}    # its driver is not registered yet: load it first (nothing is written if it cannot load)`);
  for (const group of plan.groups) {
    lines.push(`IOMMU group ${group.id}:${group.bridges.length ? ` (bridges left alone: ${group.bridges.join(', ')})` : ''}`);
    for (const d of group.devices) {
      const why = d.reason === 'named' ? '' : d.reason === 'same-slot' ? ' (another function of the same device)' : ' (shares the IOMMU group)';
      lines.push(
        `  ${d.address} ${d.identity.vendorId}:${d.identity.deviceId} ${d.originalDriver ?? '(no driver)'} -> vfio-pci${why}${d.alreadyBound ? ': already bound, nothing to do' : ''}`,
      );
      if (isForeign(d.owner)) lines.push(`    owner: ${d.owner.summary} (changed only with --adopt; the journal keeps its original state)`);
      if (d.unrestorable) lines.push(`    cannot be restored exactly: ${d.unrestorable}`);
      for (const w of d.writes) lines.push(`    echo ${w.data} > ${w.path}    # ${w.purpose}`);
      if (!d.alreadyBound) lines.push(`    verify: ${pciDevicePath(d.address, 'driver')} -> vfio-pci`);
    }
  }
  return `${lines.join('\n')}\n`;
}
