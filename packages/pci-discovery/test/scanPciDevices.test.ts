import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostDir, HostFs, HostFsError } from '@passthru/hostfs';
import { materialize, type HostSpecInput } from '@passthru/sysfs-sim';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PciIds, deviceClassOf, readIommuGroups, scanPciDevices, scanPciDevicesParallel, type PciDevice } from '../src/index';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'scan-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const host: HostSpecInput = {
  name: 'edge',
  cpu: { vendor: 'intel' },
  iommu: { enabled: true, units: [{ name: 'dmar0' }] },
  domainParents: { '10000': '0000:00:0e.0' },
  devices: [
    { address: '0000:00:00.0', vendor: '8086', device: '4660', class: '060000', iommuGroup: 0 },
    { address: '0000:00:0e.0', vendor: '8086', device: '467f', class: '010400', driver: 'vmd', iommuGroup: 7 },
    {
      address: '10000:e0:06.0',
      vendor: '8086',
      device: '464d',
      class: '060400',
      driver: 'pcieport',
      secondaryBus: 'e1',
      iommuGroup: 7,
      pcie: { type: 'root-port' },
    },
    {
      address: '10000:e1:00.0',
      vendor: '144d',
      device: 'a80a',
      class: '010802',
      driver: 'nvme',
      iommuGroup: 7,
      numaNode: 1,
      pcie: { type: 'endpoint', linkGen: 4, linkWidth: 4 },
    },
    { address: '0000:00:1f.0', vendor: '8086', device: '7a84', class: '060100', numaNode: -1 },
    {
      address: '0000:03:00.0',
      vendor: '8086',
      device: '1592',
      class: '020000',
      driver: 'ice',
      iommuGroup: 42,
      net: ['ens1f0'],
      pcie: { type: 'endpoint', linkGen: 4, linkWidth: 16 },
      sriov: { totalVfs: 8, numVfs: 2, vfDevice: '1889', offset: 8, stride: 1, vfDriver: 'iavf', vfGroupBase: 100, vfNetPrefix: 'ens1f0v' },
    },
    {
      address: '0000:05:00.0',
      vendor: '1b21',
      device: '1142',
      class: '0c0330',
      driver: 'xhci_hcd',
      iommuGroup: 13,
      omit: ['config', 'subsystem', 'numa_node'],
    },
  ],
};

