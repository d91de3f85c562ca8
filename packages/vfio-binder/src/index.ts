// @passthru/vfio-binder: whole-group bind plans, guards, journal + host lock, apply with verify
// and reverse-order rollback, restore, persistence across reboots.
// The door: one function per use case (bind, restore, journal repair, persist, readiness), the
// plans' and results' types, and the renderings a front end prints. The building blocks below
// them (planBind/applyBind, planRestore/applyRestore) stay open for library users and the bench;
// everything else is internal (tests import it by path).
export { VfioBinderError } from './VfioBinderError';
export { parseTarget } from './bind/targets';
export { bindDevices, type BindRequest, type BindOutcome, type HostState } from './bind/bindDevices';
export { bindAndPersist, type BindPersistOutcome } from './bind/bindAndPersist';
export { restoreDevices, type RestoreRequest, type RestoreOutcome } from './restore/restoreDevices';
export { repairJournal, setAsideNote, type RepairOutcome, type SetAside } from './restore/repairJournal';
export { persistDevices, type PersistRequest, type PersistOutcome } from './persist/persistDevices';
export {
  hostReadinessWith,
  type HostReadiness,
  type GroupReadiness,
  type DeviceReadiness,
  type GroupStatus,
  type DeviceStatus,
} from './readiness/hostReadiness';
export { readHostWith, examinedEndpoints, isUsable, type HostView, type ReadHostOptions } from './readiness/readHost';
// The read-only use cases reading the journal themselves; the `...With` forms take its records (loadJournalRecords).
export { readOwnership, hostReadiness, readHost } from './journaled';
export { planBind, formatPlan, VFIO_DRIVER, type BindPlan, type PlannedDevice, type PlannedGroup, type PlannedWrite } from './bind/plan';
export { applyBind, type ApplyOptions, type ApplyResult, type DeviceOutcome } from './bind/apply';
export { planRestore, applyRestore, formatRestorePlan, leftLines, type RestorePlan, type RestoreResult, type RestoreOptions } from './restore/plan';
export { formatRecoveryPlan, type RecoveryPlan, type RecoveryResult, type UnrecordedDevice } from './restore/recovery';
export { formatPersistPlan, type PersistPlan, type FileChange, type CommandRunner } from './persist/plan';
export { readOwnershipWith, isForeign, type DeviceOwner, type OwnerKind, type Ownership } from './owners';
export { evaluateGuards, type GuardFinding } from './bind/guards';
export type { LockOptions } from './HostLock';
export { JOURNAL_PATH, loadJournalRecords, type JournalRecords } from './journalRecords';
export { sriovDevices, type SriovRequest, type SriovOutcome } from './sriov/sriovDevices';
export {
  planSriov,
  applySriov,
  evaluateSriovGuards,
  formatSriovPlan,
  type SriovPlan,
  type SriovResult,
  type SriovGuardFinding,
  type SriovApplyOptions,
} from './sriov/plan';
export { sriovUnitText, sriovUnitName, type SriovPersistPlan } from './sriov/unit';
export { formatSriovRestorePlan, type SriovRestorePlan, type SriovRestoreResult } from './sriov/restore';
export {
  AddressSchema,
  GuardFindingSchema,
  DeviceOwnerSchema,
  PlannedWriteSchema,
  PlannedDeviceSchema,
  BindPlanSchema,
  DeviceOutcomeSchema,
  ApplyResultSchema,
  JournalDeviceSchema,
  LeftOnVfioSchema,
  ForeignDevicesSchema,
  RestorePlanSchema,
  RestoreResultSchema,
  RecoveryResultSchema,
  SriovGuardFindingSchema,
  SriovRestorePlanSchema,
  SriovRestoreResultSchema,
  RecoveryPlanSchema,
  FileChangeSchema,
  PersistPlanSchema,
  SriovPlanSchema,
  SriovResultSchema,
} from './outputSchemas';
