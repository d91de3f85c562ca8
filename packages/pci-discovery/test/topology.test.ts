// The topology behind `--tree` and the HTML report: roots, bridges, VFs under PFs, VMD domains.
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { describe, expect, it } from 'vitest';
import { scanPciDevices } from '../src/index';
import { buildTopology, rootBusOf, walkTopology } from '../src/topology';

const scan = (name: string) => {
  const { devices } = scanPciDevices(new HostFs(path.resolve(__dirname, '../../../fixtures/hosts', name)));
  return { devices };
};

describe('buildTopology', () => {
  it('finds the root bus on a sysfs path, the last one for a VMD domain', () => {
    expect(rootBusOf('/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0')).toBe('pci0000:00');
    expect(rootBusOf('/sys/devices/pci0000:00/0000:00:0e.0/pci10000:e0/10000:e0:06.0')).toBe('pci10000:e0');
  });

  it('every device appears exactly once, under its bridge, its PF or its root bus', () => {
    for (const name of ['intel-workstation', 'sriov-server', 'vmd-gaps', 'amd-shared-group', 'no-group-device', 'intel-iommu-off', 'laptop-no-iommu']) {
      const { devices } = scan(name);
      const topology = buildTopology(devices);
      const seen = [...walkTopology(topology)].filter((w) => w.node.kind === 'function').map((w) => w.node.id);
      expect(seen.sort(), name).toEqual(devices.map((d) => d.address).sort());
      for (const d of devices) {
        const parent = topology.nodes.get(d.address)!.parent!;
        if (d.sriov?.role === 'vf') expect(parent).toBe(d.sriov.physfn);
        else if (d.parent) expect(parent).toBe(d.parent);
        else expect(parent).toBe(rootBusOf(d.sysfsPath));
      }
    }
  });

  it('sriov-server: four host bridges, VFs in order under their PF', () => {
    const t = buildTopology(scan('sriov-server').devices);
    expect(t.roots).toEqual(['pci0000:00', 'pci0000:17', 'pci0000:5d', 'pci0000:ae']);
    expect(t.nodes.get('0000:af:00.0')!.children).toEqual([
      '0000:af:02.0',
      '0000:af:02.1',
      '0000:af:02.2',
      '0000:af:02.3',
      '0000:af:02.4',
      '0000:af:02.5',
      '0000:af:02.6',
      '0000:af:02.7',
    ]);
    expect(t.nodes.get('0000:ae:00.0')!.children).toEqual(['0000:af:00.0']);
  });

  it("vmd-gaps: the VMD domain hangs under its controller, after the controller's functions", () => {
    const t = buildTopology(scan('vmd-gaps').devices);
    expect(t.roots).toEqual(['pci0000:00']);
    expect(t.nodes.get('pci10000:e0')).toMatchObject({ kind: 'root-bus', parent: '0000:00:0e.0', children: ['10000:e0:06.0', '10000:e0:1b.0'] });
    expect(t.nodes.get('0000:00:0e.0')!.children).toEqual(['pci10000:e0']);
  });
});