describe('scanPciDevices', () => {
  it('reads domain 10000 behind VMD, group gaps, no group, NUMA -1 and VFs', () => {
    materialize(host, root);
    const scan = scanPciDevices(new HostFs(root));
    expect(scan.problems).toEqual([]);
    const by = new Map(scan.devices.map((d) => [d.address, d]));
    expect([...by.keys()]).toEqual([
      '0000:00:00.0',
      '0000:00:0e.0',
      '0000:00:1f.0',
      '0000:03:00.0',
      '0000:03:01.0',
      '0000:03:01.1',
      '0000:05:00.0',
      '10000:e0:06.0',
      '10000:e1:00.0',
    ]);
    const nvme = by.get('10000:e1:00.0')!;
    expect(nvme).toMatchObject({ iommuGroup: 7, numaNode: 1, parent: '10000:e0:06.0', driver: 'nvme', link: { width: 4 } });
    expect(nvme.sysfsPath).toBe('/sys/devices/pci0000:00/0000:00:0e.0/pci10000:e0/10000:e0:06.0/10000:e1:00.0');
    expect(by.get('0000:00:1f.0')).toMatchObject({ iommuGroup: null, numaNode: null, driver: null });
    expect(by.get('10000:e0:06.0')!.isBridge).toBe(true);
    expect(by.get('0000:03:00.0')!.sriov).toEqual({ role: 'pf', totalVfs: 8, numVfs: 2, vfs: ['0000:03:01.0', '0000:03:01.1'] });
    expect(by.get('0000:03:01.1')).toMatchObject({
      sriov: { role: 'vf', physfn: '0000:03:00.0', vfIndex: 1 },
      iommuGroup: 101,
      driver: 'iavf',
      net: ['ens1f0v1'],
    });
    const groups = readIommuGroups(new HostFs(root), scan.devices);
    expect(groups.map((g) => g.id)).toEqual([0, 7, 13, 42, 100, 101]);
    expect(groups.find((g) => g.id === 7)).toMatchObject({ endpoints: ['0000:00:0e.0', '10000:e1:00.0'], bridges: ['10000:e0:06.0'] });
  });

  it('without detail (doctor with no device asked), reads as ever but for links, reset methods, BARs, overrides, NUMA nodes, SR-IOV, interfaces and drm nodes', async () => {
    const full: PciDevice[] = [];
    for (const fixture of ['gpu-rebar-32g', 'gpu-boot-efifb', 'sriov-server', 'numa-dual-socket']) {
      const tree = new HostFs(path.resolve(__dirname, '../../../fixtures/hosts', fixture));
      const all = scanPciDevices(tree);
      const light = await scanPciDevicesParallel(tree, undefined, { threads: 1, withoutDetail: true });
      for (const d of light.devices)
        expect([d.link, d.resetMethods, d.bars, d.driverOverride, d.numaNode, d.sriov, d.net, d.drm], `${fixture} ${d.address}`).toEqual([
          null,
          null,
          [],
          null,
          null,
          null,
          [],
          [],
        ]);
      const rest = (devices: PciDevice[]) => devices.map(({ link, resetMethods, bars, driverOverride, numaNode, sriov, net, drm, ...others }) => others);
      expect(rest(light.devices)).toEqual(rest(all.devices));
      expect(light.problems).toEqual(all.problems);
      full.push(...all.devices);
    }
    // What was left out is there in a full read of the same trees.
    expect([
      full.some((d) => d.link !== null),
      full.some((d) => d.bars.length > 0),
      full.some((d) => d.resetMethods !== null),
      full.some((d) => d.numaNode !== null),
      full.some((d) => d.sriov !== null),
      full.some((d) => d.net.length > 0),
      full.some((d) => d.drm.length > 0),
    ]).toEqual([true, true, true, true, true, true, true]);
  });

  it('lists a device whose optional files are missing, falling back to config for identity', () => {
    materialize(host, root);
    const xhci = path.join(root, 'sys/devices/pci0000:00/0000:05:00.0');
    expect(fs.existsSync(path.join(xhci, 'config'))).toBe(false);
    const usb = scanPciDevices(new HostFs(root)).devices.find((d) => d.address === '0000:05:00.0')!;
    expect(usb).toMatchObject({ vendorId: '1b21', subsystemVendorId: null, numaNode: null, iommuGroup: 13 });
    // Identity from config when the attribute files are gone.
    const nvmeDir = path.join(root, 'sys/devices/pci0000:00/0000:00:0e.0/pci10000:e0/10000:e0:06.0/10000:e1:00.0');
    for (const f of ['vendor', 'device', 'class', 'revision']) fs.rmSync(path.join(nvmeDir, f));
    const nvme = scanPciDevices(new HostFs(root)).devices.find((d) => d.address === '10000:e1:00.0')!;
    expect(nvme).toMatchObject({ vendorId: '144d', deviceId: 'a80a', class: '010802', revision: '00' });
  });

  it('reports a device with no identity at all, a symlink loop and a junk entry, and lists the rest', () => {
    materialize(host, root);
    const dev = path.join(root, 'sys/devices/pci0000:00/0000:00:1f.0');
    fs.rmSync(path.join(dev, 'vendor'));
    fs.rmSync(path.join(dev, 'config'));
    const devices = path.join(root, 'sys/bus/pci/devices');
    fs.symlinkSync('0000:09:00.1', path.join(devices, '0000:09:00.0'));
    fs.symlinkSync('0000:09:00.0', path.join(devices, '0000:09:00.1'));
    fs.writeFileSync(path.join(devices, 'README'), 'junk');
    const scan = scanPciDevices(new HostFs(root));
    expect(scan.devices).toHaveLength(8);
    expect(scan.problems.map((p) => p.address).sort()).toEqual(['0000:00:1f.0', '0000:09:00.0', '0000:09:00.1', 'README']);
    expect(scan.problems.find((p) => p.address === '0000:00:1f.0')!.message).toMatch(/vendor/);
    expect(scan.problems.find((p) => p.address === '0000:09:00.0')!.message).toMatch(/ELOOP/);
  });

  it('follows lspci on iommu_group links: a dangling link, a loop and a link out of the root give no group and a scan problem each', () => {
    materialize(host, root);
    const folder = (a: string) => fs.realpathSync(path.join(root, 'sys/bus/pci/devices', a));
    // Dangling: group 13's folder is gone (a capture without it).
    fs.rmSync(path.join(root, 'sys/kernel/iommu_groups/13'), { recursive: true });
    // A loop: group 42's link points at itself through a looping pair.
    const nic = folder('0000:03:00.0');
    fs.rmSync(path.join(nic, 'iommu_group'));
    fs.symlinkSync('loop-b', path.join(nic, 'loop-a'));
    fs.symlinkSync('loop-a', path.join(nic, 'loop-b'));
    fs.symlinkSync('loop-a', path.join(nic, 'iommu_group'));
    // Out of the root.
    const vf = folder('0000:03:01.0');
    fs.rmSync(path.join(vf, 'iommu_group'));
    fs.symlinkSync('/tmp', path.join(vf, 'iommu_group'));
    const scan = scanPciDevices(new HostFs(root));
    const by = new Map(scan.devices.map((d) => [d.address, d]));
    expect(['0000:05:00.0', '0000:03:00.0', '0000:03:01.0'].map((a) => by.get(a)!.iommuGroup)).toEqual([null, null, null]);
    expect(by.get('0000:03:01.1')!.iommuGroup).toBe(101);
    const problem = (a: string) => scan.problems.filter((p) => p.address === a).map((p) => p.message);
    expect(problem('0000:05:00.0')).toEqual([
      'Failed resolving /sys/bus/pci/devices/0000:05:00.0/iommu_group: the link leads to /sys/kernel/iommu_groups/13, which is not in this tree (a capture without /sys/kernel?), so the device has no group here (as lspci reads it)',
    ]);
    expect(problem('0000:03:00.0')).toEqual([
      'Failed resolving /sys/bus/pci/devices/0000:03:00.0/iommu_group: the link is a symlink loop (-> loop-a), so its group cannot be read',
    ]);
    expect(problem('0000:03:01.0')[0]).toMatch(/iommu_group: the link \(-> \/tmp\) cannot be followed: it leads outside the root/);
    expect(scan.problems).toHaveLength(3);
  });

  it('treats a 1 MiB garbage attribute and an unreadable (EACCES) attribute as absent', () => {
    materialize(host, root);
    const dev = fs.realpathSync(path.join(root, 'sys/bus/pci/devices/0000:03:00.0'));
    fs.writeFileSync(path.join(dev, 'numa_node'), Buffer.alloc(1024 * 1024, 0x41));
    fs.writeFileSync(path.join(dev, 'vendor'), Buffer.alloc(1024 * 1024, 0x41));
    class DeniedDir extends HostDir {
      override readBytes(name: string, maxBytes?: number): Buffer {
        if (name === 'driver_override' || name === 'reset_method') throw new HostFsError('reading', `${this.hostPath}/${name}`, 'EACCES', 'Permission denied');
        return super.readBytes(name, maxBytes);
      }
    }
    class DeniedHost extends HostFs {
      override openDir(hostPath: string): HostDir {
        const dir = super.openDir(hostPath);
        return new DeniedDir(this, dir.hostPath, dir.realPath);
      }
    }
    const nic = scanPciDevices(new DeniedHost(root)).devices.find((d) => d.address === '0000:03:00.0')!;
    expect(nic).toMatchObject({ vendorId: '8086', numaNode: null, driverOverride: null, resetMethods: null });
  });

  it('names devices from pci.ids and keeps numeric ids when a name is missing', () => {
    materialize(host, root);
    const ids = PciIds.fromText('8086  Intel Corporation\n\t1592  Ethernet Controller E810-C for QSFP\nC 02  Network controller\n\t00  Ethernet controller\n');
    const scan = scanPciDevices(new HostFs(root), ids);
    const nic = scan.devices.find((d) => d.address === '0000:03:00.0')!;
    expect(nic).toMatchObject({ vendorName: 'Intel Corporation', deviceName: 'Ethernet Controller E810-C for QSFP', className: 'Ethernet controller' });
    const nvme = scan.devices.find((d) => d.address === '10000:e1:00.0')!;
    expect(nvme).toMatchObject({ vendorName: null, deviceName: null, vendorId: '144d' });
  });

  it('classes devices for --class', () => {
    expect(['030000', '030200', '020000', '010802', '0c0330', '120000', '0b4000', '060400'].map(deviceClassOf)).toEqual([
      'gpu',
      'gpu',
      'net',
      'storage',
      'usb',
      'accel',
      'accel',
      'other',
    ]);
  });
});
