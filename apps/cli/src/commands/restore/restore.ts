import { Option } from 'commander';
import { parseTarget, repairJournal, restoreDevices } from '@passthru/vfio-binder';
import type { CommandSpec } from '../../command';
import { printRepair, printRestoreOutcome, progressOptions } from '../../render/binderOutcomes';
import { hostState } from '../../host';
import { consent } from '../../context';
import { CliError } from '../../CliError';
import { checkRestoreArgs, type RestoreOptions } from './args';

export const restoreCommand: CommandSpec = {
  register(program, run) {
    program
      .command('restore')
      .description("Give devices back to their original drivers, from passthru's journal")
      .argument('[target...]', 'PCI address, vendor:device, group:N or interface name')
      .option('--all', 'every device the journal lists as bound by passthru (devices another manager holds are left alone)')
      .option(
        '--split-group',
        'restore only the named devices and leave the rest of their IOMMU group on vfio-pci (the output names the devices left there); without it a TARGET restores its whole group, and a restore that would leave part of a group on vfio-pci is refused (exit 2)',
      )
      .option(
        '--unrecorded',
        "with --all: also devices on vfio-pci by driver_override that the journal has no readable record of (given to the driver the kernel's id tables pick)",
      )
      .option(
        '--repair-journal',
        'only move unreadable journal lines aside into a dated file next to the journal (every readable record is kept; nothing is restored)',
      )
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
        run<RestoreOptions>(async (ctx, options, args) => {
          if (options.repairJournal) {
            if (options.all || args.length > 0 || options.unrecorded) throw new CliError('restore --repair-journal takes no TARGET, --all or --unrecorded');
            return printRepair(ctx, repairJournal(ctx.host, { dryRun: options.dryRun }, progressOptions(ctx).lock));
          }
          checkRestoreArgs(options, args);
          const targets = options.all ? ('all' as const) : args.map(parseTarget);
          const request = {
            targets,
            splitGroup: options.splitGroup,
            unrecorded: options.unrecorded,
            dryRun: options.dryRun,
            consent: consent(ctx, options.yes),
          };
          const outcome = restoreDevices(
            ctx.host,
            await hostState(ctx),
            {
              ...request,
              onPlanned: (o) =>
                o.notes.forEach((n) => {
                  ctx.note(`passthru: ${n}`);
                }),
            },
            progressOptions(ctx),
          );
          return printRestoreOutcome(ctx, outcome);
        }),
      );
  },
};
