import * as path from 'node:path';
import { HostFsError, type HostDir, type HostFs } from '@passthru/hostfs';
import { barsOf, resizableBarsOf } from './bars';
import { PCI_CAP_ID_EXP, PCI_EXT_CAP_ID_SRIOV, hasCapability, hasExtendedCapability } from './configSpace';
import type { PciDevice } from './PciDevice';
import { PCI_ADDRESS_RE } from './pciAddress';
import { pciDevicePath } from './sysfsPaths';

/**
 * Where a class's devices hang (/sys/class/net, /sys/class/drm): PCI address -> the names in
 * that device's own `net` or `drm` folder, from one listing of the class folder and a readlink
 * per entry instead of a folder listing per device. Undefined: the class folder cannot be listed,
 * so each device's folder is looked at instead.
 */
export type ClassMembers = ReadonlyMap<string, readonly string[]>;

export interface ReadOptions {
  /** Names in /sys/kernel/iommu_groups, listed once per scan (the fast path of the group link). */
  groupIds?: ReadonlySet<string>;
  /** Told what could not be read of an otherwise readable device. */
  onProblem?: (message: string) => void;
  /** The net and drm class folders, read once per scan (classMembers). */
  net?: ClassMembers | undefined;
  drm?: ClassMembers | undefined;
  /**
   * Leave out what only a device's own checks and the listings show: the PCIe link, the reset
   * methods, the BARs, driver_override, the NUMA node, the SR-IOV relations, the network
   * interfaces and the drm nodes (then null, or [] for the BARs, interfaces and nodes: eight files
   * and the physfn/virtfn links a function fewer, and no class folder read). doctor's host checks
   * read none of them; a scan whose devices are shown or checked one by one must not.
   */
  withoutDetail?: boolean | undefined;
}

/** "0x10de" -> "10de"; undefined for anything that is not a hex number of at most `digits`. */
function hexAttr(value: string | undefined, digits: number): string | undefined {
  if (value === undefined) return undefined;
  const m = /^(?:0x)?([0-9a-fA-F]+)$/.exec(value.trim());
  if (!m || m[1]!.length > digits) return undefined;
  return m[1]!.toLowerCase().padStart(digits, '0');
}

/**
 * What a scan takes from config space: the header fields as numbers, and whether the function is
 * PCI Express (it then has link attributes) and has SR-IOV (sriov_* files); undefined when the
 * read does not reach that far (an unprivileged read of 64 bytes).
 */
interface ConfigFacts {
  vendor: number;
  device: number;
  revision: number;
  classCode: number;
  headerLayout: number;
  subsystemVendor: number;
  subsystemDevice: number;
  pcie: boolean | undefined;
  sriov: boolean | undefined;
  resizableBars: PciDevice['resizableBars'];
}

function configFacts(bytes: Buffer): ConfigFacts | undefined {
  if (bytes.length < 64) return undefined;
  return {
    vendor: bytes.readUInt16LE(0x00),
    device: bytes.readUInt16LE(0x02),
    revision: bytes.readUInt8(0x08),
    classCode: bytes.readUIntLE(0x09, 3),
    headerLayout: bytes.readUInt8(0x0e) & 0x7f,
    subsystemVendor: bytes.readUInt16LE(0x2c),
    subsystemDevice: bytes.readUInt16LE(0x2e),
    pcie: hasCapability(bytes, PCI_CAP_ID_EXP),
    sriov: hasExtendedCapability(bytes, PCI_EXT_CAP_ID_SRIOV),
    resizableBars: resizableBarsOf(bytes) ?? null,
  };
}

const hex = (value: number | undefined, digits: number) => (value === undefined ? undefined : value.toString(16).padStart(digits, '0'));

const LINK_UNKNOWN = /^(Unknown|unknown|0)/;
/** The drm nodes a device's `drm` list keeps: cards and render nodes, not connectors. */
export const DRM_NODE = /^(card|renderD)\d+$/;

/**
 * Reads one device folder, opening only the files this device has: the config header says
 * whether it is PCI Express (the link attributes) and has SR-IOV (sriov_*), the class whether it
 * has `boot_vga`; the folder itself is never listed. Throws only when a mandatory identity
 * (vendor, device, class) can be read neither from its attribute nor from config space; every
 * other attribute is optional, and an absent one costs one failed open, no exception.
 */
