import { readFileSync } from 'node:fs';
import { Option } from 'commander';
import { ATTACH_TYPES, LxdClient, applyAttach, lxcConfigLines, planAttach, resolveTarget, type AttachPlan, type AttachType } from '@passthru/lxd-device-attach';
import type { CommandSpec } from '../command';
import { CliError, EXIT } from '../CliError';
import type { CliContext } from '../context';
import { printJson } from '../output';

/**
 * The LXD client of the CLI: HTTPS when PASSTHRU_LXD_URL is set (PASSTHRU_LXD_CERT and
 * PASSTHRU_LXD_KEY: client cert and key files; PASSTHRU_LXD_SERVER_CERT: the server cert to
 * pin), else the local unix socket ($LXD_DIR, then the snap's, then Debian's).
 */
export function lxdClientFor(ctx: CliContext): { client: LxdClient; remote: boolean } {
  const env = ctx.env;
  if (env.PASSTHRU_LXD_URL) {
    const file = (name: string, required: boolean) => {
      const p = env[name];
      if (!p) {
        if (required) throw new CliError(`PASSTHRU_LXD_URL is set: ${name} must name a PEM file`, EXIT.usage);
        return undefined;
      }
      try {
        return readFileSync(p, 'utf8');
      } catch (error) {
        throw new CliError(`${name}=${p}: ${(error as Error).message}`, EXIT.usage, { cause: error });
      }
    };
    const serverCert = file('PASSTHRU_LXD_SERVER_CERT', false);
    const client = new LxdClient({ kind: 'https', url: env.PASSTHRU_LXD_URL, cert: file('PASSTHRU_LXD_CERT', true)!, key: file('PASSTHRU_LXD_KEY', true)!, ...(serverCert ? { serverCert } : {}) });
    return { client, remote: true };
  }
  const client = LxdClient.local(env);
  ctx.verbose(`LXD via ${client.via}`);
  return { client, remote: false };
}

export function formatAttachPlan(plan: AttachPlan, via: string): string {
  const config = Object.entries(plan.device).map(([k, v]) => `${k}=${v}`).join(' ');
  return [
    `attach ${plan.deviceName} to ${plan.instanceType} ${plan.instance} (project ${plan.project}, ${plan.instanceStatus})`,
    `  device: ${config}`,
    ...plan.notes.map((n) => `  ${n}`),
    `  write: GET instance -> PUT /1.0/instances/${plan.instance} with If-Match (ETag) via ${via} -> re-read and verify`,
    '',
  ].join('\n');
}

interface AttachOptions {
  type: AttachType;
  name?: string;
  project?: string;
  dryRun?: boolean;
  lxcConfig?: boolean;
}

export const attachCommand: CommandSpec = {
  register(program, run) {
    program
      .command('attach')
      .description('Give a host device to an LXD instance (gpu, pci, nic or usb device), checked, with ETag and verify')
      .argument('<instance>', 'LXD instance (or, with --lxc-config, the plain LXC container)')
      .argument('<target>', 'PCI address (0000:01:00.0 or 01:00.0), vendor:device, a network interface, or USB vendor:product with --type usb')
      .addOption(new Option('--type <type>', 'LXD device type; auto chooses from the device and the instance type').choices([...ATTACH_TYPES]).default('auto'))
      .option('--name <dev>', 'device name in the instance (default: gpu-0000-01-00-0, nic-<iface>, ...)')
      .option('--project <project>', 'LXD project')
      .option('--dry-run', 'check everything and print the change; write nothing')
      .option('--lxc-config', 'print lxc.cgroup2.devices.allow / lxc.mount.entry lines for plain LXC (no LXD contact)')
      .addOption(new Option('--format <format>', 'table or json').choices(['table', 'json']))
      .addHelpText('after', '\nExamples:\n  passthru attach c1 01:00.0 --dry-run\n  passthru attach vm1 0000:01:00.0 --type pci\n  passthru attach c1 enp5s0f0v1\n  passthru attach c1 046d:c52b --type usb\n  passthru attach mylxc 01:00.0 --lxc-config >> /var/lib/lxc/mylxc/config\n\nRemote LXD: PASSTHRU_LXD_URL=https://host:8443 PASSTHRU_LXD_CERT=client.crt PASSTHRU_LXD_KEY=client.key [PASSTHRU_LXD_SERVER_CERT=server.crt]')
      .action(
        run<AttachOptions>(async (ctx, options, args) => {
          const [instance, target] = args as [string, string];
          if (options.lxcConfig) {
            if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(instance)) throw new CliError(`not a valid container name: ${JSON.stringify(instance)}`);
            const config = lxcConfigLines(ctx.host, resolveTarget(ctx.host, target, options.type), instance);
            if (ctx.format === 'json') printJson(ctx.out, { container: instance, target, ...config });
            else ctx.out.stdout.write(`${config.lines.join('\n')}\n`);
            return EXIT.ok;
          }
          const { client, remote } = lxdClientFor(ctx);
          const plan = await planAttach(client, ctx.host, { instance, target, type: options.type, ...(options.name ? { name: options.name } : {}), ...(options.project ? { project: options.project } : {}), hostCheck: !remote });
          if (options.dryRun) {
            if (ctx.format === 'json') printJson(ctx.out, { dryRun: true, plan });
            else ctx.out.stdout.write(formatAttachPlan(plan, client.via));
            return EXIT.ok;
          }
          const result = await applyAttach(client, remote ? undefined : ctx.host, plan);
          if (ctx.format === 'json') printJson(ctx.out, { dryRun: false, plan, applied: result.applied, verified: result.verified });
          else ctx.out.stdout.write(`${formatAttachPlan(plan, client.via)}${result.verified.map((v) => `ok: ${v}`).join('\n')}\n`);
          return EXIT.ok;
        }),
      );
  },
};
