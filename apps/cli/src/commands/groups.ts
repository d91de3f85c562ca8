import { Option } from 'commander';
import { readIommuGroups } from '@passthru/pci-discovery';
import type { CommandSpec } from '../command';
import { EXIT } from '../CliError';
import { scanHost } from '../names';
import { paint, printJson, renderTable } from '../output';
import { classLabel, deviceLabel, driverCell } from './list';

export const groupsCommand: CommandSpec = {
  register(program, run) {
    program
      .command('groups')
      .description('List IOMMU groups with their members (endpoints and bridges)')
      .addOption(new Option('--format <format>', 'table or json').choices(['table', 'json']))
      .addHelpText('after', '\nExamples:\n  passthru groups\n  passthru groups --format json | jq \'.groups[] | select(.endpoints | length > 1)\'')
      .action(
        run((ctx) => {
          const scan = scanHost(ctx);
          const groups = readIommuGroups(ctx.host, scan.devices);
          const ungrouped = scan.devices.filter((d) => d.iommuGroup === null).map((d) => d.address);
          if (ctx.format === 'json') {
            printJson(ctx.out, { root: ctx.host.root, groups, ungrouped, problems: scan.problems });
            return EXIT.ok;
          }
          if (groups.length === 0) {
            ctx.out.stdout.write('No IOMMU groups: the IOMMU is off or absent (run `passthru doctor`).\n');
            return EXIT.ok;
          }
          const byAddress = new Map(scan.devices.map((d) => [d.address, d]));
          const rows = groups.flatMap((g) =>
            g.devices.map((address, i) => {
              const d = byAddress.get(address);
              return [
                i === 0 ? String(g.id) : '',
                address,
                d ? `${d.vendorId}:${d.deviceId}` : '?',
                d ? classLabel(d) : '?',
                d ? (d.isBridge ? `${deviceLabel(d)} ${paint(ctx.out, 'gray', '(bridge)')}` : deviceLabel(d)) : 'not in /sys/bus/pci/devices',
                d ? driverCell(ctx.out, d) : '-',
              ];
            }),
          );
          ctx.out.stdout.write(renderTable(['GROUP', 'ADDRESS', 'IDS', 'CLASS', 'DEVICE', 'DRIVER'], rows));
          if (ungrouped.length) ctx.out.stdout.write(`\nNo IOMMU group: ${ungrouped.join(' ')}\n`);
          return EXIT.ok;
        }),
      );
  },
};
