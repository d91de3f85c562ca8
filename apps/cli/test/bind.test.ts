import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanFixtures, cli, driverOf, fixtureCopy, kernelWrites } from './runCli';

afterEach(cleanFixtures);
const GPU = ['0000:01:00.0', '0000:01:00.1', '0000:01:00.2', '0000:01:00.3'];

function put(root: string, hostPath: string, content: string) {
  fs.mkdirSync(path.dirname(path.join(root, hostPath)), { recursive: true });
  fs.writeFileSync(path.join(root, hostPath), content);
}
function link(root: string, hostPath: string, target: string) {
  fs.mkdirSync(path.dirname(path.join(root, hostPath)), { recursive: true });
  fs.symlinkSync(target, path.join(root, hostPath));
}

describe('passthru bind / restore on a fixture tree', () => {
  it('--dry-run prints every write and writes nothing', async () => {
    const root = fixtureCopy('intel-workstation');
    const r = await cli('--root', root, 'bind', '01:00.0', '--dry-run');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('echo vfio-pci > /sys/bus/pci/devices/0000:01:00.0/driver_override');
    expect(r.stdout).toContain('echo 0000:01:00.3 > /sys/bus/pci/drivers_probe');
    expect(kernelWrites(root)).toEqual([]);
  });

  it('binds the whole GPU, list shows it, a second bind writes nothing, restore puts it back', async () => {
    const root = fixtureCopy('intel-workstation');
    const r = await cli('--root', root, 'bind', '10de:2684');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Bound 4 device\(s\) to vfio-pci with 12 writes/);
    expect(GPU.map((a) => driverOf(root, a))).toEqual(['vfio-pci', 'vfio-pci', 'vfio-pci', 'vfio-pci']);
    const list = JSON.parse((await cli('--root', root, 'list', '--class', 'gpu', '--format', 'json')).stdout);
    expect(list.devices.find((d: { address: string }) => d.address === '0000:01:00.0').driver).toBe('vfio-pci');
    const writes = kernelWrites(root).length;
    expect((await cli('--root', root, 'bind', '01:00.0')).stdout).toContain('Nothing to do');
    expect(kernelWrites(root).length).toBe(writes);
    const back = await cli('--root', root, 'restore', '--all');
    expect(back.code).toBe(0);
    expect(GPU.map((a) => driverOf(root, a))).toEqual(['nvidia', 'snd_hda_intel', 'xhci_hcd', 'nvidia-gpu']);
  });

  it.each([['0000:01:00.8'], ['../../'], [''], ['x'.repeat(10_000)], ['\u00fcnic\u00f8de'], ['01:00.0', '--bogus']])(
    'bad input %# exits 2 with a clear message and writes nothing',
    async (...args) => {
      const root = fixtureCopy('intel-workstation');
      const r = await cli('--root', root, 'bind', ...args);
      expect(r.code).toBe(2);
      expect(r.stderr.length).toBeGreaterThan(0);
      expect(r.stderr.length).toBeLessThan(2000);
      expect(kernelWrites(root)).toEqual([]);
    },
  );

  it('a missing --root is a usage error', async () => {
    const r = await cli('--root', '/nonexistent/passthru', 'list');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--root folder must exist/);
  });
});

describe('guards refuse without --force (exit 1, zero writes) and pass with it', () => {
  const cases: Array<[string, string, string, (root: string) => void]> = [
    ['boot-vga', 'intel-workstation', '00:02.0', () => {}],
    [
      'default-route',
      'intel-workstation',
      'eno1',
      (root) =>
        put(
          root,
          '/proc/net/route',
          'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\neno1\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n',
        ),
    ],
    ['only-nic-up', 'intel-workstation', 'eno1', (root) => put(root, '/sys/class/net/eno1/operstate', 'up\n')],
    [
      'mounted-block',
      'intel-workstation',
      '00:17.0',
      (root) => {
        const ahci = fs.realpathSync(path.join(root, 'sys/bus/pci/devices/0000:00:17.0'));
        fs.mkdirSync(path.join(ahci, 'ata1/host0/target0:0:0/0:0:0:0/block/sda'), { recursive: true });
        link(root, '/sys/class/block/sda', path.relative(path.join(root, 'sys/class/block'), path.join(ahci, 'ata1/host0/target0:0:0/0:0:0:0/block/sda')));
        put(root, '/proc/mounts', '/dev/sda2 / ext4 rw,relatime 0 0\nproc /proc proc rw 0 0\n');
      },
    ],
    [
      'device-in-use',
      'intel-workstation',
      '01:00.0',
      (root) => {
        link(root, '/proc/4242/fd/7', '/dev/dri/card1');
        put(root, '/proc/4242/comm', 'Xorg\n');
      },
    ],
    [
      'managed-by-libvirt',
      'intel-workstation',
      '01:00.0',
      (root) =>
        put(
          root,
          '/etc/libvirt/qemu/win11.xml',
          "<domain><devices><hostdev mode='subsystem' type='pci'><source><address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source></hostdev></devices></domain>\n",
        ),
    ],
    ['foreign-endpoint', 'amd-shared-group', '0000:06:00.0', () => {}],
  ];

  it.each(cases)('%s', async (id, fixture, target, arrange) => {
    const root = fixtureCopy(fixture);
    arrange(root);
    const refused = await cli('--root', root, 'bind', target);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`[${id}]`);
    expect(refused.stderr).toContain('evidence:');
    expect(kernelWrites(root)).toEqual([]);
    const forced = await cli('--root', root, 'bind', target, '--force');
    expect(forced.stderr).toContain('overridden (--force)');
    expect(forced.code).toBe(0);
    expect(kernelWrites(root).length).toBeGreaterThan(0);
  });
});
