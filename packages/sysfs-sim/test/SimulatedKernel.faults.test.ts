import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HostFs } from '@passthru/hostfs';
import { afterEach, describe, expect, it } from 'vitest';
import { hostCode } from './hostCode';
import { SimulatedKernel, SysfsSimError, loadHostSpec, materialize, type SimulatedKernelOptions } from '../src/index';
import { globToRegExp } from '../src/kernel/faults';
import { SIM_FAULTS_FILE } from '../src/kernel/sidecar';

const WORKSTATION = fileURLToPath(new URL('../../../fixtures/specs/intel-workstation.yaml', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tree(options: SimulatedKernelOptions = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'simkernel-faults-'));
  dirs.push(root);
  materialize(loadHostSpec(WORKSTATION), root);
  const kernel = new SimulatedKernel(root, options);
  return { root, kernel, host: new HostFs(root, { kernel }) };
}

const dev = (address: string, attr = '') => `/sys/bus/pci/devices/${address}${attr ? `/${attr}` : ''}`;
const OVERRIDE = dev('0000:01:00.1', 'driver_override');

/** Moves 01:00.1 from snd_hda_intel to vfio-pci: override, unbind, drivers_probe. */
function toVfio(host: HostFs, address = '0000:01:00.1', from = 'snd_hda_intel') {
  host.writeAttribute(dev(address, 'driver_override'), 'vfio-pci');
  host.writeAttribute(`/sys/bus/pci/drivers/${from}/unbind`, address);
  host.writeAttribute('/sys/bus/pci/drivers_probe', address);
}

describe('fail', () => {
  it('fails every matching write with the errno and applies nothing', () => {
    const { host, kernel } = tree();
    kernel.injectFault({ path: OVERRIDE, fail: 'EIO' });
    expect(hostCode(() => host.writeAttribute(OVERRIDE, 'vfio-pci'))).toBe('EIO');
    expect(hostCode(() => host.writeAttribute(OVERRIDE, 'vfio-pci'))).toBe('EIO');
    expect(host.readAttribute(OVERRIDE)).toBe('(null)');
    expect(kernel.writes.map((w) => w.result)).toEqual(['EIO', 'EIO']);
  });

  it('nth fails only that occurrence; once only the first', () => {
    const { host, kernel } = tree();
    kernel.injectFault({ path: '/sys/bus/pci/drivers/*/unbind', nth: 2, fail: 'EBUSY' });
    kernel.injectFault({ path: '/sys/bus/pci/drivers_probe', once: true, fail: 'EAGAIN' });
    host.writeAttribute('/sys/bus/pci/drivers/snd_hda_intel/unbind', '0000:01:00.1');
    expect(hostCode(() => host.writeAttribute('/sys/bus/pci/drivers/xhci_hcd/unbind', '0000:01:00.2'))).toBe('EBUSY');
    host.writeAttribute('/sys/bus/pci/drivers/xhci_hcd/unbind', '0000:01:00.2');
    expect(hostCode(() => host.writeAttribute('/sys/bus/pci/drivers_probe', '0000:01:00.1'))).toBe('EAGAIN');
    host.writeAttribute('/sys/bus/pci/drivers_probe', '0000:01:00.1');
    expect(host.linkName(dev('0000:01:00.1', 'driver'))).toBe('snd_hda_intel');
    expect(kernel.faults.map((f) => [f.seen, f.fired])).toEqual([
      [3, 1],
      [2, 1],
    ]);
  });

  it('matches data (trailing newline ignored), globs, RegExps and the canonical path', () => {
    const { host, kernel } = tree();
    kernel.injectFault({ path: '/sys/bus/pci/devices/*/driver_override', data: 'vfio-pci', fail: 'EPERM' });
    host.writeAttribute(OVERRIDE, 'pci-stub');
    expect(hostCode(() => host.writeAttribute(OVERRIDE, 'vfio-pci\n'))).toBe('EPERM');
    // The same attribute spelled through /sys/devices matches the /sys/bus/pci glob.
    expect(hostCode(() => host.writeAttribute('/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.1/driver_override', 'vfio-pci'))).toBe('EPERM');
    kernel.clearFaults();
    kernel.injectFault({ path: /\/0000:01:00\.[23]\/driver_override$/, fail: 'ENOMEM' });
    expect(hostCode(() => host.writeAttribute(dev('0000:01:00.2', 'driver_override'), 'vfio-pci'))).toBe('ENOMEM');
    host.writeAttribute(dev('0000:01:00.0', 'driver_override'), 'vfio-pci');
    kernel.clearFaults();
    kernel.injectFault({ path: '/sys/devices/**/0000:01:00.3/driver_override', fail: 'EIO' });
    expect(hostCode(() => host.writeAttribute(dev('0000:01:00.3', 'driver_override'), 'vfio-pci'))).toBe('EIO');
  });

  it('globs: * stays in a component, ** crosses them', () => {
    expect(globToRegExp('/sys/bus/pci/drivers/*/bind').test('/sys/bus/pci/drivers/vfio-pci/bind')).toBe(true);
    expect(globToRegExp('/sys/*/bind').test('/sys/bus/pci/drivers/vfio-pci/bind')).toBe(false);
    expect(globToRegExp('/sys/**/bind').test('/sys/bus/pci/drivers/vfio-pci/bind')).toBe(true);
    expect(globToRegExp('/sys/bus/pci/devices/0000:01:00.?/remove').test('/sys/bus/pci/devices/0000:01:00.3/remove')).toBe(true);
    expect(globToRegExp('/a.b').test('/aXb')).toBe(false);
  });
});

