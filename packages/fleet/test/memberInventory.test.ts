// The inventory attach's preflight uses for an instance on another cluster member: devices from
// that member's LXD resources, VM readiness from what it published. Pure: facts in, answers out.
import { ResourcesSchema } from '@passthru/lxd-device-attach';
import { describe, expect, it } from 'vitest';
import { memberInventory, type MemberFacts } from '../src/memberInventory';
import type { Published } from '../src/published';

const pci = (pci_address: string, driver: string, iommu_group: number, vendor_id = '1022', product_id = '1483') => ({
  pci_address,
  driver,
  iommu_group,
  vendor_id,
  product_id,
  vendor: 'Vendor',
  product: `Product ${pci_address}`,
});
// Like amd-shared-group: the RX 6800 XT shares group 14 with a bridge and the SATA controller;
// a second GPU sits alone in group 20 on vfio-pci; a NIC with its interface; one USB receiver.
const resources = ResourcesSchema.parse({
  pci: {
    devices: [
      pci('0000:00:01.1', 'pcieport', 14),
      pci('0000:02:00.1', 'ahci', 14),
      pci('0000:06:00.0', 'amdgpu', 14, '1002', '73bf'),
      pci('0000:06:00.1', 'snd_hda_intel', 14, '1002', 'ab28'),
      pci('0000:05:00.0', 'r8169', 15, '10ec', '8168'),
      pci('0000:0b:00.0', 'vfio-pci', 20, '1002', '73ff'),
    ],
  },
  gpu: {
    cards: [
      { pci_address: '0000:06:00.0', vendor_id: '1002', product_id: '73bf', driver: 'amdgpu' },
      { pci_address: '0000:0b:00.0', vendor_id: '1002', product_id: '73ff', driver: 'vfio-pci' },
    ],
  },
  network: { cards: [{ pci_address: '0000:05:00.0', ports: [{ id: 'enp5s0' }] }] },
  usb: { devices: [{ vendor_id: '046d', product_id: 'c52b', bus_address: 1, device_address: 3 }] },
});
const published: Published = {
  verdict: 'ready-with-warnings',
  failing: [],
  iommu: true,
  vmReady: ['0000:0b:00.0'],
  viable: [{ kind: 'gpu', vendorId: '1002', deviceId: '73ff', groups: 1 }],
  publishedAt: '2025-01-01T00:00:00.000Z',
  version: 'test',
};
const facts = (over: Partial<MemberFacts> = {}): MemberFacts => ({
  member: 'm2',
  resources,
  published,
  ageSeconds: 30,
  stale: false,
  staleAfterSeconds: 3600,
  ...over,
});

