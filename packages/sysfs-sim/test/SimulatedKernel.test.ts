import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HostFs } from '@passthru/hostfs';
import { afterEach, describe, expect, it } from 'vitest';
import { hostCode } from './hostCode';
import { SimulatedKernel, loadHostSpec, materialize, type HostSpecInput } from '../src/index';
import { SIM_KERNEL_STATE_FILE, SIM_REMOVED_FILE, SIM_WRITE_LOG_FILE } from '../src/kernel/sidecar';
import { SIM_SPEC_FILE } from '../src/materialize';

const WORKSTATION = fileURLToPath(new URL('../../../fixtures/specs/intel-workstation.yaml', import.meta.url));
const GPU = ['0000:01:00.0', '0000:01:00.1', '0000:01:00.2', '0000:01:00.3'];
const GPU_DRIVERS = ['nvidia', 'snd_hda_intel', 'xhci_hcd', 'nvidia-gpu'];

/** A small host with SR-IOV, id tables, a bridge, an unbound NIC and a device without a group. */
const LAB: HostSpecInput = {
  name: 'sim-lab',
  cpu: { vendor: 'amd', count: 2 },
  iommu: { enabled: true },
  modules: ['vfio', 'vfio_pci'],
  drivers: [
    { name: 'pcieport', ids: [] },
    { name: 'igb', ids: ['8086:1521'] },
    { name: 'igbvf', ids: ['8086:1520'] },
    { name: 'nvme', ids: ['144d:*'] },
  ],
  devices: [
    {
      address: '0000:00:01.0',
      vendor: '1022',
      device: '1483',
      class: '060400',
      secondaryBus: '02',
      driver: 'pcieport',
      iommuGroup: 1,
      pcie: { type: 'root-port' },
    },
    {
      address: '0000:02:00.0',
      vendor: '8086',
      device: '1521',
      class: '020000',
      driver: 'igb',
      iommuGroup: 2,
      net: ['enp2s0f0'],
      resetMethods: ['flr'],
      pcie: { type: 'endpoint' },
      sriov: { totalVfs: 4, vfDevice: '1520', offset: 128, vfDriver: 'igbvf', vfGroupBase: 40, vfNetPrefix: 'enp2s0v' },
    },
    { address: '0000:02:00.1', vendor: '8086', device: '1521', class: '020000', iommuGroup: 3 },
    { address: '0000:03:00.0', vendor: '144d', device: 'a808', class: '010802', driver: 'nvme', iommuGroup: 4 },
    { address: '0000:04:00.0', vendor: '1b36', device: '0010', class: '010802' },
  ],
};

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tree(spec: HostSpecInput | string = LAB, options: ConstructorParameters<typeof SimulatedKernel>[1] = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'simkernel-'));
  dirs.push(root);
  materialize(typeof spec === 'string' ? loadHostSpec(spec) : spec, root);
  const kernel = new SimulatedKernel(root, options);
  const host = new HostFs(root, { kernel });
  return { root, kernel, host };
}

const dev = (address: string, attr = '') => `/sys/bus/pci/devices/${address}${attr ? `/${attr}` : ''}`;
const drv = (driver: string, attr: string) => `/sys/bus/pci/drivers/${driver}/${attr}`;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code ?? 'no code';
  }
  return undefined;
}

/** Every file and link under root (but the sidecar), with content or link target. */
function snapshot(root: string, skip = (rel: string) => rel.startsWith('.sysfs-sim')): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
      const child = rel ? `${rel}/${name}` : name;
      if (skip(child)) continue;
      const stat = fs.lstatSync(path.join(root, child));
      if (stat.isSymbolicLink()) out[child] = `-> ${fs.readlinkSync(path.join(root, child))}`;
      else if (stat.isDirectory()) {
        out[`${child}/`] = 'dir';
        walk(child);
      } else out[child] = `${(stat.mode & 0o777).toString(8)} ${fs.readFileSync(path.join(root, child)).toString('base64')}`;
    }
  };
  walk('');
  return out;
}

/** Links under root whose target is gone: a removal must leave none behind. */
function danglingLinks(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(root, rel))) {
      const child = `${rel}/${name}`;
      const stat = fs.lstatSync(path.join(root, child));
      if (stat.isSymbolicLink()) {
        if (!fs.existsSync(path.join(root, child))) out.push(child);
      } else if (stat.isDirectory()) walk(child);
    }
  };
  walk('sys');
  return out;
}

