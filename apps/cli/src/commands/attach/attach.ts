import { InvalidArgumentError, Option } from 'commander';
import { planClusterAttach } from '@passthru/fleet';
import { ATTACH_TYPES, applyAttach, lxcConfigLines, resolveTarget, type AttachType, type GpuRequest } from '@passthru/lxd-device-attach';
import { GPU_TYPES, type GpuType } from '@passthru/pci-discovery';
import type { CommandSpec } from '../../command';
import { CliError, EXIT } from '../../CliError';
import { nvidiaSmiRunner } from '../../host';
import { lxdClientFor } from '../../lxd';
import { formatAttachPlan } from './render';
import { printJson } from '../../render/output';

interface AttachOptions {
  type: AttachType;
  name?: string;
  project?: string;
  dryRun?: boolean;
  lxcConfig?: boolean;
  lxc?: boolean;
  lxcpath?: string;
  gputype?: GpuType;
  mdev?: string;
  migUuid?: string;
  migGi?: number;
  migCi?: number;
}

/** A MIG GPU or compute instance id (LXD takes 0-255). */
const instanceId = (text: string) => {
  if (!/^\d{1,3}$/.test(text) || Number(text) > 255) throw new InvalidArgumentError('an instance id from 0 to 255 (nvidia-smi mig -lci lists them)');
  return Number(text);
};

