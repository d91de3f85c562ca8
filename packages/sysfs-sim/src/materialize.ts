import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildConfigSpace, isBridgeClass, resizeAttribute } from './configSpace';
import { materializeGpuSharing } from './gpuSharing';
import { parseHostSpec, type DeviceSpec, type HostSpec, type HostSpecInput } from './HostSpec';
import { buildOptionRom } from './optionRomImage';
import { resourceFileText } from './resources';
import { SysfsSimError } from './SysfsSimError';
import { treePath } from './treePath';

/** Where the simulator keeps what sysfs does not show (driver id tables, SR-IOV templates). */
export const SIM_STATE_DIR = '.sysfs-sim';
export const SIM_SPEC_FILE = `${SIM_STATE_DIR}/host.json`;

/** Writes `content` at host path `hostPath` under `root`, creating folders. */
export function writeTreeFile(root: string, hostPath: string, content: string | Buffer, mode = 0o644): void {
  const file = treePath(root, hostPath);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content, { mode });
}

/** A relative symlink at host path `link` pointing at host path `target`, as sysfs makes them. */
export function linkTree(root: string, link: string, target: string): void {
  const file = treePath(root, link);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.rmSync(file, { force: true });
  fs.symlinkSync(path.posix.relative(path.posix.dirname(link), target), file);
}

