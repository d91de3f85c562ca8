/** How checks name a PCI device in their text. */
import type { PciDevice } from '@passthru/pci-discovery';

const CLASS_NAMES: Array<[string, string]> = [
  ['0106', 'SATA controller'],
  ['0108', 'NVMe controller'],
  ['0107', 'SAS controller'],
  ['0104', 'RAID controller'],
  ['01', 'storage controller'],
  ['0200', 'Ethernet controller'],
  ['0280', 'network controller'],
  ['02', 'network controller'],
  ['0300', 'VGA controller'],
  ['0302', '3D controller'],
  ['03', 'display controller'],
  ['0403', 'audio device'],
  ['04', 'multimedia controller'],
  ['0c03', 'USB controller'],
  ['0c05', 'SMBus controller'],
  ['0c80', 'serial bus controller'],
  ['0c', 'serial bus controller'],
  ['0604', 'PCI bridge'],
  ['06', 'bridge'],
  ['12', 'accelerator'],
];

export function describeDevice(d: PciDevice | undefined, address: string): string {
  if (d === undefined) return `${address} (not in /sys/bus/pci/devices)`;
  const kind = d.className ?? CLASS_NAMES.find(([p]) => d.class.startsWith(p))?.[1] ?? `class ${d.class}`;
  const name = d.deviceName ? `${d.vendorName ?? ''} ${d.deviceName}`.trim() : idOf(d);
  return `${d.address} ${kind} ${name} (${d.driver ? `driver ${d.driver}` : 'no driver'}${d.bootVga ? ', boot GPU' : ''})`;
}

/** A device's id as vfio-pci's ids= matches it. */
export function idOf(d: PciDevice): string {
  return `${d.vendorId}:${d.deviceId}`;
}
