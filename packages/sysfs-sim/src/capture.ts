import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { PCI_ADDRESS_RE } from './HostSpec';
import { acpiPlaceholder } from './materialize';
import { blockDeviceLines, defaultRoutes, filterCpuinfo, zeroGpuUuids, zeroSerialNumbers } from './redact';
import { SysfsSimError } from './SysfsSimError';

export interface CaptureOptions {
  /** Kernel release for /lib/modules/<release>/modules.builtin; default: the root's osrelease, else os.release() for '/'. */
  kernelRelease?: string;
}

export interface CaptureResult {
  /** PCI functions captured (entries of /sys/bus/pci/devices). */
  devices: number;
  /** Files and symlinks written under outDir. */
  files: number;
  /** `<host path>: <errno>` of every file that could not be read (EACCES, EIO, ...); never fatal. */
  skipped: string[];
}

/** Device attributes worth keeping. Never `vpd` (serial numbers), never write-only files' contents. */
const DEVICE_ATTRIBUTES = [
  'vendor',
  'device',
  'class',
  'revision',
  'subsystem_vendor',
  'subsystem_device',
  'config',
  'numa_node',
  'driver_override',
  'boot_vga',
  'sriov_totalvfs',
  'sriov_numvfs',
  'sriov_offset',
  'sriov_stride',
  'sriov_vf_device',
  'sriov_drivers_autoprobe',
  'reset_method',
  'current_link_speed',
  'current_link_width',
  'max_link_speed',
  'max_link_width',
  'label',
  'local_cpulist',
  'modalias',
  'uevent',
  'irq',
  'resource',
  'enable',
  'd3cold_allowed',
  'msi_bus',
  'index',
  'acpi_index',
];
/** The largest file a capture copies (modules.alias of a distribution kernel is about 1.5 MB). */
const MAX_CAPTURED_BYTES = 64 * 1024 * 1024;

/** Write-only attributes: recreated empty with their mode (reading them fails by design). */
const DEVICE_WRITE_ONLY = ['remove', 'rescan', 'reset'];
const DEVICE_LINKS = ['driver', 'iommu_group', 'iommu', 'physfn', 'subsystem'];
const DRIVER_CONTROL = ['bind', 'unbind', 'new_id', 'remove_id', 'uevent'];
const DMI_ATTRIBUTES = ['board_vendor', 'board_name', 'board_version', 'bios_vendor', 'bios_version', 'bios_date', 'sys_vendor', 'product_name'];
/** Modules whose parameters passthrough checks read. */
const MODULE_PARAMETERS_RE = /^(vfio.*|kvm.*|pci_stub|iommu|amd_iommu|intel_iommu)$/;

/**
 * Copies the PCI-relevant parts of a host (`root` = '/' for the live host, or a fixture tree)
 * into `outDir` with the same layout, so lspci (`-A linux-sysfs -O sysfs.path=OUT/sys/bus/pci`)
 * and passthru (`--root OUT`) read it directly: device attributes and links, drivers, IOMMU
 * groups and units, firmware table presence, DMI names, /proc (cmdline, cpuinfo, interrupts,
 * modules), boot-loader and modprobe config, modules.builtin. Symlinks are recreated relative.
 * Privacy: `vpd` is never read, DSN serial numbers in `config` and GPU UUIDs are zeroed, DMI
 * serials and UUIDs are never read, MAC addresses are not copied, ACPI tables become 48-byte placeholders.
 * Unreadable files are listed in `skipped`; absent ones are silently left out.
 */
