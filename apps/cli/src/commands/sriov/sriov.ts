import { Option } from 'commander';
import { parseTarget, sriovDevices } from '@passthru/vfio-binder';
import type { CommandSpec } from '../../command';
import { noteNotRun } from '../../render/binderOutcomes';
import { hostState } from '../../host';
import { EXIT } from '../../CliError';
import { paint } from '../../render/output';
import { count, persistText, printOutcome } from './render';
import { runCommand } from '../persist/persist';

interface SriovOptions {
  numvfs: number;
  autoprobe?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  force?: boolean;
  persist?: boolean;
}

export const sriovCommand: CommandSpec = {
  register(program, run) {
    program
      .command('sriov')
      .description('Create, resize (through 0) or remove the SR-IOV VFs of a PF via sriov_numvfs: plan, guards, journal, verify, roll back on failure')
      .argument('<pf>', 'the physical function: PCI address, vendor:device naming one PF, or its interface name')
      .requiredOption('--numvfs <n>', 'number of VFs to have (0 removes them all)', count)
      .option('--no-autoprobe', 'write 0 to sriov_drivers_autoprobe first: new VFs stay unbound, free for vfio-pci')
      .option('--dry-run', 'print the plan (every sysfs write) and the guards; write nothing')
      .option('--yes', 'proceed on this machine without asking')
      .option('--force', 'remove VFs that are in use (each guard is printed as the reason)')
      .option('--persist', 'also write a systemd unit that makes these VFs at boot (diff and backup; enabled with --yes on this machine)')
      .addOption(new Option('--format <format>', 'table or json').choices(['table', 'json']))
      .addHelpText(
        'after',
        '\nExamples:\n  passthru sriov ens1f0 --numvfs 8 --dry-run\n  passthru sriov 0000:18:00.0 --numvfs 4 --no-autoprobe --yes --persist\n\nExit codes: 0 done (or nothing to do), 1 refused by a guard or failed and rolled back,\n2 bad input such as more than sriov_totalvfs (nothing written), 3 not fully rolled back.',
      )
      .action(
        run<SriovOptions>(async (ctx, options, args) => {
          const outcome = sriovDevices(ctx.host, await hostState(ctx), {
            target: parseTarget(args[0]!),
            numVfs: options.numvfs,
            autoprobe: options.autoprobe === false ? false : undefined,
            dryRun: options.dryRun,
            force: options.force,
            consent: () => !ctx.host.isLive || Boolean(options.yes),
            ...(options.persist ? { persist: { stamp: new Date().toISOString().replace(/[:.]/g, '-') } } : {}),
            onPlanned: (o) => {
              const said = options.force ? paint(ctx.out, 'yellow', 'overridden (--force)') : paint(ctx.out, 'red', 'refused');
              for (const g of o.guards) ctx.note(`${said}: ${g.address} [${g.id}] ${g.summary}`);
              if (o.unit && ctx.format !== 'json') ctx.out.stdout.write(persistText(o.unit));
            },
          });
          const code = printOutcome(ctx, outcome, options.force);
          if (code !== EXIT.ok || !outcome.unit?.followUp.length || outcome.status !== 'applied') return code;
          if (!ctx.host.isLive || !options.yes) {
            noteNotRun(ctx);
            return code;
          }
          let failed = false;
          for (const command of outcome.unit.followUp) {
            const r = await runCommand(command);
            if (r.exitCode !== 0) ctx.note(`passthru: \`${command}\` exited ${r.exitCode}:\n${r.output}`);
            failed ||= r.exitCode !== 0;
          }
          return failed ? EXIT.failed : code;
        }),
      );
  },
};