describe('driver_override', () => {
  it('stores the value, cut at the first newline, and "\\n" clears it to (null)', () => {
    const { host } = tree();
    host.writeAttribute(dev('0000:02:00.1', 'driver_override'), 'vfio-pci\n');
    expect(host.readAttribute(dev('0000:02:00.1', 'driver_override'))).toBe('vfio-pci');
    host.writeAttribute(dev('0000:02:00.1', 'driver_override'), 'igb\nrest');
    expect(host.readAttribute(dev('0000:02:00.1', 'driver_override'))).toBe('igb');
    host.writeAttribute(dev('0000:02:00.1', 'driver_override'), '\n');
    expect(host.readAttribute(dev('0000:02:00.1', 'driver_override'))).toBe('(null)');
  });

  it('ignores a zero-length write, as sysfs_kf_write does', () => {
    const { host } = tree();
    host.writeAttribute(dev('0000:02:00.1', 'driver_override'), 'vfio-pci');
    host.writeAttribute(dev('0000:02:00.1', 'driver_override'), '');
    expect(host.readAttribute(dev('0000:02:00.1', 'driver_override'))).toBe('vfio-pci');
  });

  it('gives EINVAL from PAGE_SIZE - 1 bytes and E2BIG above a page', () => {
    const { host } = tree();
    expect(hostCode(() => host.writeAttribute(dev('0000:02:00.1', 'driver_override'), 'x'.repeat(4095)))).toBe('EINVAL');
    expect(hostCode(() => host.writeAttribute(dev('0000:02:00.1', 'driver_override'), 'x'.repeat(4097)))).toBe('E2BIG');
    host.writeAttribute(dev('0000:02:00.1', 'driver_override'), 'x'.repeat(4094));
    expect(host.readAttribute(dev('0000:02:00.1', 'driver_override'))).toHaveLength(4094);
  });

  it('is written through the canonical /sys/devices path too', () => {
    const { host } = tree();
    host.writeAttribute('/sys/devices/pci0000:00/0000:00:01.0/0000:02:00.1/driver_override', 'vfio-pci');
    expect(host.readAttribute(dev('0000:02:00.1', 'driver_override'))).toBe('vfio-pci');
  });
});

describe('unbind', () => {
  it('removes both links and the DRIVER line', () => {
    const { host } = tree();
    host.writeAttribute(drv('igb', 'unbind'), '0000:02:00.0\n');
    expect(host.readlink(dev('0000:02:00.0', 'driver'))).toBeUndefined();
    expect(host.readlink(drv('igb', '0000:02:00.0'))).toBeUndefined();
    expect(host.readText(dev('0000:02:00.0', 'uevent'))).not.toContain('DRIVER=');
  });

  it('gives ENODEV for a device not bound to that driver, or no device at all', () => {
    const { host } = tree();
    expect(hostCode(() => host.writeAttribute(drv('nvme', 'unbind'), '0000:02:00.0'))).toBe('ENODEV');
    expect(hostCode(() => host.writeAttribute(drv('igb', 'unbind'), '0000:02:00.1'))).toBe('ENODEV');
    expect(hostCode(() => host.writeAttribute(drv('igb', 'unbind'), '0000:09:00.0'))).toBe('ENODEV');
    expect(hostCode(() => host.writeAttribute(drv('igb', 'unbind'), '02:00.0'))).toBe('ENODEV');
    expect(host.linkName(dev('0000:02:00.0', 'driver'))).toBe('igb');
  });
});

describe('bind', () => {
  it('binds a device its static id table matches, with both links and DRIVER=', () => {
    const { host, root } = tree();
    host.writeAttribute(drv('igb', 'bind'), '0000:02:00.1\n');
    expect(host.linkName(dev('0000:02:00.1', 'driver'))).toBe('igb');
    expect(fs.readlinkSync(path.join(root, drv('igb', '0000:02:00.1')))).toBe('../../../../devices/pci0000:00/0000:00:01.0/0000:02:00.1');
    expect(host.readText(dev('0000:02:00.1', 'uevent')).split('\n')[0]).toBe('DRIVER=igb');
  });

  it('gives ENODEV without a device or without a match (vfio-pci has no id table)', () => {
    const { host } = tree();
    expect(hostCode(() => host.writeAttribute(drv('igb', 'bind'), '0000:09:00.0'))).toBe('ENODEV');
    expect(hostCode(() => host.writeAttribute(drv('vfio-pci', 'bind'), '0000:02:00.1'))).toBe('ENODEV');
    expect(hostCode(() => host.writeAttribute(drv('nvme', 'bind'), '0000:02:00.1'))).toBe('ENODEV');
  });

  it('gives ENODEV when driver_override names another driver, and binds the one it names', () => {
    const { host } = tree();
    host.writeAttribute(dev('0000:02:00.1', 'driver_override'), 'vfio-pci');
    expect(hostCode(() => host.writeAttribute(drv('igb', 'bind'), '0000:02:00.1'))).toBe('ENODEV');
    host.writeAttribute(drv('vfio-pci', 'bind'), '0000:02:00.1');
    expect(host.linkName(dev('0000:02:00.1', 'driver'))).toBe('vfio-pci');
    expect(host.exists('/dev/vfio/3')).toBe(true);
  });

  it('gives EBUSY when the device already has a driver', () => {
    const { host } = tree();
    expect(hostCode(() => host.writeAttribute(drv('igb', 'bind'), '0000:02:00.0'))).toBe('EBUSY');
    host.writeAttribute(dev('0000:02:00.0', 'driver_override'), 'vfio-pci');
    expect(hostCode(() => host.writeAttribute(drv('vfio-pci', 'bind'), '0000:02:00.0'))).toBe('EBUSY');
  });

  it('cannot bind a driver whose module is not loaded: its folder does not exist', () => {
    const { host, kernel } = tree({ ...LAB, modules: [] });
    expect(host.exists('/sys/bus/pci/drivers/vfio-pci')).toBe(false);
    host.writeAttribute(dev('0000:02:00.1', 'driver_override'), 'vfio-pci');
    expect(hostCode(() => host.writeAttribute(drv('vfio-pci', 'bind'), '0000:02:00.1'))).toBe('ENOENT');
    expect(codeOf(() => kernel.write(drv('vfio-pci', 'bind'), '0000:02:00.1'))).toBe('ENOENT');
    host.writeAttribute('/sys/bus/pci/drivers_probe', '0000:02:00.1');
    expect(host.readlink(dev('0000:02:00.1', 'driver'))).toBeUndefined();
  });
});

