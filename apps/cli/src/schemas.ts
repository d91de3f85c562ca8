/**
 * The JSON contract of the CLI: one zod schema per JSON output (docs/architecture.md: JSON output is
 * the domain object with `schemaVersion`, and its JSON Schema is generated from the zod
 * schemas and committed). tools/gen-schemas.ts writes docs/schemas/*.json from OUTPUT_SCHEMAS;
 * a test keeps the committed files equal to these and validates real CLI output against them.
 *
 * vfio-binder's plans are TypeScript interfaces; the schemas here mirror them, and the type
 * assertions at the bottom make `tsc` fail when one drifts from the other.
 */
import { BaselineDiffSchema } from '@passthru/baseline';
import { CheckResultSchema, DoctorReportSchema, HostIdentitySchema, VerdictSchema } from '@passthru/iommu-check';
import { FleetStatusSchema } from '@passthru/fleet';
import { AuditReportSchema, SysctlPlanSchema } from '@passthru/lxd-device-attach';
import {
  DeviceIdentitySchema,
  IommuGroupSchema,
  PciDeviceSchema,
  PlatformFunctionSchema,
  ScanProblemSchema,
  TopologyNodeSchema,
} from '@passthru/pci-discovery';
import type { CaptureResult } from '@passthru/sysfs-sim';
import type {
  ApplyResult,
  BindPlan,
  SriovGuardFinding,
  SriovPlan,
  SriovResult,
  DeviceOwner,
  GuardFinding,
  PersistPlan,
  RecoveryPlan,
  RecoveryResult,
  RestorePlan,
  RestoreResult,
} from '@passthru/vfio-binder';
import * as z from 'zod';

const SchemaVersion = z.literal(1).describe('Version of this document; bumped on a breaking change.');
const Address = z.string().describe('PCI address, domain:bus:slot.function (0000:01:00.0; Intel VMD domains have 5 hex digits)');

export const GuardFindingSchema = z.object({
  id: z.enum(['boot-vga', 'default-route', 'only-nic-up', 'mounted-block', 'device-in-use', 'vfio-group-in-use', 'managed-by-libvirt', 'foreign-endpoint']),
  address: Address,
  summary: z.string(),
  evidence: z.array(z.string()),
});

export const DeviceOwnerSchema = z
  .object({
    kind: z.enum(['passthru', 'adopted', 'libvirt', 'driverctl', 'driver_override', 'other']),
    summary: z.string(),
    evidence: z.array(z.string()),
  })
  .describe('Who holds the device: passthru, adopted (taken over with bind --adopt), or a foreign manager passthru never restores');

/** Who holds each device (null: nobody but its driver); read from the journal, libvirt, driverctl, driver_override. */
const OwnerField = DeviceOwnerSchema.nullable();

export const PlannedWriteSchema = z.object({ path: z.string(), data: z.string(), purpose: z.string() });

export const PlannedDeviceSchema = z.object({
  address: Address,
  identity: DeviceIdentitySchema,
  originalDriver: z.string().nullable(),
  originalOverride: z.string().nullable(),
  reason: z.enum(['named', 'same-slot', 'same-group']),
  alreadyBound: z.boolean(),
  owner: DeviceOwnerSchema.nullable(),
  unrestorable: z.string().nullable(),
  writes: z.array(PlannedWriteSchema),
});

export const BindPlanSchema = z.object({
  groups: z.array(z.object({ id: z.number().int(), devices: z.array(PlannedDeviceSchema), bridges: z.array(Address) })),
  devices: z.array(PlannedDeviceSchema),
  noop: z.boolean(),
  /** Modules loaded before the first write (vfio-pci when its driver is not registered). */
  modules: z.array(z.string()),
});

export const DeviceOutcomeSchema = z.object({
  address: Address,
  from: z.string().nullable(),
  to: z.string().nullable(),
  status: z.enum(['bound', 'already-bound', 'restored', 'left', 'gone', 'untouched']),
  note: z.string().optional(),
});

export const ApplyResultSchema = z.object({
  status: z.enum(['applied', 'noop', 'rolled-back', 'partial']),
  journalId: z.string().nullable(),
  devices: z.array(DeviceOutcomeSchema),
  writes: z.number().int(),
  error: z.string().optional(),
});

export const JournalDeviceSchema = z.object({
  address: Address,
  identity: DeviceIdentitySchema,
  originalDriver: z.string().nullable(),
  originalOverride: z.string().nullable(),
  status: z.enum(['pending', 'bound', 'restored', 'left']),
  note: z.string().optional(),
  owner: z.enum(['passthru', 'adopted']),
  adoptedFrom: z.string().optional(),
  unrestorable: z.string().optional(),
});

