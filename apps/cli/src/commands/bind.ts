import { Option } from 'commander';
import { applyBind, evaluateGuards, formatPlan, isForeign, parseTarget, planBind, readOwnership, renumberedDevices, resolveTargets, VfioBinderError } from '@passthru/vfio-binder';
import type { CommandSpec } from '../command';
import { hostState, outcomeTable, progressOptions, requireConsent } from '../binder';
import { EXIT } from '../CliError';
import { paint, printJson } from '../output';
import { runPersist } from './persist';

interface BindOptions {
  dryRun?: boolean;
  yes?: boolean;
  force?: boolean;
  persist?: boolean;
  adopt?: boolean;
}

export const bindCommand: CommandSpec = {
  register(program, run) {
    program
      .command('bind')
      .description('Bind whole IOMMU groups to vfio-pci: plan, guards, journal, verify, roll back on failure')
      .argument('<target...>', 'PCI address (0000:01:00.0 or 01:00.0), vendor:device, group:N, or interface name')
      .option('--dry-run', 'print the plan (every sysfs write) and the guards; write nothing')
      .option('--yes', 'proceed on this machine without asking')
      .option('--force', 'override the guards (each one is printed as the reason)')
      .option('--persist', 'also make the binding survive reboots (see passthru persist)')
      .option('--adopt', "take over devices another manager holds (libvirt managed='yes', driverctl, a foreign driver_override, vfio-pci bound by something else); the journal records them as adopted with their original state, which restore puts back")
      .addOption(new Option('--format <format>', 'table or json').choices(['table', 'json']))
      .addHelpText('after', '\nExamples:\n  passthru bind 01:00.0 --dry-run\n  passthru bind 10de:2684 --yes --persist\n  passthru --root fixtures/hosts/intel-workstation bind group:12\n\nExit codes: 0 bound (or already bound), 1 refused by a guard or failed and rolled back,\n2 bad input (nothing written), 3 not fully rolled back (see passthru restore).\nA device another manager holds is refused (exit 1, nothing written) unless --adopt.')
      .action(
        run<BindOptions>((ctx, options, args) => {
            const targets = args.map(parseTarget);
            const { devices, groups } = hostState(ctx);
            const { owners, journalError } = readOwnership(ctx.host, devices);
            if (journalError) ctx.note(`passthru: warning: ${journalError}`);
            const plan = planBind(resolveTargets(targets, devices, groups), devices, groups, owners);
            // persist recorded these addresses: refuse when one now names another device.
            const renumbered = renumberedDevices(ctx.host, devices).filter((r) => plan.devices.some((d) => r.startsWith(`${d.address}:`)));
            if (renumbered.length) throw new VfioBinderError('refused', `Failed planning bind: the address now names another device than persist recorded (${renumbered.join(', ')})`);
            const guards = evaluateGuards(ctx.host, plan, devices);
            const foreign = plan.devices.filter((d) => isForeign(d.owner));
            const blocked = (guards.length > 0 && !options.force) || (foreign.length > 0 && !options.adopt);
            for (const g of guards) {
              const refused = !options.force;
              ctx.note(`${paint(ctx.out, refused ? 'red' : 'yellow', refused ? 'refused' : 'overridden (--force)')}: ${g.address} [${g.id}] ${g.summary}`);
              for (const e of g.evidence) ctx.note(`    evidence: ${e}`);
            }
            for (const d of foreign) {
              const owner = d.owner!;
              ctx.note(`${paint(ctx.out, options.adopt ? 'yellow' : 'red', options.adopt ? 'adopted (--adopt)' : 'refused')}: ${d.address} [owner: ${owner.kind}] held by ${owner.summary}${d.unrestorable ? `; restore could not put back its state: ${d.unrestorable}` : ''}`);
              for (const e of owner.evidence) ctx.note(`    evidence: ${e}`);
            }
            if (options.dryRun) {
              if (ctx.format === 'json') printJson(ctx.out, { dryRun: true, plan, guards });
              else ctx.out.stdout.write(formatPlan(plan));
              return blocked ? EXIT.failed : EXIT.ok;
            }
            if (blocked) {
              const how = [guards.length && !options.force ? '--force to override these guards' : '', foreign.length && !options.adopt ? '--adopt to take over the devices another manager holds (the journal keeps their original state)' : ''].filter(Boolean).join(', or ');
              ctx.note(`Nothing was written. Use ${how}; --dry-run shows the plan.`);
              return EXIT.failed;
            }
            if (!plan.noop) requireConsent(ctx, options.yes, 'bind');
            const result = applyBind(ctx.host, plan, { ...progressOptions(ctx), adopt: options.adopt });
            if (ctx.format === 'json') printJson(ctx.out, { result, guards });
            else {
              ctx.out.stdout.write(outcomeTable(ctx, result.devices));
              const summary = { applied: `Bound ${result.devices.filter((d) => d.status === 'bound').length} device(s) to vfio-pci with ${result.writes} writes${foreign.length ? `; adopted ${foreign.length} (${foreign.map((d) => d.address).join(', ')})` : ''}.`, noop: 'Nothing to do: already on vfio-pci.', 'rolled-back': 'Failed, and every device is back on its original driver.', partial: 'Failed, and the rollback did not finish: the journal lists what is left; run `passthru restore --all`.' }[result.status];
              ctx.out.stdout.write(`${summary}\n`);
            }
            if (result.error) ctx.note(`passthru: ${result.error}`);
            if (result.status === 'rolled-back') return EXIT.failed;
            if (result.status === 'partial') return EXIT.partial;
            if (options.persist) return runPersist(ctx, args, { yes: options.yes, force: options.force });
            return EXIT.ok;
        }),
      );
  },
};
