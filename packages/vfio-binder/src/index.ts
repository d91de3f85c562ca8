// @passthru/vfio-binder: whole-group bind plans, guards, journal + host lock, apply with verify
// and reverse-order rollback, restore, persistence across reboots.
// The door: one function per use case (bind, restore, journal repair, persist, readiness), the
// plans' and results' types, and the renderings a front end prints. The building blocks below
// them (planBind/applyBind, planRestore/applyRestore) stay open for library users and the bench;
// everything else is internal (tests import it by path).
export { VfioBinderError, type BinderErrorKind } from './VfioBinderError';
export { parseTarget } from './targets';
export { bindDevices, type BindRequest, type BindOutcome, type HostState } from './bindDevices';
export { bindAndPersist, type BindPersistOutcome } from './bindPersist';
export { restoreDevices, type RestoreRequest, type RestoreOutcome } from './restoreDevices';
export { repairJournal, setAsideNote, type RepairOutcome, type SetAside } from './repairJournal';
export { persistDevices, type PersistRequest, type PersistOutcome } from './persistDevices';
export { hostReadiness, type HostReadiness, type GroupReadiness, type DeviceReadiness, type GroupStatus, type DeviceStatus } from './hostReadiness';
export { readHost, examinedEndpoints, isUsable, type HostView, type ReadHostOptions } from './readHost';
export { planBind, formatPlan, VFIO_DRIVER, type BindPlan, type PlannedDevice, type PlannedGroup, type PlannedWrite } from './BindPlan';
export { applyBind, type ApplyOptions, type ApplyResult, type DeviceOutcome } from './applyBind';
export { planRestore, applyRestore, formatRestorePlan, leftLines, type RestorePlan, type RestoreResult, type RestoreOptions } from './restore';
export { formatRecoveryPlan, type RecoveryPlan, type RecoveryResult, type UnrecordedDevice } from './recoverUnrecorded';
export { formatPersistPlan, type PersistPlan, type FileChange, type CommandRunner } from './persist';
export { readOwnership, isForeign, type DeviceOwner, type OwnerKind, type Ownership } from './owners';
export { evaluateGuards, type GuardFinding } from './guards';
export type { LockOptions } from './HostLock';
export { JOURNAL_PATH } from './Journal';
export { sriovDevices, type SriovRequest, type SriovOutcome } from './sriovDevices';
export {
  planSriov,
  applySriov,
  evaluateSriovGuards,
  formatSriovPlan,
  type SriovPlan,
  type SriovResult,
  type SriovGuardFinding,
  type SriovApplyOptions,
} from './sriov';
export { sriovUnitText, sriovUnitName, type SriovPersistPlan } from './sriovPersist';
export { formatSriovRestorePlan, type SriovRestorePlan, type SriovRestoreResult } from './sriovRestore';
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