export const LeftOnVfioSchema = z
  .array(z.object({ address: Address, iommuGroup: z.number().int().nullable(), why: z.string() }))
  .describe('Endpoints of the restored groups that stay on vfio-pci');
export const ForeignDevicesSchema = z
  .array(z.object({ address: Address, owner: DeviceOwnerSchema }))
  .describe('Devices on vfio-pci another manager holds: never restored by passthru');

export const RestorePlanSchema = z.object({
  devices: z.array(
    z.object({
      record: JournalDeviceSchema,
      /** The driver now; null: none; absent: the device is gone. */
      current: z.string().nullable().optional(),
      reason: z.enum(['named', 'same-group']),
    }),
  ),
  leftOnVfio: LeftOnVfioSchema,
  foreign: ForeignDevicesSchema,
});

export const RestoreResultSchema = z.object({
  status: z.enum(['restored', 'noop', 'partial']),
  devices: z.array(DeviceOutcomeSchema),
  writes: z.number().int(),
  leftOnVfio: LeftOnVfioSchema,
  foreign: ForeignDevicesSchema,
});

/** Recovery of devices no readable record explains: a restore without groups or owners to report. */
export const RecoveryResultSchema = RestoreResultSchema.omit({ leftOnVfio: true, foreign: true });
export const SriovGuardFindingSchema = z.object({
  id: z.enum(['vf-held', 'vf-in-libvirt', 'vf-managed', 'vf-bound-by-passthru', 'vf-interface-up', 'vf-default-route']),
  address: Address,
  summary: z.string(),
  evidence: z.array(z.string()),
});
export const SriovRestorePlanSchema = z.object({
  entryId: z.string().describe('The journal entry of the unfinished sriov change'),
  pf: Address,
  state: z.enum(['applying', 'partial']).describe('applying: interrupted (kill -9, power loss); partial: its rollback did not finish'),
  toNumVfs: z.number().int(),
  nowNumVfs: z.number().int().nullable(),
  fromNumVfs: z.number().int().describe('The count restore puts back (the count before the change)'),
  unit: z.string().optional().describe('The boot unit written with the change, put back too'),
  guards: z.array(SriovGuardFindingSchema),
});
export const SriovRestoreResultSchema = z.object({
  pf: Address,
  status: z.enum(['restored', 'left']),
  numVfs: z.number().int().nullable(),
  note: z.string().optional(),
});

export const RecoveryPlanSchema = z.object({
  /** On vfio-pci by driver_override with no readable journal record. */
  devices: z.array(z.object({ address: Address, identity: DeviceIdentitySchema })),
  /** Unreadable journal lines (1-based). */
  damagedLines: z.array(z.number().int()),
});

export const FileChangeSchema = z.object({
  path: z.string(),
  before: z.string().nullable(),
  after: z.string(),
  diff: z.string(),
  backup: z.string().nullable(),
  why: z.string(),
});

export const PersistPlanSchema = z.object({
  devices: z.array(z.object({ address: Address, identity: DeviceIdentitySchema, module: z.string().nullable() })),
  boot: z.object({ ids: z.array(z.string()), addresses: z.array(Address) }),
  changes: z.array(FileChangeSchema),
  followUp: z.array(z.string()),
  warnings: z.array(z.string()),
});

// ---- report ---------------------------------------------------------------------------------

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
    "With --cluster: the LXD cluster as `fleet status` sees it (every member's state, published readiness and its age, devices, passthru's cluster groups); absent otherwise",
  ),
});
export type Report = z.infer<typeof ReportSchema>;
export type ReportCluster = z.infer<typeof ReportClusterSchema>;
export type ReportDevice = z.infer<typeof ReportDeviceSchema>;
export type ReportGroup = z.infer<typeof ReportGroupSchema>;

// ---- command outputs ------------------------------------------------------------------------