describe('vfio-pci probe', () => {
  it('refuses a bridge with EINVAL (not a normal header)', () => {
    const { host } = tree();
    host.writeAttribute(drv('pcieport', 'unbind'), '0000:00:01.0');
    host.writeAttribute(dev('0000:00:01.0', 'driver_override'), 'vfio-pci');
    expect(hostCode(() => host.writeAttribute(drv('vfio-pci', 'bind'), '0000:00:01.0'))).toBe('EINVAL');
    host.writeAttribute('/sys/bus/pci/drivers_probe', '0000:00:01.0');
    expect(host.readlink(dev('0000:00:01.0', 'driver'))).toBeUndefined();
  });

  it('refuses a device without an IOMMU group with EINVAL', () => {
    const { host } = tree();
    host.writeAttribute(dev('0000:04:00.0', 'driver_override'), 'vfio-pci');
    expect(hostCode(() => host.writeAttribute(drv('vfio-pci', 'bind'), '0000:04:00.0'))).toBe('EINVAL');
    expect(host.readlink(dev('0000:04:00.0', 'driver'))).toBeUndefined();
    expect(host.list('/dev/vfio')).toEqual(['vfio']);
  });
});

describe('drivers_probe', () => {
  it('gives ENODEV for no such device and leaves a bound device alone', () => {
    const { host } = tree();
    expect(hostCode(() => host.writeAttribute('/sys/bus/pci/drivers_probe', '0000:09:00.0'))).toBe('ENODEV');
    host.writeAttribute(dev('0000:02:00.0', 'driver_override'), 'vfio-pci');
    host.writeAttribute('/sys/bus/pci/drivers_probe', '0000:02:00.0\n');
    expect(host.linkName(dev('0000:02:00.0', 'driver'))).toBe('igb');
  });

  it('binds by driver_override, else by id table, and succeeds when nothing matches', () => {
    const { host } = tree();
    host.writeAttribute('/sys/bus/pci/drivers_probe', '0000:02:00.1');
    expect(host.linkName(dev('0000:02:00.1', 'driver'))).toBe('igb');
    host.writeAttribute(drv('nvme', 'unbind'), '0000:03:00.0');
    host.writeAttribute(dev('0000:03:00.0', 'driver_override'), 'vfio-pci');
    host.writeAttribute('/sys/bus/pci/drivers_probe', '0000:03:00.0');
    expect(host.linkName(dev('0000:03:00.0', 'driver'))).toBe('vfio-pci');
    host.writeAttribute('/sys/bus/pci/drivers_probe', '0000:04:00.0');
    expect(host.readlink(dev('0000:04:00.0', 'driver'))).toBeUndefined();
  });

  it('with an override naming a missing driver the device stays unbound, without error', () => {
    const { host } = tree();
    host.writeAttribute(dev('0000:02:00.1', 'driver_override'), 'no-such-driver');
    host.writeAttribute('/sys/bus/pci/drivers_probe', '0000:02:00.1');
    expect(host.readlink(dev('0000:02:00.1', 'driver'))).toBeUndefined();
  });
});

