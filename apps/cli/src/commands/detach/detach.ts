import { Option } from 'commander';
import { applyDetach, planDetach, SERVERS } from '@passthru/lxd-device-attach';
import type { CommandSpec } from '../../command';
import { CliError, EXIT } from '../../CliError';
import { printJson } from '../../render/output';
import { lxdClientFor } from '../../lxd';

interface DetachOptions {
  project?: string;
  dryRun?: boolean;
  lxc?: boolean;
  lxcpath?: string;
}

export const detachCommand: CommandSpec = {
  register(program, run) {
    program
      .command('detach')
      .description('Remove a device from an LXD or Incus instance (with ETag), and verify it is gone')
      .argument('<instance>', 'LXD or Incus instance (with --lxc: the plain LXC container)')
      .argument('<dev>', 'device name in the instance; with --lxc: the TARGET attached (its PCI address, usb:VVVV:PPPP or /dev path) or a node of it')
      .option('--project <project>', 'project')
      .option('--dry-run', 'check and print the change; write nothing')
      .option(
        '--lxc',
        "INSTANCE is a plain LXC container: remove passthru's block for DEV from its config (diff, backup; hot-unplugged from a running privileged one)",
      )
      .option('--lxcpath <dir>', 'with --lxc: the containers folder (default: lxc.lxcpath of /etc/lxc/lxc.conf, else /var/lib/lxc)')
      .addOption(new Option('--format <format>', 'table or json').choices(['table', 'json']))
      .addHelpText(
        'after',
        '\nExamples:\n  passthru detach c1 gpu-0000-01-00-0\n  passthru detach vm1 pci-0000-01-00-0 --project lab --dry-run\n  passthru detach --lxc mylxc 01:00.0',
      )
      .action(
        run<DetachOptions>(async (ctx, options, args) => {
          const [instance, device] = args as [string, string];
          if (options.lxc || options.lxcpath !== undefined) {
            if (!options.lxc) throw new CliError('--lxcpath goes with --lxc');
            const { lxcEdit, refuseWithLxc } = await import('../attach/lxc');
            refuseWithLxc({ '--project': options.project });
            return lxcEdit(ctx, 'detach', { container: instance, target: device, lxcpath: options.lxcpath, dryRun: options.dryRun });
          }
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
