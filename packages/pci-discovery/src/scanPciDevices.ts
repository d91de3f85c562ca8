import * as path from 'node:path';
import { HostFsError, type HostDir, type HostFs } from '@passthru/hostfs';
import type { IommuGroup, PciDevice, ScanProblem } from './PciDevice';
import { PCI_ADDRESS_RE, compareAddresses, slotOf } from './pciAddress';
import type { PciIds } from './PciIds';
import { IOMMU_GROUPS, PCI_DEVICES, pciDevicePath } from './sysfsPaths';

export interface PciScan {
  devices: PciDevice[];
  /**
   * Devices listed by the kernel that could not be read (absent from `devices`), and devices
   * read in part (an `iommu_group` link that leads nowhere), each with the reason.
   */
  problems: ScanProblem[];
}

export interface ReadOptions {
  /** Names in /sys/kernel/iommu_groups, listed once per scan (the fast path of the group link). */
  groupIds?: ReadonlySet<string>;
  /** Told what could not be read of an otherwise readable device. */
  onProblem?: (message: string) => void;
}

/** "0x10de" -> "10de"; undefined for anything that is not a hex number of at most `digits`. */
function hexAttr(value: string | undefined, digits: number): string | undefined {
  if (value === undefined) return undefined;
  const m = /^(?:0x)?([0-9a-fA-F]+)$/.exec(value.trim());
  if (!m || m[1]!.length > digits) return undefined;
  return m[1]!.toLowerCase().padStart(digits, '0');
}

/** What an optional read gives when the file is absent, unreadable (EACCES, EIO) or oversized. */
function orElse<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof HostFsError) return fallback;
    throw error;
  }
}

const optional = (dir: HostDir, name: string) => orElse(() => dir.readAttributeIfExists(name), undefined);
const optionalLink = (dir: HostDir, name: string) => orElse(() => dir.linkName(name), undefined);
const optionalList = (dir: HostDir, name: string) => orElse(() => dir.list(name), [] as string[]);

/** The first 64 bytes of config space, read only when an attribute file is missing. */
function configHeader(dir: HostDir): Buffer | undefined {
  try {
    const bytes = dir.readBytes('config', 4096, 64);
    return bytes.length >= 64 ? bytes : undefined;
  } catch {
    return undefined;
  }
}

const LINK_UNKNOWN = /^(Unknown|unknown|0)/;

/**
 * Reads one device folder. Throws only when a mandatory identity (vendor, device, class) can be
 * read neither from its attribute nor from config space; every other attribute is optional.
 */
