// Issue 15: the reset.<address> check (FLR, bus reset only with what it hits, known no-reset
// families and vendor-reset, FLR from config space without reset_method) and the iommufd check.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { afterAll, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../src/DoctorReport';
import { flrFromConfig, noResetFamily } from '../src/ResetCapability';
import { runChecks } from '../src/runChecks';
import { cleanupFixtures, fixtureRoot, variantRoot } from './fixtureHosts';

afterAll(cleanupFixtures);

const byId = (r: DoctorReport, id: string) => r.checks.find((c) => c.id === id)!;
const reset = (root: string, address: string) => byId(runChecks(new HostFs(root), { devices: [address] }), `reset.${address}`);
const iommufd = (root: string) => byId(runChecks(new HostFs(root)), 'iommufd');

describe('reset.<address>', () => {
  it('FLR: the device resets by itself', () => {
    const c = reset(fixtureRoot('sriov-server'), '0000:18:00.0');
    expect(c.status).toBe('PASS');
    expect(c.summary).toBe('0000:18:00.0 resets by itself (flr, bus as fallback).');
    expect(c.evidence).toContain('/sys/bus/pci/devices/0000:18:00.0/reset_method: flr bus');
  });

  it('bus reset only, hitting only the functions of the same card: PASS, naming them', () => {
    const c = reset(fixtureRoot('intel-workstation'), '0000:01:00.0');
    expect(c.status).toBe('PASS');
    expect(c.summary).toMatch(
      /resets only by a secondary bus reset of bridge 0000:00:01\.0: it also resets 0000:01:00\.1, 0000:01:00\.2, 0000:01:00\.3 \(functions of the same card/,
    );
  });

  it('bus reset only, hitting another card on the same bus: WARN naming it', () => {
    const c = reset(fixtureRoot('upgrade-before'), '0000:03:00.0');
    expect(c.status).toBe('WARN');
    expect(c.summary).toMatch(/secondary bus reset of bridge 0000:02:00\.0, which also resets devices of other cards: 0000:03:01\.0 .*\(driver serial\)/);
    expect(c.remediation).toMatch(/Pass 0000:03:01\.0 to the same VM/);
  });

  it('a known no-reset family: WARN with vendor-reset, PASS once vendor-reset is loaded and device_specific offered', () => {
    expect(noResetFamily('1002', '731f')).toBe('AMD Navi 10');
    expect(noResetFamily('10de', '2684')).toBeUndefined();
    const before = reset(fixtureRoot('upgrade-before'), '0000:01:00.0');
    expect(before.status).toBe('WARN');
    expect(before.summary).toMatch(/AMD Navi 10 GPU, known not to come back from a reset \(bus offered\) without the out-of-tree vendor-reset module/);
    expect(before.remediation).toMatch(/echo device_specific > \/sys\/bus\/pci\/devices\/0000:01:00\.0\/reset_method/);
    const root = variantRoot('upgrade-before', 'upgrade-vendor-reset', (spec) => {
      spec.modules.push('vendor_reset');
      spec.devices.find((d: { address: string }) => d.address === '0000:01:00.0').resetMethods = ['device_specific', 'bus'];
    });
    const after = reset(root, '0000:01:00.0');
    expect(after.status).toBe('PASS');
    expect(after.evidence).toContain('/proc/modules: vendor_reset loaded');
  });

  it('a kernel without reset_method: FLR read from the PCIe Device Capabilities in config space', () => {
    const old = (spec: Record<string, any>) => {
      spec.kernelRelease = '5.10.0-28-amd64';
    };
    const root = variantRoot('sriov-server', 'sriov-old-kernel', old);
    fs.rmSync(path.join(root, 'sys/bus/pci/devices/0000:18:00.0/reset_method'));
    fs.rmSync(path.join(root, 'sys/bus/pci/devices/0000:01:00.0/reset_method'));
    const c = reset(root, '0000:18:00.0');
    expect(c.status).toBe('PASS');
    expect(c.evidence).toEqual(
      expect.arrayContaining([
        '/sys/bus/pci/devices/0000:18:00.0/reset_method: absent (kernel 5.10.0-28-amd64: before 5.15, or unknown)',
        '/sys/bus/pci/devices/0000:18:00.0/config: PCIe Device Capabilities FLR +',
      ]),
    );
    const gpuRoot = variantRoot('intel-workstation', 'ws-old-kernel', old);
    fs.rmSync(path.join(gpuRoot, 'sys/bus/pci/devices/0000:01:00.0/reset_method'));
    const gpu = reset(gpuRoot, '0000:01:00.0');
    expect(gpu.evidence).toContain('/sys/bus/pci/devices/0000:01:00.0/config: PCIe Device Capabilities FLR -');
    expect(gpu.summary).toMatch(/resets only by a secondary bus reset/);
    expect(flrFromConfig(new Uint8Array(64))).toBeUndefined();
  });

  it('on Linux 5.15+ an absent reset_method means no reset method (the kernel hides the file); the card resets it with its bus reset', () => {
    const c = reset(fixtureRoot('intel-workstation'), '0000:01:00.1');
    expect(c.status).toBe('PASS');
    expect(c.summary).toBe('0000:01:00.1 has no reset of its own; it is reset with its card, by the secondary bus reset that 0000:01:00.0 offers.');
    expect(c.evidence).toContain('/sys/bus/pci/devices/0000:01:00.1/reset_method: absent (kernel 6.1.0-28-amd64 hides it when the device has no reset method)');
  });

  it('a device without any reset method: WARN', () => {
    const root = variantRoot('sriov-server', 'sriov-no-reset', (spec) => {
      spec.devices.find((d: { address: string }) => d.address === '0000:5e:00.0').resetMethods = [];
    });
    const c = reset(root, '0000:5e:00.0');
    expect(c.status).toBe('WARN');
    expect(c.summary).toMatch(/offers no reset method/);
  });
});

describe('iommufd', () => {
  it('without /dev/iommu (kernel without CONFIG_IOMMUFD): PASS on the legacy path, saying IOMMUFD is not available', () => {
    const c = iommufd(fixtureRoot('upgrade-before'));
    expect(c.status).toBe('PASS');
    expect(c.summary).toMatch(/^IOMMUFD is not available \(the kernel is built without CONFIG_IOMMUFD\); passthrough uses the legacy vfio container/);
    expect(c.evidence).toContain('/dev/iommu: absent');
  });

  it('with /dev/iommu and a cdev for every device on vfio-pci: ready', () => {
    const c = iommufd(fixtureRoot('upgrade-after'));
    expect(c.status).toBe('PASS');
    expect(c.summary).toMatch(/^IOMMUFD is ready/);
    expect(c.evidence).toContain('/sys/bus/pci/devices/0000:0a:00.0/vfio-dev: vfio0 (/dev/vfio/devices/vfio0 present)');
  });

  it('with /dev/iommu but a device on vfio-pci without its cdev: WARN naming it', () => {
    const root = variantRoot('upgrade-after', 'upgrade-no-cdev', () => {});
    fs.rmSync(path.join(root, 'sys/bus/pci/devices/0000:0a:00.1/vfio-dev'), { recursive: true });
    const c = iommufd(root);
    expect(c.status).toBe('WARN');
    expect(c.summary).toMatch(/0000:0a:00\.1 on vfio-pci has no vfio device cdev/);
  });

  it('CONFIG_IOMMUFD=m but not loaded: WARN with modprobe iommufd', () => {
    const root = variantRoot('upgrade-after', 'upgrade-iommufd-module', (spec) => {
      spec.modules = spec.modules.filter((m: string) => m !== 'iommufd');
      spec.files['/boot/config-6.8.0-45-generic'] = 'CONFIG_IOMMUFD=m\nCONFIG_VFIO_DEVICE_CDEV=y\n';
    });
    const c = iommufd(root);
    expect(c.status).toBe('WARN');
    expect(c.remediation).toMatch(/^modprobe iommufd/);
  });
});
