import {
  formatPersistPlan,
  formatPlan,
  formatRecoveryPlan,
  formatRestorePlan,
  formatSriovRestorePlan,
  JOURNAL_PATH,
  leftLines,
  setAsideNote,
  type ApplyOptions,
  type BindOutcome,
  type DeviceOutcome,
  type PersistOutcome,
  type RepairOutcome,
  type RestoreOutcome,
} from '@passthru/vfio-binder';
import { EXIT } from '../CliError';
import { consentRefused, type CliContext } from '../context';
import { paint, printJson, progressLine, renderTable } from './output';

/** A progress line per device on a terminal (long runs: hundreds of VFs); nothing otherwise. */
export function progressOptions(ctx: CliContext): ApplyOptions {
  const tty = Boolean((ctx.out.stderr as { isTTY?: boolean }).isTTY) && ctx.out.color;
  return {
    lock: { onTakeover: (message) => ctx.note(`passthru: ${message}`) },
    onDevice: (device, index, total) => {
      if (tty) progressLine(ctx.out, `[${index + 1}/${total}] ${device.address} ${device.originalDriver ?? '(none)'} -> vfio-pci`);
      if (tty && index + 1 === total) ctx.out.stderr.write('\n');
      ctx.verbose(`binding ${device.address} (${index + 1}/${total})`);
    },
  };
}

export function outcomeTable(ctx: CliContext, outcomes: DeviceOutcome[]): string {
  const colour = { bound: 'green', restored: 'green', 'already-bound': 'gray', untouched: 'gray', left: 'red', gone: 'yellow' } as const;
  return renderTable(
    ['ADDRESS', 'FROM', 'TO', 'STATUS', 'NOTE'],
    outcomes.map((o) => [o.address, o.from ?? '-', o.to ?? '-', paint(ctx.out, colour[o.status], o.status), o.note ?? '']),
  );
}

/** bind's notes, before anything is written: journal warnings, each guard and foreign owner with the policy applied. */
export function printBindPlanned(ctx: CliContext, o: BindOutcome, options: { force?: boolean; adopt?: boolean }): void {
  for (const w of o.warnings) ctx.note(`passthru: warning: ${w}`);
  for (const g of o.guards) {
    const label = g.advisory
      ? paint(ctx.out, 'yellow', 'note')
      : paint(ctx.out, options.force ? 'yellow' : 'red', options.force ? 'overridden (--force)' : 'refused');
    ctx.note(`${label}: ${g.address} [${g.id}] ${g.summary}`);
    for (const e of g.evidence) ctx.note(`    evidence: ${e}`);
  }
  for (const d of o.foreign) {
    ctx.note(
      `${paint(ctx.out, options.adopt ? 'yellow' : 'red', options.adopt ? 'adopted (--adopt)' : 'refused')}: ${d.address} [owner: ${d.owner!.kind}] held by ${d.owner!.summary}${d.unrestorable ? `; restore could not put back its state: ${d.unrestorable}` : ''}`,
    );
    for (const e of d.owner!.evidence) ctx.note(`    evidence: ${e}`);
  }
}

/** bind's result (plan, refusal or outcome table), and its exit code. */
export function printBindOutcome(ctx: CliContext, o: BindOutcome): number {
  if (o.status === 'planned') {
    if (ctx.format === 'json') printJson(ctx.out, { dryRun: true, plan: o.plan, guards: o.guards });
    else ctx.out.stdout.write(formatPlan(o.plan));
    return o.blockedBy.length ? EXIT.failed : EXIT.ok;
  }
  if (o.status === 'blocked') {
    const how = {
      guards: '--force to override these guards',
      foreign: '--adopt to take over the devices another manager holds (the journal keeps their original state)',
    };
    ctx.note(`Nothing was written. Use ${o.blockedBy.map((b) => how[b]).join(', or ')}; --dry-run shows the plan.`);
    return EXIT.failed;
  }
  if (o.status === 'consent-refused') throw consentRefused('bind');
  const result = o.result!;
  if (ctx.format === 'json') printJson(ctx.out, { result, guards: o.guards });
  else {
    ctx.out.stdout.write(outcomeTable(ctx, result.devices));
    const adopted = o.foreign.length ? `; adopted ${o.foreign.length} (${o.foreign.map((d) => d.address).join(', ')})` : '';
    const summary = {
      applied: `${o.plan.modules.length ? `Loaded ${o.plan.modules.join(', ')}. ` : ''}Bound ${result.devices.filter((d) => d.status === 'bound').length} device(s) to vfio-pci with ${result.writes} writes${adopted}.`,
      noop: 'Nothing to do: already on vfio-pci.',
      'rolled-back': 'Failed, and every device is back on its original driver.',
      partial: 'Failed, and the rollback did not finish: the journal lists what is left; run `passthru restore --all`.',
    }[result.status];
    ctx.out.stdout.write(`${summary}\n`);
  }
  if (result.error) ctx.note(`passthru: ${result.error}`);
  return result.status === 'rolled-back' ? EXIT.failed : result.status === 'partial' ? EXIT.partial : EXIT.ok;
}