describe('hang', () => {
  it('blocks the writer, then applies the write', () => {
    const { host, kernel } = tree();
    kernel.injectFault({ path: OVERRIDE, hang: 60 });
    const start = performance.now();
    host.writeAttribute(OVERRIDE, 'vfio-pci');
    expect(performance.now() - start).toBeGreaterThanOrEqual(55);
    expect(host.readAttribute(OVERRIDE)).toBe('vfio-pci');
  });

  it('is bounded by maxHangMs and goes through the injected sleep', () => {
    const slept: number[] = [];
    const { host, kernel } = tree({ sleep: (ms) => slept.push(ms), maxHangMs: 1000 });
    kernel.injectFault({ path: OVERRIDE, hang: 3_600_000, fail: 'ETIMEDOUT' });
    expect(hostCode(() => host.writeAttribute(OVERRIDE, 'vfio-pci'))).toBe('ETIMEDOUT');
    expect(slept).toEqual([1000]);
  });
});

describe('vanish', () => {
  it('hot-unplugs the device before the write, which then fails with ENODEV', () => {
    const { host, kernel } = tree();
    kernel.injectFault({ path: '/sys/bus/pci/drivers/vfio-pci/bind', vanish: '0000:01:00.1' });
    host.writeAttribute(OVERRIDE, 'vfio-pci');
    host.writeAttribute('/sys/bus/pci/drivers/snd_hda_intel/unbind', '0000:01:00.1');
    expect(hostCode(() => host.writeAttribute('/sys/bus/pci/drivers/vfio-pci/bind', '0000:01:00.1'))).toBe('ENODEV');
    expect(host.lstat(dev('0000:01:00.1'))).toBeUndefined();
    expect(host.list('/sys/kernel/iommu_groups/12/devices')).toEqual(['0000:01:00.0', '0000:01:00.2', '0000:01:00.3']);
  });

  it('can pull a device out from under its own attribute write', () => {
    const { host, kernel } = tree();
    kernel.injectFault({ path: OVERRIDE, vanish: '0000:01:00.1' });
    expect(hostCode(() => host.writeAttribute(OVERRIDE, 'vfio-pci'))).toBe('ENODEV');
    expect(kernel.writes).toMatchObject([{ path: OVERRIDE, result: 'ENODEV' }]);
  });
});

