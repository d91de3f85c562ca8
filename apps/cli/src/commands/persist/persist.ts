import { Option } from 'commander';
import { execa } from 'execa';
import type { Target } from '@passthru/pci-discovery';
import { parseTarget, persistDevices, type CommandRunner, type PersistPlan } from '@passthru/vfio-binder';
import type { CommandSpec } from '../../command';
import { printPersistOutcome, printPersistPlan } from '../../render/binderOutcomes';
import { hostState } from '../../host';
import type { CliContext } from '../../context';

interface PersistOptions {
  dryRun?: boolean;
  yes?: boolean;
  force?: boolean;
  bootloader?: 'grub' | 'systemd-boot' | 'kernelstub';
}

/** Runs a rebuild command of ours (fixed words, no shell) and keeps its output. */
export const runCommand: CommandRunner = async (command) => {
  const [file, ...args] = command.split(' ');
  const result = await execa(file!, args, { reject: false, all: true });
  return { exitCode: result.exitCode ?? 1, output: result.all ?? '' };
};

/** What persist needs besides its targets, from the command line (also for `bind --persist`). Rebuild commands run only on the live host with --yes. */
export function persistOptions(ctx: CliContext, options: PersistOptions) {
  const runner = ctx.host.isLive && options.yes ? runCommand : undefined;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return { bootloader: options.bootloader, stamp, runner, onPlanned: (plan: PersistPlan) => printPersistPlan(ctx, { plan }, options.dryRun) };
}

async function runPersist(ctx: CliContext, targets: Target[], options: PersistOptions): Promise<number> {
  const request = persistOptions(ctx, options);
  const outcome = await persistDevices(ctx.host, await hostState(ctx), { ...request, targets, dryRun: options.dryRun, force: options.force });
  return printPersistOutcome(ctx, outcome, request.runner !== undefined);
}

export const persistCommand: CommandSpec = {
  register(program, run) {
    program
      .command('persist')
      .description('Make vfio-pci binding survive reboots: modprobe.d, initramfs, kernel command line (diff and backup of every file)')
      .argument('<target...>', 'PCI address, vendor:device, group:N or interface name')
      .option('--dry-run', 'print the diffs; write nothing')
      .option('--yes', 'also run the initramfs and boot-loader rebuild commands')
      .option('--force', 'let the boot configuration claim devices a bind guard protects (each printed as a warning)')
      .addOption(new Option('--bootloader <loader>', 'boot loader to edit (default: detected)').choices(['grub', 'systemd-boot', 'kernelstub']))
      .addOption(new Option('--format <format>', 'table or json').choices(['table', 'json']))
      .addHelpText('after', '\nExamples:\n  passthru persist 01:00.0 --dry-run\n  passthru persist 10de:2684 --yes')
      .action(run<PersistOptions>((ctx, options, args) => runPersist(ctx, args.map(parseTarget), options)));
  },
};