describe('new_id and remove_id', () => {
  it('binds every matching unbound device, except one whose override names another driver', () => {
    const { host } = tree();
    host.writeAttribute(drv('igb', 'unbind'), '0000:02:00.0');
    host.writeAttribute(dev('0000:02:00.0', 'driver_override'), 'igb');
    host.writeAttribute(drv('vfio-pci', 'new_id'), '8086 1521\n');
    expect(host.linkName(dev('0000:02:00.1', 'driver'))).toBe('vfio-pci');
    expect(host.readlink(dev('0000:02:00.0', 'driver'))).toBeUndefined();
    expect(host.exists('/dev/vfio/3')).toBe(true);
    expect(host.linkName(dev('0000:03:00.0', 'driver'))).toBe('nvme');
  });

  it('gives EEXIST for an id the driver already matches (dynamic or static)', () => {
    const { host } = tree();
    host.writeAttribute(drv('vfio-pci', 'new_id'), '1b36 0010');
    expect(hostCode(() => host.writeAttribute(drv('vfio-pci', 'new_id'), '1b36 0010'))).toBe('EEXIST');
    expect(hostCode(() => host.writeAttribute(drv('vfio-pci', 'new_id'), '0x1b36 0x0010 ffffffff ffffffff'))).toBe('EEXIST');
    expect(hostCode(() => host.writeAttribute(drv('igb', 'new_id'), '8086 1521'))).toBe('EEXIST');
    expect(hostCode(() => host.writeAttribute(drv('nvme', 'new_id'), '144d 1234'))).toBe('EEXIST');
  });

  it('gives EINVAL for fewer than two hex fields', () => {
    const { host } = tree();
    for (const bad of ['8086', 'zzzz 1521', 'hello\n']) expect(hostCode(() => host.writeAttribute(drv('vfio-pci', 'new_id'), bad))).toBe('EINVAL');
    for (const bad of ['8086', 'x y']) expect(hostCode(() => host.writeAttribute(drv('vfio-pci', 'remove_id'), bad))).toBe('EINVAL');
  });

  it('honours subsystem and class fields', () => {
    const { host } = tree();
    host.writeAttribute(drv('vfio-pci', 'new_id'), '8086 1521 1234 5678');
    expect(host.readlink(dev('0000:02:00.1', 'driver'))).toBeUndefined();
    host.writeAttribute(drv('vfio-pci', 'new_id'), 'ffffffff ffffffff ffffffff ffffffff 020000 ffff00 0');
    expect(host.linkName(dev('0000:02:00.1', 'driver'))).toBe('vfio-pci');
  });

  it('remove_id removes a dynamic id (bound devices stay) and gives ENODEV when absent', () => {
    const { host, kernel } = tree();
    host.writeAttribute(drv('vfio-pci', 'new_id'), '8086 1521');
    expect(kernel.dynamicIds('vfio-pci')).toHaveLength(1);
    host.writeAttribute(drv('vfio-pci', 'remove_id'), '8086 1521');
    expect(kernel.dynamicIds('vfio-pci')).toEqual([]);
    expect(host.linkName(dev('0000:02:00.1', 'driver'))).toBe('vfio-pci');
    expect(hostCode(() => host.writeAttribute(drv('vfio-pci', 'remove_id'), '8086 1521'))).toBe('ENODEV');
    host.writeAttribute(drv('vfio-pci', 'new_id'), '8086 1521');
  });
});

