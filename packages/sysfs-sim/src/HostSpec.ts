import * as z from 'zod';
import { RomSpecSchema } from './optionRomImage';
import { SysfsSimError } from './SysfsSimError';

const hex = (digits: number, what: string) =>
  z
    .string()
    .regex(new RegExp(`^[0-9a-fA-F]{${digits}}$`), `${what}: expected ${digits} hex digits`)
    .transform((s) => s.toLowerCase());

/** A PCI address with a domain of 4 or more hex digits (Intel VMD uses 10000 and up). */
export const PCI_ADDRESS_RE = /^([0-9a-f]{4,8}):([0-9a-f]{2}):([0-1][0-9a-f])\.([0-7])$/;
export const PciAddressSchema = z
  .string()
  .transform((s) => s.toLowerCase())
  .refine((s) => PCI_ADDRESS_RE.test(s), 'expected a PCI address like 0000:01:00.0 (domain:bus:slot.function)');

export const PcieSchema = z.object({
  /** Device/port type of the PCI Express capability. */
  type: z.enum(['endpoint', 'legacy-endpoint', 'rc-endpoint', 'root-port', 'upstream-port', 'downstream-port', 'pcie-to-pci-bridge']),
  /** Link speed in GT/s generation (1..6) and width; written to config and sysfs. */
  linkGen: z.number().int().min(1).max(6).default(3),
  linkWidth: z.number().int().min(1).max(32).default(1),
});

export const SriovSchema = z.object({
  totalVfs: z.number().int().min(1).max(4096),
  numVfs: z.number().int().min(0).default(0),
  vfDevice: hex(4, 'sriov.vfDevice'),
  /** Routing-id offset of VF 0 and stride between VFs, as in the SR-IOV capability. */
  offset: z.number().int().min(1).default(1),
  stride: z.number().int().min(1).default(1),
  vfDriver: z.string().min(1).optional(),
  /** IOMMU group of VF 0; VF i gets vfGroupBase + i. Omitted: no groups (IOMMU off). */
  vfGroupBase: z.number().int().min(0).optional(),
  vfNetPrefix: z.string().optional(),
});

/** A mediated device type of a GPU (mdev_supported_types/<type>/) and the mdevs made from it. */
export const MdevTypeSpecSchema = z.object({
  /** The type's folder name, what LXD's `mdev=` names (i915-GVTg_V5_4, nvidia-63). */
  type: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'mdevTypes[].type: a folder name'),
  name: z.string().optional(),
  description: z.string().optional(),
  deviceApi: z.string().default('vfio-pci'),
  availableInstances: z.number().int().min(0),
  /** UUIDs of mdevs already created from this type (under the device, in /sys/bus/mdev/devices). */
  devices: z.array(z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'mdevTypes[].devices: UUIDs')).default([]),
});

/** NVIDIA vGPU 17+ (vendor-specific VFIO, no mdev): a VF's nvidia/creatable_vgpu_types and current_vgpu_type. */
export const NvidiaVgpuSpecSchema = z.object({
  creatable: z.array(z.object({ id: z.number().int().min(1), name: z.string() })).default([]),
  /** The type this function has now; 0: none. */
  current: z.number().int().min(0).default(0),
});

/**
 * A BAR as the kernel assigned it, one line of the device's `resource` file: `index` 0-5 a BAR
 * (a 64-bit one takes the next register too), 6 the expansion ROM. Numbers may be written in hex
 * (`start: 0xe000000000`, `size: 0x10000000`).
 */
export const BarSpecSchema = z
  .object({
    index: z.number().int().min(0).max(6),
    start: z.number().int().min(0),
    size: z.number().int().min(1),
    flags: z.enum(['mem64', 'mem32', 'io']),
    prefetchable: z.boolean().default(false),
  })
  .refine((b) => Number.isInteger(Math.log2(b.size)), 'bars[].size: a power of two')
  .refine((b) => b.start % b.size === 0, 'bars[].start: aligned to its size')
  .refine((b) => !(b.flags === 'mem64' && b.index >= 5), 'bars[].index: a 64-bit BAR takes two registers (index 0-4)');
const BarsSchema = z.array(BarSpecSchema).superRefine((bars, ctx) => {
  const taken = new Set<number>();
  for (const [i, b] of bars.entries()) {
    for (const r of b.flags === 'mem64' ? [b.index, b.index + 1] : [b.index]) {
      if (taken.has(r)) ctx.addIssue({ code: 'custom', path: [i, 'index'], message: `BAR register ${r} is taken twice (a 64-bit BAR takes two)` });
      taken.add(r);
    }
  }
});

