import { Option } from 'commander';
import { applyRestore, formatRestorePlan, parseTarget, planRestore, resolveTargets } from '@passthru/vfio-binder';
import type { CommandSpec } from '../command';
import { hostState, outcomeTable, progressOptions, requireConsent } from '../binder';
import { CliError, EXIT } from '../CliError';
import { printJson } from '../output';

interface RestoreOptions {
  all?: boolean;
  dryRun?: boolean;
  yes?: boolean;
}

export const restoreCommand: CommandSpec = {
  register(program, run) {
    program
      .command('restore')
      .description("Give devices back to their original drivers, from passthru's journal")
      .argument('[target...]', 'PCI address, vendor:device, group:N or interface name')
      .option('--all', 'every device the journal lists as bound by passthru')
      .option('--dry-run', 'print what would be restored; write nothing')
      .option('--yes', 'proceed on this machine without asking')
      .addOption(new Option('--format <format>', 'table or json').choices(['table', 'json']))
      .addHelpText('after', '\nExamples:\n  passthru restore --all --dry-run\n  passthru restore 01:00.0 --yes')
      .action(
        run<RestoreOptions>((ctx, options, args) => {
          if (!options.all && args.length === 0) throw new CliError('restore needs a TARGET or --all');
          if (options.all && args.length > 0) throw new CliError('restore takes TARGETs or --all, not both');
          const { devices, groups } = hostState(ctx);
          const chosen = options.all ? ('all' as const) : resolveTargets(args.map(parseTarget), devices, groups).map((d) => d.address);
          const plan = planRestore(ctx.host, devices, chosen);
          if (options.dryRun) {
            if (ctx.format === 'json') printJson(ctx.out, { dryRun: true, plan });
            else ctx.out.stdout.write(formatRestorePlan(plan));
            return EXIT.ok;
          }
          if (plan.devices.length) requireConsent(ctx, options.yes, 'restore');
          const result = applyRestore(ctx.host, plan, progressOptions(ctx));
          if (ctx.format === 'json') printJson(ctx.out, { result });
          else {
            ctx.out.stdout.write(result.status === 'noop' ? formatRestorePlan(plan) : outcomeTable(ctx, result.devices));
          }
          return result.status === 'partial' ? EXIT.partial : EXIT.ok;
        }),
      );
  },
};
