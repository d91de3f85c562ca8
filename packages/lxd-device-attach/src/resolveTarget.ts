import { HostFsError, type HostFs } from '@passthru/hostfs';
import {
  PCI_ADDRESS_RE,
  PCI_DEVICES,
  PciDiscoveryError,
  deviceClassOf,
  parseTarget,
  readPciDevice,
  scanPciDevices,
  type PciDevice,
  type Target,
} from '@passthru/pci-discovery';
import { LxdError } from './LxdError';
import type { DeviceConfig, InstanceType } from './schemas';

export const ATTACH_TYPES = ['auto', 'gpu', 'pci', 'nic', 'usb'] as const;
export type AttachType = (typeof ATTACH_TYPES)[number];

/** What TARGET names on the host. */
export type HostTarget =
  | { kind: 'pci'; address: string; device: PciDevice | null }
  | { kind: 'netdev'; iface: string; device: PciDevice | null }
  | { kind: 'usb'; vendorId: string; productId: string; sysfsName: string | null };

export interface ResolveOptions {
  /**
   * Check TARGET against this host's sysfs (default true). Turn off only when LXD runs on
   * another machine (HTTPS remote): then a PCI address is passed to LXD as given, and LXD (at
   * hot-plug or at start) is the one to say it does not exist.
   */
  hostCheck?: boolean;
}

function bad(target: string, detail: string, kind: 'bad-input' | 'not-found' = 'bad-input'): LxdError {
  return new LxdError('resolving', `target ${JSON.stringify(target)}`, '', detail, { kind });
}

/** The PciDevice at `address`, or null when sysfs has no such folder. */
function pciAt(host: HostFs, address: string): PciDevice | null {
  if (!host.exists(`${PCI_DEVICES}/${address}`)) return null;
  try {
    return readPciDevice(host, address);
  } catch (error) {
    if (error instanceof HostFsError) throw new LxdError('reading', `PCI device ${address}`, host.root, error.message, { kind: 'not-found', cause: error });
    throw error;
  }
}

/**
 * TARGET -> what it is on this host: a PCI address (0000:01:00.0 or 01:00.0), vendor:device
 * (10de:2684, or a USB vendor:product with --type usb), or a network interface name.
 */
export function resolveTarget(host: HostFs, target: string, type: AttachType = 'auto', options: ResolveOptions = {}): HostTarget {
  const hostCheck = options.hostCheck ?? true;
  const usbHint = 'a USB target is vendor:product in hex, e.g. 046d:c52b';
  let parsed: Target;
  try {
    parsed = parseTarget(target.trim());
  } catch (error) {
    if (!(error instanceof PciDiscoveryError)) throw error;
    throw bad(target, type === 'usb' && target.trim() !== '' ? usbHint : (error.detail ?? error.message));
  }
  if (parsed.kind === 'group')
    throw bad(target, 'attach takes one device; name one address of the group (the whole group is bound with `passthru bind group:N`)');

  if (type === 'usb' || parsed.kind === 'usb') {
    const ids =
      parsed.kind === 'usb'
        ? { vendorId: parsed.vendorId, productId: parsed.productId }
        : parsed.kind === 'ids'
          ? { vendorId: parsed.vendorId, productId: parsed.deviceId }
          : undefined;
    if (!ids) throw bad(target, usbHint);
    const sysfsName = hostCheck ? findUsb(host, ids.vendorId, ids.productId) : null;
    if (hostCheck && sysfsName === null)
      throw bad(target, `no USB device ${ids.vendorId}:${ids.productId} under /sys/bus/usb/devices on this host`, 'not-found');
    return { kind: 'usb', ...ids, sysfsName };
  }

  if (parsed.kind === 'address') {
    const { address } = parsed;
    const device = hostCheck ? pciAt(host, address) : null;
    if (hostCheck && device === null) throw bad(target, `no PCI device ${address} on this host (${PCI_DEVICES}/${address} does not exist)`, 'not-found');
    return { kind: 'pci', address, device };
  }

  if (parsed.kind === 'ids') {
    const ids = `${parsed.vendorId}:${parsed.deviceId}`;
    const matches = scanPciDevices(host).devices.filter((d) => d.vendorId === parsed.vendorId && d.deviceId === parsed.deviceId);
    if (matches.length === 0) throw bad(target, `no PCI device with ids ${ids} on this host`, 'not-found');
    if (matches.length > 1)
      throw bad(target, `${matches.length} PCI devices have ids ${ids} (${matches.map((m) => m.address).join(', ')}); name one by address`);
    return { kind: 'pci', address: matches[0]!.address, device: matches[0]! };
  }

  const iface = parsed.name;
  if (!host.exists(`/sys/class/net/${iface}`))
    throw bad(target, `no network interface ${iface} on this host (and not a PCI address or vendor:device)`, 'not-found');
  return { kind: 'netdev', iface, device: netdevPci(host, iface) };
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

/** The LXD device for a target and instance type, and why that type was chosen. */
export interface DeviceChoice {
  device: DeviceConfig;
  /** The LXD device type (`gpu`, `pci`, `nic`, `usb`). */
  type: Exclude<AttachType, 'auto'>;
  /** The default device name. */
  name: string;
  reason: string;
  /** The host PCI address the device hands over, when there is one (for conflicts and IOMMU checks). */
  pciAddress: string | null;
  /** The host network interface it moves, when there is one. */
  iface: string | null;
}

const slug = (s: string) => s.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '');

