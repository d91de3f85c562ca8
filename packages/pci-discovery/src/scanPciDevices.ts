import { HostFsError, type HostDir, type HostFs } from '@passthru/hostfs';
import type { IommuGroup, PciDevice, ScanProblem } from './PciDevice';
import { PCI_ADDRESS_RE, compareAddresses, slotOf } from './pciAddress';
import type { PciIds } from './PciIds';
import { type ClassMembers, DRM_NODE, classMembers, readPciDevice } from './readPciDevice';
import { IOMMU_GROUPS, PCI_DEVICES } from './sysfsPaths';

export { readPciDevice, type ReadOptions } from './readPciDevice';

export interface PciScan {
  devices: PciDevice[];
  /**
   * Devices listed by the kernel that could not be read (absent from `devices`), and devices
   * read in part (an `iommu_group` link that leads nowhere), each with the reason.
   */
  problems: ScanProblem[];
}

/**
 * Fills devices' names from pci.ids in place (the fields keep their place in the object). A host
 * of thousands of VFs has a handful of distinct ids, and a PF's VFs come in a row: each id is
 * looked up once, and a device with its predecessor's ids takes its names without a lookup.
 */
function deviceNamer(names: PciIds): (d: PciDevice) => PciDevice {
  const seen = new Map<string, DeviceNames>();
  let previous: PciDevice | undefined;
  let previousNames: DeviceNames | undefined;
  return (d) => {
    let found = previous && sameIds(previous, d) ? previousNames : undefined;
    if (!found) {
      const key = `${d.vendorId}:${d.deviceId}:${d.subsystemVendorId}:${d.subsystemDeviceId}:${d.class}`;
      found = seen.get(key);
      if (!found) {
        const classNames = names.className(d.class);
        found = {
          vendorName: names.vendorName(d.vendorId) ?? null,
          deviceName: names.deviceName(d.vendorId, d.deviceId) ?? null,
          subsystemName:
            d.subsystemVendorId && d.subsystemDeviceId ? (names.subsystemName(d.vendorId, d.deviceId, d.subsystemVendorId, d.subsystemDeviceId) ?? null) : null,
          className: classNames?.subclassName ?? classNames?.className ?? null,
        };
        seen.set(key, found);
      }
    }
    previous = d;
    previousNames = found;
    d.vendorName = found.vendorName;
    d.deviceName = found.deviceName;
    d.subsystemName = found.subsystemName;
    d.className = found.className;
    return d;
  };
}

const sameIds = (a: PciDevice, b: PciDevice) =>
  a.vendorId === b.vendorId &&
  a.deviceId === b.deviceId &&
  a.subsystemVendorId === b.subsystemVendorId &&
  a.subsystemDeviceId === b.subsystemDeviceId &&
  a.class === b.class;

type DeviceNames = Pick<PciDevice, 'vendorName' | 'deviceName' | 'subsystemName' | 'className'>;

/** One entry of /sys/bus/pci/devices as read: the device (unnamed), or null, and what could not be read. */
export interface ScannedEntry {
  device: PciDevice | null;
  problems: ScanProblem[];
}

/**
 * What a scan reads before its devices, once: the entries in lspci order, the group names, and
 * the net and drm class folders (a device's interfaces and drm nodes without listing its folder).
 */
export interface ScanInput {
  entries: string[];
  groupIds: ReadonlySet<string>;
  net: ClassMembers | undefined;
  drm: ClassMembers | undefined;
  /** See ReadOptions.withoutDetail. */
  withoutDetail?: boolean | undefined;
}

export function scanInput(host: HostFs): ScanInput {
  return { entries: scanEntries(host), ...scanContext(host) };
}

/** The entries of /sys/bus/pci/devices in lspci order: one listing, what a parallel scan needs first. */
export function scanEntries(host: HostFs): string[] {
  return host.list(PCI_DEVICES).sort(compareAddresses);
}

/**
 * What every reader of a scan shares besides the entries: the group names and the class folders
 * (not read `withoutDetail`: such a scan shows no interface or drm node).
 */
export function scanContext(host: HostFs, withoutDetail?: boolean): Omit<ScanInput, 'entries'> {
  let groupIds: string[];
  try {
    groupIds = host.list(IOMMU_GROUPS);
  } catch (error) {
    if (!(error instanceof HostFsError)) throw error;
    groupIds = [];
  }
  if (withoutDetail) return { groupIds: new Set(groupIds), net: undefined, drm: undefined, withoutDetail };
  return {
    groupIds: new Set(groupIds),
    net: classMembers(host, 'net'),
    drm: classMembers(host, 'drm', DRM_NODE),
  };
}

