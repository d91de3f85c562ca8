import { Option } from 'commander';
import { JOURNAL_PATH, Journal, acquireHostLock, applyRecovery, applyRestore, formatRecoveryPlan, formatRestorePlan, leftLines, parseTarget, planRecovery, planRestore, resolveTargets, type RecoveryPlan } from '@passthru/vfio-binder';
import type { CommandSpec } from '../command';
import { hostState, outcomeTable, progressOptions, requireConsent } from '../binder';
import { CliError, EXIT } from '../CliError';
import type { CliContext } from '../context';
import { printJson } from '../output';

interface RestoreOptions {
  all?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  unrecorded?: boolean;
  repairJournal?: boolean;
  splitGroup?: boolean;
}

export const restoreCommand: CommandSpec = {
  register(program, run) {
    program
      .command('restore')
      .description("Give devices back to their original drivers, from passthru's journal")
      .argument('[target...]', 'PCI address, vendor:device, group:N or interface name')
      .option('--all', 'every device the journal lists as bound by passthru (devices another manager holds are left alone)')
      .option('--split-group', 'restore only the named devices and leave the rest of their IOMMU group on vfio-pci (the output names the devices left there); without it a TARGET restores its whole group, and a restore that would leave part of a group on vfio-pci is refused (exit 2)')
      .option('--unrecorded', "with --all: also devices on vfio-pci by driver_override that the journal has no readable record of (given to the driver the kernel's id tables pick)")
      .option('--repair-journal', 'only move unreadable journal lines aside into a dated file next to the journal (every readable record is kept; nothing is restored)')
      .option('--dry-run', 'print what would be restored; write nothing')
      .option('--yes', 'proceed on this machine without asking')
      .addOption(new Option('--format <format>', 'table or json').choices(['table', 'json']))
      .addHelpText(
        'after',
        '\nA TARGET stands for its whole IOMMU group: every device the journal lists as bound with it\ngoes back, in reverse order, verified (the mirror of bind).\n\n' +
          'Examples:\n  passthru restore --all --dry-run\n  passthru restore 01:00.0 --yes\n  passthru restore 01:00.1 --split-group --dry-run\n  passthru restore --repair-journal\n\n' +
          'A journal with unreadable lines (a crash or a full disk tore a record) is salvaged: every readable record is used, the unreadable\n' +
          'lines are moved verbatim into /var/lib/passthru/journal.damaged-<time>.jsonl, and with --all the devices on vfio-pci by\n' +
          'driver_override that no readable record explains are given back too (clear driver_override, unbind, drivers_probe).\n\n' +
          'Exit codes: 0 restored (or nothing to do), 1 refused, 2 bad input or a restore that would split\na group without --split-group (nothing written), 3 not fully restored (the journal says what is left).',
      )
      .action(
        run<RestoreOptions>((ctx, options, args) => {
          if (options.repairJournal) {
            if (options.all || args.length > 0 || options.unrecorded) throw new CliError('restore --repair-journal takes no TARGET, --all or --unrecorded');
            return repairJournal(ctx, options);
          }
          if (!options.all && args.length === 0) throw new CliError('restore needs a TARGET or --all');
          if (options.all && args.length > 0) throw new CliError('restore takes TARGETs or --all, not both');
          if (options.unrecorded && !options.all) throw new CliError('restore --unrecorded needs --all');
          if (options.all && options.splitGroup) throw new CliError('--split-group applies to TARGETs, not to --all');
          const { devices, groups } = hostState(ctx);
          const chosen = options.all ? ('all' as const) : resolveTargets(args.map(parseTarget), devices, groups).map((d) => d.address);
          const plan = planRestore(ctx.host, devices, chosen, { splitGroup: options.splitGroup });
          const found = planRecovery(ctx.host, devices);
          // Without a damaged journal, the tree alone cannot tell a lost record from a device
          // another tool bound on purpose (driverctl): then recovery waits for --unrecorded.
          const include = options.all && (options.unrecorded || found.damagedLines.length > 0);
          const recovery: RecoveryPlan = include ? found : { devices: [], damagedLines: found.damagedLines };
          if (found.damagedLines.length) ctx.note(`passthru: journal line(s) ${found.damagedLines.join(', ')} of ${JOURNAL_PATH} cannot be read (a record torn by a crash or a full disk); every readable record is used${options.dryRun ? '' : ', and the unreadable lines are moved aside into a dated file next to it'}.`);
          if (!include && found.devices.length) {
            ctx.note(`passthru: ${found.devices.map((d) => d.address).join(', ')} ${found.devices.length === 1 ? 'is' : 'are'} on vfio-pci by driver_override with no readable journal record (bound by another tool, or by a run whose record was lost): not restored. \`passthru restore --all --unrecorded\` gives ${found.devices.length === 1 ? 'it' : 'them'} to the driver the kernel's id tables pick.`);
          }
          if (options.dryRun) {
            if (ctx.format === 'json') printJson(ctx.out, { dryRun: true, plan, ...(include ? { recovery } : {}) });
            else ctx.out.stdout.write(plan.devices.length === 0 && recovery.devices.length ? formatRecoveryPlan(recovery) : formatRestorePlan(plan) + formatRecoveryPlan(recovery));
            return EXIT.ok;
          }
          if (plan.devices.length || recovery.devices.length) requireConsent(ctx, options.yes, 'restore');
          if (found.damagedLines.length) setAside(ctx);
          const result = applyRestore(ctx.host, plan, progressOptions(ctx));
          const recovered = applyRecovery(ctx.host, recovery, progressOptions(ctx));
          if (ctx.format === 'json') printJson(ctx.out, { result, ...(include ? { recovery: recovered } : {}) });
          else if (result.status === 'noop' && recovered.status === 'noop') ctx.out.stdout.write(formatRestorePlan(plan));
          else ctx.out.stdout.write(outcomeTable(ctx, [...result.devices, ...recovered.devices]) + leftLines(plan).map((l) => `${l}\n`).join(''));
          return result.status === 'partial' || recovered.status === 'partial' ? EXIT.partial : EXIT.ok;
        }),
      );
  },
};

/** Moves the journal's unreadable lines aside under the host lock, and says where. */
function setAside(ctx: CliContext): void {
  const release = acquireHostLock(ctx.host, progressOptions(ctx).lock);
  try {
    const moved = new Journal(ctx.host).setAsideDamaged();
    if (moved) ctx.note(`passthru: moved unreadable journal line(s) ${moved.lines.join(', ')} verbatim into ${moved.path}; every readable record stays in ${JOURNAL_PATH}.`);
  } finally {
    release();
  }
}

function repairJournal(ctx: CliContext, options: RestoreOptions): number {
  const { damaged } = new Journal(ctx.host).inspect();
  if (damaged.length === 0) {
    ctx.out.stdout.write(`The journal ${JOURNAL_PATH} is whole: nothing to repair.\n`);
    return EXIT.ok;
  }
  if (options.dryRun) {
    ctx.out.stdout.write(damaged.map((d) => `  line ${d.line}: ${d.reason}\n`).join('') + `Would move ${damaged.length} unreadable line(s) into a dated file next to the journal; every readable record stays.\n`);
    return EXIT.ok;
  }
  setAside(ctx);
  return EXIT.ok;
}
