import { Option } from 'commander';
import { bindAndPersist, bindDevices, parseTarget, type BindOutcome } from '@passthru/vfio-binder';
import type { CommandSpec } from '../../command';
import { printBindOutcome, printBindPlanned, printPersistOutcome, progressOptions } from '../../render/binderOutcomes';
import { hostState } from '../../host';
import { consent } from '../../context';
import { EXIT } from '../../CliError';
import { persistOptions } from '../persist/persist';

interface BindOptions {
  dryRun?: boolean;
  yes?: boolean;
  force?: boolean;
  persist?: boolean;
  adopt?: boolean;
}

export const bindCommand: CommandSpec = {
  register(program, run) {
    program
      .command('bind')
      .description('Bind whole IOMMU groups to vfio-pci: plan, guards, journal, verify, roll back on failure')
      .argument('<target...>', 'PCI address (0000:01:00.0 or 01:00.0), vendor:device, group:N, or interface name')
      .option('--dry-run', 'print the plan (every sysfs write) and the guards; write nothing')
      .option('--yes', 'proceed on this machine without asking')
      .option('--force', 'override the guards (each one is printed as the reason)')
      .option('--persist', 'also make the binding survive reboots (see passthru persist)')
      .option(
        '--adopt',
        "take over devices another manager holds (libvirt managed='yes', driverctl, a foreign driver_override, vfio-pci bound by something else); the journal records them as adopted with their original state, which restore puts back",
      )
      .addOption(new Option('--format <format>', 'table or json').choices(['table', 'json']))
      .addHelpText(
        'after',
        '\nExamples:\n  passthru bind 01:00.0 --dry-run\n  passthru bind 10de:2684 --yes --persist\n  passthru --root fixtures/hosts/intel-workstation bind group:12\n\nExit codes: 0 bound (or already bound), 1 refused by a guard or failed and rolled back,\n2 bad input (nothing written), 3 not fully rolled back (see passthru restore).\nA device another manager holds is refused (exit 1, nothing written) unless --adopt.',
      )
      .action(
        run<BindOptions>(async (ctx, options, args) => {
          const targets = args.map(parseTarget);
          const request = { targets, dryRun: options.dryRun, force: options.force, adopt: options.adopt, consent: consent(ctx, options.yes) };
          const onPlanned = (o: BindOutcome) => printBindPlanned(ctx, o, options);
          const state = await hostState(ctx);
          if (!options.persist) return printBindOutcome(ctx, bindDevices(ctx.host, state, { ...request, onPlanned }, progressOptions(ctx)));
          const persist = persistOptions(ctx, { yes: options.yes });
          const outcome = await bindAndPersist(ctx.host, state, { ...request, onPlanned, persist }, progressOptions(ctx));
          const code = printBindOutcome(ctx, outcome.bind);
          return code !== EXIT.ok || !outcome.persist ? code : printPersistOutcome(ctx, outcome.persist, persist.runner !== undefined);
        }),
      );
  },
};
