/**
 * Facts about the host the checks rest on, read through HostFs: CPU vendor and flags
 * (/proc/cpuinfo), board and BIOS (/sys/class/dmi/id), kernel
 * release (/proc/sys/kernel/osrelease) and kernel configuration (/boot/config-<release> or
 * /proc/config.gz). Parsers are pure; the readers never throw for a missing or unreadable file.
 */
import { gunzipSync } from 'node:zlib';
import { tryReadBytes, tryReadText, type HostFs } from '@passthru/hostfs';
import type { CpuVendor } from './IommuParams';

export interface CpuInfo {
  vendor: CpuVendor;
  /** vendor_id as written (GenuineIntel, AuthenticAMD); absent on arm64. */
  vendorId?: string;
  model?: string;
  /** Flags of the first processor. */
  flags: string[];
  virtualization: 'vmx' | 'svm' | null;
  /** The `hypervisor` flag: the CPU says it runs under a hypervisor. */
  hypervisor: boolean;
}

/** Pure: /proc/cpuinfo -> vendor, model, flags of the first processor. */
export function parseCpuInfo(text: string): CpuInfo {
  const field = (name: string): string | undefined => {
    const m = new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(text);
    return m ? m[1]!.trim() : undefined;
  };
  const vendorId = field('vendor_id');
  const vendor: CpuVendor = vendorId === 'GenuineIntel' ? 'intel' : vendorId === 'AuthenticAMD' || vendorId === 'HygonGenuine' ? 'amd' : 'other';
  const flags = (field('flags') ?? field('Features') ?? '').split(/\s+/).filter((f) => f !== '');
  const virtualization = flags.includes('vmx') ? 'vmx' : flags.includes('svm') ? 'svm' : null;
  const info: CpuInfo = { vendor, flags, virtualization, hypervisor: flags.includes('hypervisor') };
  if (vendorId !== undefined) info.vendorId = vendorId;
  const model = field('model name');
  if (model !== undefined) info.model = model;
  return info;
}

export interface DmiIdentity {
  board?: string;
  bios?: string;
  sysVendor?: string;
  productName?: string;
}

const DMI = '/sys/class/dmi/id';

/** Board and BIOS from /sys/class/dmi/id (board_vendor, board_name, bios_vendor, bios_version, sys_vendor, product_name). */
export function readDmiIdentity(host: HostFs): DmiIdentity {
  const read = (name: string): string | undefined => {
    const text = tryReadText(host, `${DMI}/${name}`).value?.trim();
    return text === undefined || text === '' ? undefined : text;
  };
  const join = (...parts: Array<string | undefined>): string | undefined => {
    const s = parts.filter((p) => p !== undefined).join(' ');
    return s === '' ? undefined : s;
  };
  const out: DmiIdentity = {};
  const board = join(read('board_vendor'), read('board_name'));
  const bios = join(read('bios_vendor'), read('bios_version'));
  const sysVendor = read('sys_vendor');
  const productName = read('product_name');
  if (board !== undefined) out.board = board;
  if (bios !== undefined) out.bios = bios;
  if (sysVendor !== undefined) out.sysVendor = sysVendor;
  if (productName !== undefined) out.productName = productName;
  return out;
}

/** DMI system vendors / products of virtual machines (systemd-detect-virt's DMI table, abridged). */
const VM_DMI = /^(QEMU|KVM|VMware|innotek GmbH|VirtualBox|Xen|Bochs|Parallels|BHYVE|Amazon EC2|Google|Firecracker)|Virtual Machine/i;

export function dmiLooksVirtual(dmi: DmiIdentity): boolean {
  return [dmi.sysVendor, dmi.productName].some((v) => v !== undefined && VM_DMI.test(v));
}

/** /proc/sys/kernel/osrelease (what `uname -r` prints), trimmed. */
export function readKernelRelease(host: HostFs): string | undefined {
  const text = tryReadText(host, '/proc/sys/kernel/osrelease').value?.trim();
  return text === '' ? undefined : text;
}

export interface KernelConfig {
  /** The file the configuration came from. */
  path: string;
  /** CONFIG_X -> 'y' | 'm' | value; options written `# CONFIG_X is not set` map to 'n'. */
  options: Map<string, string>;
}

/** Pure: a kernel .config -> option values ('n' for `# CONFIG_X is not set`). */
export function parseKernelConfig(text: string): Map<string, string> {
  const options = new Map<string, string>();
  for (const line of text.split('\n')) {
    const set = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (set) options.set(set[1]!, set[2]!.replace(/^"(.*)"$/, '$1'));
    const unset = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/.exec(line);
    if (unset) options.set(unset[1]!, 'n');
  }
  return options;
}

/**
 * The running kernel's configuration: /boot/config-<release> (distribution kernels) or
 * /proc/config.gz (CONFIG_IKCONFIG_PROC). Undefined when neither is readable.
 */
export function readKernelConfig(host: HostFs, release: string | undefined): KernelConfig | undefined {
  if (release !== undefined && /^[A-Za-z0-9._+~-]+$/.test(release)) {
    const path = `/boot/config-${release}`;
    const text = tryReadText(host, path).value;
    if (text !== undefined) return { path, options: parseKernelConfig(text) };
  }
  const gz = tryReadBytes(host, '/proc/config.gz', 4 * 1024 * 1024).value;
  if (gz !== undefined) {
    try {
      return { path: '/proc/config.gz', options: parseKernelConfig(gunzipSync(gz).toString('utf8')) };
    } catch {
      return undefined;
    }
  }
  return undefined;
}
