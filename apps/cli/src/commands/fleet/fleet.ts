import { Option } from 'commander';
import { DEFAULT_STALE_SECONDS, fleetStatus, placeDevice, publishReadiness, statusExitCode } from '@passthru/fleet';
import type { CommandSpec } from '../../command';
import { EXIT } from '../../CliError';
import { version } from '../../version';
import { lxdClientFor } from '../../lxd';
import { refuseJsonTree } from '../../render/cells';
import { memberClients, printPlacement, printPublish, printStatus } from './render';

export const fleetCommand: CommandSpec = {
  register(program, run) {
    const fleet = program
      .command('fleet')
      .description("LXD or Incus cluster: publish this member's readiness, show every member, advise placement")
      .addHelpText(
        'after',
        '\nExamples:\n  passthru fleet publish\n  passthru fleet status --tree\n  passthru fleet place gpu\n\nRemote LXD or Incus (status, place): PASSTHRU_LXD_URL=https://host:8443 PASSTHRU_LXD_CERT=client.crt PASSTHRU_LXD_KEY=client.key [PASSTHRU_LXD_SERVER_CERT=server.crt]',
      );
    fleet
      .command('publish')
      .description("Write this member's readiness (user.passthru.*) into its cluster member config, with If-Match, and keep passthru's cluster groups")
      .option('--member <name>', 'cluster member to publish as (default: the server of this socket)')
      .option('--dry-run', 'show the API calls; write nothing')
      .addOption(new Option('--format <format>', 'table or json').choices(['table', 'json']))
      .addHelpText(
        'after',
        '\nExamples:\n  passthru fleet publish\n  passthru fleet publish --dry-run\n  passthru --root fixtures/hosts/intel-workstation fleet publish --member m2',
      )
      .action(
        run<{ member?: string; dryRun?: boolean }>(async (ctx, options) => {
          const { client } = lxdClientFor(ctx);
          const result = await publishReadiness({
            client,
            host: ctx.host,
            version,
            ...(options.member !== undefined ? { member: options.member } : {}),
            dryRun: options.dryRun === true,
          });
          printPublish(ctx, result);
          return EXIT.ok;
        }),
      );
    fleet
      .command('status')
      .description(
        "Every member: state, devices (the server's resources), published readiness and its age, passthru's cluster groups. Exit 1 when a member is not ONLINE or did not answer",
      )
      .option('--stale <seconds>', 'readiness older than this is stale', String(DEFAULT_STALE_SECONDS))
      .option('--timeout <seconds>', "time one member's resources may take", '15')
      .option('--tree', 'each member with its GPUs and VM-ready devices')
      .addOption(new Option('--format <format>', 'table or json').choices(['table', 'json']))
      .addHelpText(
        'after',
        "\nExit codes: 0 every member ONLINE and answered; 1 at least one member OFFLINE or unreachable (still listed); 2 bad input (no cluster).\n\nExamples:\n  passthru fleet status\n  passthru fleet status --tree\n  passthru fleet status --format json | jq '.members[] | {name, verdict}'",
      )
      .action(
        run<{ stale: string; timeout: string; tree?: boolean }>(async (ctx, options) => {
          if (options.tree) refuseJsonTree(ctx.format);
          const status = await fleetStatus(memberClients(ctx, options));
          printStatus(ctx, status, options.tree === true);
          return statusExitCode(status);
        }),
      );
    fleet
      .command('place')
      .description('Pick a member whose VM-ready device is free; prints the --target (or cluster group) to use, creates nothing. Exit 1 when none fits')
      .argument('<want>', '`gpu` or vendor:device (10de:2684)')
      .option('--stale <seconds>', 'readiness older than this is not trusted', String(DEFAULT_STALE_SECONDS))
      .option('--timeout <seconds>', "time one member's resources may take", '15')
      .addOption(new Option('--format <format>', 'table or json').choices(['table', 'json']))
      .addHelpText(
        'after',
        '\nExamples:\n  passthru fleet place gpu\n  lxc launch IMAGE vm1 --vm $(passthru fleet place 10de:2684)\n  incus launch IMAGE vm1 --vm $(passthru fleet place 10de:2684)',
      )
      .action(
        run<{ stale: string; timeout: string }>(async (ctx, options, args) => {
          const placement = await placeDevice({ ...memberClients(ctx, options), want: args[0]! });
          printPlacement(ctx, placement);
          return placement.target ? EXIT.ok : EXIT.failed;
        }),
      );
  },
};
