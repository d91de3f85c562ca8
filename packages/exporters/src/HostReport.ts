/**
 * The one input of every renderer: a host's readiness as one small document. The renderers are
 * pure functions of it; `readHostReport` builds it from a HostFs and vfio-binder's readiness
 * use case (`hostReadiness`), whose judgement the statuses below publish.
 */
import * as z from 'zod';
import { CheckStatusSchema, VerdictSchema } from '@passthru/iommu-check';
import { PlatformFunctionSchema } from '@passthru/pci-discovery';

/**
 * Where a device stands for passthrough to a VM:
 * - ready: on vfio-pci, and its IOMMU group is viable (every endpoint on vfio-pci, pci-stub or none);
 * - bindable: `passthru bind` would move its group to vfio-pci (no guard refuses it; `shared-group` in the report);
 * - guarded: a bind of its group would be refused (boot GPU, default-route NIC, mounted disk, a foreign manager
 *   holds it ..., on it or on another endpoint of its group);
 * - group-not-viable: on vfio-pci, but another endpoint of its group is on a host driver;
 * - not-passable: its group holds a platform function (chipset, firmware flash);
 * - no-group: no IOMMU group (IOMMU off, or not covering it);
 * - bridge: a PCI bridge (stays on its driver).
 */
export const DEVICE_READINESS = ['ready', 'bindable', 'guarded', 'group-not-viable', 'not-passable', 'no-group', 'bridge'] as const;
export const DeviceReadinessSchema = z.enum(DEVICE_READINESS);
export type DeviceReadiness = z.infer<typeof DeviceReadinessSchema>;

/** A group's standing, as `passthru report` names it. */
export const GROUP_STATUSES = ['ready', 'bindable', 'guarded', 'not-passable', 'bridges-only'] as const;
export const GroupStatusSchema = z.enum(GROUP_STATUSES);

/**
 * Drift between passthru's journal and the drivers: `journal-not-bound` (the journal says
 * passthru holds it, yet it is not on vfio-pci), `bound-unrecorded` (on vfio-pci with no journal
 * record and no other known manager).
 */
export const DRIFT_KINDS = ['journal-not-bound', 'bound-unrecorded'] as const;
export const DriftSchema = z.enum(DRIFT_KINDS);

const hex4 = z.string().regex(/^[0-9a-f]{4}$/);

export const ExportDeviceSchema = z.object({
  address: z.string(),
  vendorId: hex4,
  deviceId: hex4,
  /** Class code, 6 hex digits. */
  class: z.string().regex(/^[0-9a-f]{6}$/),
  driver: z.string().nullable(),
  iommuGroup: z.number().int().nullable(),
  /** The kernel's reset_method (flr, pm, bus, ...); null when the file is absent. */
  resetMethods: z.array(z.string()).nullable(),
  isBridge: z.boolean(),
  sriov: z.discriminatedUnion('role', [z.object({ role: z.literal('pf') }), z.object({ role: z.literal('vf'), physfn: z.string() })]).nullable(),
  /** Network interfaces of this function (a PF's netdev names feed SR-IOV pfNames). */
  net: z.array(z.string()),
  /** passthru, adopted, libvirt, driverctl, driver_override, other; null: nobody in particular. */
  owner: z.string().nullable(),
  readiness: DeviceReadinessSchema,
  drift: DriftSchema.nullable(),
});
export type ExportDevice = z.infer<typeof ExportDeviceSchema>;

export const ExportGroupSchema = z.object({
  id: z.number().int(),
  devices: z.array(z.string()),
  endpoints: z.array(z.string()),
  bridges: z.array(z.string()),
  /** Every endpoint on vfio-pci, pci-stub or no driver: what the kernel asks to open the group. */
  viable: z.boolean(),
  platformFunctions: z.array(PlatformFunctionSchema),
  status: GroupStatusSchema,
  /** A VM can be given it now: the verdict is usable, the group `ready`, and no other manager holds an endpoint of it. */
  vmReady: z.boolean(),
});
export type ExportGroup = z.infer<typeof ExportGroupSchema>;

export const HostReportSchema = z.object({
  /** When the host was read (RFC 3339). */
  scannedAt: z.string(),
  verdict: VerdictSchema,
  checks: z.array(z.object({ id: z.string(), status: CheckStatusSchema, summary: z.string() })),
  facts: z.object({
    /** The kernel enabled the IOMMU (doctor's iommu.kernel passes: groups exist). */
    iommuEnabled: z.boolean(),
    /** Interrupts are remapped (IR-* chips in /proc/interrupts, as doctor's irq.remapping reads). */
    interruptRemapping: z.boolean(),
    /** pcie_acs_override is on the running kernel's command line (out-of-tree: fakes isolation). */
    acsOverride: z.boolean(),
    /** vfio-pci can take devices now: IOMMU on and vfio, vfio_pci, vfio_iommu_type1 loaded or built in (vfio.modules passes). */
    vfioReady: z.boolean(),
  }),
  devices: z.array(ExportDeviceSchema),
  groups: z.array(ExportGroupSchema),
});
export type HostReport = z.infer<typeof HostReportSchema>;

/** The group's primary function: its first endpoint (function 0 of its first device). */
export function primaryOf(group: Pick<ExportGroup, 'endpoints'>, byAddress: ReadonlyMap<string, ExportDevice>): ExportDevice | undefined {
  return group.endpoints.map((a) => byAddress.get(a)).find((d) => d !== undefined);
}