export const ListOutputSchema = z.object({
  schemaVersion: SchemaVersion,
  root: z.string(),
  devices: z.array(PciDeviceSchema.extend({ owner: OwnerField })),
  problems: z.array(ScanProblemSchema),
});
export const GroupsOutputSchema = z.object({
  schemaVersion: SchemaVersion,
  root: z.string(),
  /** `platformFunctions` non-empty: the group is not passable (bind refuses it, --force too). */
  groups: z.array(
    IommuGroupSchema.extend({
      owners: z.record(Address, DeviceOwnerSchema).describe('The members someone holds, by address (absent: nobody but their driver)'),
      platformFunctions: z.array(PlatformFunctionSchema),
    }),
  ),
  ungrouped: z.array(Address),
  problems: z.array(ScanProblemSchema),
});
export const BindOutputSchema = z.union([
  z.object({ schemaVersion: SchemaVersion, dryRun: z.literal(true), plan: BindPlanSchema, guards: z.array(GuardFindingSchema) }),
  z.object({ schemaVersion: SchemaVersion, result: ApplyResultSchema, guards: z.array(GuardFindingSchema) }),
]);
export const RestoreOutputSchema = z.union([
  z.object({
    schemaVersion: SchemaVersion,
    dryRun: z.literal(true),
    plan: RestorePlanSchema,
    recovery: RecoveryPlanSchema.optional(),
    sriov: z.array(SriovRestorePlanSchema).optional(),
  }),
  z.object({
    schemaVersion: SchemaVersion,
    result: RestoreResultSchema,
    recovery: RecoveryResultSchema.optional(),
    sriov: z.array(SriovRestoreResultSchema).optional(),
  }),
]);
export const PersistOutputSchema = z.object({ schemaVersion: SchemaVersion, dryRun: z.literal(true), plan: PersistPlanSchema });
export const SriovPlanSchema = z.object({
  pf: Address,
  pfDriver: z.string().nullable(),
  totalVfs: z.number().int(),
  fromNumVfs: z.number().int(),
  toNumVfs: z.number().int(),
  fromAutoprobe: z.boolean().nullable().describe('sriov_drivers_autoprobe now (null: the file is absent)'),
  toAutoprobe: z.boolean().nullable().describe('sriov_drivers_autoprobe as it will be (null: left as it is)'),
  removedVfs: z.array(Address).describe('The VFs that exist now and go away (a count change removes every VF, then makes the new ones)'),
  pfRoutes: z.array(z.string()).describe('The PF interfaces carrying the default route (VFs do not take it away)'),
  writes: z.array(PlannedWriteSchema),
  noop: z.boolean(),
});
export const SriovResultSchema = z.object({
  status: z.enum(['applied', 'noop', 'rolled-back', 'partial']),
  journalId: z.string().nullable(),
  writes: z.number().int(),
  numVfs: z.number().int(),
  vfs: z.array(Address),
  unit: z.string().optional().describe('The boot unit written with the VFs (--persist)'),
  error: z.string().optional(),
});
export const SriovOutputSchema = z.union([
  z.object({
    schemaVersion: SchemaVersion,
    dryRun: z.literal(true),
    plan: SriovPlanSchema,
    guards: z.array(SriovGuardFindingSchema),
    unit: z
      .object({ unit: z.string(), changes: z.array(FileChangeSchema), followUp: z.array(z.string()) })
      .optional()
      .describe('--persist: the boot unit, written after the VFs in the same transaction'),
  }),
  z.object({ schemaVersion: SchemaVersion, result: SriovResultSchema, guards: z.array(SriovGuardFindingSchema) }),
]);
export const BaselineSaveOutputSchema = z.object({ schemaVersion: SchemaVersion, file: z.string(), devices: z.number().int(), groups: z.number().int() });
export const BaselineDiffOutputSchema = BaselineDiffSchema.extend({ schemaVersion: SchemaVersion });
export const DoctorOutputSchema = DoctorReportSchema.omit({ examined: true }).extend({
  schemaVersion: SchemaVersion,
  devices: z
    .array(z.object({ address: Address, status: z.enum(READINESS), summary: z.string() }))
    .optional()
    .describe("With --device: each asked device's readiness, the same report, export and fleet give"),
});
export const SnapshotOutputSchema = z.object({
  schemaVersion: SchemaVersion,
  outDir: z.string(),
  devices: z.number().int(),
  files: z.number().int(),
  skipped: z.array(z.string()),
});

export const RomImageSchema = z.object({
  offset: z.number().int(),
  length: z.number().int().describe('Bytes, from the PCIR image length (512-byte units)'),
  codeType: z.enum(['x86', 'open-firmware', 'hp-pa-risc', 'efi', 'other']),
  codeTypeByte: z.number().int(),
  vendorId: z.string(),
  deviceId: z.string(),
  class: z.string(),
  last: z.boolean(),
  checksumOk: z.boolean().nullable().describe('x86 images: the bytes sum to 0 mod 256; null for other code types'),
  efi: z.object({ machine: z.string(), subsystem: z.string(), compressed: z.boolean() }).optional(),
});
export const RomOutputSchema = z.object({
  schemaVersion: SchemaVersion,
  address: Address,
  file: z.string().optional().describe('rom dump: where the verified images were written'),
  bytes: z.number().int().optional().describe('rom dump: the bytes written'),
  rom: z.object({
    size: z.number().int(),
    images: z.array(RomImageSchema),
    kind: z.enum(['legacy', 'efi', 'both', 'none']).describe('What a UEFI guest can use: efi or both (an EFI image for x64 or EBC)'),
    problems: z.array(z.string()),
  }),
});

