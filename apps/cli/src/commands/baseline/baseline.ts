import * as path from 'node:path';
import { Option } from 'commander';
import { diffBaselines, readBaselineFile, takeBaseline, writeBaselineFile } from '@passthru/baseline';
import type { CommandSpec } from '../../command';
import { EXIT } from '../../CliError';
import type { CliContext } from '../../context';
import { scanHost } from '../../host';
import { paint, printJson } from '../../render/output';

/** The file a baseline is saved to or read from: on the machine running passthru, not under --root. */
const fileArg = (file: string) => path.resolve(file);
const current = async (ctx: CliContext) => takeBaseline(ctx.host, await scanHost(ctx));

export const baselineCommand: CommandSpec = {
  register(program, run) {
    const baseline = program
      .command('baseline')
      .description('Record everything passthrough depends on, and diff it after a kernel or firmware upgrade (exit 1 on a change that breaks passthrough)')
      .addHelpText(
        'after',
        "\nExamples:\n  passthru baseline save /var/lib/passthru/baseline.json\n  passthru baseline diff /var/lib/passthru/baseline.json\n\nExit codes (diff): 0 unchanged or harmless changes, 1 a change breaks a binding or a VM's device, 2 bad input.",
      );
    baseline
      .command('save')
      .description('Write the baseline of this host (devices with identities, groups, drivers, reset methods, kernel, firmware) to FILE')
      .argument('<file>', 'where to write the baseline (JSON)')
      .addOption(new Option('--format <format>', 'table or json').choices(['table', 'json']))
      .action(
        run(async (ctx, _options, args) => {
          const record = await current(ctx);
          writeBaselineFile(fileArg(args[0]!), record);
          if (ctx.format === 'json') printJson(ctx.out, { file: fileArg(args[0]!), devices: record.devices.length, groups: record.groups.length });
          else ctx.out.stdout.write(`Saved the baseline of ${record.devices.length} devices in ${record.groups.length} IOMMU groups to ${args[0]}.\n`);
          return EXIT.ok;
        }),
      );
    baseline
      .command('diff')
      .description('Compare this host with the baseline in FILE: every change named, exit 1 when one breaks passthrough')
      .argument('<file>', 'a baseline written by baseline save')
      .addOption(new Option('--format <format>', 'table or json').choices(['table', 'json']))
      .action(
        run(async (ctx, _options, args) => {
          const saved = readBaselineFile(fileArg(args[0]!));
          const diff = diffBaselines(saved, await current(ctx));
          if (ctx.format === 'json') printJson(ctx.out, diff);
          else {
            for (const c of diff.changes)
              ctx.out.stdout.write(
                `${c.breaking ? paint(ctx.out, 'red', 'BREAKS  ') : paint(ctx.out, 'gray', 'harmless')} ${c.kind.padEnd(21)} ${c.summary}\n`,
              );
            const breaking = diff.changes.filter((c) => c.breaking).length;
            ctx.out.stdout.write(
              diff.changes.length === 0
                ? 'No change since the baseline.\n'
                : `${diff.changes.length} change(s) since the baseline, ${breaking} breaking passthrough.\n`,
            );
          }
          return diff.breaking ? EXIT.failed : EXIT.ok;
        }),
      );
  },
};
