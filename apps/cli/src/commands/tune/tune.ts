import { Option } from 'commander';
import { execa } from 'execa';
import { tuneServerSysctl, type TuneOutcome } from '@passthru/lxd-device-attach';
import type { CommandSpec } from '../../command';
import { printJson } from '../../render/output';
import { EXIT } from '../../CliError';

interface TuneOptions {
  dryRun?: boolean;
  yes?: boolean;
}

/** `sysctl -p FILE` (fixed words, no shell), keeping its output. */
const runCommand = async (command: string) => {
  const [file, ...args] = command.split(' ');
  const result = await execa(file!, args, { reject: false, all: true });
  return { exitCode: result.exitCode ?? 1, output: result.all ?? '' };
};

function renderTune(outcome: TuneOutcome, dryRun: boolean): string {
  const { plan, written, ran } = outcome;
  if (plan.diff === '') return `${plan.path} is up to date: nothing to write.\n`;
  const lines = [
    `# ${plan.path}: LXD's production kernel limits (${plan.settings.length} settings)${plan.backup ? ` (backup: ${plan.backup})` : ' (new file)'}`,
    plan.diff.trimEnd(),
  ];
  if (dryRun) lines.push('(dry run: nothing written)');
  else
    lines.push(
      `wrote ${written.join(', ')}`,
      ...ran.map((r) => `ran ${r.command}: exit ${r.exitCode}${r.output ? `\n${r.output}` : ''}`),
      ...(ran.length === 0 ? ['load it now with: sysctl --system (or reboot)'] : []),
    );
  return `${lines.join('\n')}\n`;
}

export const tuneCommand: CommandSpec = {
  register(program, run) {
    program
      .command('tune')
      .description("Write LXD's production kernel limits (server settings) to one /etc/sysctl.d file (diff and backup; a second run writes nothing)")
      .option('--dry-run', 'print the diff; write nothing')
      .option('--yes', 'also load the file into the running kernel (sysctl -p; live host only)')
      .addOption(new Option('--format <format>', 'table or json').choices(['table', 'json']))
      .addHelpText('after', '\nExamples:\n  passthru tune --dry-run\n  passthru tune --yes')
      .action(
        run<TuneOptions>(async (ctx, options) => {
          const stamp = new Date().toISOString().replace(/[:.]/g, '-');
          const runner = ctx.host.isLive && options.yes ? runCommand : undefined;
          const outcome = await tuneServerSysctl(ctx.host, { dryRun: options.dryRun, stamp, runner });
          if (ctx.format === 'json') printJson(ctx.out, { dryRun: Boolean(options.dryRun), plan: outcome.plan, written: outcome.written });
          else ctx.out.stdout.write(renderTune(outcome, Boolean(options.dryRun)));
          return outcome.ran.some((r) => r.exitCode !== 0) ? EXIT.failed : EXIT.ok;
        }),
      );
  },
};