describe('SR-IOV', () => {
  it('lays VFs out exactly as materialize does, autoprobed to the VF driver', () => {
    const { root, host } = tree();
    host.writeAttribute(dev('0000:02:00.0', 'sriov_numvfs'), '2\n');
    const expected = tree({ ...LAB, devices: LAB.devices.map((d) => (d.sriov ? { ...d, sriov: { ...d.sriov, numVfs: 2 } } : d)) });
    expect(snapshot(root)).toEqual(snapshot(expected.root));
    expect(host.linkName(dev('0000:02:10.0', 'driver'))).toBe('igbvf');
    expect(host.linkName(dev('0000:02:10.1', 'physfn'))).toBe('0000:02:00.0');
    expect(host.linkName(dev('0000:02:00.0', 'virtfn1'))).toBe('0000:02:10.1');
    expect(host.list('/sys/kernel/iommu_groups/41/devices')).toEqual(['0000:02:10.1']);
    expect(host.exists('/sys/class/net/enp2s0v1')).toBe(true);
  });

  it("puts VFs behind the PF's IOMMU unit and takes them away again", () => {
    const { root, host } = tree({ ...LAB, iommu: { enabled: true, units: [{ name: 'ivhd0' }] } });
    host.writeAttribute(dev('0000:02:00.0', 'sriov_numvfs'), '2');
    const unit = host.linkName(dev('0000:02:00.0', 'iommu'));
    expect(host.linkName(dev('0000:02:10.1', 'iommu'))).toBe(unit);
    if (unit) expect(host.list(`/sys/devices/virtual/iommu/${unit}/devices`)).toContain('0000:02:10.1');
    host.writeAttribute(dev('0000:02:00.0', 'sriov_numvfs'), '0');
    expect(danglingLinks(root)).toEqual([]);
  });

  it('must pass through 0: non-zero to another non-zero is EBUSY, the same number is fine', () => {
    const { host } = tree();
    host.writeAttribute(dev('0000:02:00.0', 'sriov_numvfs'), '2');
    expect(hostCode(() => host.writeAttribute(dev('0000:02:00.0', 'sriov_numvfs'), '3'))).toBe('EBUSY');
    host.writeAttribute(dev('0000:02:00.0', 'sriov_numvfs'), '2');
    host.writeAttribute(dev('0000:02:00.0', 'sriov_numvfs'), '0');
    host.writeAttribute(dev('0000:02:00.0', 'sriov_numvfs'), '3');
    expect(host.readAttribute(dev('0000:02:00.0', 'sriov_numvfs'))).toBe('3');
  });

  it('0 removes every VF with its links, groups and net links, even a vfio-pci one', () => {
    const { root, host } = tree();
    const before = snapshot(root, (rel) => rel.startsWith('.sysfs-sim') || rel === 'dev');
    host.writeAttribute(dev('0000:02:00.0', 'sriov_numvfs'), '2');
    host.writeAttribute(drv('igbvf', 'unbind'), '0000:02:10.0');
    host.writeAttribute(dev('0000:02:10.0', 'driver_override'), 'vfio-pci');
    host.writeAttribute('/sys/bus/pci/drivers_probe', '0000:02:10.0');
    expect(host.exists('/dev/vfio/40')).toBe(true);
    host.writeAttribute(dev('0000:02:00.0', 'sriov_numvfs'), '0');
    expect(host.exists(dev('0000:02:10.0'))).toBe(false);
    expect(host.exists('/sys/kernel/iommu_groups/40')).toBe(false);
    expect(host.exists('/dev/vfio/40')).toBe(false);
    expect(danglingLinks(root)).toEqual([]);
    expect(host.list('/sys/class/net')).toEqual(['enp2s0f0']);
    expect(host.list('/sys/bus/pci/drivers/igbvf')).toEqual(['bind', 'new_id', 'remove_id', 'uevent', 'unbind']);
    expect(snapshot(root, (rel) => rel.startsWith('.sysfs-sim') || rel === 'dev')).toEqual(before);
  });

  it('gives ERANGE above sriov_totalvfs, EINVAL for a non-number, ENOENT without a PF driver', () => {
    const { host } = tree();
    expect(hostCode(() => host.writeAttribute(dev('0000:02:00.0', 'sriov_numvfs'), '5'))).toBe('ERANGE');
    expect(hostCode(() => host.writeAttribute(dev('0000:02:00.0', 'sriov_numvfs'), '70000'))).toBe('ERANGE');
    expect(hostCode(() => host.writeAttribute(dev('0000:02:00.0', 'sriov_numvfs'), 'two'))).toBe('EINVAL');
    expect(hostCode(() => host.writeAttribute(dev('0000:02:00.0', 'sriov_numvfs'), '-1'))).toBe('EINVAL');
    host.writeAttribute(drv('igb', 'unbind'), '0000:02:00.0');
    expect(hostCode(() => host.writeAttribute(dev('0000:02:00.0', 'sriov_numvfs'), '1'))).toBe('ENOENT');
  });

  it('leaves VFs unbound when sriov_drivers_autoprobe is 0, until an override allows a probe', () => {
    const { host } = tree();
    host.writeAttribute(dev('0000:02:00.0', 'sriov_drivers_autoprobe'), '0\n');
    expect(host.readAttribute(dev('0000:02:00.0', 'sriov_drivers_autoprobe'))).toBe('0');
    expect(hostCode(() => host.writeAttribute(dev('0000:02:00.0', 'sriov_drivers_autoprobe'), 'maybe'))).toBe('EINVAL');
    host.writeAttribute(dev('0000:02:00.0', 'sriov_numvfs'), '1');
    expect(host.readlink(dev('0000:02:10.0', 'driver'))).toBeUndefined();
    expect(hostCode(() => host.writeAttribute(drv('igbvf', 'bind'), '0000:02:10.0'))).toBe('ENODEV');
    host.writeAttribute(dev('0000:02:10.0', 'driver_override'), 'vfio-pci');
    host.writeAttribute(drv('vfio-pci', 'bind'), '0000:02:10.0');
    expect(host.linkName(dev('0000:02:10.0', 'driver'))).toBe('vfio-pci');
  });
});