export function readPciDevice(host: HostFs, address: string, names?: PciIds, options: ReadOptions = {}): PciDevice {
  const dir = host.openLinkedDir(pciDevicePath(address));
  // One read of the config header answers ids, revision and subsystem. The attribute files
  // stay the truth where config space is not: a VF's vendor and device read 0xffff in its own
  // config (the kernel takes them from the PF's SR-IOV capability), quirks may rewrite `class`
  // (so it is always read from its file, as lspci does), and a bridge's subsystem comes from
  // its SSVID capability, not offset 0x2c.
  const config = configHeader(dir);
  const fromConfig = (offset: number, bytes: 1 | 2 | 3) => {
    if (!config) return undefined;
    const value = bytes === 1 ? config.readUInt8(offset) : bytes === 2 ? config.readUInt16LE(offset) : config.readUIntLE(offset, 3);
    return value.toString(16).padStart(bytes * 2, '0');
  };
  const mandatory = (name: string, digits: 4 | 6, offset: number, configFirst: boolean) => {
    const fromFile = () => hexAttr(optional(dir, name), digits);
    const configValue = configFirst ? fromConfig(offset, digits === 4 ? 2 : 3) : undefined;
    const value = (configValue !== undefined && configValue !== 'ffff' ? configValue : undefined) ?? fromFile() ?? fromConfig(offset, digits === 4 ? 2 : 3);
    if (value === undefined)
      throw new HostFsError('reading', `${dir.hostPath}/${name}`, 'ENODATA', `no readable ${name} attribute and no config space to take it from`);
    return value;
  };
  const vendorId = mandatory('vendor', 4, 0x00, true);
  const deviceId = mandatory('device', 4, 0x02, true);
  const classCode = mandatory('class', 6, 0x09, false);
  const revision = fromConfig(0x08, 1) ?? hexAttr(optional(dir, 'revision'), 2) ?? null;

  const sysfsPath = hostPathOf(host, dir);
  const parentName = sysfsPath.split('/').at(-2) ?? '';
  const isBridge = classCode.startsWith('0604') || classCode.startsWith('0609') || dir.has('pci_bus');

  const normalHeader = config !== undefined && (config.readUInt8(0x0e) & 0x7f) === 0 && !isBridge;
  let subsystemVendorId = (normalHeader ? fromConfig(0x2c, 2) : hexAttr(optional(dir, 'subsystem_vendor'), 4)) ?? null;
  let subsystemDeviceId = (normalHeader ? fromConfig(0x2e, 2) : hexAttr(optional(dir, 'subsystem_device'), 4)) ?? null;
  if (subsystemVendorId === null && !isBridge) {
    subsystemVendorId = fromConfig(0x2c, 2) ?? null;
    subsystemDeviceId = fromConfig(0x2e, 2) ?? null;
  }
  if (subsystemVendorId === '0000' && subsystemDeviceId === '0000') subsystemVendorId = subsystemDeviceId = null;

  const override = optional(dir, 'driver_override');
  const iommuGroup = readGroupLink(host, dir, options);
  const numa = optional(dir, 'numa_node');
  const numaNode = numa !== undefined && /^-?\d+$/.test(numa) && Number(numa) >= 0 ? Number(numa) : null;
  const bootVga = optional(dir, 'boot_vga');
  const total = optional(dir, 'sriov_totalvfs');
  const physfn = optionalLink(dir, 'physfn');
  let sriov: PciDevice['sriov'] = null;
  if (physfn !== undefined) sriov = { role: 'vf', physfn, vfIndex: null };
  else if (total !== undefined && /^\d+$/.test(total)) {
    const vfs = dir
      .list()
      .filter((n) => /^virtfn\d+$/.test(n))
      .sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)))
      .map((n) => optionalLink(dir, n))
      .filter((a): a is string => a !== undefined);
    sriov = { role: 'pf', totalVfs: Number(total), numVfs: Number(optional(dir, 'sriov_numvfs') ?? vfs.length), vfs };
  }
  const reset = optional(dir, 'reset_method');
  const speed = optional(dir, 'current_link_speed');
  const width = optional(dir, 'current_link_width');
  const maxSpeed = optional(dir, 'max_link_speed');
  const maxWidth = optional(dir, 'max_link_width');
  const link =
    speed === undefined && maxSpeed === undefined
      ? null
      : {
          speed: speed && !LINK_UNKNOWN.test(speed) ? speed : null,
          width: width && /^\d+$/.test(width) && width !== '0' ? Number(width) : null,
          maxSpeed: maxSpeed && !LINK_UNKNOWN.test(maxSpeed) ? maxSpeed : null,
          maxWidth: maxWidth && /^\d+$/.test(maxWidth) && maxWidth !== '0' ? Number(maxWidth) : null,
        };
  const device: PciDevice = {
    address,
    vendorId,
    deviceId,
    subsystemVendorId,
    subsystemDeviceId,
    class: classCode,
    revision,
    vendorName: null,
    deviceName: null,
    subsystemName: null,
    className: null,
    driver: optionalLink(dir, 'driver') ?? null,
    driverOverride: override === undefined || override === '(null)' || override === '' ? null : override,
    iommuGroup,
    numaNode,
    parent: PCI_ADDRESS_RE.test(parentName) ? parentName : null,
    sysfsPath,
    functions: [],
    isBridge,
    bootVga: bootVga === undefined ? null : bootVga === '1',
    sriov,
    net: optionalList(dir, 'net'),
    drm: optionalList(dir, 'drm').filter((n) => /^(card|renderD)\d+$/.test(n)),
    resetMethods: reset === undefined ? null : reset.split(/\s+/).filter(Boolean),
    link,
  };
  return names ? nameDevice(device, names) : device;
}

/** Fills a device's names from pci.ids in place (the fields keep their place in the object). */
function nameDevice(d: PciDevice, names: PciIds, seen?: Map<string, DeviceNames>): PciDevice {
  // A host of thousands of VFs has a handful of distinct ids: each is looked up once.
  const key = `${d.vendorId}:${d.deviceId}:${d.subsystemVendorId}:${d.subsystemDeviceId}:${d.class}`;
  let found = seen?.get(key);
  if (!found) {
    const classNames = names.className(d.class);
    found = {
      vendorName: names.vendorName(d.vendorId) ?? null,
      deviceName: names.deviceName(d.vendorId, d.deviceId) ?? null,
      subsystemName:
        d.subsystemVendorId && d.subsystemDeviceId ? (names.subsystemName(d.vendorId, d.deviceId, d.subsystemVendorId, d.subsystemDeviceId) ?? null) : null,
      className: classNames?.subclassName ?? classNames?.className ?? null,
    };
    seen?.set(key, found);
  }
  d.vendorName = found.vendorName;
  d.deviceName = found.deviceName;
  d.subsystemName = found.subsystemName;
  d.className = found.className;
  return d;
}

type DeviceNames = Pick<PciDevice, 'vendorName' | 'deviceName' | 'subsystemName' | 'className'>;

/**
 * The group an `iommu_group` link names, as lspci takes it: the last component of the link's
 * resolved target (pciutils' sysfs_deref_link is realpath(3)), so a dangling link (a capture
 * without /sys/kernel), a loop or a link leaving the root gives no group, and `onProblem` hears
 * why. Fast path: a link whose target is /sys/kernel/iommu_groups/N with N listed there.
 */
