import { Option } from 'commander';
import { execa } from 'execa';
import { parseCpuInfo, planCmdlineRemediation } from '@passthru/iommu-check';
import { applyPersist, formatPersistPlan, parseTarget, planBind, planPersist, resolveTargets, type CommandRunner } from '@passthru/vfio-binder';
import type { CommandSpec } from '../command';
import { hostState } from '../binder';
import { EXIT } from '../CliError';
import type { CliContext } from '../context';
import { printJson } from '../output';

interface PersistOptions {
  dryRun?: boolean;
  yes?: boolean;
  force?: boolean;
  bootloader?: 'grub' | 'systemd-boot' | 'kernelstub';
}

/** Runs a rebuild command of ours (fixed words, no shell) and keeps its output. */
const runCommand: CommandRunner = async (command) => {
  const [file, ...args] = command.split(' ');
  const result = await execa(file!, args, { reject: false, all: true });
  return { exitCode: result.exitCode ?? 1, output: result.all ?? '' };
};

/** `persist`, also reached through `bind --persist`. Rebuild commands run only on the live host with --yes. */
export async function runPersist(ctx: CliContext, targets: string[], options: PersistOptions): Promise<number> {
    const { devices, groups } = hostState(ctx);
    // The whole group persists, as bind binds it: the plan's devices.
    const planned = new Set(planBind(resolveTargets(targets.map(parseTarget), devices, groups), devices, groups).devices.map((d) => d.address));
    const chosen = devices.filter((d) => planned.has(d.address));
    const cpu = parseCpuInfo(ctx.host.readTextIfExists('/proc/cpuinfo') ?? '');
    const cmdline = planCmdlineRemediation(ctx.host, cpu.vendor, { loader: options.bootloader });
    const plan = planPersist(ctx.host, chosen, devices, cmdline, new Date().toISOString().replace(/[:.]/g, '-'), { force: options.force });
    if (ctx.format === 'json' && options.dryRun) {
      printJson(ctx.out, { dryRun: true, plan });
      return EXIT.ok;
    }
    ctx.out.stdout.write(formatPersistPlan(plan));
    if (options.dryRun || plan.changes.length === 0) return EXIT.ok;
    const runner = ctx.host.isLive && options.yes ? runCommand : undefined;
    const result = await applyPersist(ctx.host, plan, runner);
    ctx.out.stdout.write(`Wrote ${result.written.length} file(s)${result.written.length ? `: ${result.written.join(', ')}` : ''}.\n`);
    if (!runner && plan.followUp.length) {
      ctx.note(ctx.host.isLive ? 'Not run without --yes: the commands above.' : `Not run: --root ${ctx.host.root} is not this machine.`);
    }
    const failed = result.ran.filter((r) => r.exitCode !== 0);
    for (const r of failed) ctx.note(`passthru: \`${r.command}\` exited ${r.exitCode}:\n${r.output}`);
    return failed.length ? EXIT.failed : EXIT.ok;
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
      .action(run<PersistOptions>((ctx, options, args) => runPersist(ctx, args, options)));
  },
};