describe('remove, rescan, reset', () => {
  it('remove hot-unplugs one function: folder, links and its place in the group go', () => {
    const { host } = tree(WORKSTATION);
    host.writeAttribute(dev('0000:01:00.1', 'remove'), '1\n');
    expect(host.exists(dev('0000:01:00.1'))).toBe(false);
    expect(host.lstat(dev('0000:01:00.1'))).toBeUndefined();
    expect(host.exists('/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.1')).toBe(false);
    expect(host.list('/sys/bus/pci/drivers/snd_hda_intel')).not.toContain('0000:01:00.1');
    expect(host.list('/sys/kernel/iommu_groups/12/devices')).toEqual(['0000:01:00.0', '0000:01:00.2', '0000:01:00.3']);
  });

  it('removing a bridge removes what is behind it, and empty groups go', () => {
    const { host, root } = tree(WORKSTATION);
    host.writeAttribute(dev('0000:00:01.0', 'remove'), '1');
    for (const address of ['0000:00:01.0', ...GPU]) expect(host.lstat(dev(address))).toBeUndefined();
    expect(host.exists('/sys/kernel/iommu_groups/12')).toBe(false);
    expect(host.exists('/sys/kernel/iommu_groups/1')).toBe(false);
    expect(host.list('/sys/class/drm')).toEqual(['card0', 'renderD128']);
    expect(host.list('/dev/dri')).toEqual(['card0', 'renderD128']);
    expect(host.list('/sys/bus/pci/drivers/nvidia')).not.toContain('0000:01:00.0');
    expect(danglingLinks(root)).toEqual([]);
  });

  it('rescan brings back what remove took, probed again; a device rescan only what is below it', () => {
    const { host, root } = tree(WORKSTATION);
    const before = snapshot(root);
    host.writeAttribute(dev('0000:01:00.1', 'driver_override'), 'vfio-pci');
    host.writeAttribute(dev('0000:01:00.1', 'remove'), '1');
    host.writeAttribute(dev('0000:00:01.0', 'remove'), '1');
    expect(host.lstat(dev('0000:01:00.0'))).toBeUndefined();
    expect(fs.existsSync(path.join(root, SIM_REMOVED_FILE))).toBe(true);
    // Another device's rescan finds nothing of it; the bus rescan finds it all, as before the
    // removals (a new pci_dev has no driver_override; the drivers probe it again).
    host.writeAttribute(dev('0000:00:02.0', 'rescan'), '1');
    expect(host.lstat(dev('0000:00:01.0'))).toBeUndefined();
    host.writeAttribute('/sys/bus/pci/rescan', '0');
    expect(host.lstat(dev('0000:00:01.0'))).toBeUndefined();
    host.writeAttribute('/sys/bus/pci/rescan', '1');
    expect(snapshot(root)).toEqual(before);
    expect(GPU.map((a) => host.linkName(dev(a, 'driver')))).toEqual(GPU_DRIVERS);
    expect(fs.existsSync(path.join(root, SIM_REMOVED_FILE))).toBe(false);
    expect(danglingLinks(root)).toEqual([]);
  });

  it('a bridge rescan brings back the functions removed below it; VFs and hot-unplugged devices do not return', () => {
    const { host, root, kernel } = tree();
    host.writeAttribute(dev('0000:02:00.0', 'sriov_numvfs'), '2');
    host.writeAttribute(dev('0000:02:00.0', 'remove'), '1');
    host.writeAttribute(dev('0000:02:00.1', 'remove'), '1');
    kernel.removeDevice('0000:03:00.0');
    host.writeAttribute(dev('0000:00:01.0', 'rescan'), '1');
    expect(host.list('/sys/bus/pci/devices')).toEqual(expect.arrayContaining(['0000:02:00.0', '0000:02:00.1']));
    expect(host.lstat(dev('0000:03:00.0'))).toBeUndefined();
    expect(host.lstat(dev('0000:02:10.0'))).toBeUndefined();
    expect(host.readText(dev('0000:02:00.0', 'sriov_numvfs')).trim()).toBe('0');
    expect(host.linkName(dev('0000:02:00.0', 'driver'))).toBe('igb');
    expect(host.list('/sys/class/net')).toContain('enp2s0f0');
    expect(danglingLinks(root)).toEqual([]);
  });

  it('remove 0 does nothing; a non-number is EINVAL; a vanished device is ENODEV', () => {
    const { host, kernel } = tree(WORKSTATION);
    host.writeAttribute(dev('0000:01:00.1', 'remove'), '0');
    expect(host.exists(dev('0000:01:00.1'))).toBe(true);
    expect(hostCode(() => host.writeAttribute(dev('0000:01:00.1', 'remove'), 'yes'))).toBe('EINVAL');
    host.writeAttribute(dev('0000:01:00.1', 'remove'), '1');
    expect(codeOf(() => kernel.write(dev('0000:01:00.1', 'driver_override'), 'vfio-pci'))).toBe('ENODEV');
    expect(codeOf(() => kernel.write('/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.1/driver_override', 'vfio-pci'))).toBe('ENODEV');
    expect(codeOf(() => kernel.write(drv('snd_hda_intel', 'unbind'), '0000:01:00.1'))).toBe('ENODEV');
  });

  it('rescan is accepted', () => {
    const { host } = tree();
    host.writeAttribute('/sys/bus/pci/rescan', '1');
    host.writeAttribute(dev('0000:02:00.0', 'rescan'), '1');
    expect(hostCode(() => host.writeAttribute('/sys/bus/pci/rescan', 'x'))).toBe('EINVAL');
  });

  it('reset works with a reset method, gives ENOTTY without one and EINVAL for anything but 1', () => {
    const { host } = tree(WORKSTATION);
    host.writeAttribute(dev('0000:01:00.0', 'reset'), '1');
    expect(hostCode(() => host.writeAttribute(dev('0000:01:00.1', 'reset'), '1'))).toBe('ENOTTY');
    expect(hostCode(() => host.writeAttribute(dev('0000:01:00.0', 'reset'), '2'))).toBe('EINVAL');
  });
});