/** Every JSON output, by the file name under docs/schemas (`<name>.schema.json`). */
/** `passthru tune`: the /etc/sysctl.d plan, and what was written (nothing with --dry-run or when up to date). */
export const TuneOutputSchema = z.object({ schemaVersion: SchemaVersion, dryRun: z.boolean(), plan: SysctlPlanSchema, written: z.array(z.string()) });

export const OUTPUT_SCHEMAS = {
  list: { schema: ListOutputSchema, title: 'passthru list --format json' },
  groups: { schema: GroupsOutputSchema, title: 'passthru groups --format json' },
  doctor: { schema: DoctorOutputSchema, title: 'passthru doctor --format json' },
  bind: { schema: BindOutputSchema, title: 'passthru bind --format json (with --dry-run: the plan; else: the result)' },
  restore: { schema: RestoreOutputSchema, title: 'passthru restore --format json (with --dry-run: the plan; else: the result)' },
  persist: { schema: PersistOutputSchema, title: 'passthru persist --dry-run --format json' },
  sriov: { schema: SriovOutputSchema, title: 'passthru sriov --format json (with --dry-run or when refused: the plan; else: the result)' },
  'baseline-save': { schema: BaselineSaveOutputSchema, title: 'passthru baseline save --format json' },
  'baseline-diff': { schema: BaselineDiffOutputSchema, title: 'passthru baseline diff --format json (every change, and whether one breaks passthrough)' },
  report: { schema: ReportSchema, title: 'passthru report --format json (also embedded in the HTML report)' },
  snapshot: { schema: SnapshotOutputSchema, title: 'passthru snapshot --format json' },
  rom: { schema: RomOutputSchema, title: 'passthru rom show|dump --format json' },
  audit: { schema: z.object({ schemaVersion: SchemaVersion }).extend(AuditReportSchema.shape), title: 'passthru audit --format json' },
  'fleet-status': { schema: FleetStatusSchema, title: 'passthru fleet status --format json' },
  tune: { schema: TuneOutputSchema, title: 'passthru tune --format json' },
} as const;

/** The JSON Schema (draft 2020-12) of one output, with an $id under docs/schemas. */
export function jsonSchemaOf(name: keyof typeof OUTPUT_SCHEMAS): Record<string, unknown> {
  const { schema, title } = OUTPUT_SCHEMAS[name];
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', unrepresentable: 'throw' }) as Record<string, unknown>;
  const { $schema, ...rest } = json;
  return { $schema, $id: `https://passthru.invalid/docs/schemas/${name}.schema.json`, title, ...rest };
}

// ---- drift checks: each schema's type and the library's interface accept each other -----------
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const assertSame = <T extends true>(): T | undefined => undefined;
assertSame<Same<z.infer<typeof GuardFindingSchema>, GuardFinding>>();
assertSame<Same<z.infer<typeof DeviceOwnerSchema>, DeviceOwner>>();
assertSame<Same<z.infer<typeof BindPlanSchema>, BindPlan>>();
assertSame<Same<z.infer<typeof ApplyResultSchema>, ApplyResult>>();
assertSame<Same<z.infer<typeof RestoreResultSchema>, RestoreResult>>();
assertSame<Same<z.infer<typeof RecoveryResultSchema>, RecoveryResult>>();
assertSame<Same<z.infer<typeof RecoveryPlanSchema>, RecoveryPlan>>();
assertSame<Same<z.infer<typeof PersistPlanSchema>, PersistPlan>>();
assertSame<Same<z.infer<typeof SriovPlanSchema>, SriovPlan>>();
assertSame<Same<z.infer<typeof SriovGuardFindingSchema>, SriovGuardFinding>>();
assertSame<Same<z.infer<typeof SriovResultSchema>, SriovResult>>();
assertSame<Same<Omit<z.infer<typeof SnapshotOutputSchema>, 'schemaVersion' | 'outDir'>, CaptureResult>>();
// RestorePlan's `current` is `string | null | undefined` (undefined: gone), which JSON drops.
assertSame<Same<z.infer<typeof RestorePlanSchema>['devices'][number]['record'], RestorePlan['devices'][number]['record']>>();