export function capture(root: string, outDir: string, options: CaptureOptions = {}): CaptureResult {
  // The output must be an absent or empty folder; checked before anything is created.
  if (outDir === '') throw new SysfsSimError('capturing', root, undefined, 'the output folder must be named (got an empty path)');
  let existing: fs.Stats | undefined;
  try {
    existing = fs.statSync(outDir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT')
      throw new SysfsSimError('capturing', root, outDir, `the output path cannot be used: ${code ?? (error as Error).message}`, {
        cause: error,
        ...(code ? { code } : {}),
      });
  }
  if (existing && !existing.isDirectory())
    throw new SysfsSimError('capturing', root, outDir, 'the output path exists and is not a folder', { code: 'ENOTDIR' });
  if (existing && fs.readdirSync(outDir).length > 0) throw new SysfsSimError('capturing', root, outDir, 'the output folder is not empty');
  try {
    fs.mkdirSync(outDir, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new SysfsSimError('capturing', root, outDir, `the output folder cannot be created: ${code ?? (error as Error).message}`, {
      cause: error,
      ...(code ? { code } : {}),
    });
  }
  const out = fs.realpathSync(outDir);
  // Every read goes through HostFs: a symlink that leaves the root is skipped (EXDEV, listed),
  // a FIFO reads as empty instead of hanging, and no file is loaded past MAX_CAPTURED_BYTES.
  const host = new HostFs(root);
  const src = host.root;
  const result: CaptureResult = { devices: 0, files: 0, skipped: [] };
  /** The entry itself (not followed), its folder resolved inside the root. */
  const entry = (hostPath: string) => path.join(host.resolve(path.posix.dirname(hostPath)), path.posix.basename(hostPath));

  const fail = (hostPath: string, error: unknown): undefined => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') result.skipped.push(`${hostPath}: ${code ?? (error as Error).message}`);
    return undefined;
  };
  const read = (hostPath: string): Buffer | undefined => {
    try {
      return host.readBytes(hostPath, MAX_CAPTURED_BYTES);
    } catch (error) {
      return fail(hostPath, error);
    }
  };
  const list = (hostPath: string): fs.Dirent[] => {
    try {
      return fs.readdirSync(host.resolve(hostPath), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
    } catch (error) {
      fail(hostPath, error);
      return [];
    }
  };
  const modeOf = (hostPath: string): number | undefined => {
    try {
      // The file's own mode (through a symlink inside the root, the target's, never the link's 0777).
      return host.stat(hostPath).mode & 0o777;
    } catch {
      return undefined;
    }
  };
  /** The absolute host path a symlink points at, or undefined. */
  const target = (hostLink: string): string | undefined => {
    let link: string;
    try {
      link = fs.readlinkSync(entry(hostLink));
    } catch (error) {
      return fail(hostLink, error);
    }
    if (path.posix.isAbsolute(link)) return src !== '/' && link.startsWith(`${src}/`) ? link.slice(src.length) : link;
    return path.posix.resolve(path.posix.dirname(hostLink), link);
  };
  const write = (hostPath: string, content: string | Buffer, mode = 0o644) => {
    const file = path.join(out, hostPath);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content, { mode });
    fs.chmodSync(file, mode);
    result.files++;
  };
  const link = (hostLink: string, hostTarget: string) => {
    const file = path.join(out, hostLink);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.rmSync(file, { force: true });
    fs.symlinkSync(path.posix.relative(path.posix.dirname(hostLink), hostTarget), file);
    result.files++;
  };
  /** Copies a regular file if readable (keeping its mode); returns whether it did. */
  const copy = (hostPath: string, transform?: (content: Buffer) => Buffer): boolean => {
    const content = read(hostPath);
    if (content === undefined) return false;
    write(hostPath, transform ? transform(content) : content, modeOf(hostPath) ?? 0o644);
    return true;
  };
  const copyLink = (hostLink: string): string | undefined => {
    const to = target(hostLink);
    if (to !== undefined) link(hostLink, to);
    return to;
  };
  const isLink = (hostPath: string) => {
    try {
      return fs.lstatSync(entry(hostPath)).isSymbolicLink();
    } catch {
      return false;
    }
  };

  /** The regular files of a folder and its sub-folders down to `depth` (none when it is absent). */
  const copyFilesBelow = (hostPath: string, depth: number, transform?: (content: Buffer) => Buffer): void => {
    for (const e of list(hostPath)) {
      if (e.isFile()) copy(`${hostPath}/${e.name}`, transform);
      else if (e.isDirectory() && depth > 0) copyFilesBelow(`${hostPath}/${e.name}`, depth - 1, transform);
    }
  };
  /** A parent's mdev types (what the kernel shows of each) and the mdevs made from them. */
  const captureMdevTypes = (address: string, folder: string) => {
    for (const type of list(`${folder}/mdev_supported_types`)) {
      const typeDir = `${folder}/mdev_supported_types/${type.name}`;
      for (const file of ['name', 'description', 'device_api', 'available_instances']) copy(`${typeDir}/${file}`);
      write(`${typeDir}/create`, '', modeOf(`${typeDir}/create`) ?? 0o200);
      for (const mdev of list(`${typeDir}/devices`)) {
        const mdevFolder = copyLink(`${typeDir}/devices/${mdev.name}`);
        if (!mdevFolder) continue;
        copyLink(`${mdevFolder}/mdev_type`);
        copy(`${mdevFolder}/uevent`);
        write(`${mdevFolder}/remove`, '', modeOf(`${mdevFolder}/remove`) ?? 0o200);
        link(`/sys/bus/mdev/devices/${mdev.name}`, mdevFolder);
      }
    }
    if (isLink(`/sys/class/mdev_bus/${address}`)) copyLink(`/sys/class/mdev_bus/${address}`);
  };

  // PCI devices: attributes, links, net/drm names, pci_bus folders.
  for (const entry of list('/sys/bus/pci/devices')) {
    if (!PCI_ADDRESS_RE.test(entry.name)) continue;
    const folder = copyLink(`/sys/bus/pci/devices/${entry.name}`);
    if (!folder) continue;
    result.devices++;
    const names = new Map(list(folder).map((e) => [e.name, e]));
    for (const attribute of DEVICE_ATTRIBUTES) {
      if (names.has(attribute)) copy(`${folder}/${attribute}`, attribute === 'config' ? zeroSerialNumbers : undefined);
    }
    for (const attribute of DEVICE_WRITE_ONLY) if (names.has(attribute)) write(`${folder}/${attribute}`, '', modeOf(`${folder}/${attribute}`) ?? 0o200);
    for (const name of names.keys()) {
      if ((DEVICE_LINKS.includes(name) || /^virtfn\d+$/.test(name)) && isLink(`${folder}/${name}`)) copyLink(`${folder}/${name}`);
    }
    for (const net of names.has('net') ? list(`${folder}/net`) : []) {
      copy(`${folder}/net/${net.name}/operstate`) || write(`${folder}/net/${net.name}/operstate`, 'unknown\n');
      link(`/sys/class/net/${net.name}`, `${folder}/net/${net.name}`);
    }
    for (const node of names.has('drm') ? list(`${folder}/drm`) : []) {
      if (!/^(card|renderD)\d+$/.test(node.name)) continue;
      const nodeFolder = `${folder}/drm/${node.name}`;
      const copied = [copy(`${nodeFolder}/dev`), copy(`${nodeFolder}/uevent`)];
      if (!copied.some(Boolean)) write(`${nodeFolder}/dev`, `226:${node.name.replace(/^\D+/, '')}\n`, 0o444);
      link(`/sys/class/drm/${node.name}`, nodeFolder);
    }
    // Resizable BARs' sizes (Linux 6.1+); how a GPU is shared: mdev types and mdevs, NVIDIA vGPU 17+ files.
    for (const name of names.keys()) if (/^resource\d_resize$/.test(name)) copy(`${folder}/${name}`);
    if (names.has('mdev_supported_types')) captureMdevTypes(entry.name, folder);
    for (const file of names.has('nvidia') ? ['creatable_vgpu_types', 'current_vgpu_type'] : []) copy(`${folder}/nvidia/${file}`);
    for (const bus of names.has('pci_bus') ? list(`${folder}/pci_bus`) : []) {
      const busFolder = `${folder}/pci_bus/${bus.name}`;
      if (!copy(`${busFolder}/cpulistaffinity`)) write(`${busFolder}/cpulistaffinity`, '\n', 0o444);
      write(`${busFolder}/rescan`, '', modeOf(`${busFolder}/rescan`) ?? 0o200);
    }
  }

  // /sys/bus/pci: bus control files, slots, drivers and their device links.
  for (const file of ['drivers_probe', 'rescan'])
    if (modeOf(`/sys/bus/pci/${file}`) !== undefined) write(`/sys/bus/pci/${file}`, '', modeOf(`/sys/bus/pci/${file}`));
  copy('/sys/bus/pci/drivers_autoprobe');
  for (const slot of list('/sys/bus/pci/slots')) copy(`/sys/bus/pci/slots/${slot.name}/address`);
  for (const driver of list('/sys/bus/pci/drivers')) {
    const folder = `/sys/bus/pci/drivers/${driver.name}`;
    for (const entry of list(folder)) {
      const hostPath = `${folder}/${entry.name}`;
      if (DRIVER_CONTROL.includes(entry.name) && !entry.isSymbolicLink()) write(hostPath, '', modeOf(hostPath) ?? 0o200);
      else if (PCI_ADDRESS_RE.test(entry.name) && entry.isSymbolicLink()) copyLink(hostPath);
      else if (entry.name === 'module' && entry.isSymbolicLink()) copyLink(hostPath);
    }
  }

  // IOMMU groups and units.
  for (const group of list('/sys/kernel/iommu_groups')) {
    const folder = `/sys/kernel/iommu_groups/${group.name}`;
    copy(`${folder}/type`);
    copy(`${folder}/reserved_regions`);
    for (const device of list(`${folder}/devices`)) copyLink(`${folder}/devices/${device.name}`);
  }
  for (const unit of list('/sys/class/iommu')) {
    const folder = copyLink(`/sys/class/iommu/${unit.name}`);
    if (!folder) continue;
    for (const sub of ['intel-iommu', 'amd-iommu']) for (const file of list(`${folder}/${sub}`)) if (file.isFile()) copy(`${folder}/${sub}/${file.name}`);
    for (const device of list(`${folder}/devices`)) copyLink(`${folder}/devices/${device.name}`);
  }

  // /sys/kernel is there on every running kernel (iommu_groups empty with the IOMMU off): one
  // file of it keeps the layer in the capture, so doctor does not take it for a partial tree.
  copy('/sys/kernel/uevent_seqnum');

  // Firmware tables (presence only), DMI names (never serials or UUIDs).
  for (const table of list('/sys/firmware/acpi/tables')) {
    if (!table.isFile()) continue;
    write(`/sys/firmware/acpi/tables/${table.name}`, acpiPlaceholder(table.name.replace(/\d+$/, '').slice(0, 4)), 0o400);
  }
  const dmi = isLink('/sys/class/dmi/id') ? copyLink('/sys/class/dmi/id') : '/sys/class/dmi/id';
  if (dmi) for (const attribute of DMI_ATTRIBUTES) copy(`${dmi}/${attribute}`);

  // Modules: /sys/module/X folders (uevent, initstate, passthrough-relevant parameters).
  for (const module of list('/sys/module')) {
    const folder = `/sys/module/${module.name}`;
    write(`${folder}/uevent`, '', 0o200);
    copy(`${folder}/initstate`);
    if (MODULE_PARAMETERS_RE.test(module.name))
      for (const param of list(`${folder}/parameters`)) if (param.isFile()) copy(`${folder}/parameters/${param.name}`);
  }

  // /proc and the host's boot and module configuration.
  copy('/proc/cmdline');
  copy('/proc/cpuinfo', (content) => Buffer.from(filterCpuinfo(content.toString('utf8'))));
  copy('/proc/interrupts');
  copy('/proc/modules');
  // Who holds which physical range (a firmware framebuffer inside a GPU's BAR), without where the
  // kernel image sits (KASLR). A reader without CAP_SYS_ADMIN copies zeros, which doctor names.
  // What MIG is read from: NVIDIA's per-GPU information and capabilities, and nvidia-smi's answers a tree keeps.
  copyFilesBelow('/proc/driver/nvidia/gpus', 1, zeroGpuUuids);
  copyFilesBelow('/proc/driver/nvidia/capabilities', 4);
  copyFilesBelow('/var/lib/passthru/captured/nvidia-smi', 0);
  copy('/proc/iomem', (c) => Buffer.from(c.toString('utf8').replace(/^ *[0-9a-f]+-[0-9a-f]+ : Kernel (code|rodata|data|bss)\n/gm, '')));
  const osrelease = read('/proc/sys/kernel/osrelease')?.toString('utf8').trim();
  if (osrelease) write('/proc/sys/kernel/osrelease', `${osrelease}\n`);
  const release = options.kernelRelease ?? osrelease ?? (src === '/' ? os.release() : undefined);
  if (release) {
    copy(`/lib/modules/${release}/modules.builtin`);
    // modules.dep only for the modules passthru loads (vfio-pci and its dependencies): the
    // simulated kernel's `modprobe` needs to know whether the kernel has them, nothing more.
    const dep = read(`/lib/modules/${release}/modules.dep`)?.toString('utf8');
    if (dep !== undefined) {
      const kept = dep.split('\n').filter((line) => /(^|\/)(vfio[^/:]*|irqbypass)\.ko(\.(xz|zst|gz))?:/.test(line));
      write(`/lib/modules/${release}/modules.dep`, kept.length > 0 ? `${kept.join('\n')}\n` : '');
    }
    // modules.alias's pci: lines of the modules behind this host's PCI drivers: the id tables
    // the kernel matches devices against (the simulated kernel binds by them).
    const aliases = read(`/lib/modules/${release}/modules.alias`)?.toString('utf8');
    if (aliases !== undefined) {
      const modules = new Set(
        list('/sys/bus/pci/drivers').map((d) => (target(`/sys/bus/pci/drivers/${d.name}/module`)?.split('/').pop() ?? d.name).replace(/-/g, '_')),
      );
      const kept = aliases.split('\n').filter((line) => {
        const [word, pattern, module] = line.trim().split(/\s+/);
        return word === 'alias' && pattern?.startsWith('pci:') && module !== undefined && modules.has(module.replace(/-/g, '_'));
      });
      write(`/lib/modules/${release}/modules.alias`, kept.length > 0 ? `${kept.join('\n')}\n` : '');
    }
  }
  // What bind's guards read of the running system, reduced to what they judge: default routes
  // (which interface; the gateway zeroed), mounts and swaps of block devices, and the block
  // devices' sysfs folders (a disk belongs to the PCI device in its path).
  copy('/proc/net/route', (c) => Buffer.from(defaultRoutes(c.toString('utf8'), 'v4')));
  copy('/proc/net/ipv6_route', (c) => Buffer.from(defaultRoutes(c.toString('utf8'), 'v6')));
  copy('/proc/mounts', (c) => Buffer.from(blockDeviceLines(c.toString('utf8'), 0)));
  copy('/proc/swaps', (c) => Buffer.from(blockDeviceLines(c.toString('utf8'), 1)));
  for (const block of list('/sys/class/block')) {
    const folder = copyLink(`/sys/class/block/${block.name}`);
    if (folder) copy(`${folder}/dev`) || write(`${folder}/dev`, '0:0\n', 0o444);
  }
  // The boot configuration, the distribution (whose tools a fix names) and what loads at boot.
  for (const file of ['/etc/default/grub', '/etc/kernel/cmdline', '/etc/initramfs-tools/modules', '/etc/os-release']) copy(file);
  for (const dir of ['/etc/default/grub.d', '/etc/modprobe.d', '/etc/modules-load.d']) {
    for (const entry of list(dir)) if (entry.isFile() || entry.isSymbolicLink()) copy(`${dir}/${entry.name}`);
  }
  // Device nodes become empty placeholder files (as materialize makes them).
  for (const dir of ['/dev/vfio', '/dev/dri']) for (const entry of list(dir)) if (!entry.isDirectory()) write(`${dir}/${entry.name}`, '');
  return result;
}
