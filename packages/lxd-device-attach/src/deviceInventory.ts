/**
 * What attach's preflight checks a device against. By default that is this host's sysfs
 * (`hostInventory`). In an LXD cluster an instance may live on another member, whose devices
 * this host cannot see: @passthru/fleet then gives that member's inventory (its LXD resources
 * and its published readiness) through the same interface, so the rules of attach stay here.
 */
import { HostFsError, type HostFs } from '@passthru/hostfs';
import {
  PCI_ADDRESS_RE,
  PCI_DEVICES,
  readGpuModesOf,
  readNvidiaSmi,
  readPciDevice,
  scanPciDevices,
  type GpuModes,
  type NvidiaSmiRunner,
  type PciDevice,
} from '@passthru/pci-discovery';
import { iommuVerdict, type IommuVerdict } from './iommuVerdict';
import { LxdError } from './LxdError';
import { probeHostNuma } from './numa';
import { numaFindings } from './numaFindings';
import type { Instance } from './schemas';

export const THIS_HOST = 'this host';

export interface DeviceInventory {
  /** Whose devices these are: `this host`, `cluster member m2`; messages and the plan name it. */
  readonly where: string;
  /** What was read, for the plan's notes (and --dry-run); null for this host's sysfs. */
  readonly note: string | null;
  /** The function at `address`, or null when there is none. */
  pciAt(address: string): PciDevice | null;
  pciDevices(): PciDevice[];
  /** An interface's PCI function (null: it is not a PCI function); undefined: no such interface. */
  netdev(iface: string): PciDevice | null | undefined;
  /** The USB device's name (`1-2`), or null when there is none. */
  usb(vendorId: string, productId: string): string | null;
  /** Why a PCI address or USB id was not found, for the message. */
  absent(kind: 'pci' | 'usb', name: string): string;
  /** For a VM: whether the device's IOMMU group can be given away there (with the plan text). */
  iommu(device: PciDevice): IommuVerdict;
  /** Warnings about the instance as it will be (pinned CPUs off the device's NUMA node). */
  numaWarnings(instance: Instance): string[];
  /** How a GPU can be shared there (mdev types, VFs, MIG); absent: not known (another cluster member). */
  gpuModes?(device: PciDevice): Promise<GpuModes | null>;
}

/** The PciDevice at `address`, or null when sysfs has no such folder. */
function pciAt(host: HostFs, address: string): PciDevice | null {
  if (!host.exists(`${PCI_DEVICES}/${address}`)) return null;
  try {
    return readPciDevice(host, address);
  } catch (error) {
    if (error instanceof HostFsError) throw new LxdError('reading', `PCI device ${address}`, host.root, error.message, { reason: 'not-found', cause: error });
    throw error;
  }
}

/** The PCI function behind an interface: its `device` link, else the PCI folder above net/<iface>. */
function netdevPci(host: HostFs, iface: string): PciDevice | null {
  const link = host.linkName(`/sys/class/net/${iface}/device`);
  if (link && PCI_ADDRESS_RE.test(link)) return pciAt(host, link);
  let real: string;
  try {
    real = host.realHostPath(`/sys/class/net/${iface}`);
  } catch {
    return null;
  }
  const parts = real.split('/');
  const parent = parts.at(-2) === 'net' ? parts.at(-3) : undefined;
  return parent && PCI_ADDRESS_RE.test(parent) ? pciAt(host, parent) : null;
}

function findUsb(host: HostFs, vendor: string, product: string): string | null {
  for (const name of host.list('/sys/bus/usb/devices')) {
    if (name.includes(':')) continue; // interfaces, not devices
    const v = host.readAttributeIfExists(`/sys/bus/usb/devices/${name}/idVendor`);
    const p = host.readAttributeIfExists(`/sys/bus/usb/devices/${name}/idProduct`);
    if (v === vendor && p === product) return name;
  }
  return null;
}

/**
 * This host's devices, read through `host` (sysfs, or a fixture tree with --root); `nvidiaSmi`
 * runs nvidia-smi on a live host for the MIG instances (a tree holds its captured output).
 */
export function hostInventory(host: HostFs, options: { nvidiaSmi?: NvidiaSmiRunner } = {}): DeviceInventory {
  return {
    where: THIS_HOST,
    note: null,
    pciAt: (address) => pciAt(host, address),
    pciDevices: () => scanPciDevices(host).devices,
    netdev: (iface) => (host.exists(`/sys/class/net/${iface}`) ? netdevPci(host, iface) : undefined),
    usb: (vendorId, productId) => findUsb(host, vendorId, productId),
    absent: (kind, name) => (kind === 'pci' ? `${PCI_DEVICES}/${name} does not exist` : 'none under /sys/bus/usb/devices'),
    iommu: (device) => iommuVerdict(host, device),
    numaWarnings: (instance) =>
      numaFindings(instance, probeHostNuma(host))
        .filter((f) => f.severity === 'medium')
        .map((f) => `NUMA: ${f.summary}; fix: ${f.fix}`),
    gpuModes: async (device) => readGpuModesOf(host, device, [], await readNvidiaSmi(host, [device], options.nvidiaSmi)),
  };
}
