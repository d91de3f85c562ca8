/** `passthru report --format json`: the document the HTML page embeds and draws. */
import { CheckResultSchema, HostIdentitySchema, VerdictSchema } from '@passthru/iommu-check';
import { FleetStatusSchema } from '@passthru/fleet';
import { GpuModesSchema, IommuGroupSchema, PciDeviceSchema, PlatformFunctionSchema, ScanProblemSchema, TopologyNodeSchema } from '@passthru/pci-discovery';
import { AddressSchema as Address, GuardFindingSchema } from '@passthru/vfio-binder';
import * as z from 'zod';
import { OwnerField, SchemaVersion } from '../../render/schema';

/** `not-passable`: its IOMMU group holds a platform function (host bridge, LPC bridge, SMBus, SPI flash, ...). */
export const READINESS = ['ready', 'bindable', 'shared-group', 'guarded', 'group-not-viable', 'no-group', 'not-passable', 'bridge'] as const;

export const ReportDeviceSchema = PciDeviceSchema.pick({
  address: true,
  vendorId: true,
  deviceId: true,
  class: true,
  className: true,
  vendorName: true,
  deviceName: true,
  revision: true,
  driver: true,
  driverOverride: true,
  iommuGroup: true,
  numaNode: true,
  isBridge: true,
  bootVga: true,
  sriov: true,
  net: true,
}).extend({
  readiness: z.object({
    status: z.enum(READINESS),
    /** One sentence for a person: why the device is (not) ready to pass through. */
    summary: z.string(),
    /** Other endpoints of its IOMMU group outside its own slot: they move to vfio-pci with it. */
    sharedWith: z.array(Address),
  }),
  owner: OwnerField,
  /** Guards that would refuse a bind of its group (evaluated on a plan of the whole group). */
  guards: z.array(GuardFindingSchema),
  /** Doctor checks about this device (group.viable.ADDRESS, acs.ADDRESS, ...). */
  checks: z.array(CheckResultSchema),
  /** GPUs (class 03xx) only: how LXD and Incus can attach it (gputype physical, mdev, sriov, mig). */
  gpuModes: GpuModesSchema.optional(),
});

export const ReportGroupSchema = IommuGroupSchema.extend({
  /** The kernel's test: every endpoint on vfio-pci, pci-stub or no driver. */
  viable: z.boolean(),
  /** All endpoints are functions of one slot (one physical device). */
  isolated: z.boolean(),
  /** Endpoints on vfio-pci now. */
  bound: z.number().int(),
  /** `not-passable`: the group holds a platform function; bind refuses it, --force included. */
  status: z.enum(['ready', 'bindable', 'guarded', 'not-passable', 'bridges-only']),
  summary: z.string(),
  /** The platform functions the group holds (why it is `not-passable`); empty otherwise. */
  platformFunctions: z.array(PlatformFunctionSchema),
});

/** `report --cluster`: `fleet status --format json` without its own schemaVersion (the report's versions it). */
export const ReportClusterSchema = FleetStatusSchema.omit({ schemaVersion: true });

export const ReportSchema = z.object({
  schemaVersion: SchemaVersion,
  generatedAt: z.string(),
  passthruVersion: z.string(),
  root: z.string(),
  verdict: VerdictSchema.describe("The host's verdict: its host checks (no device was asked about); the same doctor, export and fleet publish give"),
  vmReadyGroups: z.array(z.number().int()).describe('IOMMU groups a VM can be given now (verdict usable, group ready, held by no other manager)'),
  topology: z.object({ roots: z.array(z.string()), nodes: z.array(TopologyNodeSchema) }),
  devices: z.array(ReportDeviceSchema),
  groups: z.array(ReportGroupSchema),
  ungrouped: z.array(Address),
  guards: z.array(GuardFindingSchema),
  doctor: z
    .object({ verdict: VerdictSchema, host: HostIdentitySchema, checks: z.array(CheckResultSchema), absent: z.array(z.string()) })
    .describe("The host checks, as `passthru doctor` gives them; each device's own checks are under devices[].checks"),
  problems: z.array(ScanProblemSchema),
  cluster: ReportClusterSchema.optional().describe(
    "With --cluster: the LXD or Incus cluster as `fleet status` sees it (every member's state, published readiness and its age, devices, passthru's cluster groups); absent otherwise",
  ),
});
export type Report = z.infer<typeof ReportSchema>;
export type ReportCluster = z.infer<typeof ReportClusterSchema>;
export type ReportDevice = z.infer<typeof ReportDeviceSchema>;
export type ReportGroup = z.infer<typeof ReportGroupSchema>;
