/**
 * The JSON shapes of vfio-binder's plans and results, as zod schemas: what the CLI prints with
 * --format json and docs/schemas publishes. The plans are TypeScript interfaces next to the code
 * that makes them; the type assertions at the bottom make `tsc` fail when a schema drifts from
 * its interface.
 */
import { DeviceIdentitySchema } from '@passthru/pci-discovery';
import * as z from 'zod';
import type { ApplyResult } from './bind/apply';
import type { BindPlan } from './bind/plan';
import type { GuardFinding } from './bind/guards';
import type { DeviceOwner } from './owners';
import type { PersistPlan } from './persist/plan';
import type { RecoveryPlan, RecoveryResult } from './restore/recovery';
import type { RestorePlan, RestoreResult } from './restore/plan';
import type { SriovGuardFinding, SriovPlan, SriovResult } from './sriov/plan';
export const AddressSchema = z.string().describe('PCI address, domain:bus:slot.function (0000:01:00.0; Intel VMD domains have 5 hex digits)');

export const GuardFindingSchema = z.object({
  id: z.enum([
    'boot-vga',
    'boot-framebuffer',
    'default-route',
    'only-nic-up',
    'mounted-block',
    'device-in-use',
    'vfio-group-in-use',
    'managed-by-libvirt',
    'foreign-endpoint',
  ]),
  address: AddressSchema,
  summary: z.string(),
  evidence: z.array(z.string()),
  advisory: z.literal(true).optional().describe('Refuses nothing: what the bind does besides (the firmware framebuffer vfio-pci removes)'),
});

export const DeviceOwnerSchema = z
  .object({
    kind: z.enum(['passthru', 'adopted', 'libvirt', 'driverctl', 'driver_override', 'other']),
    summary: z.string(),
    evidence: z.array(z.string()),
  })
  .describe('Who holds the device: passthru, adopted (taken over with bind --adopt), or a foreign manager passthru never restores');

export const PlannedWriteSchema = z.object({ path: z.string(), data: z.string(), purpose: z.string() });

export const PlannedDeviceSchema = z.object({
  address: AddressSchema,
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
  groups: z.array(z.object({ id: z.number().int(), devices: z.array(PlannedDeviceSchema), bridges: z.array(AddressSchema) })),
  devices: z.array(PlannedDeviceSchema),
  noop: z.boolean(),
  /** Modules loaded before the first write (vfio-pci when its driver is not registered). */
  modules: z.array(z.string()),
});

export const DeviceOutcomeSchema = z.object({
  address: AddressSchema,
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
  address: AddressSchema,
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
  .array(z.object({ address: AddressSchema, iommuGroup: z.number().int().nullable(), why: z.string() }))
  .describe('Endpoints of the restored groups that stay on vfio-pci');
export const ForeignDevicesSchema = z
  .array(z.object({ address: AddressSchema, owner: DeviceOwnerSchema }))
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
  address: AddressSchema,
  summary: z.string(),
  evidence: z.array(z.string()),
});
export const SriovRestorePlanSchema = z.object({
  entryId: z.string().describe('The journal entry of the unfinished sriov change'),
  pf: AddressSchema,
  state: z.enum(['applying', 'partial']).describe('applying: interrupted (kill -9, power loss); partial: its rollback did not finish'),
  toNumVfs: z.number().int(),
  nowNumVfs: z.number().int().nullable(),
  fromNumVfs: z.number().int().describe('The count restore puts back (the count before the change)'),
  unit: z.string().optional().describe('The boot unit written with the change, put back too'),
  guards: z.array(SriovGuardFindingSchema),
});
export const SriovRestoreResultSchema = z.object({
  pf: AddressSchema,
  status: z.enum(['restored', 'left']),
  numVfs: z.number().int().nullable(),
  note: z.string().optional(),
});

export const RecoveryPlanSchema = z.object({
  /** On vfio-pci by driver_override with no readable journal record. */
  devices: z.array(z.object({ address: AddressSchema, identity: DeviceIdentitySchema })),
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
  devices: z.array(z.object({ address: AddressSchema, identity: DeviceIdentitySchema, module: z.string().nullable() })),
  boot: z.object({ ids: z.array(z.string()), addresses: z.array(AddressSchema) }),
  changes: z.array(FileChangeSchema),
  followUp: z.array(z.string()),
  warnings: z.array(z.string()),
});

export const SriovPlanSchema = z.object({
  pf: AddressSchema,
  pfDriver: z.string().nullable(),
  totalVfs: z.number().int(),
  fromNumVfs: z.number().int(),
  toNumVfs: z.number().int(),
  fromAutoprobe: z.boolean().nullable().describe('sriov_drivers_autoprobe now (null: the file is absent)'),
  toAutoprobe: z.boolean().nullable().describe('sriov_drivers_autoprobe as it will be (null: left as it is)'),
  removedVfs: z.array(AddressSchema).describe('The VFs that exist now and go away (a count change removes every VF, then makes the new ones)'),
  pfRoutes: z.array(z.string()).describe('The PF interfaces carrying the default route (VFs do not take it away)'),
  writes: z.array(PlannedWriteSchema),
  noop: z.boolean(),
});
export const SriovResultSchema = z.object({
  status: z.enum(['applied', 'noop', 'rolled-back', 'partial']),
  journalId: z.string().nullable(),
  writes: z.number().int(),
  numVfs: z.number().int(),
  vfs: z.array(AddressSchema),
  unit: z.string().optional().describe('The boot unit written with the VFs (--persist)'),
  error: z.string().optional(),
});
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
// RestorePlan's `current` is `string | null | undefined` (undefined: gone), which JSON drops.
assertSame<Same<z.infer<typeof RestorePlanSchema>['devices'][number]['record'], RestorePlan['devices'][number]['record']>>();
