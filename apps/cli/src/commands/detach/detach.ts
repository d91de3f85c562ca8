import { Option } from 'commander';
import { applyDetach, planDetach, SERVERS } from '@passthru/lxd-device-attach';
import type { CommandSpec } from '../../command';
import { EXIT } from '../../CliError';
import { printJson } from '../../render/output';
import { lxdClientFor } from '../../lxd';

interface DetachOptions {
  project?: string;
  dryRun?: boolean;
}

export const detachCommand: CommandSpec = {
  register(program, run) {
    program
      .command('detach')
      .description('Remove a device from an LXD or Incus instance (with ETag), and verify it is gone')
      .argument('<instance>', 'LXD or Incus instance')
      .argument('<dev>', 'device name in the instance')
      .option('--project <project>', 'project')
      .option('--dry-run', 'check and print the change; write nothing')
      .addOption(new Option('--format <format>', 'table or json').choices(['table', 'json']))
      .addHelpText('after', '\nExamples:\n  passthru detach c1 gpu-0000-01-00-0\n  passthru detach vm1 pci-0000-01-00-0 --project lab --dry-run')
      .action(
        run<DetachOptions>(async (ctx, options, args) => {
          const [instance, device] = args as [string, string];
          const { client } = lxdClientFor(ctx);
          const plan = await planDetach(client, { instance, device, ...(options.project ? { project: options.project } : {}) });
          const text = `detach ${plan.deviceName} (${Object.entries(plan.device)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}) from ${plan.instance} (project ${plan.project}, ${plan.instanceStatus}; ${SERVERS[plan.server].product} via ${client.via})\n`;
          if (options.dryRun) {
            if (ctx.format === 'json') printJson(ctx.out, { dryRun: true, plan });
            else ctx.out.stdout.write(text);
            return EXIT.ok;
          }
          const result = await applyDetach(client, plan);
          if (ctx.format === 'json') printJson(ctx.out, { dryRun: false, plan, verified: result.verified });
          else ctx.out.stdout.write(`${text}${result.verified.map((v) => `ok: ${v}`).join('\n')}\n`);
          return EXIT.ok;
        }),
      );
  },
};