export const DeviceSpecSchema = z.object({
  address: PciAddressSchema,
  vendor: hex(4, 'vendor'),
  device: hex(4, 'device'),
  /** Class code: class, subclass, prog-if (6 hex digits). */
  class: hex(6, 'class'),
  revision: hex(2, 'revision').default('00'),
  subsystem: z.object({ vendor: hex(4, 'subsystem.vendor'), device: hex(4, 'subsystem.device') }).optional(),
  driver: z.string().min(1).optional(),
  driverOverride: z.string().min(1).optional(),
  iommuGroup: z.number().int().min(0).optional(),
  numaNode: z.number().int().min(-1).default(-1),
  bootVga: z.boolean().optional(),
  /** Bridges: the bus numbers behind them. Required for class 0604xx. */
  secondaryBus: hex(2, 'secondaryBus').optional(),
  subordinateBus: hex(2, 'subordinateBus').optional(),
  pcie: PcieSchema.optional(),
  /** ACS extended capability; `enabled` sets the control bits the kernel requires (SV RR CR UF). */
  acs: z.object({ enabled: z.boolean().default(true) }).optional(),
  sriov: SriovSchema.optional(),
  /** VFs: the PF's address (normally generated from the PF's sriov block). */
  physfn: PciAddressSchema.optional(),
  net: z.array(z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/, 'net: interface names are 1-15 characters')).default([]),
  drm: z.array(z.string().regex(/^(card|renderD)\d+$/, 'drm: expected cardN or renderDN')).default([]),
  resetMethods: z.array(z.string()).optional(),
  label: z.string().optional(),
  /** The option ROM its `rom` attribute reads (issue 26); absent: no ROM BAR, no `rom` attribute. */
  rom: RomSpecSchema.optional(),
  /** BARs the kernel assigned (the `resource` file); absent: every line 0. */
  bars: BarsSchema.optional(),
  /**
   * The Resizable BAR capability: per BAR (its `bars` entry holds the current size) the sizes it
   * supports, in bytes (powers of two from 1 MiB). Needs `pcie` (it lives in extended config space).
   */
  resizableBars: z
    .array(
      z
        .object({
          index: z.number().int().min(0).max(5),
          sizes: z
            .array(
              z
                .number()
                .int()
                .min(1024 * 1024),
            )
            .min(1),
          current: z.number().int(),
        })
        .refine((r) => [...r.sizes, r.current].every((s) => Number.isInteger(Math.log2(s))), 'resizableBars[]: sizes are powers of two')
        .refine((r) => r.sizes.includes(r.current), 'resizableBars[].current: one of its sizes'),
    )
    .max(6)
    .optional(),
  /** GPUs shared by mediated devices (GVT-g, NVIDIA vGPU before Ampere, or on each VF of older vGPU drivers). */
  mdevTypes: z.array(MdevTypeSpecSchema).optional(),
  /** NVIDIA vGPU 17+: this function's nvidia/ vGPU type files. */
  nvidiaVgpu: NvidiaVgpuSpecSchema.optional(),
  /** Leave out files that real captures often lack (config, subsystem_*) to test robustness. */
  omit: z.array(z.enum(['config', 'subsystem', 'numa_node', 'revision', 'class', 'vendor', 'device'])).default([]),
});

export const DriverSpecSchema = z.object({
  name: z.string().min(1),
  module: z.string().optional(),
  /** Static id table: `vvvv:dddd` with `*` for any device. vfio-pci and pci-stub have none. */
  ids: z.array(z.string().regex(/^[0-9a-f]{4}:([0-9a-f]{4}|\*)$/, 'drivers[].ids: expected vvvv:dddd or vvvv:*')).default([]),
});