function splitAddress(address: string): { domain: string; bus: number; slot: number; fn: number } {
  const [domain, bus, rest] = address.split(':') as [string, string, string];
  const [slot, fn] = rest.split('.') as [string, string];
  return { domain, bus: parseInt(bus, 16), slot: parseInt(slot, 16), fn: parseInt(fn, 16) };
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

/** The VFs a PF with this SR-IOV block exposes when `count` are enabled (routing-id arithmetic). */
export function virtualFunctionSpecs(pf: DeviceSpec, count: number): DeviceSpec[] {
  const sriov = pf.sriov;
  if (!sriov) return [];
  const { domain, bus, slot, fn } = splitAddress(pf.address);
  const pfRid = (bus << 8) | (slot << 3) | fn;
  return Array.from({ length: count }, (_, i) => {
    const rid = pfRid + sriov.offset + i * sriov.stride;
    const address = `${domain}:${hex2(rid >> 8)}:${hex2((rid >> 3) & 0x1f)}.${rid & 7}`;
    return {
      address,
      vendor: pf.vendor,
      device: sriov.vfDevice,
      class: pf.class,
      revision: pf.revision,
      subsystem: pf.subsystem,
      driver: sriov.vfDriver,
      iommuGroup: sriov.vfGroupBase === undefined ? undefined : sriov.vfGroupBase + i,
      numaNode: pf.numaNode,
      pcie: pf.pcie ? { type: 'endpoint', linkGen: pf.pcie.linkGen, linkWidth: pf.pcie.linkWidth } : undefined,
      physfn: pf.address,
      net: sriov.vfNetPrefix ? [`${sriov.vfNetPrefix}${i}`] : [],
      drm: [],
      resetMethods: ['flr'],
      omit: [],
    } satisfies DeviceSpec;
  });
}

/** Every device of the host as the kernel would list it: the spec's devices plus enabled VFs. */
export function allDevices(spec: HostSpec): DeviceSpec[] {
  const listed = new Set(spec.devices.map((d) => d.address));
  const vfs = spec.devices.flatMap((d) => virtualFunctionSpecs(d, d.sriov?.numVfs ?? 0)).filter((vf) => !listed.has(vf.address));
  return [...spec.devices, ...vfs];
}

/**
 * The sysfs folder of every device (`/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0`):
 * a device sits below the bridge whose secondary bus is its bus, a root bus below
 * `/sys/devices/pciDDDD:BB` (or below its VMD parent), a VF beside its PF.
 */
export function deviceSysfsPaths(spec: HostSpec, devices = allDevices(spec)): Map<string, string> {
  const byAddress = new Map(devices.map((d) => [d.address, d]));
  const bridgeOfBus = new Map<string, DeviceSpec>();
  for (const d of devices) if (d.secondaryBus !== undefined) bridgeOfBus.set(`${d.address.split(':')[0]}:${d.secondaryBus}`, d);
  const paths = new Map<string, string>();
  const resolving = new Set<string>();
  const folderOf = (d: DeviceSpec): string => {
    const known = paths.get(d.address);
    if (known) return known;
    if (resolving.has(d.address)) throw new SysfsSimError('laying out', d.address, undefined, 'bridges form a loop (check secondaryBus)');
    resolving.add(d.address);
    const [domain, bus] = d.address.split(':') as [string, string];
    let parent: string;
    const pf = d.physfn ? byAddress.get(d.physfn) : undefined;
    const bridge = bridgeOfBus.get(`${domain}:${bus}`);
    if (pf) parent = path.posix.dirname(folderOf(pf));
    else if (bridge && bridge.address !== d.address) parent = folderOf(bridge);
    else {
      const vmd = spec.domainParents[domain];
      const vmdDevice = vmd ? byAddress.get(vmd) : undefined;
      if (vmd && !vmdDevice) throw new SysfsSimError('laying out', d.address, undefined, `domainParents names ${vmd}, which is not a device`);
      parent = `${vmdDevice ? folderOf(vmdDevice) : '/sys/devices'}/pci${domain}:${bus}`;
    }
    const folder = `${parent}/${d.address}`;
    paths.set(d.address, folder);
    resolving.delete(d.address);
    return folder;
  };
  devices.forEach(folderOf);
  return paths;
}

const PCIE_SPEED = ['', '2.5 GT/s PCIe', '5.0 GT/s PCIe', '8.0 GT/s PCIe', '16.0 GT/s PCIe', '32.0 GT/s PCIe', '64.0 GT/s PCIe'];

/** The files of one device folder, its links from /sys/bus/pci and its driver. */
export function materializeDevice(root: string, spec: HostSpec, device: DeviceSpec, folder: string, multiFunction: boolean): void {
  const omit = new Set(device.omit);
  const attr = (name: string, value: string, mode = 0o644) => writeTreeFile(root, `${folder}/${name}`, `${value}\n`, mode);
  fs.mkdirSync(path.join(root, folder), { recursive: true });
  if (!omit.has('vendor')) attr('vendor', `0x${device.vendor}`, 0o444);
  if (!omit.has('device')) attr('device', `0x${device.device}`, 0o444);
  if (!omit.has('class')) attr('class', `0x${device.class}`, 0o444);
  if (!omit.has('revision')) attr('revision', `0x${device.revision}`, 0o444);
  const subsystem = device.subsystem ?? { vendor: '0000', device: '0000' };
  if (!omit.has('subsystem')) {
    attr('subsystem_vendor', `0x${subsystem.vendor}`, 0o444);
    attr('subsystem_device', `0x${subsystem.device}`, 0o444);
  }
  if (!omit.has('numa_node')) attr('numa_node', String(device.numaNode));
  if (!omit.has('config')) writeTreeFile(root, `${folder}/config`, buildConfigSpace(device, multiFunction));
  attr('driver_override', device.driverOverride ?? '(null)');
  attr('enable', '1');
  attr('irq', '0', 0o444);
  attr('local_cpulist', (device.numaNode >= 0 ? spec.numa?.nodes[device.numaNode]?.cpus : undefined) ?? `0-${spec.cpu.count - 1}`, 0o444);
  attr('resource', resourceFileText(device, isBridgeClass(device.class) ? 17 : 7), 0o444);
  for (const bar of device.resizableBars ?? []) attr(`resource${bar.index}_resize`, resizeAttribute(bar.sizes), 0o600);
  const [cls, sub, progIf] = [device.class.slice(0, 2), device.class.slice(2, 4), device.class.slice(4, 6)];
  const modalias = `pci:v0000${device.vendor}d0000${device.device}sv0000${subsystem.vendor}sd0000${subsystem.device}bc${cls}sc${sub}i${progIf}`
    .toUpperCase()
    .replace(/^PCI:V/, 'pci:v');
  attr('modalias', modalias, 0o444);
  const uevent = [
    ...(device.driver ? [`DRIVER=${device.driver}`] : []),
    `PCI_CLASS=${parseInt(device.class, 16).toString(16).toUpperCase()}`,
    `PCI_ID=${device.vendor}:${device.device}`.toUpperCase(),
    `PCI_SUBSYS_ID=${subsystem.vendor}:${subsystem.device}`.toUpperCase(),
    `PCI_SLOT_NAME=${device.address}`,
    `MODALIAS=${modalias}`,
  ];
  attr('uevent', uevent.join('\n'));
  for (const writeOnly of ['remove', 'rescan', 'reset']) writeTreeFile(root, `${folder}/${writeOnly}`, '', 0o200);
  if (device.class.startsWith('0300')) attr('boot_vga', device.bootVga ? '1' : '0', 0o444);
  if (device.resetMethods) attr('reset_method', device.resetMethods.join(' '));
  if (device.label) attr('label', device.label, 0o444);
  // The kernel makes `rom` (0600: root's) only for a device with a ROM BAR.
  if (device.rom) writeTreeFile(root, `${folder}/rom`, buildOptionRom(device.rom, device), 0o600);
  if (device.pcie) {
    attr('current_link_speed', PCIE_SPEED[device.pcie.linkGen]!, 0o444);
    attr('max_link_speed', PCIE_SPEED[device.pcie.linkGen]!, 0o444);
    attr('current_link_width', String(device.pcie.linkWidth), 0o444);
    attr('max_link_width', String(device.pcie.linkWidth), 0o444);
  }
  const [domain] = device.address.split(':') as [string];
  if (device.secondaryBus !== undefined) {
    // The kernel's pci_bus/DDDD:BB folder always has these files (and keeps the folder in git).
    const bus = `${folder}/pci_bus/${domain}:${device.secondaryBus}`;
    writeTreeFile(root, `${bus}/cpulistaffinity`, `0-${spec.cpu.count - 1}\n`, 0o444);
    writeTreeFile(root, `${bus}/rescan`, '', 0o200);
  }
  linkTree(root, `${folder}/subsystem`, '/sys/bus/pci');
  linkTree(root, `/sys/bus/pci/devices/${device.address}`, folder);

  if (device.sriov) {
    attr('sriov_totalvfs', String(device.sriov.totalVfs), 0o444);
    attr('sriov_numvfs', String(device.sriov.numVfs));
    attr('sriov_offset', String(device.sriov.offset), 0o444);
    attr('sriov_stride', String(device.sriov.stride), 0o444);
    attr('sriov_vf_device', device.sriov.vfDevice, 0o444);
    attr('sriov_drivers_autoprobe', '1');
  }
  if (device.physfn) linkTree(root, `${folder}/physfn`, `${path.posix.dirname(folder)}/${device.physfn}`);

  device.net.forEach((name, i) => {
    const netFolder = `${folder}/net/${name}`;
    const { bus, slot, fn } = splitAddress(device.address);
    writeTreeFile(root, `${netFolder}/address`, `02:00:${hex2(bus)}:${hex2(slot)}:${hex2(fn)}:${hex2(i)}\n`);
    writeTreeFile(root, `${netFolder}/operstate`, 'down\n');
    linkTree(root, `/sys/class/net/${name}`, netFolder);
  });
  for (const node of device.drm) {
    const minor = node.replace(/^\D+/, '');
    writeTreeFile(root, `${folder}/drm/${node}/dev`, `226:${minor}\n`, 0o444);
    writeTreeFile(root, `${folder}/drm/${node}/uevent`, `MAJOR=226\nMINOR=${minor}\nDEVNAME=dri/${node}\nDEVTYPE=drm_minor\n`);
    linkTree(root, `/sys/class/drm/${node}`, `${folder}/drm/${node}`);
    writeTreeFile(root, `/dev/dri/${node}`, '');
  }
  if (device.driver) bindInTree(root, device.address, folder, device.driver);
  materializeGpuSharing(root, device, folder);
  if (device.iommuGroup !== undefined) {
    const group = `/sys/kernel/iommu_groups/${device.iommuGroup}`;
    writeTreeFile(root, `${group}/type`, `${spec.iommu.groupType}\n`);
    writeTreeFile(root, `${group}/reserved_regions`, '');
    linkTree(root, `${group}/devices/${device.address}`, folder);
    linkTree(root, `${folder}/iommu_group`, group);
  }
}

/** The two links that say "bound": device/driver and driver/<address>. */
export function bindInTree(root: string, address: string, folder: string, driver: string): void {
  ensureDriverFolder(root, driver);
  linkTree(root, `${folder}/driver`, `/sys/bus/pci/drivers/${driver}`);
  linkTree(root, `/sys/bus/pci/drivers/${driver}/${address}`, folder);
}

/** A driver's folder with its control files, as the kernel shows it once the module is in. */
export function ensureDriverFolder(root: string, driver: string): void {
  const folder = `/sys/bus/pci/drivers/${driver}`;
  if (fs.existsSync(path.join(root, folder, 'bind'))) return;
  for (const file of ['bind', 'unbind', 'new_id', 'remove_id']) writeTreeFile(root, `${folder}/${file}`, '', 0o200);
  writeTreeFile(root, `${folder}/uevent`, '', 0o200);
}

/** PCI drivers registered by a module of another name (xhci_hcd lives in xhci_pci). */
export const DRIVER_MODULES: Readonly<Record<string, string>> = {
  xhci_hcd: 'xhci_pci',
  'nvidia-gpu': 'i2c_nvidia_gpu',
  ehci_pci: 'ehci_pci',
  'ehci-pci': 'ehci_pci',
};

/** Module name of a driver name (vfio-pci -> vfio_pci), as /sys/module spells it. */
export const moduleName = (name: string) => name.replace(/-/g, '_');

/** A 48-byte ACPI table with a valid header and no body: readers see which tables exist. */
export function acpiPlaceholder(signature: string): Buffer {
  const table = Buffer.alloc(48);
  table.write(signature.padEnd(4, ' '), 0, 'latin1');
  table.writeUInt32LE(table.length, 4);
  table.writeUInt8(1, 8);
  table.write('PSSTRU', 10, 'latin1');
  let sum = 0;
  for (const byte of table) sum = (sum + byte) & 0xff;
  table.writeUInt8((0x100 - sum) & 0xff, 9);
  return table;
}

/**
 * Lays out `spec` under `dir` exactly as Linux shows such a host: /sys (devices, bus, drivers,
 * IOMMU groups and units, firmware tables, DMI), /proc (cmdline, cpuinfo, interrupts, modules),
 * /dev (vfio, dri), /lib/modules and the spec's other files. `dir` must be absent or empty.
 */
export function materialize(specInput: HostSpec | HostSpecInput, dir: string): HostSpec {
  const spec = parseHostSpec(specInput, `host spec ${(specInput as { name?: string }).name ?? ''}`.trim());
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) throw new SysfsSimError('materializing', spec.name, dir, 'the folder is not empty');
  fs.mkdirSync(dir, { recursive: true });
  const root = fs.realpathSync(dir);
  writeTreeFile(root, SIM_SPEC_FILE, `${JSON.stringify(spec, null, 1)}\n`);

  for (const file of ['drivers_probe', 'rescan']) writeTreeFile(root, `/sys/bus/pci/${file}`, '', 0o200);
  writeTreeFile(root, '/sys/bus/pci/drivers_autoprobe', '1\n');
  fs.mkdirSync(path.join(root, 'sys/kernel/iommu_groups'), { recursive: true });
  fs.mkdirSync(path.join(root, 'sys/class/iommu'), { recursive: true });

  const loaded = new Set(spec.modules.map(moduleName));
  const builtin = new Set(spec.builtinModules.map(moduleName));
  // Every /sys/module/X has uevent; only loadable (not built-in) modules have initstate.
  for (const module of [...loaded, ...builtin]) writeTreeFile(root, `/sys/module/${module}/uevent`, '', 0o200);
  for (const module of loaded) if (!builtin.has(module)) writeTreeFile(root, `/sys/module/${module}/initstate`, 'live\n', 0o444);
  // A PCI driver's folder exists once its module is in: vfio-pci only with vfio_pci.
  for (const driver of ['vfio-pci', 'pci-stub']) if (loaded.has(moduleName(driver)) || builtin.has(moduleName(driver))) ensureDriverFolder(root, driver);
  for (const driver of spec.drivers) ensureDriverFolder(root, driver.name);

  const devices = allDevices(spec);
  const folders = deviceSysfsPaths(spec, devices);
  const slotCount = new Map<string, number>();
  for (const d of devices) slotCount.set(d.address.slice(0, -2), (slotCount.get(d.address.slice(0, -2)) ?? 0) + 1);
  for (const device of devices) materializeDevice(root, spec, device, folders.get(device.address)!, (slotCount.get(device.address.slice(0, -2)) ?? 0) > 1);
  for (const pf of spec.devices) {
    virtualFunctionSpecs(pf, pf.sriov?.numVfs ?? 0).forEach((vf, i) => {
      linkTree(root, `${folders.get(pf.address)}/virtfn${i}`, folders.get(vf.address)!);
    });
  }
  // drivers/D/module -> /sys/module/M when M is loaded: how tools learn a driver's module.
  const moduleOf = new Map(spec.drivers.filter((d) => d.module).map((d) => [d.name, d.module!]));
  for (const driver of fs.readdirSync(path.join(root, 'sys/bus/pci/drivers'))) {
    const module = moduleName(moduleOf.get(driver) ?? DRIVER_MODULES[driver] ?? driver);
    if (loaded.has(module)) linkTree(root, `/sys/bus/pci/drivers/${driver}/module`, `/sys/module/${module}`);
  }

  if (spec.iommu.enabled) {
    for (const unit of spec.iommu.units) {
      const folder = `/sys/devices/virtual/iommu/${unit.name}`;
      fs.mkdirSync(path.join(root, folder, 'devices'), { recursive: true });
      if (unit.cap) writeTreeFile(root, `${folder}/intel-iommu/cap`, `${unit.cap}\n`);
      if (unit.ecap) writeTreeFile(root, `${folder}/intel-iommu/ecap`, `${unit.ecap}\n`);
      linkTree(root, `/sys/class/iommu/${unit.name}`, folder);
    }
    for (const [address, unit] of iommuUnitOfDevice(spec, devices, folders)) {
      const folder = folders.get(address)!;
      linkTree(root, `/sys/devices/virtual/iommu/${unit}/devices/${address}`, folder);
      linkTree(root, `${folder}/iommu`, `/sys/devices/virtual/iommu/${unit}`);
    }
  }
  // Every ACPI machine (x86 always is one) has a FADT ("FACP") and a DSDT: a whole host's
  // tables folder is never empty, so an empty or missing one means a partial tree.
  const acpi = spec.cpu.vendor === 'other' ? spec.firmware.tables : ['FACP', 'DSDT', ...spec.firmware.tables];
  for (const table of acpi) writeTreeFile(root, `/sys/firmware/acpi/tables/${table}`, acpiPlaceholder(table), 0o400);
  // /sys/kernel exists on every running kernel (iommu_groups is empty with the IOMMU off, and
  // git keeps no empty folder): one real file of it keeps the layer in a committed tree.
  writeTreeFile(root, '/sys/kernel/uevent_seqnum', '2048\n', 0o444);
  if (spec.dmi) {
    const dmi = '/sys/devices/virtual/dmi/id';
    writeTreeFile(root, `${dmi}/board_vendor`, `${spec.dmi.boardVendor}\n`);
    writeTreeFile(root, `${dmi}/board_name`, `${spec.dmi.boardName}\n`);
    writeTreeFile(root, `${dmi}/bios_vendor`, `${spec.dmi.biosVendor}\n`);
    writeTreeFile(root, `${dmi}/bios_version`, `${spec.dmi.biosVersion}\n`);
    writeTreeFile(root, `${dmi}/sys_vendor`, `${spec.dmi.virtual ? 'QEMU' : spec.dmi.boardVendor}\n`);
    linkTree(root, '/sys/class/dmi/id', dmi);
  }

  if (spec.numa) {
    // The kernel's node folders: online, and per node its cpulist and hugepage pools.
    writeTreeFile(root, '/sys/devices/system/node/online', `0${spec.numa.nodes.length > 1 ? `-${spec.numa.nodes.length - 1}` : ''}\n`, 0o444);
    spec.numa.nodes.forEach((node, n) => {
      writeTreeFile(root, `/sys/devices/system/node/node${n}/cpulist`, `${node.cpus}\n`, 0o444);
      for (const [size, count] of Object.entries(node.hugepages)) {
        writeTreeFile(root, `/sys/devices/system/node/node${n}/hugepages/hugepages-${size}/nr_hugepages`, `${count}\n`);
        writeTreeFile(root, `/sys/devices/system/node/node${n}/hugepages/hugepages-${size}/free_hugepages`, `${count}\n`, 0o444);
      }
    });
  }
  writeTreeFile(root, '/proc/cmdline', `${spec.cmdline}\n`);
  writeTreeFile(root, '/proc/cpuinfo', cpuinfo(spec));
  writeTreeFile(root, '/proc/interrupts', interrupts(spec));
  writeTreeFile(root, '/proc/modules', [...loaded].map((m) => `${m} 16384 0 - Live 0x0000000000000000\n`).join(''));
  writeTreeFile(root, `/lib/modules/${spec.kernelRelease}/modules.builtin`, [...builtin].map((m) => `kernel/drivers/${m}.ko\n`).join(''));
  writeTreeFile(root, '/proc/sys/kernel/osrelease', `${spec.kernelRelease}\n`);
  if (loaded.has('vfio') || builtin.has('vfio')) writeTreeFile(root, '/dev/vfio/vfio', '');
  // IOMMUFD (Linux 6.2+): /dev/iommu while iommufd is in; with it, each device on vfio-pci also
  // gets a device cdev (CONFIG_VFIO_DEVICE_CDEV, 6.6+): /dev/vfio/devices/vfioN and vfio-dev/vfioN.
  const iommufd = loaded.has('iommufd') || builtin.has('iommufd');
  if (iommufd) writeTreeFile(root, '/dev/iommu', '');
  let cdev = 0;
  for (const device of devices) {
    if (device.driver === 'vfio-pci' && device.iommuGroup !== undefined) writeTreeFile(root, `/dev/vfio/${device.iommuGroup}`, '');
    if (device.driver === 'vfio-pci' && device.iommuGroup !== undefined && iommufd) {
      writeTreeFile(root, `/dev/vfio/devices/vfio${cdev}`, '');
      writeTreeFile(root, `${folders.get(device.address)!}/vfio-dev/vfio${cdev}/dev`, `511:${cdev}\n`);
      cdev++;
    }
  }
  for (const [file, content] of Object.entries(spec.files)) writeTreeFile(root, file, content);
  for (const layer of spec.absent) fs.rmSync(path.join(root, layer), { recursive: true, force: true });
  return spec;
}