/** Reads one entry; a device that cannot be read becomes a problem, never an exception. */
export function readEntry(host: HostFs, entry: string, input: Omit<ScanInput, 'entries'>): ScannedEntry {
  const problems: ScanProblem[] = [];
  if (!PCI_ADDRESS_RE.test(entry)) {
    problems.push({ address: entry, message: `Failed reading ${PCI_DEVICES}/${entry}: not a PCI address` });
    return { device: null, problems };
  }
  try {
    const device = readPciDevice(host, entry, { ...input, onProblem: (message) => problems.push({ address: entry, message }) });
    return { device, problems };
  } catch (error) {
    if (!(error instanceof HostFsError)) throw error;
    problems.push({ address: entry, message: error.message });
    return { device: null, problems };
  }
}

/** The scan of entries read in order (by one thread or several): names filled in, relatives linked. */
export function assembleScan(read: readonly ScannedEntry[], names?: PciIds): PciScan {
  const devices: PciDevice[] = [];
  const problems: ScanProblem[] = [];
  const name = names ? deviceNamer(names) : (d: PciDevice) => d;
  for (const { device, problems: own } of read) {
    if (device) devices.push(name(device));
    if (own.length > 0) problems.push(...own);
  }
  linkRelatives(devices);
  return { devices, problems };
}

/**
 * Every PCI function under /sys/bus/pci/devices, in lspci order. A device that cannot be read
 * is reported in `problems` and the scan goes on: captured trees often lack files.
 */
export function scanPciDevices(host: HostFs, names?: PciIds): PciScan {
  const input = scanInput(host);
  return assembleScan(
    input.entries.map((entry) => readEntry(host, entry, input)),
    names,
  );
}

/** Fills `functions` (siblings of a slot) and each VF's index from its PF's virtfnN links. */
function linkRelatives(devices: PciDevice[]): void {
  const bySlot = new Map<string, string[]>();
  const slots = devices.map((d) => {
    const slot = slotOf(d.address);
    const members = bySlot.get(slot);
    if (!members) {
      const first = [d.address];
      bySlot.set(slot, first);
      return first;
    }
    members.push(d.address);
    return members;
  });
  devices.forEach((d, i) => {
    const members = slots[i]!;
    d.functions = members.length === 1 ? [] : members.filter((a) => a !== d.address);
  });
  const byAddress = new Map(devices.map((d) => [d.address, d]));
  for (const d of devices) {
    if (d.sriov?.role !== 'vf') continue;
    const pf = byAddress.get(d.sriov.physfn);
    const index = pf?.sriov?.role === 'pf' ? pf.sriov.vfs.indexOf(d.address) : -1;
    d.sriov.vfIndex = index >= 0 ? index : null;
  }
}

/**
 * The folders of /sys/kernel/iommu_groups named by a group number, in numeric order: one listing
 * (a symlinked folder resolved and confined), none of the groups read. Empty when absent.
 */
export function iommuGroupFolders(host: HostFs): Map<number, HostDir> {
  const groupsDir = host.openDirIfExists(IOMMU_GROUPS);
  if (!groupsDir) return new Map();
  const byName = groupsDir.folders();
  return new Map(
    [...byName.keys()]
      .filter((n) => /^\d+$/.test(n))
      .map(Number)
      .sort((a, b) => a - b)
      .map((id) => [id, byName.get(String(id))!]),
  );
}

/**
 * IOMMU groups from /sys/kernel/iommu_groups (numeric order, gaps kept), each member classed
 * as endpoint or bridge using the scanned devices. `folders`: the groups' folders when already
 * listed (iommuGroupFolders).
 */
export function readIommuGroups(host: HostFs, devices: PciDevice[], folders = iommuGroupFolders(host)): IommuGroup[] {
  const byAddress = new Map(devices.map((d) => [d.address, d]));
  // One folder opened for all groups: each group's `devices` is then one readdir, not a
  // resolution of /sys/kernel/iommu_groups/N/devices from the root (thousands of VFs, thousands of groups).
  return [...folders].map(([id, folder]) => {
    const members = folder.list('devices').sort(compareAddresses);
    const known = members.filter((a) => byAddress.has(a));
    return {
      id,
      devices: members,
      endpoints: known.filter((a) => !byAddress.get(a)!.isBridge),
      bridges: known.filter((a) => byAddress.get(a)!.isBridge),
      unknown: members.filter((a) => !byAddress.has(a)),
    };
  });
}
