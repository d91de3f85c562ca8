import * as z from 'zod';

const hex4 = z.string().regex(/^[0-9a-f]{4}$/);

export const SriovSchema = z.discriminatedUnion('role', [
  z.object({ role: z.literal('pf'), totalVfs: z.number().int(), numVfs: z.number().int(), vfs: z.array(z.string()) }),
  z.object({ role: z.literal('vf'), physfn: z.string(), vfIndex: z.number().int().nullable() }),
]);

export const PcieLinkSchema = z.object({
  speed: z.string().nullable(),
  width: z.number().int().nullable(),
  maxSpeed: z.string().nullable(),
  maxWidth: z.number().int().nullable(),
});

/** An assigned BAR or the expansion ROM, from the `resource` file (as lspci sizes them). */
export const BarSchema = z.object({
  /** 0-5: the BAR register (a 64-bit BAR also takes the next); 6: the expansion ROM. */
  index: z.number().int(),
  /** Bytes. */
  size: z.number(),
  space: z.enum(['mem', 'io']),
  is64: z.boolean(),
  prefetchable: z.boolean(),
});

/** A BAR the Resizable BAR capability can resize: its size now and the sizes it supports (bytes). */
export const ResizableBarSchema = z.object({
  index: z.number().int(),
  currentSize: z.number(),
  supportedSizes: z.array(z.number()),
});

/** One PCI function as the kernel shows it under /sys/bus/pci/devices (kernel nouns verbatim). */
export const PciDeviceSchema = z.object({
  /** domain:bus:slot.function; the domain has 4 or more hex digits (Intel VMD: 10000). */
  address: z.string(),
  vendorId: hex4,
  deviceId: hex4,
  subsystemVendorId: hex4.nullable(),
  subsystemDeviceId: hex4.nullable(),
  /** Class code: base class, subclass, prog-if (6 hex digits). */
  class: z.string().regex(/^[0-9a-f]{6}$/),
  revision: z
    .string()
    .regex(/^[0-9a-f]{2}$/)
    .nullable(),
  vendorName: z.string().nullable(),
  deviceName: z.string().nullable(),
  subsystemName: z.string().nullable(),
  className: z.string().nullable(),
  driver: z.string().nullable(),
  driverOverride: z.string().nullable(),
  /** null when the device has no `iommu_group` link: never 0 by default (LXD's mistake). */
  iommuGroup: z.number().int().nullable(),
  /** null when the kernel reports -1 (no NUMA affinity) or the file is absent. */
  numaNode: z.number().int().nullable(),
  /** The bridge above this function, or null on a root bus. */
  parent: z.string().nullable(),
  /** The sysfs folder (`/sys/devices/pci0000:00/...`), as on the host. */
  sysfsPath: z.string(),
  /** The other functions of the same slot (a GPU's audio, USB and UCSI functions). */
  functions: z.array(z.string()),
  isBridge: z.boolean(),
  bootVga: z.boolean().nullable(),
  sriov: SriovSchema.nullable(),
  net: z.array(z.string()),
  drm: z.array(z.string()),
  resetMethods: z.array(z.string()).nullable(),
  link: PcieLinkSchema.nullable(),
  /** Assigned BARs and the expansion ROM, with their sizes; unassigned ones are left out. */
  bars: z.array(BarSchema),
  /** BARs with the Resizable BAR capability; null when config space past 256 bytes is not readable (not root). */
  resizableBars: z.array(ResizableBarSchema).nullable(),
});

export type PciDevice = z.infer<typeof PciDeviceSchema>;
export type Bar = z.infer<typeof BarSchema>;
export type ResizableBar = z.infer<typeof ResizableBarSchema>;

/** A device the scan could not read, or read only in part (a dangling `iommu_group` link): listed, with why, instead of failing the scan. */
export const ScanProblemSchema = z.object({ address: z.string(), message: z.string() });
export type ScanProblem = z.infer<typeof ScanProblemSchema>;

export const IommuGroupSchema = z.object({
  id: z.number().int(),
  devices: z.array(z.string()),
  /** Members that are endpoints (what must move to vfio-pci together). */
  endpoints: z.array(z.string()),
  /** Members that are bridges (left on their driver; the kernel allows them in a viable group). */
  bridges: z.array(z.string()),
  /** Members listed by the group but absent from /sys/bus/pci/devices. */
  unknown: z.array(z.string()),
});
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