/**
 * The IOMMU unit translating each grouped device, for the units' devices/ links. The spec does
 * not say, so: with two or more units and an integrated VGA on bus 0000:00, the first unit is
 * the graphics unit (as Intel's gfx DMAR unit) and serves only it; the other devices spread over
 * the remaining units by host bridge (`/sys/devices/pciDDDD:BB`, so VMD children follow the VMD).
 */
function iommuUnitOfDevice(spec: HostSpec, devices: DeviceSpec[], folders: Map<string, string>): Map<string, string> {
  const units = spec.iommu.units.map((u) => u.name);
  const result = new Map<string, string>();
  if (units.length === 0) return result;
  const grouped = devices.filter((d) => d.iommuGroup !== undefined);
  const isIgpu = (d: DeviceSpec) => d.class.startsWith('03') && d.address.startsWith('0000:00:');
  const gfxUnit = units.length > 1 && grouped.some(isIgpu) ? units[0] : undefined;
  const rest = gfxUnit ? units.slice(1) : units;
  const hostBridgeOf = (d: DeviceSpec) => folders.get(d.address)!.split('/')[3]!;
  const hostBridges = [...new Set(grouped.filter((d) => !(gfxUnit && isIgpu(d))).map(hostBridgeOf))].sort();
  for (const d of grouped) {
    result.set(d.address, gfxUnit && isIgpu(d) ? gfxUnit : rest[hostBridges.indexOf(hostBridgeOf(d)) % rest.length]!);
  }
  return result;
}

