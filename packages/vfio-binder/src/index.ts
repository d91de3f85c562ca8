// @passthru/vfio-binder: whole-group bind plans, guards, journal + host lock, apply with verify
// and reverse-order rollback, restore, persistence across reboots.
export { VfioBinderError, type BinderErrorKind } from './VfioBinderError';
export { parseTarget, resolveTargets } from './targets';
export { planBind, bindWrites, formatPlan, VFIO_DRIVER, DRIVERS, DRIVERS_PROBE } from './BindPlan';
export type { BindPlan, PlannedDevice, PlannedGroup, PlannedWrite } from './BindPlan';
export { evaluateGuards, defaultRouteInterfaces, processesHolding, libvirtHostdevs, parseLibvirtHostdevs, type GuardFinding, type LibvirtHostdev } from './guards';
export { readOwnership, isForeign, unrestorableOverride, DRIVERCTL_DIR, type DeviceOwner, type OwnerKind, type Ownership } from './owners';
export { Journal, acquireHostLock, JOURNAL_DIR, JOURNAL_PATH, LOCK_PATH, STALE_UNKNOWN_LOCK_MS, JournalSchema } from './Journal';
export type { JournalEntry, JournalDevice, JournalFile, JournalInspection, DamagedLine, LockOptions } from './Journal';
export { planRecovery, applyRecovery, formatRecoveryPlan, type RecoveryPlan, type RecoveryResult, type UnrecordedDevice } from './recoverUnrecorded';
export { applyBind, refuseForeign, restoreDevice, waitForDriver, currentDriver, type ApplyOptions, type ApplyResult, type DeviceOutcome } from './applyBind';
export { planRestore, applyRestore, formatRestorePlan, leftLines, identityMismatch, type RestorePlan, type RestoreResult, type RestoreOptions } from './restore';
export { planPersist, applyPersist, formatPersistPlan, readPersistRecord, renumberedDevices, MODPROBE_FILE, DRACUT_FILE, PERSIST_RECORD, INITRAMFS_VFIO_MODULES } from './persist';
export type { PersistPlan, FileChange, CommandRunner } from './persist';
