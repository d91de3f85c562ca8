import { Option } from 'commander';
import { DEVICE_CLASSES, deviceClassOf, deviceLabel, readIommuGroups, type DeviceClassFilter, type PciDevice } from '@passthru/pci-discovery';
import { isForeign } from '@passthru/vfio-binder';
import type { CommandSpec } from '../../command';
import { driverCell, ownerCell, ownersOf, refuseJsonTree } from '../../render/cells';
import { CliError, EXIT } from '../../CliError';
import { gpuModesOf, scanHost } from '../../host';
import { gpuModeLines } from '../../render/gpuModes';
import { paint, printJson, renderTable } from '../../render/output';
import { renderTree } from '../../render/tree';

/** "VGA compatible controller [0300]", as lspci -nn prints a class. */
export function classLabel(d: PciDevice): string {
  return `${d.className ?? 'Class'} [${d.class.slice(0, 4)}]`;
}

export const listCommand: CommandSpec = {
  register(program, run) {
    program
      .command('list')
      .description('List PCI devices with driver, IOMMU group and NUMA node (like lspci -nnk)')
      .addOption(new Option('--class <class>', 'only this class of device').choices([...DEVICE_CLASSES]).default('all'))
      .addOption(new Option('--format <format>', 'table or json').choices(['table', 'json']))
      .option('--tree', 'draw the PCI tree (like lspci -tv) with IOMMU groups marked; with --class, the matching devices and the bridges above them')
      .addHelpText(
        'after',
        "\nExamples:\n  passthru list --class gpu\n  passthru list --tree --class net\n  passthru list --format json | jq '.devices[] | select(.iommuGroup == null)'\n  passthru --root fixtures/hosts/sriov-server list --class net",
      )
      .action(
        run<{ class: DeviceClassFilter; tree?: boolean }>(async (ctx, options) => {
          if (!DEVICE_CLASSES.includes(options.class)) throw new CliError(`--class must be one of ${DEVICE_CLASSES.join(', ')}`, EXIT.usage);
          if (options.tree) refuseJsonTree(ctx.format);
          const scan = await scanHost(ctx);
          if (options.tree) {
            const keep = options.class === 'all' ? undefined : (d: PciDevice) => deviceClassOf(d.class) === options.class;
            ctx.out.stdout.write(renderTree(ctx.out, scan.devices, readIommuGroups(ctx.host, scan.devices), { keep }));
            return EXIT.ok;
          }
          const devices = options.class === 'all' ? scan.devices : scan.devices.filter((d) => deviceClassOf(d.class) === options.class);
          const owners = await ownersOf(ctx, scan.devices);
          // Read per GPU after the scan (mdev types, VFs, MIG): other devices carry no gpuModes field.
          const gpuModes = await gpuModesOf(ctx, scan.devices, devices);
          if (ctx.format === 'json') {
            // The scan's own objects take the two fields (a copy of 8,000 devices costs more than their JSON).
            const row = (d: PciDevice) =>
              Object.assign(d, { owner: owners.get(d.address) ?? null }, gpuModes.has(d.address) ? { gpuModes: gpuModes.get(d.address) } : {});
            printJson(ctx.out, { root: ctx.host.root, devices: devices.map(row), problems: scan.problems });
            return EXIT.ok;
          }
          // The OWNER column appears when someone holds a device (passthru or another manager).
          const withOwner = devices.some((d) => owners.has(d.address));
          const rows = devices.map((d) => [
            d.address,
            `${d.vendorId}:${d.deviceId}`,
            classLabel(d),
            deviceLabel(d) + (d.revision && d.revision !== '00' ? ` (rev ${d.revision})` : ''),
            driverCell(ctx.out, d),
            d.iommuGroup === null ? paint(ctx.out, 'yellow', 'none') : String(d.iommuGroup),
            d.numaNode === null ? '-' : String(d.numaNode),
            ...(withOwner ? [ownerCell(ctx.out, owners.get(d.address))] : []),
          ]);
          ctx.out.stdout.write(renderTable(['ADDRESS', 'IDS', 'CLASS', 'DEVICE', 'DRIVER', 'GROUP', 'NUMA', ...(withOwner ? ['OWNER'] : [])], rows));
          for (const d of devices.filter((x) => isForeign(owners.get(x.address))))
            ctx.out.stdout.write(`${d.address}: held by ${owners.get(d.address)!.summary}\n`);
          for (const line of gpuModeLines(gpuModes, devices)) ctx.out.stdout.write(`${line}\n`);
          return EXIT.ok;
        }),
      );
  },
};