function refuse(detail: string): LxdError {
  return new LxdError('choosing', 'the device type', '', detail, { kind: 'preflight' });
}

/**
 * The device type for a target and an instance type:
 * - a GPU: `gpu` with `pci=` (containers get the host driver's nodes; a VM gets the function
 *   by vfio); `--type pci` for a VM gives the raw `pci` device instead;
 * - a NIC (by interface or by the address of a function with an interface): `nic
 *   nictype=physical parent=<iface>`; a PF with VFs enabled: `nictype=sriov parent=<pf>` (LXD
 *   takes a free VF); a VF by its interface: `physical`, so exactly that VF moves;
 * - any other PCI function (and a NIC without an interface, e.g. on vfio-pci): `pci`, VMs only;
 * - USB: `usb vendorid= productid=`.
 */
export function chooseDevice(target: HostTarget, instanceType: InstanceType, type: AttachType = 'auto'): DeviceChoice {
  const vm = instanceType === 'virtual-machine';
  if (target.kind === 'usb') {
    if (type !== 'auto' && type !== 'usb') throw refuse(`a USB device can only be a usb device, not ${type}`);
    return {
      device: { type: 'usb', vendorid: target.vendorId, productid: target.productId },
      type: 'usb',
      name: `usb-${target.vendorId}-${target.productId}`,
      reason: 'a USB device',
      pciAddress: null,
      iface: null,
    };
  }
  const d = target.device;
  const address = target.kind === 'pci' ? target.address : (d?.address ?? null);
  const pciDevice = (why: string): DeviceChoice => {
    if (!vm) throw refuse(`a container cannot take a raw pci device (${why}); pci devices are for virtual machines`);
    if (!address) throw refuse(`${target.kind === 'netdev' ? target.iface : 'the target'} is not a PCI function`);
    return { device: { type: 'pci', address }, type: 'pci', name: `pci-${slug(address)}`, reason: why, pciAddress: address, iface: null };
  };
  const nic = (iface: string, why: string): DeviceChoice => {
    const pfWithVfs = d?.sriov?.role === 'pf' && d.sriov.numVfs > 0 && target.kind === 'netdev';
    return pfWithVfs
      ? {
          device: { type: 'nic', nictype: 'sriov', parent: iface },
          type: 'nic',
          name: `nic-${slug(iface)}`,
          reason: `${why}; an SR-IOV PF with VFs enabled, so LXD hands over a free VF`,
          pciAddress: null,
          iface,
        }
      : {
          device: { type: 'nic', nictype: 'physical', parent: iface },
          type: 'nic',
          name: `nic-${slug(iface)}`,
          reason: `${why}; the interface moves into the instance${d?.sriov?.role === 'vf' ? ' (this VF exactly)' : ''}`,
          pciAddress: address,
          iface,
        };
  };

  if (target.kind === 'netdev') {
    if (type === 'auto' || type === 'nic') return nic(target.iface, `network interface ${target.iface}`);
    if (type === 'pci') return pciDevice(`--type pci for the function behind ${target.iface}`);
    throw refuse(`a network interface cannot be a ${type} device`);
  }

  const cls = d ? deviceClassOf(d.class) : 'unknown';
  if (type === 'pci') return pciDevice('--type pci');
  if (type === 'usb') throw refuse('--type usb takes a USB vendor:product, not a PCI address');
  if (type === 'gpu' || (type === 'auto' && (cls === 'gpu' || cls === 'unknown'))) {
    if (d && cls !== 'gpu' && type === 'gpu') throw refuse(`${target.address} is a ${cls} device (class ${d.class}), not a GPU`);
    return {
      device: { type: 'gpu', pci: target.address },
      type: 'gpu',
      name: `gpu-${slug(target.address)}`,
      reason: vm ? 'a GPU to a VM: gpu (physical, by vfio)' : "a GPU to a container: gpu, the host driver's device nodes",
      pciAddress: target.address,
      iface: null,
    };
  }
  if (type === 'nic' || cls === 'net') {
    const iface = d?.net[0];
    if (iface) return nic(iface, `network function ${target.address} (${iface})`);
    if (type === 'nic') throw refuse(`${target.address} has no network interface (driver ${d?.driver ?? 'none'}); a nic needs one`);
    return pciDevice(`network function ${target.address} without an interface`);
  }
  return pciDevice(`a ${cls} device (class ${d?.class ?? '?'})`);
}
