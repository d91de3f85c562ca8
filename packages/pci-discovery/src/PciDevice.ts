// The types of the PCI vocabulary, inferred from their JSON schemas (./schemas: their fields'
// meaning is said there); this module holds no schema, so what imports it does not load zod.
import type * as z from 'zod';
import type { BarSchema, IommuGroupSchema, PciDeviceSchema, ResizableBarSchema, ScanProblemSchema } from './schemas';

/** One PCI function as the kernel shows it under /sys/bus/pci/devices (kernel nouns verbatim). */
export type PciDevice = z.infer<typeof PciDeviceSchema>;
/** An assigned BAR or the expansion ROM, from the `resource` file (as lspci sizes them). */
export type Bar = z.infer<typeof BarSchema>;
/** A BAR the Resizable BAR capability can resize: its size now and the sizes it supports (bytes). */
export type ResizableBar = z.infer<typeof ResizableBarSchema>;
/** A device the scan could not read, or read only in part (a dangling `iommu_group` link): listed, with why, instead of failing the scan. */
export type ScanProblem = z.infer<typeof ScanProblemSchema>;
export type IommuGroup = z.infer<typeof IommuGroupSchema>;

/** Device classes of `passthru list --class`. */
export const DEVICE_CLASSES = ['gpu', 'net', 'storage', 'usb', 'accel', 'all'] as const;
export type DeviceClassFilter = (typeof DEVICE_CLASSES)[number];

/** Which `--class` a class code belongs to (a 3D controller is a GPU; 12xx is an accelerator). */
export function deviceClassOf(classCode: string): Exclude<DeviceClassFilter, 'all'> | 'other' {
  const base = classCode.slice(0, 2);
  const sub = classCode.slice(0, 4);
  if (base === '03') return 'gpu';
  if (base === '02') return 'net';
  if (base === '01') return 'storage';
  if (sub === '0c03') return 'usb';
  if (base === '12' || sub === '0b40') return 'accel';
  return 'other';
}

/** "Vendor Device" for a person: names from pci.ids, else `Vendor 10de Device 2684`. */
export function deviceLabel(d: Pick<PciDevice, 'vendorId' | 'deviceId' | 'vendorName' | 'deviceName'>): string {
  return `${d.vendorName ?? `Vendor ${d.vendorId}`} ${d.deviceName ?? `Device ${d.deviceId}`}`;
}
