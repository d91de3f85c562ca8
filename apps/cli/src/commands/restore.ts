import { Option } from 'commander';
import { applyRestore, formatRestorePlan, leftLines, parseTarget, planRestore, resolveTargets } from '@passthru/vfio-binder';
import type { CommandSpec } from '../command';
import { cliErrorOf, hostState, outcomeTable, progressOptions, requireConsent } from '../binder';
import { CliError, EXIT } from '../CliError';
import { printJson } from '../output';

interface RestoreOptions {
  all?: boolean;
  dryRun?: boolean;
  yes?: boolean;
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
      .option('--dry-run', 'print what would be restored; write nothing')
      .option('--yes', 'proceed on this machine without asking')
      .addOption(new Option('--format <format>', 'table or json').choices(['table', 'json']))
      .addHelpText('after', '\nA TARGET stands for its whole IOMMU group: every device the journal lists as bound with it\ngoes back, in reverse order, verified (the mirror of bind).\n\nExamples:\n  passthru restore --all --dry-run\n  passthru restore 01:00.0 --yes\n  passthru restore 01:00.1 --split-group --dry-run\n\nExit codes: 0 restored (or nothing to do), 1 refused, 2 bad input or a restore that would split\na group without --split-group (nothing written), 3 not fully restored (the journal says what is left).')
      .action(
        run<RestoreOptions>((ctx, options, args) => {
          try {
            if (!options.all && args.length === 0) throw new CliError('restore needs a TARGET or --all');
            if (options.all && args.length > 0) throw new CliError('restore takes TARGETs or --all, not both');
            if (options.all && options.splitGroup) throw new CliError('--split-group applies to TARGETs, not to --all');
            const { devices, groups } = hostState(ctx);
            const chosen = options.all ? ('all' as const) : resolveTargets(args.map(parseTarget), devices, groups).map((d) => d.address);
            const plan = planRestore(ctx.host, devices, chosen, { splitGroup: options.splitGroup });
            if (options.dryRun) {
              if (ctx.format === 'json') printJson(ctx.out, { dryRun: true, plan });
              else ctx.out.stdout.write(formatRestorePlan(plan));
              return EXIT.ok;
            }
            if (plan.devices.length) requireConsent(ctx, options.yes, 'restore');
            const result = applyRestore(ctx.host, plan, progressOptions(ctx));
            if (ctx.format === 'json') printJson(ctx.out, { result });
            else {
              ctx.out.stdout.write(result.status === 'noop' ? formatRestorePlan(plan) : outcomeTable(ctx, result.devices) + leftLines(plan).map((l) => `${l}\n`).join(''));
            }
            return result.status === 'partial' ? EXIT.partial : EXIT.ok;
          } catch (error) {
            throw cliErrorOf(error);
          }
        }),
      );
  },
};
