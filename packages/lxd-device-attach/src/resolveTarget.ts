import type { HostFs } from '@passthru/hostfs';
import { PciDiscoveryError, deviceClassOf, parseTarget, type PciDevice, type Target } from '@passthru/pci-discovery';
import { hostInventory, type DeviceInventory } from './deviceInventory';
import { LxdError } from './LxdError';
import type { DeviceConfig, InstanceType } from './schemas';

export const ATTACH_TYPES = ['auto', 'gpu', 'pci', 'nic', 'usb'] as const;
export type AttachType = (typeof ATTACH_TYPES)[number];

/** What TARGET names on the host (or on the cluster member the instance lives on). */
export type HostTarget =
  | { kind: 'pci'; address: string; device: PciDevice | null }
  | { kind: 'netdev'; iface: string; device: PciDevice | null }
  | { kind: 'usb'; vendorId: string; productId: string; sysfsName: string | null };

/** TARGET as written, before it is looked up anywhere. */
export type TargetQuery =
  | { kind: 'address'; address: string }
  | { kind: 'ids'; vendorId: string; deviceId: string }
  | { kind: 'usb'; vendorId: string; productId: string }
  | { kind: 'netdev'; iface: string };

export interface ResolveOptions {
  /**
   * Check TARGET against the inventory (default true). Turn off only when LXD runs on another
   * machine (HTTPS remote) and no inventory of it is known: then a PCI address is passed to LXD
   * as given, and LXD (at hot-plug or at start) is the one to say it does not exist.
   */
  hostCheck?: boolean;
}

function bad(target: string, detail: string, kind: 'bad-input' | 'not-found' = 'bad-input'): LxdError {
  return new LxdError('resolving', `target ${JSON.stringify(target)}`, '', detail, { reason: kind });
}

/**
 * TARGET's grammar for attach, pure (bad syntax is said before anything is asked): a PCI address
 * (0000:01:00.0 or 01:00.0), vendor:device (10de:2684, or a USB vendor:product with --type usb),
 * or a network interface name. A group is refused: attach takes one device.
 */
export function parseAttachTarget(target: string, type: AttachType = 'auto'): TargetQuery {
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
    if (parsed.kind === 'usb') return { kind: 'usb', vendorId: parsed.vendorId, productId: parsed.productId };
    if (parsed.kind === 'ids') return { kind: 'usb', vendorId: parsed.vendorId, productId: parsed.deviceId };
    throw bad(target, usbHint);
  }
  if (parsed.kind === 'address') return { kind: 'address', address: parsed.address };
  if (parsed.kind === 'ids') return { kind: 'ids', vendorId: parsed.vendorId, deviceId: parsed.deviceId };
  return { kind: 'netdev', iface: parsed.name };
}

/** A parsed TARGET looked up in an inventory: this host's sysfs, or another cluster member's. */
export function lookUpTarget(inventory: DeviceInventory, target: string, query: TargetQuery, options: ResolveOptions = {}): HostTarget {
  const hostCheck = options.hostCheck ?? true;
  const where = inventory.where;
  if (query.kind === 'usb') {
    const sysfsName = hostCheck ? inventory.usb(query.vendorId, query.productId) : null;
    if (hostCheck && sysfsName === null)
      throw bad(
        target,
        `no USB device ${query.vendorId}:${query.productId} on ${where} (${inventory.absent('usb', `${query.vendorId}:${query.productId}`)})`,
        'not-found',
      );
    return { kind: 'usb', vendorId: query.vendorId, productId: query.productId, sysfsName };
  }
  if (query.kind === 'address') {
    const { address } = query;
    const device = hostCheck ? inventory.pciAt(address) : null;
    if (hostCheck && device === null) throw bad(target, `no PCI device ${address} on ${where} (${inventory.absent('pci', address)})`, 'not-found');
    return { kind: 'pci', address, device };
  }
  if (query.kind === 'ids') {
    const ids = `${query.vendorId}:${query.deviceId}`;
    const matches = inventory.pciDevices().filter((d) => d.vendorId === query.vendorId && d.deviceId === query.deviceId);
    if (matches.length === 0) throw bad(target, `no PCI device with ids ${ids} on ${where}`, 'not-found');
    if (matches.length > 1)
      throw bad(target, `${matches.length} PCI devices have ids ${ids} (${matches.map((m) => m.address).join(', ')}); name one by address`);
    return { kind: 'pci', address: matches[0]!.address, device: matches[0]! };
  }
  const device = inventory.netdev(query.iface);
  if (device === undefined) throw bad(target, `no network interface ${query.iface} on ${where} (and not a PCI address or vendor:device)`, 'not-found');
  return { kind: 'netdev', iface: query.iface, device };
}

/** TARGET -> what it is on this host (parseAttachTarget, then lookUpTarget in this host's sysfs). */
export function resolveTarget(host: HostFs, target: string, type: AttachType = 'auto', options: ResolveOptions = {}): HostTarget {
  return lookUpTarget(hostInventory(host), target, parseAttachTarget(target, type), options);
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
  return new LxdError('choosing', 'the device type', '', detail, { reason: 'preflight' });
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
