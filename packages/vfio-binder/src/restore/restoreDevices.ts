import type { HostFs } from '@passthru/hostfs';
import type { ApplyOptions } from '../bind/apply';
import type { HostState } from '../bind/bindDevices';
import { JOURNAL_PATH, Journal } from '../Journal';
import { applyRecovery, planRecovery, type RecoveryPlan, type RecoveryResult } from './recovery';
import { setAsideDamaged, type SetAside } from './repairJournal';
import { applyRestore, planRestore, type RestorePlan, type RestoreResult } from './plan';
import type { Target } from '@passthru/pci-discovery';
import { applySriovRestore, planSriovRestore, type SriovRestorePlan, type SriovRestoreResult } from '../sriov/restore';
import { resolveTargets } from '../bind/targets';

/** Whether the journal has ever recorded binding `address` (restore refuses a target it has no record of). */
const hasBindRecord = (host: HostFs, address: string) =>
  new Journal(host).read().entries.some((e) => e.operation !== 'sriov' && e.devices.some((d) => d.address === address));

export interface RestoreRequest {
  /** Targets (each standing for its whole IOMMU group unless `splitGroup`), or every journaled device. */
  targets: Target[] | 'all';
  splitGroup?: boolean;
  /** With 'all': also devices on vfio-pci by driver_override that no readable record explains. */
  unrecorded?: boolean;
  dryRun?: boolean;
  /** Asked once before anything is written when something is to be restored; false stops it. */
  consent?: () => boolean;
  /** Called with the plan and notes before consent and apply (a CLI prints the notes here). */
  onPlanned?: (outcome: RestoreOutcome) => void;
}

export interface RestoreOutcome {
  /** `planned`: a dry run; `consent-refused`: nothing written; else the combined apply status. */
  status: 'planned' | 'consent-refused' | RestoreResult['status'];
  plan: RestorePlan;
  /** The unrecorded devices given back with this restore (empty unless included). */
  recovery: RecoveryPlan;
  /** Whether recovery is part of this restore: --unrecorded, or a damaged journal, with 'all'. */
  recoveryIncluded: boolean;
  /** Operator notes, known before anything is written: damaged journal lines, unrecorded devices left alone. */
  notes: string[];
  /** Unfinished sriov changes (interrupted, or a rollback that did not finish) of the named PFs, or of all with 'all'. */
  sriov: SriovRestorePlan[];
  result?: RestoreResult;
  recovered?: RecoveryResult;
  sriovResults?: SriovRestoreResult[];
  /** Where the journal's unreadable lines went (a restore salvages them before applying; `setAsideNote` words it). */
  movedAside?: SetAside;
}

/**
 * The restore use case: plan the journal's devices back to their original drivers (whole
 * groups unless `splitGroup`), find devices on vfio-pci that no readable record explains and
 * include them when asked (or when the journal is damaged, with 'all'), ask consent, move the
 * journal's unreadable lines aside, then restore and recover, each verified.
 */
export function restoreDevices(host: HostFs, state: HostState, request: RestoreRequest, options: ApplyOptions = {}): RestoreOutcome {
  const { devices, groups } = state;
  const all = request.targets === 'all';
  const chosen = request.targets === 'all' ? ('all' as const) : resolveTargets(request.targets, devices, groups).map((d) => d.address);
  // A PF named by a target may have no bind record: its unfinished sriov change is what there is to restore.
  const sriov = planSriovRestore(host, devices, chosen);
  const sriovPfs = new Set(sriov.map((s) => s.pf));
  const plan = planRestore(host, devices, chosen === 'all' ? chosen : chosen.filter((a) => !sriovPfs.has(a) || hasBindRecord(host, a)), {
    splitGroup: request.splitGroup,
  });
  const found = planRecovery(host, devices);
  // Without a damaged journal, the tree alone cannot tell a lost record from a device
  // another tool bound on purpose (driverctl): then recovery waits for --unrecorded.
  const recoveryIncluded = all && (Boolean(request.unrecorded) || found.damagedLines.length > 0);
  const recovery: RecoveryPlan = recoveryIncluded ? found : { devices: [], damagedLines: found.damagedLines };
  // What recovery gives back is not "left alone".
  if (recovery.devices.length) plan.foreign = plan.foreign.filter((f) => !recovery.devices.some((d) => d.address === f.address));
  const notes: string[] = [];
  if (found.damagedLines.length)
    notes.push(
      `journal line(s) ${found.damagedLines.join(', ')} of ${JOURNAL_PATH} cannot be read (a record torn by a crash or a full disk); every readable record is used${request.dryRun ? '' : ', and the unreadable lines are moved aside into a dated file next to it'}.`,
    );
  if (!recoveryIncluded && found.devices.length) {
    const one = found.devices.length === 1;
    notes.push(
      `${found.devices.map((d) => d.address).join(', ')} ${one ? 'is' : 'are'} on vfio-pci by driver_override with no readable journal record (bound by another tool, or by a run whose record was lost): not restored. \`passthru restore --all --unrecorded\` gives ${one ? 'it' : 'them'} to the driver the kernel's id tables pick.`,
    );
  }
  const outcome: RestoreOutcome = { status: 'planned', plan, recovery, recoveryIncluded, notes, sriov };
  request.onPlanned?.(outcome);
  if (request.dryRun) return outcome;
  if ((plan.devices.length || recovery.devices.length || sriov.length) && request.consent && !request.consent())
    return { ...outcome, status: 'consent-refused' };
  const movedAside = found.damagedLines.length ? setAsideDamaged(host, options.lock) : undefined;
  const sriovResults = applySriovRestore(host, sriov, options.lock);
  const result = applyRestore(host, plan, options);
  const recovered = applyRecovery(host, recovery, options);
  const status =
    result.status === 'partial' || recovered.status === 'partial' || sriovResults.some((r) => r.status === 'left')
      ? 'partial'
      : result.status === 'noop' && recovered.status === 'noop' && sriovResults.length === 0
        ? 'noop'
        : 'restored';
  return { ...outcome, status, result, recovered, sriovResults, ...(movedAside ? { movedAside } : {}) };
}