function readGroupLink(host: HostFs, dir: HostDir, options: ReadOptions): number | null {
  const target = orElse(() => dir.readlink('iommu_group'), undefined);
  if (target === undefined) return null;
  const lexical = path.posix.resolve(hostPathOf(host, dir), target);
  const m = /^\/sys\/kernel\/iommu_groups\/(\d+)$/.exec(lexical);
  if (m && options.groupIds?.has(m[1]!)) return Number(m[1]);
  const link = `${dir.hostPath}/iommu_group`;
  let resolved: string;
  try {
    resolved = host.realHostPath(link);
  } catch (error) {
    if (!(error instanceof HostFsError)) throw error;
    const why =
      error.code === 'ENOENT'
        ? `the link leads to ${lexical}, which is not in this tree (a capture without /sys/kernel?), so the device has no group here (as lspci reads it)`
        : error.code === 'ELOOP'
          ? `the link is a symlink loop (-> ${target}), so its group cannot be read`
          : `the link (-> ${target}) cannot be followed: ${error.code === 'EXDEV' ? 'it leads outside the root' : error.code}`;
    options.onProblem?.(`Failed resolving ${link}: ${why}`);
    return null;
  }
  const name = path.posix.basename(resolved);
  return /^\d+$/.test(name) ? Number(name) : null;
}

/** The device folder's real path spelled as on the host (what its relative links start from). */
function hostPathOf(host: HostFs, dir: HostDir): string {
  return host.isLive ? dir.realPath : dir.realPath.slice(host.root.length) || '/';
}

/** One entry of /sys/bus/pci/devices as read: the device (unnamed), or null, and what could not be read. */
export interface ScannedEntry {
  device: PciDevice | null;
  problems: ScanProblem[];
}

/** What a scan reads before its devices: the entries in lspci order and the group names. */
export interface ScanInput {
  entries: string[];
  groupIds: ReadonlySet<string>;
}

export function scanInput(host: HostFs): ScanInput {
  return {
    entries: host.list(PCI_DEVICES).sort(compareAddresses),
    groupIds: new Set(orElse(() => host.list(IOMMU_GROUPS), [] as string[])),
  };
}

/** Reads one entry; a device that cannot be read becomes a problem, never an exception. */
export function readEntry(host: HostFs, entry: string, groupIds: ReadonlySet<string>): ScannedEntry {
  const problems: ScanProblem[] = [];
  if (!PCI_ADDRESS_RE.test(entry)) {
    problems.push({ address: entry, message: `Failed reading ${PCI_DEVICES}/${entry}: not a PCI address` });
    return { device: null, problems };
  }
  try {
    const device = readPciDevice(host, entry, undefined, { groupIds, onProblem: (message) => problems.push({ address: entry, message }) });
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
  const seen = new Map<string, DeviceNames>();
  for (const { device, problems: own } of read) {
    if (device) devices.push(names ? nameDevice(device, names, seen) : device);
    problems.push(...own);
  }
  linkRelatives(devices);
  return { devices, problems };
}

/**
 * Every PCI function under /sys/bus/pci/devices, in lspci order. A device that cannot be read
 * is reported in `problems` and the scan goes on: captured trees often lack files.
 */
export function scanPciDevices(host: HostFs, names?: PciIds): PciScan {
  const { entries, groupIds } = scanInput(host);
  return assembleScan(
    entries.map((entry) => readEntry(host, entry, groupIds)),
    names,
  );
}

/** Fills `functions` (siblings of a slot) and each VF's index from its PF's virtfnN links. */
function linkRelatives(devices: PciDevice[]): void {
  const bySlot = new Map<string, PciDevice[]>();
  for (const d of devices) {
    const slot = slotOf(d.address);
    bySlot.set(slot, [...(bySlot.get(slot) ?? []), d]);
  }
  for (const d of devices) {
    d.functions = (bySlot.get(slotOf(d.address)) ?? []).filter((o) => o !== d).map((o) => o.address);
  }
  const byAddress = new Map(devices.map((d) => [d.address, d]));
  for (const d of devices) {
    if (d.sriov?.role !== 'vf') continue;
    const pf = byAddress.get(d.sriov.physfn);
    const index = pf?.sriov?.role === 'pf' ? pf.sriov.vfs.indexOf(d.address) : -1;
    d.sriov.vfIndex = index >= 0 ? index : null;
  }
}

/**
 * IOMMU groups from /sys/kernel/iommu_groups (numeric order, gaps kept), each member classed
 * as endpoint or bridge using the scanned devices.
 */
export function readIommuGroups(host: HostFs, devices: PciDevice[]): IommuGroup[] {
  const byAddress = new Map(devices.map((d) => [d.address, d]));
  const groupsDir = host.openDirIfExists(IOMMU_GROUPS);
  if (!groupsDir) return [];
  // One folder opened for all groups: each group's `devices` is then one readdir, not a
  // resolution of /sys/kernel/iommu_groups/N/devices from the root (thousands of VFs, thousands of groups).
  const groups = groupsDir.folders();
  return [...groups.keys()]
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((a, b) => a - b)
    .map((id) => {
      const members = groups.get(String(id))!.list('devices').sort(compareAddresses);
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
