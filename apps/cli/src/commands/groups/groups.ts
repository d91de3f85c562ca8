import { Option } from 'commander';
import { notPassable, platformFunctionsOf, readIommuGroups } from '@passthru/pci-discovery';
import type { CommandSpec } from '../../command';
import { EXIT } from '../../CliError';
import { scanHost } from '../../host';
import { printJson } from '../../render/output';
import { renderTree } from '../../render/tree';
import { ownersOf, refuseJsonTree } from '../../render/cells';
import { printGroupsTable } from './render';

export const groupsCommand: CommandSpec = {
  register(program, run) {
    program
      .command('groups')
      .description('List IOMMU groups with their members (endpoints and bridges)')
      .addOption(new Option('--format <format>', 'table or json').choices(['table', 'json']))
      .option('--tree', "draw the PCI tree (like lspci -tv) with each function's group, then the groups several devices share")
      .addHelpText(
        'after',
        "\nExamples:\n  passthru groups\n  passthru groups --tree\n  passthru groups --format json | jq '.groups[] | select(.endpoints | length > 1)'",
      )
      .action(
        run<{ tree?: boolean }>(async (ctx, options) => {
          if (options.tree) refuseJsonTree(ctx.format);
          const scan = await scanHost(ctx);
          const groups = readIommuGroups(ctx.host, scan.devices);
          const byAddress = new Map(scan.devices.map((d) => [d.address, d]));
          // Groups that hold a platform function: never bindable (bind refuses them, --force too).
          const platform = groups.map((g) => ({ id: g.id, found: platformFunctionsOf(g, byAddress) })).filter((p) => p.found.length > 0);
          const fix = platform.length
            ? notPassable(platform[0]!.found).fix.replace(/^This group cannot/, platform.length > 1 ? 'These groups cannot' : 'This group cannot')
            : '';
          const notPassableLines = platform.length ? `\n${platform.map((p) => `Group ${p.id}: ${notPassable(p.found).summary}.`).join('\n')}\n${fix}\n` : '';
          if (options.tree) {
            ctx.out.stdout.write(renderTree(ctx.out, scan.devices, groups, { legend: true }) + notPassableLines);
            return EXIT.ok;
          }
          const ungrouped = scan.devices.filter((d) => d.iommuGroup === null).map((d) => d.address);
          const owners = await ownersOf(ctx, scan.devices);
          if (ctx.format === 'json') {
            printJson(ctx.out, {
              root: ctx.host.root,
              groups: groups.map((g) => ({
                ...g,
                owners: Object.fromEntries(g.devices.filter((a) => owners.has(a)).map((a) => [a, owners.get(a)!])),
                platformFunctions: platformFunctionsOf(g, byAddress),
              })),
              ungrouped,
              problems: scan.problems,
            });
            return EXIT.ok;
          }
          if (groups.length === 0) {
            ctx.out.stdout.write('No IOMMU groups: the IOMMU is off or absent (run `passthru doctor`).\n');
            return EXIT.ok;
          }
          printGroupsTable(ctx, scan.devices, groups, byAddress, owners);
          if (ungrouped.length) ctx.out.stdout.write(`\nNo IOMMU group: ${ungrouped.join(' ')}\n`);
          ctx.out.stdout.write(notPassableLines);
          return EXIT.ok;
        }),
      );
  },
};
