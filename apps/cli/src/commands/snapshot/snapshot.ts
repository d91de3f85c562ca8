import { capture } from '@passthru/sysfs-sim';
import type { CommandSpec } from '../../command';
import { EXIT } from '../../CliError';
import { printJson } from '../../render/output';

export const snapshotCommand: CommandSpec = {
  register(program, run) {
    program
      .command('snapshot')
      .description('Capture this host (or --root) as a fixture tree: PCI devices, drivers, IOMMU groups, boot and module config; no serials, no VPD')
      .argument('<outdir>', 'an absent or empty folder')
      .addHelpText(
        'after',
        '\nExamples:\n  sudo passthru snapshot ./my-host && passthru --root ./my-host doctor\n  passthru --root ./my-host bind 01:00.0 --dry-run',
      )
      .action(
        run((ctx, _options, [outDir]) => {
          const result = capture(ctx.host.root, outDir!);
          if (ctx.format === 'json') printJson(ctx.out, { outDir, ...result });
          else {
            ctx.out.stdout.write(`Captured ${result.devices} PCI functions (${result.files} files) into ${outDir}.\n`);
            if (result.skipped.length)
              ctx.out.stdout.write(`Not readable, left out: ${result.skipped.length}\n${result.skipped.map((s) => `  ${s}`).join('\n')}\n`);
          }
          return EXIT.ok;
        }),
      );
  },
};
