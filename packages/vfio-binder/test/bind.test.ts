import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HostFs } from '@passthru/hostfs';
import { readIommuGroups, scanPciDevices } from '@passthru/pci-discovery';
import { afterEach, describe, expect, it } from 'vitest';
import { formatPlan, planBind } from '../src/bind/plan';
import { acquireHostLock } from '../src/HostLock';
import { Journal } from '../src/Journal';
import { VfioBinderError } from '../src/VfioBinderError';
import { applyBind } from '../src/bind/apply';
import { applyRestore, planRestore } from '../src/restore/plan';
import { parseTarget, resolveTargets } from '../src/bind/targets';
import { cleanSimHosts, simHost } from './simHost';
import { diffSnapshots, snapshotTree } from './treeSnapshot';
import { giveDeviceId } from './renumber';

afterEach(cleanSimHosts);

const fixture = (name: string) => simHost(name, 'bind');

function plan(host: HostFs, ...targets: string[]) {
  const { devices } = scanPciDevices(host);
  const groups = readIommuGroups(host, devices);
  return planBind(resolveTargets(targets.map(parseTarget), devices, groups), devices, groups);
}

const driverOf = (host: HostFs, a: string) => host.linkName(`/sys/bus/pci/devices/${a}/driver`) ?? null;
const GPU = ['0000:01:00.0', '0000:01:00.1', '0000:01:00.2', '0000:01:00.3'];
const instant = { verifyTimeoutMs: 0, sleep: () => {} };

describe('bind and restore on the simulated kernel', () => {
  it('binds all four GPU functions, leaves the bridge, makes /dev/vfio/12, and restore gives back the tree byte for byte', () => {
    const { root, host, kernel } = fixture('intel-workstation');
    const before = snapshotTree(root);
    const p = plan(host, '01:00.0');
    expect(p.devices.map((d) => [d.address, d.reason])).toEqual([
      ['0000:01:00.0', 'named'],
      ['0000:01:00.1', 'same-slot'],
      ['0000:01:00.2', 'same-slot'],
      ['0000:01:00.3', 'same-slot'],
    ]);
    expect(formatPlan(p)).toContain('echo 0000:01:00.0 > /sys/bus/pci/drivers/nvidia/unbind');
    const result = applyBind(host, p, instant);
    expect(result.status).toBe('applied');
    expect(GPU.map((a) => driverOf(host, a))).toEqual(['vfio-pci', 'vfio-pci', 'vfio-pci', 'vfio-pci']);
    expect(driverOf(host, '0000:00:01.0')).toBe('pcieport');
    expect(host.exists('/dev/vfio/12')).toBe(true);
    expect(kernel.writes.filter((w) => w.result !== 'ok')).toEqual([]);

    const restore = applyRestore(host, planRestore(host, scanPciDevices(host).devices, 'all'), instant);
    expect(restore.status).toBe('restored');
    expect(host.exists('/dev/vfio/12')).toBe(false);
    expect(diffSnapshots(before, snapshotTree(root))).toEqual([]);
  });

  it('is idempotent: a second bind plans nothing and writes nothing', () => {
    const { host, kernel } = fixture('intel-workstation');
    expect(applyBind(host, plan(host, '10de:2684'), instant).status).toBe('applied');
    const writes = kernel.writes.length;
    const again = plan(host, '10de:2684');
    expect(again.noop).toBe(true);
    expect(applyBind(host, again, instant)).toMatchObject({ status: 'noop', writes: 0 });
    expect(kernel.writes.length).toBe(writes);
  });

  it('expands a group target to every endpoint and marks devices that were not named', () => {
    const { host } = fixture('amd-shared-group');
    const { devices } = scanPciDevices(host);
    const gpu = devices.find((d) => d.class.startsWith('03'))!;
    const p = plan(host, gpu.address);
    expect(p.devices.some((d) => d.reason === 'same-group')).toBe(true);
    expect(p.groups[0]!.bridges.length).toBeGreaterThan(0);
    for (const bridge of p.groups[0]!.bridges) expect(p.devices.map((d) => d.address)).not.toContain(bridge);
  });

  it('refuses a group that holds a platform function, naming it, while the discrete GPU on the same host binds', () => {
    const { root, host, kernel } = fixture('intel-pch-desktop');
    const before = snapshotTree(root);
    const refusal = (...targets: string[]) => {
      try {
        plan(host, ...targets);
      } catch (error) {
        return error as VfioBinderError;
      }
      throw new Error(`planning ${targets.join(' ')} was not refused`);
    };
    const audio = refusal('00:1f.3');
    expect(audio).toBeInstanceOf(VfioBinderError);
    expect(audio.kind).toBe('refused');
    expect(audio.message).toMatch(
      /IOMMU group 10 is not passable: holds platform function 0000:00:1f\.0 \(ISA bridge\), 0000:00:1f\.4 \(SMBus controller\), 0000:00:1f\.5 \(SPI flash controller\)/,
    );
    expect(audio.message).toMatch(/--force does not override this/);
    expect(audio.message).toMatch(/a slot whose root port has ACS/);
    const bridge = refusal('0000:00:00.0');
    expect(bridge.message).toMatch(/IOMMU group 0 is not passable: holds platform function 0000:00:00\.0 \(host bridge\)/);
    expect(refusal('group:10').message).toMatch(/0000:00:1f\.0 \(ISA bridge\)/);
    expect(refusal('01:00.0', '00:1f.3').message).toMatch(/group 10/);
    expect(kernel.writes).toEqual([]);
    expect(diffSnapshots(before, snapshotTree(root))).toEqual([]);

    const gpu = plan(host, '01:00.0');
    expect(gpu.devices.map((d) => d.address)).toEqual(['0000:01:00.0', '0000:01:00.1']);
    expect(applyBind(host, gpu, instant).status).toBe('applied');
    expect(driverOf(host, '0000:01:00.0')).toBe('vfio-pci');
  });

  it('refuses a bridge, a device without a group, and unknown targets, before any write', () => {
    const { host, kernel } = fixture('intel-workstation');
    expect(() => plan(host, '00:01.0')).toThrow(/bridge is never bound/);
    expect(() => plan(host, '0000:07:00.0')).toThrow(/no PCI device has this address/);
    expect(() => plan(host, 'group:99')).toThrow(/no IOMMU group/);
    expect(() => plan(host, 'group:1')).toThrow(/holds only bridges \(0000:00:01.0\)/);
    expect(() => plan(host, 'eth99')).toThrow(/no PCI network interface/);
    const off = fixture('intel-iommu-off');
    const gpu = scanPciDevices(off.host).devices.find((d) => d.class.startsWith('03') && d.vendorId === '10de')!;
    expect(() => plan(off.host, gpu.address)).toThrow(/no IOMMU group/);
    expect(kernel.writes).toEqual([]);
    expect(off.kernel.writes).toEqual([]);
  });

  it('restore refuses when the address now names another device (renumbering)', () => {
    const { root, host } = fixture('intel-workstation');
    applyBind(host, plan(host, '01:00.0'), instant);
    const dev = fs.realpathSync(path.join(root, 'sys/bus/pci/devices/0000:01:00.1'));
    giveDeviceId(dev, 0x1234);
    expect(() => planRestore(host, scanPciDevices(host).devices, 'all')).toThrow(/now names another device \(deviceId was 22ba, is 1234\)/);
  });
});

