import { deviceLabel, type IommuGroup, type PciDevice } from '@passthru/pci-discovery';
import { isForeign, type DeviceOwner } from '@passthru/vfio-binder';
import { driverCell, ownerCell } from '../../render/cells';
import { classLabel } from '../list/list';
import type { CliContext } from '../../context';
import { paint, renderTable } from '../../render/output';

/** `groups` as a table: one row per member (the group id on its first), OWNER when any device has one, then who holds the foreign-held devices. */
export function printGroupsTable(
  ctx: CliContext,
  devices: PciDevice[],
  groups: IommuGroup[],
  byAddress: Map<string, PciDevice>,
  owners: Map<string, DeviceOwner>,
): void {
  const withOwner = devices.some((d) => owners.has(d.address));
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
        ...(withOwner ? [ownerCell(ctx.out, owners.get(address))] : []),
      ];
    }),
  );
  ctx.out.stdout.write(renderTable(['GROUP', 'ADDRESS', 'IDS', 'CLASS', 'DEVICE', 'DRIVER', ...(withOwner ? ['OWNER'] : [])], rows));
  for (const d of devices.filter((x) => isForeign(owners.get(x.address)))) ctx.out.stdout.write(`${d.address}: held by ${owners.get(d.address)!.summary}\n`);
}