export const HostSpecSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'name: lowercase letters, digits and dashes'),
    description: z.string().default(''),
    kernelRelease: z.string().default('6.1.0-28-amd64'),
    cpu: z.object({
      vendor: z.enum(['intel', 'amd', 'other']),
      model: z.string().default('Generic CPU'),
      flags: z.array(z.string()).default([]),
      count: z.number().int().min(1).max(512).default(4),
    }),
    cmdline: z.string().default('BOOT_IMAGE=/boot/vmlinuz root=/dev/sda1 ro quiet'),
    firmware: z.object({ tables: z.array(z.enum(['DMAR', 'IVRS', 'IORT'])).default([]) }).default({ tables: [] }),
    iommu: z
      .object({
        /** The kernel enabled its IOMMU driver: units under /sys/class/iommu, groups exist. */
        enabled: z.boolean(),
        units: z
          .array(z.object({ name: z.string(), ecap: hex(16, 'iommu.units[].ecap').optional(), cap: hex(16, 'iommu.units[].cap').optional() }))
          .default([]),
        /** Default domain type of every group: DMA (translated) or identity (iommu=pt). */
        groupType: z.enum(['DMA', 'DMA-FQ', 'identity']).default('DMA'),
        /** Interrupt remapping: IR- chip names in /proc/interrupts. */
        interruptRemapping: z.boolean().default(true),
      })
      .default({ enabled: false, units: [], groupType: 'DMA', interruptRemapping: false }),
    /**
     * NUMA nodes (/sys/devices/system/node/nodeN): each node's CPUs as a kernel cpulist ("0-3,8-11")
     * and its reserved hugepages per size ("2048kB" -> count). Omitted: no node folders (as a
     * partial capture); a device's local_cpulist is then every CPU.
     */
    numa: z
      .object({
        nodes: z
          .array(
            z.object({
              cpus: z.string().regex(/^\d+(-\d+)?(,\d+(-\d+)?)*$/, 'numa.nodes[].cpus: a kernel cpulist like 0-3,8-11'),
              hugepages: z.record(z.string().regex(/^\d+kB$/, 'numa.nodes[].hugepages: keys like 2048kB'), z.number().int().min(0)).default({}),
            }),
          )
          .min(1),
      })
      .optional(),
    /** Loaded modules (/proc/modules, /sys/module) and built-in ones (modules.builtin). */
    modules: z.array(z.string()).default([]),
    builtinModules: z.array(z.string()).default([]),
    dmi: z
      .object({ boardVendor: z.string(), boardName: z.string(), biosVendor: z.string(), biosVersion: z.string(), virtual: z.boolean().default(false) })
      .optional(),
    /** Domains whose root bus hangs below a device (Intel VMD): domain -> parent address. */
    domainParents: z.record(z.string().regex(/^[0-9a-f]{4,8}$/), PciAddressSchema).default({}),
    drivers: z.array(DriverSpecSchema).default([]),
    devices: z.array(DeviceSpecSchema),
    /**
     * Layers a partial capture lacks (a sysfs capture of a real machine often holds only
     * /sys/bus and /sys/devices): left out of the tree, so `iommu_group` links into a missing
     * /sys/kernel dangle, as they do in such a capture. A whole host lacks none.
     */
    absent: z.array(z.enum(['/sys/firmware', '/sys/kernel', '/sys/class/iommu', '/proc/cmdline'])).default([]),
    /** Other host files (boot loader, modprobe.d, initramfs config, /proc/iomem, ...). */
    files: z
      .record(z.string().regex(/^\/(etc|proc|boot|lib|usr|var)\//, 'files: keys are absolute host paths under /etc /proc /boot /lib /usr /var'), z.string())
      .default({}),
  })
  .superRefine((spec, ctx) => {
    const seen = new Map<string, number>();
    spec.devices.forEach((d, i) => {
      if (seen.has(d.address))
        ctx.addIssue({ code: 'custom', path: ['devices', i, 'address'], message: `duplicate address ${d.address} (also devices[${seen.get(d.address)}])` });
      seen.set(d.address, i);
      if (!spec.iommu.enabled && d.iommuGroup !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['devices', i, 'iommuGroup'],
          message: 'the IOMMU is off in the kernel (iommu.enabled: false): no device has a group',
        });
      if (d.class.startsWith('0604') && d.secondaryBus === undefined)
        ctx.addIssue({ code: 'custom', path: ['devices', i, 'secondaryBus'], message: 'a PCI bridge (class 0604xx) needs secondaryBus' });
      if (spec.numa && d.numaNode >= spec.numa.nodes.length)
        ctx.addIssue({
          code: 'custom',
          path: ['devices', i, 'numaNode'],
          message: `numaNode ${d.numaNode} is not one of numa.nodes (0-${spec.numa.nodes.length - 1})`,
        });
      if (d.sriov && d.sriov.numVfs > d.sriov.totalVfs)
        ctx.addIssue({ code: 'custom', path: ['devices', i, 'sriov', 'numVfs'], message: `numVfs ${d.sriov.numVfs} exceeds totalVfs ${d.sriov.totalVfs}` });
    });
    spec.devices.forEach((d, i) => {
      if (d.physfn && !seen.has(d.physfn))
        ctx.addIssue({ code: 'custom', path: ['devices', i, 'physfn'], message: `physfn ${d.physfn} is not a device of this host` });
    });
  });

export type HostSpec = z.infer<typeof HostSpecSchema>;
export type HostSpecInput = z.input<typeof HostSpecSchema>;
export type DeviceSpec = z.infer<typeof DeviceSpecSchema>;
export type DriverSpec = z.infer<typeof DriverSpecSchema>;
export type BarSpec = z.infer<typeof BarSpecSchema>;

/** Validates a parsed spec; the error names the failing field (`devices[2].vendor: ...`). */
export function parseHostSpec(value: unknown, source = 'host spec'): HostSpec {
  const result = HostSpecSchema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
  throw new SysfsSimError('validating', source, undefined, issues.join('; '));
}

function formatPath(path: PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('') || '(root)';
}
