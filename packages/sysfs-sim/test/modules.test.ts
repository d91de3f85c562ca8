// `modprobe vfio-pci` on a simulated tree, the real id tables of a captured tree
// (modules.alias), and what capture keeps of the live state bind's guards read. Each was found
// by the kernel lab holding the simulator to Debian's kernel (tools/kernel-lab).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedKernel, capture, loadHostSpec, materialize } from '../src/index';
import { parseModalias } from '../src/kernel/IdTables';

const spec = (name: string) => fileURLToPath(new URL(`../../../fixtures/specs/${name}.yaml`, import.meta.url));
const made: string[] = [];
afterEach(() => {
  for (const r of made.splice(0)) fs.rmSync(r, { recursive: true, force: true });
});
const tmp = (prefix: string) => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
};
const at = (root: string, p: string) => path.join(root, p);
const driverOf = (root: string, address: string) => {
  try {
    return path.basename(fs.readlinkSync(at(root, `sys/bus/pci/devices/${address}/driver`)));
  } catch {
    return null;
  }
};

describe('parseModalias (file2alias patterns of modules.alias)', () => {
  it.each([
    ['pci:v00008086d0000100Esv*sd*bc*sc*i*', { vendor: 0x8086, device: 0x100e, subvendor: 0xffffffff, subdevice: 0xffffffff, class: 0, classMask: 0 }],
    ['pci:v*d*sv*sd*bc04sc03i00*', { vendor: 0xffffffff, device: 0xffffffff, class: 0x040300, classMask: 0xffffff }],
    ['pci:v00001AF4d*sv*sd*bc01sc08i*', { vendor: 0x1af4, device: 0xffffffff, class: 0x010800, classMask: 0xffff00 }],
  ])('%s', (pattern, want) => {
    expect(parseModalias(pattern)).toMatchObject(want);
  });
  it('a partial wildcard inside a field is no pci_device_id', () => {
    expect(parseModalias('pci:v00008086d00001*sv*sd*bc*sc*i*')).toBeUndefined();
  });
});

describe('loadModule: modprobe vfio-pci on a simulated tree', () => {
  it("refuses with modprobe's words when the tree's kernel lacks it, and changes nothing", () => {
    const root = tmp('sim-mod-');
    materialize(loadHostSpec(spec('intel-iommu-off')), root);
    expect(fs.existsSync(at(root, 'sys/bus/pci/drivers/vfio-pci'))).toBe(false);
    const kernel = new SimulatedKernel(root, { logWrites: false });
    expect(() => kernel.loadModule('vfio-pci')).toThrow(/Module vfio_pci not found in directory \/lib\/modules\//);
    expect(fs.existsSync(at(root, 'sys/bus/pci/drivers/vfio-pci'))).toBe(false);
    expect(kernel.writes.map((w) => [w.path, w.data, w.result])).toEqual([['modprobe', 'vfio-pci', 'ENOENT']]);
  });

  it('loads it where modules.dep lists it: the driver registers, /dev/vfio/vfio appears, a device waiting with driver_override=vfio-pci is bound', () => {
    const root = tmp('sim-mod-');
    materialize(loadHostSpec(spec('intel-iommu-off')), root);
    const release = fs.readFileSync(at(root, 'proc/sys/kernel/osrelease'), 'utf8').trim();
    fs.writeFileSync(at(root, `lib/modules/${release}/modules.dep`), 'kernel/drivers/vfio/pci/vfio-pci.ko: kernel/drivers/vfio/vfio.ko\n');
    const kernel = new SimulatedKernel(root, { logWrites: false });
    kernel.write('/sys/bus/pci/devices/0000:01:00.0/driver_override', 'vfio-pci');
    kernel.write('/sys/bus/pci/devices/0000:01:00.0/driver/unbind', '0000:01:00.0');
    expect(driverOf(root, '0000:01:00.0')).toBeNull();
    kernel.loadModule('vfio_pci');
    expect(fs.existsSync(at(root, 'sys/bus/pci/drivers/vfio-pci/bind'))).toBe(true);
    expect(fs.existsSync(at(root, 'dev/vfio/vfio'))).toBe(true);
    expect(fs.existsSync(at(root, 'sys/module/vfio_pci'))).toBe(true);
    // No IOMMU group on this host: vfio-pci's probe refuses the device, as the kernel's does.
    expect(driverOf(root, '0000:01:00.0')).toBeNull();
    kernel.loadModule('vfio-pci');
    expect(kernel.writes.filter((w) => w.path === 'modprobe').map((w) => w.result)).toEqual(['ok', 'ok']);
  });
});

describe('capture keeps what bind and restore need of a live host', () => {
  it("default routes with their gateways zeroed, block-device mounts and swaps, block devices, the vfio module entries and the drivers' aliases", () => {
    const src = tmp('cap-src-');
    materialize(loadHostSpec(spec('intel-workstation')), src);
    const release = fs.readFileSync(at(src, 'proc/sys/kernel/osrelease'), 'utf8').trim();
    const write = (p: string, text: string) => {
      fs.mkdirSync(path.dirname(at(src, p)), { recursive: true });
      fs.writeFileSync(at(src, p), text);
    };
    write(
      'proc/net/route',
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\neno1\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\neno1\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n',
    );
    write('proc/mounts', 'sysfs /sys sysfs rw 0 0\n/dev/nvme0n1p2 / ext4 rw 0 0\nhost /mnt 9p ro 0 0\n');
    write('proc/swaps', 'Filename\tType\tSize\tUsed\tPriority\n/dev/nvme0n1p3 partition 1 0 -2\n');
    write(`lib/modules/${release}/modules.dep`, 'kernel/drivers/vfio/pci/vfio-pci.ko: kernel/drivers/vfio/vfio.ko\nkernel/drivers/net/e1000e.ko:\n');
    write(`lib/modules/${release}/modules.alias`, 'alias pci:v00008086d000015B8sv*sd*bc*sc*i* e1000e\nalias pci:v000010ECd00008168sv*sd*bc*sc*i* r8169\n');
    const out = path.join(tmp('cap-out-'), 'x');
    capture(src, out);
    const read = (p: string) => fs.readFileSync(at(out, p), 'utf8');
    expect(read('proc/net/route').split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(/^Iface/),
      'eno1\t00000000\t00000000\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    ]);
    expect(read('proc/mounts')).toBe('/dev/nvme0n1p2 / ext4 rw 0 0\n');
    expect(read('proc/swaps')).toBe('Filename\tType\tSize\tUsed\tPriority\n/dev/nvme0n1p3 partition 1 0 -2\n');
    expect(read(`lib/modules/${release}/modules.dep`)).toBe('kernel/drivers/vfio/pci/vfio-pci.ko: kernel/drivers/vfio/vfio.ko\n');
    expect(read(`lib/modules/${release}/modules.alias`)).toBe('alias pci:v00008086d000015B8sv*sd*bc*sc*i* e1000e\n');
  });
});
