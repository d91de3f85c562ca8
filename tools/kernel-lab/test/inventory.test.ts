// list and groups on real kernels agree with the guest's own lspci (Debian's pciutils) and with
// the kernel's sysfs as read without passthru (kstate.pl).
import { describe, expect, it } from 'vitest';
import { parseLspciRegions, parseLspciVmm } from '../../peers/src/index';
import { step, stepFile } from './records';

interface ListJson {
  devices: Array<{
    address: string;
    vendorId: string;
    deviceId: string;
    class: string;
    driver: string | null;
    iommuGroup: number | null;
    bars: Array<{ index: number; size: number; space: string }>;
  }>;
}
interface GroupsJson {
  groups: Array<{ id: number; devices: string[] }>;
  ungrouped: string[];
}

describe.each(['vtd', 'amd', 'no-iommu', 'no-acs'])('inventory on the %s guest', (run) => {
  it('list agrees with the guest lspci, function by function (ids, class, driver, IOMMU group)', () => {
    const list = JSON.parse(step(run, 'list').stdout) as ListJson;
    const lspci = parseLspciVmm(stepFile(run, 'list', 'lspci'));
    expect(lspci.length).toBeGreaterThan(15);
    expect(list.devices.map((d) => d.address)).toEqual(lspci.map((r) => r.address));
    for (const r of lspci) {
      const d = list.devices.find((x) => x.address === r.address)!;
      expect({ address: d.address, ids: `${d.vendorId}:${d.deviceId}`, class: d.class, driver: d.driver, group: d.iommuGroup }).toEqual({
        address: r.address,
        ids: `${r.vendorId}:${r.deviceId}`,
        class: r.classCode,
        driver: r.driver ?? null,
        group: r.iommuGroup ?? null,
      });
    }
  });

  it('list gives every BAR and ROM the size the guest lspci -vv prints', () => {
    const list = JSON.parse(step(run, 'list').stdout) as ListJson;
    const regions = parseLspciRegions(stepFile(run, 'list', 'lspci-vv'));
    expect([...regions.keys()]).toEqual(list.devices.map((d) => d.address));
    const sized = (bars: Array<{ index: number; size: number; space: string }>) => bars.map(({ index, size, space }) => ({ index, size, space }));
    for (const d of list.devices) expect({ address: d.address, bars: sized(d.bars) }).toEqual({ address: d.address, bars: sized(regions.get(d.address)!) });
    // Not a comparison of two empty lists: QEMU's devices have BARs (the NICs, the NVMe, the card).
    expect(list.devices.filter((d) => d.bars.length > 0).length).toBeGreaterThan(8);
  });

  it("list and groups agree with the kernel's sysfs (drivers, groups and their members)", () => {
    const s = step(run, 'list');
    const list = JSON.parse(s.stdout) as ListJson;
    const groups = JSON.parse(step(run, 'groups').stdout) as GroupsJson;
    const k = s.kernel;
    expect(Object.keys(k.devices).sort()).toEqual(list.devices.map((d) => d.address).sort());
    for (const d of list.devices)
      expect([d.address, d.driver, d.iommuGroup]).toEqual([d.address, k.devices[d.address]!.driver, k.devices[d.address]!.iommuGroup]);
    const kernelGroups = Object.entries(k.groups).map(([id, g]) => ({ id: Number(id), devices: [...g.devices].sort() }));
    expect(groups.groups.map((g) => ({ id: g.id, devices: [...g.devices].sort() })).sort((a, b) => a.id - b.id)).toEqual(
      kernelGroups.sort((a, b) => a.id - b.id),
    );
    expect(groups.ungrouped.sort()).toEqual(
      Object.entries(k.devices)
        .filter(([, d]) => d.iommuGroup === null)
        .map(([a]) => a)
        .sort(),
    );
  });
});

describe('the topologies give the groups they are built for (the kernel decides)', () => {
  const groupOf = (run: string, address: string) => step(run, 'list').kernel.devices[address]!.iommuGroup;
  it('VT-d: each device behind an ACS root port alone; the card (display + audio) one group; ICH9 one platform group', () => {
    expect(groupOf('vtd', '0000:04:00.0')).toBe(groupOf('vtd', '0000:04:00.1'));
    expect(groupOf('vtd', '0000:01:00.0')).not.toBe(groupOf('vtd', '0000:02:00.0'));
    expect(groupOf('vtd', '0000:00:1f.0')).toBe(groupOf('vtd', '0000:00:1f.2'));
    expect(groupOf('vtd', '0000:00:1f.0')).toBe(groupOf('vtd', '0000:00:1f.3'));
  });
  it('no IOMMU: no device has a group', () => {
    expect(Object.values(step('no-iommu', 'list').kernel.devices).every((d) => d.iommuGroup === null)).toBe(true);
  });
  it('root ports without ACS, two functions of one slot: both ports and both NICs behind them are one group', () => {
    const g = groupOf('no-acs', '0000:01:00.0');
    expect([groupOf('no-acs', '0000:02:00.0'), groupOf('no-acs', '0000:00:03.0'), groupOf('no-acs', '0000:00:03.1')]).toEqual([g, g, g]);
  });
});