function cpuinfo(spec: HostSpec): string {
  const vendorId = { intel: 'GenuineIntel', amd: 'AuthenticAMD', other: 'Unknown' }[spec.cpu.vendor];
  const flags = [...new Set(['fpu', 'lm', ...spec.cpu.flags, ...(spec.dmi?.virtual ? ['hypervisor'] : [])])].join(' ');
  return Array.from(
    { length: spec.cpu.count },
    (_, i) => `processor\t: ${i}\nvendor_id\t: ${vendorId}\nmodel name\t: ${spec.cpu.model}\nflags\t\t: ${flags}\n\n`,
  ).join('');
}

function interrupts(spec: HostSpec): string {
  const ir = spec.iommu.enabled && spec.iommu.interruptRemapping ? 'IR-' : '';
  const cpus = Array.from({ length: spec.cpu.count }, (_, i) => `CPU${i}`.padStart(11)).join('');
  const zeros = Array.from({ length: spec.cpu.count }, () => '0'.padStart(11)).join('');
  return `${cpus}\n  0:${zeros}   ${ir}IO-APIC    2-edge      timer\n  9:${zeros}   ${ir}IO-APIC    9-fasteoi   acpi\n 24:${zeros}   ${ir}PCI-MSI 327680-edge      xhci_hcd\nNMI:${zeros}   Non-maskable interrupts\n`;
}