export function readPciDevice(host: HostFs, address: string, options: ReadOptions = {}): PciDevice {
  const dir = host.openLinkedDir(pciDevicePath(address));
  // One read of config space answers ids, revision, subsystem and which capabilities exist. The
  // attribute files stay the truth where config space is not: a VF's vendor and device read
  // 0xffff in its own config (the kernel takes them from the PF's SR-IOV capability), quirks may
  // rewrite `class` (so it is always read from its file, as lspci does), and a bridge's subsystem
  // comes from its SSVID capability, not offset 0x2c. Root reads 256 or 4096 bytes, anyone else 64.
  const config = dir.inspectBytes('config', 4096, configFacts);
  const mandatory = (name: string, digits: 4 | 6, fromConfig: number | undefined, configFirst: boolean) => {
    const configValue = configFirst ? hex(fromConfig, digits) : undefined;
    const value =
      (configValue !== undefined && configValue !== 'ffff' ? configValue : undefined) ??
      hexAttr(dir.attributeOrUndefined(name), digits) ??
      hex(fromConfig, digits);
    if (value === undefined)
      throw new HostFsError('reading', `${dir.hostPath}/${name}`, 'ENODATA', `no readable ${name} attribute and no config space to take it from`);
    return value;
  };
  const vendorId = mandatory('vendor', 4, config?.vendor, true);
  const deviceId = mandatory('device', 4, config?.device, true);
  const classCode = mandatory('class', 6, config?.classCode, false);
  const revision = hex(config?.revision, 2) ?? hexAttr(dir.attributeOrUndefined('revision'), 2) ?? null;

  const sysfsPath = hostPathOf(host, dir);
  const folderStart = sysfsPath.lastIndexOf('/');
  const parentName = sysfsPath.slice(sysfsPath.lastIndexOf('/', folderStart - 1) + 1, folderStart);
  // A bridge: by class, else by header type (1 bridge, 2 CardBus), else by its pci_bus folder.
  const headerLayout = config?.headerLayout;
  const isBridge =
    classCode.startsWith('0604') ||
    classCode.startsWith('0609') ||
    (headerLayout === undefined ? dir.hasEntry('pci_bus') : headerLayout === 1 || headerLayout === 2);

  const normalHeader = headerLayout === 0 && !isBridge;
  let subsystemVendorId = (normalHeader ? hex(config?.subsystemVendor, 4) : hexAttr(dir.attributeOrUndefined('subsystem_vendor'), 4)) ?? null;
  let subsystemDeviceId = (normalHeader ? hex(config?.subsystemDevice, 4) : hexAttr(dir.attributeOrUndefined('subsystem_device'), 4)) ?? null;
  if (subsystemVendorId === null && !isBridge) {
    subsystemVendorId = hex(config?.subsystemVendor, 4) ?? null;
    subsystemDeviceId = hex(config?.subsystemDevice, 4) ?? null;
  }
  if (subsystemVendorId === '0000' && subsystemDeviceId === '0000') subsystemVendorId = subsystemDeviceId = null;

  const detail = !options.withoutDetail;
  const override = detail ? dir.attributeOrUndefined('driver_override') : undefined;
  const iommuGroup = readGroupLink(host, dir, options);
  const numa = detail ? dir.attributeOrUndefined('numa_node') : undefined;
  const numaNode = numa !== undefined && /^-?\d+$/.test(numa) && Number(numa) >= 0 ? Number(numa) : null;
  // pci-sysfs.c shows boot_vga only on VGA-class functions.
  const bootVga = classCode.startsWith('0300') ? dir.attributeOrUndefined('boot_vga') : undefined;
  const sriov = detail ? readSriov(dir, config) : null;
  const reset = detail ? dir.attributeOrUndefined('reset_method') : undefined;
  const link = detail ? readLink(dir, config) : null;
  const resource = detail ? dir.attributeOrUndefined('resource') : undefined;
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
    driver: baseName(dir.readlinkOrUndefined('driver')) ?? null,
    driverOverride: override === undefined || override === '(null)' || override === '' ? null : override,
    iommuGroup,
    numaNode,
    parent: PCI_ADDRESS_RE.test(parentName) ? parentName : null,
    sysfsPath,
    functions: [],
    isBridge,
    bootVga: bootVga === undefined ? null : bootVga === '1',
    sriov,
    net: !detail ? [] : options.net ? [...(options.net.get(address) ?? [])] : listQuietly(dir, 'net'),
    drm: !detail ? [] : options.drm ? [...(options.drm.get(address) ?? [])] : listQuietly(dir, 'drm').filter((n) => DRM_NODE.test(n)),
    resetMethods: reset === undefined ? null : reset.split(/\s+/).filter(Boolean),
    link,
    bars: resource === undefined ? [] : barsOf(resource),
    resizableBars: config?.resizableBars ?? null,
  };
  return device;
}

const baseName = (target: string | undefined) => (target === undefined ? undefined : target.slice(target.lastIndexOf('/') + 1));

/** A sub-folder's names, [] when absent or unreadable. */
function listQuietly(dir: HostDir, name: string): string[] {
  try {
    return dir.list(name);
  } catch (error) {
    if (error instanceof HostFsError) return [];
    throw error;
  }
}

/**
 * SR-IOV: a VF has a `physfn` link; a PF (the SR-IOV extended capability, when the config read
 * covers it) has sriov_totalvfs and one virtfnN link per enabled VF, numbered from 0.
 */