describe('attribute rules', () => {
  it('read-only attributes and files sysfs does not have are EACCES', () => {
    const { host, kernel } = tree();
    expect(hostCode(() => host.writeAttribute(dev('0000:02:00.0', 'vendor'), '0x1234'))).toBe('EACCES');
    expect(hostCode(() => host.writeAttribute(dev('0000:02:00.0', 'sriov_totalvfs'), '8'))).toBe('EACCES');
    expect(hostCode(() => host.writeAttribute(dev('0000:02:00.0', 'no_such_attribute'), '1'))).toBe('EACCES');
    expect(codeOf(() => kernel.write('/proc/cmdline', 'quiet'))).toBe('EACCES');
    expect(codeOf(() => kernel.write('/sys/bus/pci/devices/0000:02:00.0/../../../../../etc/passwd', 'x'))).toBe('EACCES');
    expect(codeOf(() => kernel.write(dev('0000:02:00.0', 'net'), 'x'))).toBe('EISDIR');
    expect(host.readAttribute(dev('0000:02:00.0', 'vendor'))).toBe('0x8086');
  });

  it('other writable attributes store their value; uevent takes only actions', () => {
    const { host } = tree();
    host.writeAttribute(dev('0000:02:00.0', 'enable'), '0\n');
    expect(host.readAttribute(dev('0000:02:00.0', 'enable'))).toBe('0');
    const uevent = host.readText(dev('0000:02:00.0', 'uevent'));
    host.writeAttribute(dev('0000:02:00.0', 'uevent'), 'change');
    host.writeAttribute(drv('igb', 'uevent'), 'add');
    expect(host.readText(dev('0000:02:00.0', 'uevent'))).toBe(uevent);
    expect(hostCode(() => host.writeAttribute(dev('0000:02:00.0', 'uevent'), 'explode'))).toBe('EINVAL');
    host.writeAttribute('/sys/bus/pci/drivers_autoprobe', '0');
    expect(host.readAttribute('/sys/bus/pci/drivers_autoprobe')).toBe('0');
  });

  it('bus drivers_autoprobe 0 keeps new VFs unbound', () => {
    const { host } = tree();
    host.writeAttribute('/sys/bus/pci/drivers_autoprobe', '0');
    host.writeAttribute(dev('0000:02:00.0', 'sriov_numvfs'), '1');
    expect(host.readlink(dev('0000:02:10.0', 'driver'))).toBeUndefined();
  });
});

describe('the record of writes', () => {
  it('records path, data, result and time of every write, and logs them for other processes', () => {
    let clock = 1000;
    const { host, kernel, root } = tree(LAB, { now: () => clock++ });
    host.writeAttribute(dev('0000:02:00.1', 'driver_override'), 'vfio-pci\n');
    expect(() => host.writeAttribute(drv('igb', 'bind'), '0000:02:00.0')).toThrow();
    host.writeAttribute('/sys/bus/pci/drivers_probe', '0000:02:00.1');
    expect(kernel.writes).toEqual([
      { path: dev('0000:02:00.1', 'driver_override'), data: 'vfio-pci\n', result: 'ok', at: 1000 },
      { path: drv('igb', 'bind'), data: '0000:02:00.0', result: 'EBUSY', at: 1001 },
      { path: '/sys/bus/pci/drivers_probe', data: '0000:02:00.1', result: 'ok', at: 1002 },
    ]);
    expect(SimulatedKernel.writeLog(root)).toEqual(kernel.writes);
    expect(fs.existsSync(path.join(root, SIM_WRITE_LOG_FILE))).toBe(true);
  });

  it('can leave the log file alone', () => {
    const { root } = tree();
    const kernel = new SimulatedKernel(root, { logWrites: false });
    kernel.write(dev('0000:02:00.1', 'driver_override'), 'vfio-pci');
    expect(kernel.writes).toHaveLength(1);
    expect(SimulatedKernel.writeLog(root)).toEqual([]);
  });
});

describe('persistence across instances', () => {
  it('a second kernel on the tree sees the dynamic ids of the first', () => {
    const { root, host } = tree();
    host.writeAttribute(drv('vfio-pci', 'new_id'), '1b36 0010');
    const second = new HostFs(root, { kernel: new SimulatedKernel(root) });
    expect(hostCode(() => second.writeAttribute(drv('vfio-pci', 'new_id'), '1b36 0010'))).toBe('EEXIST');
    second.writeAttribute(drv('vfio-pci', 'remove_id'), '1b36 0010');
    expect(hostCode(() => host.writeAttribute(drv('vfio-pci', 'remove_id'), '1b36 0010'))).toBe('ENODEV');
    // A dynamic id added by the second kernel makes the first one's drivers_probe bind.
    host.writeAttribute(drv('igb', 'unbind'), '0000:02:00.0');
    second.writeAttribute(drv('pcieport', 'new_id'), '8086 1521');
    expect(host.linkName(dev('0000:02:00.0', 'driver'))).toBe('pcieport');
    const state = JSON.parse(fs.readFileSync(path.join(root, SIM_KERNEL_STATE_FILE), 'utf8'));
    expect(state.dynamicIds.pcieport).toHaveLength(1);
  });

  it('static id tables come from the spec, then from what the spec binds', () => {
    const { kernel } = tree(WORKSTATION);
    expect(kernel.idTable('nvidia')).toEqual(['10de:2684']);
    expect(kernel.idTable('xhci_hcd').sort()).toEqual(['10de:1ad8', '8086:7a60']);
    expect(kernel.idTable('vfio-pci')).toEqual([]);
    const lab = tree();
    expect(lab.kernel.idTable('igbvf')).toEqual(['8086:1520']);
  });
});

