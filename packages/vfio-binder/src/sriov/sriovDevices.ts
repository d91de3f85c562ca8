import type { HostFs } from '@passthru/hostfs';
import type { Target } from '@passthru/pci-discovery';
import type { HostState } from '../bind/bindDevices';
import { applySriov, evaluateSriovGuards, planSriov, type SriovApplyOptions, type SriovGuardFinding, type SriovPlan, type SriovResult } from './plan';
import { planSriovUnit, type SriovPersistPlan } from './unit';
import { resolveTargets } from '../bind/targets';
import { VfioBinderError } from '../VfioBinderError';

export interface SriovRequest {
  /** The physical function (an address, vendor:device naming one device, or its interface). */
  target: Target;
  numVfs: number;
  /** sriov_drivers_autoprobe to set before creating VFs (false: new VFs stay unbound); undefined: left as it is. */
  autoprobe?: boolean;
  dryRun?: boolean;
  /** Override the guards (each stays in the result, as the reason). */
  force?: boolean;
  /** Asked once before anything is written (a live host asks its operator); false: `consent-refused`. */
  consent?: (plan: SriovPlan) => boolean;
  onPlanned?: (outcome: SriovOutcome) => void;
  /** `--persist`: also write the boot unit, in the same transaction; `stamp` names its backup. */
  persist?: { stamp: string };
}

export interface SriovOutcome {
  status: 'planned' | 'blocked' | 'consent-refused' | SriovResult['status'];
  plan: SriovPlan;
  guards: SriovGuardFinding[];
  /** The boot unit's plan (`persist`): its diff, backup and the systemctl commands to run after. */
  unit?: SriovPersistPlan;
  result?: SriovResult;
}

/**
 * The sriov use case: resolve the PF, plan the sriov_numvfs writes (through 0, ERANGE and
 * ENOENT refused before any write) and, with `persist`, the boot unit (its path checked before
 * any write), refuse when a VF that would go away is in use (unless force), ask consent, and
 * apply under the host lock as one journaled transaction: VFs, then the unit; verify; a failure
 * anywhere rolls back both, and `restore` finishes an interrupted one.
 */
export function sriovDevices(host: HostFs, state: HostState, request: SriovRequest, options: SriovApplyOptions = {}): SriovOutcome {
  const named = resolveTargets([request.target], state.devices, state.groups).filter((d) => d.sriov?.role === 'pf');
  if (named.length !== 1) {
    const what =
      named.length === 0
        ? 'names no SR-IOV physical function'
        : `names ${named.length} physical functions (${named.map((d) => d.address).join(', ')}); give one address`;
    throw new VfioBinderError('bad-input', `Failed resolving the PF via /sys/bus/pci/devices: ${request.target.text} ${what}; nothing was written`);
  }
  const plan = planSriov(host, named[0]!, request.numVfs, request.autoprobe);
  const unit = request.persist && planSriovUnit(host, named[0]!, request.numVfs, request.autoprobe, request.persist.stamp);
  const guards = evaluateSriovGuards(host, plan, state.devices);
  const blocked = guards.length > 0 && !request.force;
  const outcome: SriovOutcome = { status: blocked && !request.dryRun ? 'blocked' : 'planned', plan, guards, ...(unit ? { unit } : {}) };
  request.onPlanned?.(outcome);
  if (request.dryRun || blocked) return outcome;
  const changes = !plan.noop || (unit !== undefined && unit.changes.length > 0);
  if (changes && request.consent && !request.consent(plan)) return { ...outcome, status: 'consent-refused' };
  const result = applySriov(host, plan, { ...options, ...(unit ? { unit } : {}) });
  return { ...outcome, status: result.status, result };
}
