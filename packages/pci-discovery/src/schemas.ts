/**
 * The JSON shapes of the PCI vocabulary, as zod schemas: what `list`, `groups` and `report` print
 * with --format json, docs/schemas publishes and journals record. The types (PciDevice, GpuModes,
 * ...) are inferred from them next to the code that makes the values; that code never imports
 * this module at run time, so the commands that only read a host do not load zod.
 */
import * as z from 'zod';
import { GPU_TYPES } from './gpuModes';

// ---- PciDevice.ts ----------------------------------------------------------------------------

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

/** A device the scan could not read, or read only in part (a dangling `iommu_group` link): listed, with why, instead of failing the scan. */
export const ScanProblemSchema = z.object({ address: z.string(), message: z.string() });

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

// ---- deviceIdentity.ts -----------------------------------------------------------------------

/** What identifies a device across reboots (deviceIdentity.ts: identityOf, identityMismatch). */
export const DeviceIdentitySchema = z.object({
  vendorId: z.string(),
  deviceId: z.string(),
  subsystemVendorId: z.string().nullable(),
  subsystemDeviceId: z.string().nullable(),
  class: z.string(),
  iommuGroup: z.number().int().nullable(),
});

// ---- topology.ts -----------------------------------------------------------------------------

/** A node of the PCI topology: a flat forest, ids not nesting (topology.ts: buildTopology). */
export const TopologyNodeSchema = z.object({
  /** `pci0000:00` for a root bus (host bridge), the PCI address for a function. */
  id: z.string(),
  kind: z.enum(['root-bus', 'function']),
  parent: z.string().nullable(),
  /** Functions behind a bridge, VFs of a PF, and the root bus a VMD controller holds. */
  children: z.array(z.string()),
});

// ---- platformFunction.ts ---------------------------------------------------------------------

/** A function the host platform itself runs on, never passable (platformFunction.ts: platformFunction). */
export const PlatformFunctionSchema = z.object({
  address: z.string(),
  /** "ISA bridge", "SMBus controller", ...: what the function is. */
  kind: z.string(),
  /** Why the host cannot give it away. */
  reason: z.string(),
});

// ---- mdevTypes.ts ----------------------------------------------------------------------------

export const MdevTypeSchema = z.object({
  /** The type's folder name: what LXD's and Incus's `mdev=` takes (i915-GVTg_V5_4, nvidia-63). */
  type: z.string(),
  name: z.string().nullable(),
  description: z.string().nullable(),
  deviceApi: z.string().nullable(),
  /** How many more mdevs of this type the device can make now; null when unreadable. */
  availableInstances: z.number().int().nullable(),
  /** UUIDs of the mdevs made from this type (its devices/ folder and /sys/bus/mdev/devices). */
  mdevs: z.array(z.string()),
});

export const VgpuFilesSchema = z.object({
  creatable: z.array(z.object({ id: z.number().int(), name: z.string() })),
  /** The vGPU type set on this function (0: none); null when unreadable. */
  current: z.number().int().nullable(),
});

// ---- nvidiaMig.ts ----------------------------------------------------------------------------

export const MigSchema = z.object({
  /** mig.mode.current (nvidia-smi); without it, `enabled` when procfs shows a GPU instance, else null. */
  mode: z.enum(['enabled', 'disabled']).nullable(),
  /** The device minor (/dev/nvidiaN, capabilities/gpuN). */
  minor: z.number().int().nullable(),
  gpuUuid: z.string().nullable(),
  gpuInstances: z.array(
    z.object({ gi: z.number().int(), profile: z.string().nullable(), profileId: z.number().int().nullable(), placement: z.string().nullable() }),
  ),
  /** What `gputype=mig` attaches: `mig.gi` + `mig.ci`, or the `mig.uuid` of its MIG device when known. */
  computeInstances: z.array(z.object({ gi: z.number().int(), ci: z.number().int(), profile: z.string().nullable(), uuid: z.string().nullable() })),
  /** The MIG devices `nvidia-smi -L` lists for this GPU. */
  devices: z.array(z.object({ index: z.number().int(), profile: z.string(), uuid: z.string() })),
  /** What was read: `procfs`, and nvidia-smi's source. */
  sources: z.array(z.string()),
});

// ---- gpuModes.ts -----------------------------------------------------------------------------

export const GpuVfSchema = z.object({
  address: z.string(),
  /** LXD and Incus take a VF for `gputype=sriov` only when no driver is bound to it. */
  driver: z.string().nullable(),
  mdevTypes: z.array(MdevTypeSchema),
  vgpu: VgpuFilesSchema.nullable(),
});

export const GpuModesSchema = z.object({
  modes: z.array(z.enum(GPU_TYPES)).describe('the gputypes LXD and Incus can attach this GPU as now (physical: it has an IOMMU group)'),
  mdevTypes: z.array(MdevTypeSchema).describe("this function's mdev_supported_types, with the mdevs made from each"),
  sriov: z
    .object({
      totalVfs: z.number().int(),
      numVfs: z.number().int(),
      /** VFs with no driver: what `gputype=sriov` can take (LXD the first, Incus the first of the least loaded card). */
      freeVfs: z.array(z.string()),
      vfs: z.array(GpuVfSchema),
    })
    .nullable()
    .describe('an SR-IOV GPU (a PF): its VFs, their drivers and vGPU types'),
  vgpu: VgpuFilesSchema.nullable().describe("NVIDIA vGPU 17+: this function's nvidia/creatable_vgpu_types and current_vgpu_type"),
  mig: MigSchema.nullable().describe('NVIDIA MIG: the mode, GPU and compute instances, MIG device UUIDs'),
  notes: z.array(z.string()),
});