/** restore's result (plan on a dry run, else the outcomes and what stays on vfio-pci), and its exit code. */
export function printRestoreOutcome(ctx: CliContext, o: RestoreOutcome): number {
  const recovery = o.recoveryIncluded ? { recovery: o.status === 'planned' ? o.recovery : o.recovered } : {};
  const sriov = o.sriov.length ? { sriov: o.status === 'planned' ? o.sriov : o.sriovResults } : {};
  if (o.status === 'consent-refused') throw consentRefused('restore');
  if (o.movedAside) ctx.note(`passthru: ${setAsideNote(o.movedAside)}`);
  const sriovPlan = formatSriovRestorePlan(o.sriov);
  if (o.status === 'planned') {
    if (ctx.format === 'json') printJson(ctx.out, { dryRun: true, plan: o.plan, ...recovery, ...sriov });
    else
      ctx.out.stdout.write(
        o.plan.devices.length === 0 && (o.recovery.devices.length || o.sriov.length)
          ? sriovPlan + formatRecoveryPlan(o.recovery)
          : formatRestorePlan(o.plan) + formatRecoveryPlan(o.recovery) + sriovPlan,
      );
    return EXIT.ok;
  }
  if (ctx.format === 'json') printJson(ctx.out, { result: o.result, ...recovery, ...sriov });
  else if (o.status === 'noop') ctx.out.stdout.write(formatRestorePlan(o.plan));
  else {
    const devices = [...o.result!.devices, ...o.recovered!.devices];
    ctx.out.stdout.write(
      (devices.length ? outcomeTable(ctx, devices) : '') +
        (o.sriovResults ?? [])
          .map((r) => `sriov ${r.pf}: ${r.status === 'restored' ? `back at ${r.numVfs} VF(s)` : `left at ${r.numVfs ?? '?'} VF(s): ${r.note}`}\n`)
          .join('') +
        leftLines(o.plan)
          .map((l) => `${l}\n`)
          .join(''),
    );
  }
  return o.status === 'partial' ? EXIT.partial : EXIT.ok;
}

/** persist's plan (JSON on a dry run; else the diffs, printed before anything is written). */
export function printPersistPlan(ctx: CliContext, o: Pick<PersistOutcome, 'plan'>, dryRun: boolean | undefined): void {
  if (ctx.format === 'json' && dryRun) printJson(ctx.out, { dryRun: true, plan: o.plan });
  else ctx.out.stdout.write(formatPersistPlan(o.plan));
}

/** Why a plan's follow-up commands (rebuilds, systemctl) were not run. */
export const noteNotRun = (ctx: CliContext) =>
  ctx.note(ctx.host.isLive ? 'Not run without --yes: the commands above.' : `Not run: --root ${ctx.host.root} is not this machine.`);

/** persist's result after writing, and its exit code. */
export function printPersistOutcome(ctx: CliContext, o: PersistOutcome, ranCommands: boolean): number {
  if (o.status !== 'written') return EXIT.ok;
  ctx.out.stdout.write(`Wrote ${o.written.length} file(s)${o.written.length ? `: ${o.written.join(', ')}` : ''}.\n`);
  if (!ranCommands && o.plan.followUp.length) noteNotRun(ctx);
  const failed = o.ran.filter((r) => r.exitCode !== 0);
  for (const r of failed) ctx.note(`passthru: \`${r.command}\` exited ${r.exitCode}:\n${r.output}`);
  return failed.length ? EXIT.failed : EXIT.ok;
}

/** restore --repair-journal's report: a whole journal, the lines a dry run would move, or where they went. */
export function printRepair(ctx: CliContext, o: RepairOutcome): number {
  if (o.damaged.length === 0) ctx.out.stdout.write(`The journal ${JOURNAL_PATH} is whole: nothing to repair.\n`);
  else if (o.moved) ctx.note(`passthru: ${setAsideNote(o.moved)}`);
  else
    ctx.out.stdout.write(
      o.damaged.map((d) => `  line ${d.line}: ${d.reason}\n`).join('') +
        `Would move ${o.damaged.length} unreadable line(s) into a dated file next to the journal; every readable record stays.\n`,
    );
  return EXIT.ok;
}