export const attachCommand: CommandSpec = {
  register(program, run) {
    program
      .command('attach')
      .description(
        'Give a host device to an LXD or Incus instance (gpu, pci, nic or usb device), checked, with ETag and verify; in a cluster, on the member the instance lives on',
      )
      .argument('<instance>', 'LXD or Incus instance (or, with --lxc or --lxc-config, the plain LXC container)')
      .argument(
        '<target>',
        'PCI address (0000:01:00.0 or 01:00.0), vendor:device, a network interface, or USB vendor:product with --type usb; with --lxc also a device node (/dev/net/tun)',
      )
      .addOption(new Option('--type <type>', 'device type; auto chooses from the device and the instance type').choices([...ATTACH_TYPES]).default('auto'))
      .option('--name <dev>', 'device name in the instance (default: gpu-0000-01-00-0, nic-<iface>, ...)')
      .option('--project <project>', 'project')
      .addOption(
        new Option(
          '--gputype <type>',
          'with a GPU: physical (the whole GPU, the default), mdev (a vGPU, VMs), sriov (a free VF of the PF, VMs), mig (a MIG compute instance, containers)',
        ).choices([...GPU_TYPES]),
      )
      .option('--mdev <type>', 'with --gputype mdev: the mdev type (i915-GVTg_V5_4, nvidia-746; passthru list --class gpu shows them)')
      .option('--mig-uuid <uuid>', 'with --gputype mig: the MIG device UUID (MIG-..., nvidia-smi -L)')
      .addOption(new Option('--mig-gi <n>', 'with --gputype mig and --mig-ci: the GPU instance id (nvidia-smi mig -lci)').argParser(instanceId))
      .addOption(new Option('--mig-ci <n>', 'with --gputype mig and --mig-gi: the compute instance id').argParser(instanceId))
      .option('--dry-run', 'check everything and print the change; write nothing')
      .option('--lxc-config', 'print lxc.cgroup2.devices.allow / lxc.mount.entry lines for plain LXC (no LXD or Incus contact)')
      .option('--lxc', "INSTANCE is a plain LXC container: add TARGET's device nodes to its config (diff, backup; hot-plugged into a running privileged one)")
      .option('--lxcpath <dir>', 'with --lxc: the containers folder (default: lxc.lxcpath of /etc/lxc/lxc.conf, else /var/lib/lxc)')
      .addOption(new Option('--format <format>', 'table or json').choices(['table', 'json']))
      .addHelpText(
        'after',
        "\nExamples:\n  passthru attach c1 01:00.0 --dry-run\n  passthru attach vm1 0000:01:00.0 --type pci\n  passthru attach vm1 00:02.0 --gputype mdev --mdev i915-GVTg_V5_4 --dry-run\n  passthru attach c1 41:00.0 --gputype mig --mig-gi 1 --mig-ci 0\n  passthru attach c1 enp5s0f0v1\n  passthru attach c1 046d:c52b --type usb\n  passthru attach mylxc 01:00.0 --lxc-config >> /var/lib/lxc/mylxc/config\n  passthru attach --lxc mylxc 01:00.0 --dry-run\n  passthru attach --lxc mylxc /dev/net/tun\n\nBoth LXD and Incus running here: --server lxd|incus (or PASSTHRU_SERVER) picks one; INCUS_DIR or LXD_DIR points at a private daemon.\n\nCluster (LXD or Incus): an instance on another member is checked against that member's devices (its /1.0/resources) and the readiness it published (passthru fleet publish there); passthru fleet place gpu picks a member.\n\nRemote LXD or Incus: PASSTHRU_LXD_URL=https://host:8443 PASSTHRU_LXD_CERT=client.crt PASSTHRU_LXD_KEY=client.key [PASSTHRU_LXD_SERVER_CERT=server.crt]",
      )
      .action(
        run<AttachOptions>(async (ctx, options, args) => {
          const [instance, target] = args as [string, string];
          if (options.lxc || options.lxcpath !== undefined) {
            if (!options.lxc) throw new CliError('--lxcpath goes with --lxc');
            const { lxcEdit, refuseWithLxc } = await import('./lxc');
            refuseWithLxc({ '--lxc-config': options.lxcConfig, '--name': options.name, '--project': options.project, ...gpuFlags(options) });
            return lxcEdit(ctx, 'attach', { container: instance, target, lxcpath: options.lxcpath, type: options.type, dryRun: options.dryRun });
          }
          if (options.lxcConfig) {
            const [flag] = Object.entries(gpuFlags(options)).find(([, v]) => v !== undefined) ?? [];
            if (flag) throw new CliError(`--lxc-config prints a plain LXC container's lines for the whole device: ${flag} does not apply to it`);
            if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(instance)) throw new CliError(`not a valid container name: ${JSON.stringify(instance)}`);
            const config = lxcConfigLines(ctx.host, resolveTarget(ctx.host, target, options.type), instance);
            if (ctx.format === 'json') printJson(ctx.out, { container: instance, target, ...config });
            else ctx.out.stdout.write(`${config.lines.join('\n')}\n`);
            return EXIT.ok;
          }
          const gpu = gpuRequest(options);
          const { client, remote } = lxdClientFor(ctx);
          // In a cluster an instance on another member is checked against that member's devices and published readiness.
          const request = {
            instance,
            target,
            type: options.type,
            ...(options.name ? { name: options.name } : {}),
            ...(options.project ? { project: options.project } : {}),
            ...(gpu ? { gpu } : {}),
          };
          const runner = remote ? undefined : nvidiaSmiRunner(ctx);
          const plan = await planClusterAttach({ client, host: ctx.host, request, remote, ...(runner ? { nvidiaSmi: runner } : {}) });
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

/** The GPU options as given (for the refusals of --lxc and --lxc-config). */
const gpuFlags = (o: AttachOptions) => ({ '--gputype': o.gputype, '--mdev': o.mdev, '--mig-uuid': o.migUuid, '--mig-gi': o.migGi, '--mig-ci': o.migCi });

/** The GPU options as attach's request takes them; undefined when none is given. */
function gpuRequest(o: AttachOptions): GpuRequest | undefined {
  const gpu: GpuRequest = {
    ...(o.gputype ? { gputype: o.gputype } : {}),
    ...(o.mdev !== undefined ? { mdev: o.mdev } : {}),
    ...(o.migUuid !== undefined ? { migUuid: o.migUuid } : {}),
    ...(o.migGi !== undefined ? { migGi: o.migGi } : {}),
    ...(o.migCi !== undefined ? { migCi: o.migCi } : {}),
  };
  return Object.keys(gpu).length ? gpu : undefined;
}
