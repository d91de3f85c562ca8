import { pciDriverPath } from '@passthru/pci-discovery';
import type { HostFs } from '@passthru/hostfs';
import type { IommuGroup, PciDevice } from '@passthru/pci-discovery';
import { applyBind, type ApplyOptions, type ApplyResult } from './apply';
import { VFIO_DRIVER, planBind, type BindPlan, type PlannedDevice } from './plan';
import { evaluateGuards, refusing, type GuardFinding } from './guards';
import { readJournalRecords } from '../Journal';
import { isForeign, readOwnershipWith } from '../owners';
import { refuseRenumbered } from '../persist/record';
import type { Target } from '@passthru/pci-discovery';
import { resolveTargets } from './targets';

/** The host as one scan saw it: every use case plans from the same devices and groups. */
export interface HostState {
  devices: PciDevice[];
  groups: IommuGroup[];
}

export interface BindRequest {
  targets: Target[];
  /** Plan, guards and policy only: nothing is written. */
  dryRun?: boolean;
  /** Override the guards (each stays in the result, as the reason). */
  force?: boolean;
  /** Take over devices another manager holds; the journal keeps their original state. */
  adopt?: boolean;
  /**
   * Asked once before anything is written, when the plan changes a driver (a live host asks
   * its operator); false stops the bind with status `consent-refused`, nothing written.
   */
  consent?: (plan: BindPlan) => boolean;
  /** Called with the plan, guards and policy before consent and apply (a CLI prints the guards here, so they show even when the apply throws). */
  onPlanned?: (outcome: BindOutcome) => void;
}

export interface BindOutcome {
  /**
   * `planned`: a dry run; `blocked`: a guard or a foreign owner refused it (see `blockedBy`);
   * `consent-refused`; otherwise the apply's status (applied, noop, rolled-back, partial).
   */
  status: 'planned' | 'blocked' | 'consent-refused' | ApplyResult['status'];
  plan: BindPlan;
  guards: GuardFinding[];
  /** Devices of the plan another manager holds (adopted with `adopt`, else refusing the bind). */
  foreign: PlannedDevice[];
  /** What refused the bind: guards without `force`, foreign devices without `adopt`. */
  blockedBy: Array<'guards' | 'foreign'>;
  /** Warnings for the operator (the journal could not be read). */
  warnings: string[];
  /** The apply's result, when it ran. */
  result?: ApplyResult;
}

/**
 * The bind use case: resolve the targets to whole IOMMU groups, plan, refuse an address that
 * now names another device than persist recorded, evaluate the guards and who holds each
 * device, apply the --force/--adopt policy, ask consent, and apply with verify and rollback.
 * Throws VfioBinderError for bad targets and refusals that are not policy (renumbering).
 */
export function bindDevices(host: HostFs, state: HostState, request: BindRequest, options: Omit<ApplyOptions, 'adopt'> = {}): BindOutcome {
  const { devices, groups } = state;
  const { owners, journalError } = readOwnershipWith(host, devices, readJournalRecords(host));
  const warnings = journalError ? [journalError] : [];
  const plan = planBind(resolveTargets(request.targets, devices, groups), devices, groups, owners, {
    vfioLoaded: host.exists(pciDriverPath(VFIO_DRIVER)),
  });
  refuseRenumbered(host, devices, new Set(plan.devices.map((d) => d.address)), 'bind');
  const guards = evaluateGuards(host, plan, devices);
  const foreign = plan.devices.filter((d) => isForeign(d.owner));
  const blockedBy = [
    ...(refusing(guards).length > 0 && !request.force ? (['guards'] as const) : []),
    ...(foreign.length > 0 && !request.adopt ? (['foreign'] as const) : []),
  ];
  const outcome: BindOutcome = { status: blockedBy.length && !request.dryRun ? 'blocked' : 'planned', plan, guards, foreign, blockedBy, warnings };
  request.onPlanned?.(outcome);
  if (request.dryRun || blockedBy.length) return outcome;
  if (!plan.noop && request.consent && !request.consent(plan)) return { ...outcome, status: 'consent-refused' };
  const result = applyBind(host, plan, { ...options, adopt: request.adopt });
  return { ...outcome, status: result.status, result };
}