function readSriov(dir: HostDir, config: ConfigFacts | undefined): PciDevice['sriov'] {
  const physfn = baseName(dir.readlinkOrUndefined('physfn'));
  if (physfn !== undefined) return { role: 'vf', physfn, vfIndex: null };
  if (config?.sriov === false) return null;
  const total = dir.attributeOrUndefined('sriov_totalvfs');
  if (total === undefined || !/^\d+$/.test(total)) return null;
  const numvfs = dir.attributeOrUndefined('sriov_numvfs');
  const vfs: string[] = [];
  // virtfnN links run from 0 without gaps (pci_iov_add_virtfn); the first missing one ends them.
  for (let i = 0; ; i++) {
    const vf = baseName(dir.readlinkOrUndefined(`virtfn${i}`));
    if (vf === undefined) break;
    vfs.push(vf);
  }
  return { role: 'pf', totalVfs: Number(total), numVfs: Number(numvfs ?? vfs.length), vfs };
}

/** The PCIe link attributes, which pci-sysfs.c shows only on PCI Express functions. */
function readLink(dir: HostDir, config: ConfigFacts | undefined): PciDevice['link'] {
  if (config?.pcie === false) return null;
  const speed = dir.attributeOrUndefined('current_link_speed');
  const maxSpeed = dir.attributeOrUndefined('max_link_speed');
  if (speed === undefined && maxSpeed === undefined) return null;
  const width = dir.attributeOrUndefined('current_link_width');
  const maxWidth = dir.attributeOrUndefined('max_link_width');
  return {
    speed: speed && !LINK_UNKNOWN.test(speed) ? speed : null,
    width: width && /^\d+$/.test(width) && width !== '0' ? Number(width) : null,
    maxSpeed: maxSpeed && !LINK_UNKNOWN.test(maxSpeed) ? maxSpeed : null,
    maxWidth: maxWidth && /^\d+$/.test(maxWidth) && maxWidth !== '0' ? Number(maxWidth) : null,
  };
}

/**
 * The group an `iommu_group` link names, as lspci takes it: the last component of the link's
 * resolved target (pciutils' sysfs_deref_link is realpath(3)), so a dangling link (a capture
 * without /sys/kernel), a loop or a link leaving the root gives no group, and `onProblem` hears
 * why. Fast path: a link whose target is /sys/kernel/iommu_groups/N with N listed there.
 */
function readGroupLink(host: HostFs, dir: HostDir, options: ReadOptions): number | null {
  const target = dir.readlinkOrUndefined('iommu_group');
  if (target === undefined) return null;
  const folder = hostPathOf(host, dir);
  // The kernel's link climbs from the device folder to /sys: one `../` per component below it.
  const climb = GROUP_LINK.exec(target);
  if (climb && options.groupIds?.has(climb[2]!) && folder.startsWith('/sys/') && componentsOf(folder) === climb[1]!.length / 3 + 1) return Number(climb[2]);
  const lexical = path.posix.resolve(folder, target);
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

/** `../../../kernel/iommu_groups/7`: the climb and the group. */
const GROUP_LINK = /^((?:\.\.\/)+)kernel\/iommu_groups\/(\d+)$/;

/** Components of a normal absolute path: `/sys/devices/pci0000:00` has 3. */
function componentsOf(hostPath: string): number {
  let n = 0;
  for (let i = hostPath.indexOf('/'); i >= 0; i = hostPath.indexOf('/', i + 1)) n++;
  return n;
}

/** The device folder's real path spelled as on the host (what its relative links start from). */
function hostPathOf(host: HostFs, dir: HostDir): string {
  return host.isLive ? dir.realPath : dir.realPath.slice(host.root.length) || '/';
}

/**
 * Members of a class folder by PCI address (see ClassMembers): the entries whose link names
 * `<device>/<cls>/<name>` with a PCI address as `<device>`, as the device's own folder lists them.
 * `keep` filters the names (drm: card and render nodes, not connectors).
 */
export function classMembers(host: HostFs, cls: 'net' | 'drm', keep?: RegExp): Map<string, string[]> | undefined {
  const folder = host.openDirIfExists(`/sys/class/${cls}`);
  if (!folder) return undefined;
  const members = new Map<string, string[]>();
  let names: string[];
  try {
    names = folder.list();
  } catch {
    return undefined;
  }
  for (const name of names) {
    if (keep && !keep.test(name)) continue;
    const target = folder.readlinkOrUndefined(name);
    if (target === undefined) continue;
    const parts = target.split('/');
    const [device, inside, own] = parts.slice(-3);
    if (own !== name || inside !== cls || device === undefined || !PCI_ADDRESS_RE.test(device)) continue;
    const list = members.get(device);
    if (list) list.push(name);
    else members.set(device, [name]);
  }
  for (const list of members.values()) list.sort();
  return members;
}