describe('targets', () => {
  it.each(['0000:01:00.8', '01:20.0', '../../', '', 'x'.repeat(10_000), 'gpu\u00e9', '0000:01:00.0; rm -rf /', 'group:-1', '1:2:3'])(
    'refuses bad target #%# as a usage error',
    (raw) => {
      expect(() => parseTarget(raw)).toThrow(VfioBinderError);
      try {
        parseTarget(raw);
      } catch (error) {
        expect((error as VfioBinderError).kind).toBe('bad-input');
        expect((error as Error).message.length).toBeLessThan(300);
      }
    },
  );

  it('accepts the four spellings', () => {
    expect(parseTarget('0000:01:00.0')).toMatchObject({ kind: 'address', address: '0000:01:00.0' });
    expect(parseTarget('01:00.1')).toMatchObject({ kind: 'address', address: '0000:01:00.1' });
    expect(parseTarget('10000:E1:00.0')).toMatchObject({ kind: 'address', address: '10000:e1:00.0' });
    expect(parseTarget('10DE:2684')).toMatchObject({ kind: 'ids', vendorId: '10de', deviceId: '2684' });
    expect(parseTarget('group:12')).toMatchObject({ kind: 'group', group: 12 });
    expect(parseTarget('enp3s0f0')).toMatchObject({ kind: 'interface', name: 'enp3s0f0' });
  });
});

describe('host lock', () => {
  it('refuses a second holder, takes over a dead owner, and releases', () => {
    const { host } = fixture('intel-workstation');
    const release = acquireHostLock(host);
    expect(() => acquireHostLock(host, { waitMs: 30 })).toThrow(/another passthru run \(pid \d+\)/);
    release();
    host.writeFile('/run/passthru/bind.lock', '999999999\n');
    const again = acquireHostLock(host, { isAlive: () => false });
    again();
    expect(host.exists('/run/passthru/bind.lock')).toBe(false);
  });

  it('the journal is written before the first sysfs write', () => {
    const { host, kernel } = fixture('intel-workstation');
    let journalAtFirstWrite: unknown;
    const original = kernel.write.bind(kernel);
    kernel.write = (p: string, d: string) => {
      journalAtFirstWrite ??= new Journal(host)
        .read()
        .entries.at(-1)
        ?.devices.map((x) => x.address);
      original(p, d);
    };
    applyBind(host, plan(host, '01:00.0'), instant);
    expect(journalAtFirstWrite).toEqual(GPU);
  });
});