describe('memberInventory', () => {
  const inv = memberInventory(facts());

  it("lists the member's devices as LXD reports them: GPUs as display controllers, NICs with their interfaces, USB by id", () => {
    expect(inv.where).toBe('cluster member m2');
    expect(inv.note).toBe(
      'checked against cluster member m2, where the instance lives: its devices from LXD /1.0/resources?target=m2, and the readiness it published 30 s ago (ready-with-warnings)',
    );
    expect(inv.pciAt('0000:06:00.0')).toMatchObject({
      class: '030000',
      driver: 'amdgpu',
      iommuGroup: 14,
      vendorId: '1002',
      deviceId: '73bf',
      deviceName: 'Product 0000:06:00.0',
    });
    expect(inv.pciAt('0000:02:00.1')).toMatchObject({ class: 'ff0000', driver: 'ahci', net: [], isBridge: false });
    expect(inv.pciAt('0000:00:01.1')).toMatchObject({ driver: 'pcieport', isBridge: true });
    expect(inv.pciAt('0000:01:00.0')).toBeNull();
    expect(inv.absent('pci', '0000:01:00.0')).toBe('LXD /1.0/resources?target=m2 lists no such function');
    expect(
      inv
        .pciDevices()
        .filter((d) => d.vendorId === '1002' && d.deviceId === '73ff')
        .map((d) => d.address),
    ).toEqual(['0000:0b:00.0']);
    expect(inv.netdev('enp5s0')).toMatchObject({ address: '0000:05:00.0', class: '020000', net: ['enp5s0'] });
    expect(inv.netdev('eth9')).toBeUndefined();
    expect(inv.usb('046d', 'c52b')).toBe('bus 1 device 3');
    expect(inv.usb('046d', 'c534')).toBeNull();
    expect(inv.numaWarnings({} as never)).toEqual([]);
  });

  it('a device the member published as VM-ready passes', () => {
    expect(inv.iommu(inv.pciAt('0000:0b:00.0')!)).toEqual({
      group: 20,
      viable: true,
      toBind: [],
      platformFunctions: [],
      plan: ['IOMMU group 20 is VM-ready on cluster member m2 (its readiness, published 30 s ago: ready-with-warnings)'],
    });
  });

  it('a device in a shared group is refused with its group mates and the bind plan on that member', () => {
    const v = inv.iommu(inv.pciAt('0000:06:00.0')!);
    expect(v.viable).toBe(false);
    // The PCIe port is a bridge: the kernel's viability leaves it out, and so does the bind plan.
    expect(v.toBind.map((m) => m.address)).toEqual(['0000:06:00.0', '0000:02:00.1', '0000:06:00.1']);
    expect(v.plan).toEqual([
      '0000:06:00.0 is not VM-ready on cluster member m2: its readiness, published 30 s ago, names 0000:0b:00.0',
      'LXD there shows it on amdgpu in IOMMU group 14 with 0000:02:00.1 (ahci), 0000:06:00.1 (snd_hda_intel) and 1 PCIe port',
      '  0000:06:00.0: amdgpu -> vfio-pci',
      '  0000:02:00.1: ahci -> vfio-pci',
      '  0000:06:00.1: snd_hda_intel -> vfio-pci',
      'plan: on m2, passthru bind group:14 --dry-run (then without --dry-run), then `passthru fleet publish` there, and attach again',
    ]);
  });

  it('no publication, a stale one, or a not-ready verdict refuses, naming passthru fleet publish on that member', () => {
    const gpu = (f: Partial<MemberFacts>) => {
      const i = memberInventory(facts(f));
      return i.iommu(i.pciAt('0000:0b:00.0')!);
    };
    const none = gpu({ published: null, ageSeconds: null });
    expect(none.viable).toBe(false);
    expect(none.plan.join('\n')).toMatch(/cluster member m2 has published no passthrough readiness[\s\S]*run `passthru fleet publish` on m2/);
    expect(memberInventory(facts({ published: null, ageSeconds: null })).note).toContain('no published readiness');
    const old = gpu({ ageSeconds: 7200, stale: true });
    expect(old.viable).toBe(false);
    expect(old.plan.join('\n')).toMatch(/published is 7200 s old, older than 3600 s[\s\S]*run `passthru fleet publish` on m2 again/);
    // A stale publication names no device VM-ready either.
    expect(memberInventory(facts({ ageSeconds: 7200, stale: true })).note).toContain('stale: older than 3600 s');
    const bad = gpu({ published: { ...published, verdict: 'not-ready', failing: ['iommu.kernel'] } });
    expect(bad).toMatchObject({ viable: false });
    expect(bad.plan[0]).toBe('cluster member m2 published the verdict not-ready (failing: iommu.kernel): it cannot give a VM a device');
  });

  it('on a member that published "IOMMU off" the group is unknown (LXD says 0 for every device), and the plan says to enable it', () => {
    const off = memberInventory(facts({ published: { ...published, verdict: 'ready', iommu: false, vmReady: [] } }));
    const gpu = off.pciAt('0000:06:00.0')!;
    expect(gpu.iommuGroup).toBeNull();
    const v = off.iommu(gpu);
    expect(v.plan[1]).toBe('LXD there shows it on amdgpu, in no IOMMU group (the member published that its IOMMU is off)');
    expect(v.plan.at(-1)).toBe('plan: enable the IOMMU on m2 (passthru doctor there), then `passthru fleet publish` there');
  });
});