describe('noBind', () => {
  it('drivers_probe succeeds and binds nothing', () => {
    const { host, kernel } = tree();
    kernel.injectFault({ path: '/sys/bus/pci/drivers_probe', noBind: true, once: true });
    toVfio(host);
    expect(host.readlink(dev('0000:01:00.1', 'driver'))).toBeUndefined();
    expect(host.exists('/dev/vfio/12')).toBe(false);
    host.writeAttribute('/sys/bus/pci/drivers_probe', '0000:01:00.1');
    expect(host.linkName(dev('0000:01:00.1', 'driver'))).toBe('vfio-pci');
  });

  it('bind and new_id succeed and bind nothing', () => {
    const { host, kernel } = tree();
    kernel.injectFault({ path: '/sys/bus/pci/drivers/vfio-pci/*', noBind: true });
    host.writeAttribute(OVERRIDE, 'vfio-pci');
    host.writeAttribute('/sys/bus/pci/drivers/snd_hda_intel/unbind', '0000:01:00.1');
    host.writeAttribute('/sys/bus/pci/drivers/vfio-pci/bind', '0000:01:00.1');
    expect(host.readlink(dev('0000:01:00.1', 'driver'))).toBeUndefined();
    host.writeAttribute(OVERRIDE, '\n');
    host.writeAttribute('/sys/bus/pci/drivers/vfio-pci/new_id', '10de 22ba');
    expect(host.readlink(dev('0000:01:00.1', 'driver'))).toBeUndefined();
    expect(kernel.dynamicIds('vfio-pci')).toHaveLength(1);
  });
});

describe('persisted faults', () => {
  it('a second kernel (another CLI process) obeys the faults and shares their counters', () => {
    const { root, kernel } = tree();
    const id = kernel.injectFault({ path: OVERRIDE, once: true, fail: 'EBUSY' });
    expect(fs.existsSync(path.join(root, SIM_FAULTS_FILE))).toBe(true);
    const other = new HostFs(root, { kernel: new SimulatedKernel(root) });
    expect(hostCode(() => other.writeAttribute(OVERRIDE, 'vfio-pci'))).toBe('EBUSY');
    const mine = new HostFs(root, { kernel });
    mine.writeAttribute(OVERRIDE, 'vfio-pci');
    expect(kernel.faults).toMatchObject([{ id, seen: 2, fired: 1 }]);
  });

  it('RegExp faults survive the file; removeFault and clearFaults take them away', () => {
    const { root, kernel, host } = tree();
    const a = kernel.injectFault({ path: /driver_override$/i, fail: 'EIO' });
    kernel.injectFault({ path: '/sys/bus/pci/drivers_probe', fail: 'EIO' });
    const other = new SimulatedKernel(root);
    expect(other.faults.map((f) => f.path)).toEqual([{ regexp: 'driver_override$', flags: 'i' }, '/sys/bus/pci/drivers_probe']);
    expect(() => other.write(OVERRIDE, 'x')).toThrow(/EIO/);
    kernel.removeFault(a);
    host.writeAttribute(OVERRIDE, 'x');
    kernel.clearFaults();
    expect(fs.existsSync(path.join(root, SIM_FAULTS_FILE))).toBe(false);
    host.writeAttribute('/sys/bus/pci/drivers_probe', '0000:01:00.1');
  });

  it('refuses a malformed fault', () => {
    const { kernel } = tree();
    expect(() => kernel.injectFault({ path: OVERRIDE, fail: 'busy' })).toThrow(SysfsSimError);
    expect(() => kernel.injectFault({ path: OVERRIDE, nth: 0 })).toThrow(SysfsSimError);
    expect(() => kernel.injectFault({ path: OVERRIDE, vanish: '01:00.1' })).toThrow(SysfsSimError);
    expect(() => kernel.injectFault({ path: '' })).toThrow(SysfsSimError);
    expect(kernel.faults).toEqual([]);
  });
});