describe('a captured tree (no host spec)', () => {
  function captured() {
    const { root } = tree();
    fs.rmSync(path.join(root, '.sysfs-sim'), { recursive: true });
    return root;
  }

  it('forTree gives undefined, yet a kernel built directly follows the generic rules', () => {
    const root = captured();
    expect(SimulatedKernel.forTree(root)).toBeUndefined();
    const kernel = new SimulatedKernel(root);
    expect(kernel.spec).toBeUndefined();
    expect(kernel.idTable('igb')).toEqual(['8086:1521']);
    const host = new HostFs(root, { kernel });
    host.writeAttribute(dev('0000:02:00.0', 'driver_override'), 'vfio-pci');
    host.writeAttribute(drv('igb', 'unbind'), '0000:02:00.0');
    host.writeAttribute('/sys/bus/pci/drivers_probe', '0000:02:00.0');
    expect(host.linkName(dev('0000:02:00.0', 'driver'))).toBe('vfio-pci');
    host.writeAttribute(dev('0000:02:00.0', 'driver_override'), '\n');
    host.writeAttribute(drv('vfio-pci', 'unbind'), '0000:02:00.0');
    host.writeAttribute('/sys/bus/pci/drivers_probe', '0000:02:00.0');
    expect(host.linkName(dev('0000:02:00.0', 'driver'))).toBe('igb');
    // The unbound port shares the PF id, so the table captured from the PF matches it.
    host.writeAttribute('/sys/bus/pci/drivers_probe', '0000:02:00.1');
    expect(host.linkName(dev('0000:02:00.1', 'driver'))).toBe('igb');
  });

  it('keeps the id tables of the first load, and enables VFs from the PF attributes', () => {
    const root = captured();
    const host = new HostFs(root, { kernel: new SimulatedKernel(root) });
    host.writeAttribute(drv('igb', 'unbind'), '0000:02:00.0');
    const later = new HostFs(root, { kernel: new SimulatedKernel(root) });
    later.writeAttribute('/sys/bus/pci/drivers_probe', '0000:02:00.0');
    expect(later.linkName(dev('0000:02:00.0', 'driver'))).toBe('igb');
    later.writeAttribute(dev('0000:02:00.0', 'sriov_numvfs'), '2');
    expect(later.linkName(dev('0000:02:10.1', 'physfn'))).toBe('0000:02:00.0');
    expect(later.readAttribute(dev('0000:02:10.1', 'device'))).toBe('0x1520');
    expect(later.linkName(dev('0000:02:10.1', 'iommu_group'))).toBe('6');
    expect(later.readlink(dev('0000:02:10.1', 'driver'))).toBeUndefined();
    later.writeAttribute(dev('0000:02:00.0', 'sriov_numvfs'), '0');
    expect(later.list('/sys/bus/pci/devices')).not.toContain('0000:02:10.0');
  });
});

describe('the GPU scenario', () => {
  it('binds the four functions of group 12 to vfio-pci and back; /dev/vfio/12 comes and goes', () => {
    const { host, root } = tree(WORKSTATION);
    const before = snapshot(root);
    expect(host.exists('/dev/vfio/12')).toBe(false);
    GPU.forEach((address, i) => {
      host.writeAttribute(dev(address, 'driver_override'), 'vfio-pci');
      host.writeAttribute(drv(GPU_DRIVERS[i]!, 'unbind'), address);
      host.writeAttribute('/sys/bus/pci/drivers_probe', address);
      expect(host.linkName(dev(address, 'driver'))).toBe('vfio-pci');
      expect(host.exists('/dev/vfio/12')).toBe(true);
    });
    expect(host.list('/sys/bus/pci/drivers/vfio-pci').filter((n) => n.startsWith('0000:'))).toEqual(GPU);
    expect(host.readText(dev('0000:01:00.3', 'uevent')).split('\n')[0]).toBe('DRIVER=vfio-pci');
    GPU.forEach((address, i) => {
      host.writeAttribute(dev(address, 'driver_override'), '\n');
      host.writeAttribute(drv('vfio-pci', 'unbind'), address);
      expect(host.exists('/dev/vfio/12')).toBe(i < GPU.length - 1);
      host.writeAttribute('/sys/bus/pci/drivers_probe', address);
      expect(host.linkName(dev(address, 'driver'))).toBe(GPU_DRIVERS[i]);
    });
    expect(snapshot(root)).toEqual(before);
    expect(fs.existsSync(path.join(root, SIM_SPEC_FILE))).toBe(true);
  });
});
