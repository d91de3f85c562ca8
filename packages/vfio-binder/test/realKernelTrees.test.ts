// Regression tests on trees the kernel lab captured from Debian's real kernel under QEMU
// (fixtures/kernel-lab, see tools/kernel-lab). Each case is a disagreement the lab's
// differential found between the simulated kernel and the real one, now fixed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bindDevices, parseTarget, restoreDevices, sriovDevices } from '../src/index';
import { capturedHost, cleanSimHosts, driverOf, instant, state, targets } from './simHost';
import { diffSnapshots, snapshotTree } from './treeSnapshot';

afterEach(cleanSimHosts);
const capture = capturedHost;

describe('bind loads vfio-pci as the real kernel does (qemu-vtd: Debian 6.1, vfio-pci not loaded)', () => {
  it('plans `modprobe vfio-pci` first, loads it, binds, journals the load; restore brings e1000 back by its modules.alias table', () => {
    const { root, host } = capture('qemu-vtd');
    const before = snapshotTree(root);
    expect(host.exists('/sys/bus/pci/drivers/vfio-pci')).toBe(false);
    const dry = bindDevices(host, state(host), { targets: targets('0000:06:00.0'), dryRun: true });
    expect(dry.plan.modules).toEqual(['vfio-pci']);
    const bound = bindDevices(host, state(host), { targets: targets('0000:06:00.0') }, instant);
    expect(bound.status).toBe('applied');
    expect(driverOf(host, '0000:06:00.0')).toBe('vfio-pci');
    expect(host.exists('/dev/vfio/vfio')).toBe(true);
    expect(host.readText('/proc/modules')).toMatch(/^vfio_pci /m);
    const journal = host.readText('/var/lib/passthru/journal.jsonl');
    expect(JSON.parse(journal.split('\n')[0]!).entry.modulesLoaded).toEqual(['vfio-pci']);
    // The disagreement: a captured tree had no id table for e1000 once its only device left it,
    // so restore's bind failed (exit 3) where the kernel rebinds.
    const restored = restoreDevices(host, state(host), { targets: targets('0000:06:00.0') }, instant);
    expect(restored.status).toBe('restored');
    expect(driverOf(host, '0000:06:00.0')).toBe('e1000');
    // What stays: the module (as on the kernel) and passthru's journal.
    const changed = diffSnapshots(before, snapshotTree(root));
    expect(
      changed.every((c) => /proc\/modules|sys\/module\/|sys\/bus\/pci\/drivers\/vfio-pci|dev\/vfio\/vfio/.test(c)),
      changed.join('\n'),
    ).toBe(true);
  });

  it('the card: display and audio bound as one group, and restored', () => {
    const { host } = capture('qemu-vtd');
    const card = ['0000:04:00.0', '0000:04:00.1'];
    const original = card.map((a) => driverOf(host, a));
    expect(bindDevices(host, state(host), { targets: targets(card[0]!) }, instant).status).toBe('applied');
    expect(card.map((a) => driverOf(host, a))).toEqual(['vfio-pci', 'vfio-pci']);
    restoreDevices(host, state(host), { targets: targets(card[0]!) }, instant);
    expect(card.map((a) => driverOf(host, a))).toEqual(original);
  });

  it('a capture taken with the card on vfio-pci (qemu-vtd-card-bound): restore gives the audio back to snd_hda_intel', () => {
    // The disagreement: no device was on snd_hda_intel or bochs-drm when the tree was captured,
    // so the simulator knew no id table for them and restore ended partial (exit 3); the kernel
    // matches by the modules' tables, which the capture now keeps (modules.alias).
    const { host } = capture('qemu-vtd-card-bound');
    const card = ['0000:04:00.0', '0000:04:00.1'];
    expect(card.map((a) => driverOf(host, a))).toEqual(['vfio-pci', 'vfio-pci']);
    const restored = restoreDevices(host, state(host), { targets: targets(card[0]!) }, instant);
    expect(restored.status).toBe('restored');
    expect(card.map((a) => driverOf(host, a))).toEqual(['bochs-drm', 'snd_hda_intel']);
  });

  it('where the tree has no vfio-pci module at all: refused, nothing written', () => {
    const { root, host, kernel } = capture('qemu-vtd');
    const release = host.readText('/proc/sys/kernel/osrelease').trim();
    fs.writeFileSync(path.join(root, `lib/modules/${release}/modules.dep`), '');
    const before = snapshotTree(root);
    expect(() => bindDevices(host, state(host), { targets: targets('0000:06:00.0') }, instant)).toThrow(/Module vfio_pci not found/);
    expect(diffSnapshots(before, snapshotTree(root))).toEqual([]);
    expect(kernel.writes.filter((w) => w.result === 'ok')).toEqual([]);
  });
});

describe('SR-IOV on the NVMe of the real-kernel capture', () => {
  it('VFs made without autoprobe stay unbound, each in a group of its own; removed through 0', () => {
    const { host } = capture('qemu-vtd');
    const pf = '0000:03:00.0';
    const made = sriovDevices(host, state(host), { target: parseTarget(pf), numVfs: 2, autoprobe: false }, instant);
    expect(made.status).toBe('applied');
    const vfs = host.list(`/sys/bus/pci/devices/${pf}`).filter((n) => /^virtfn\d+$/.test(n));
    expect(vfs).toHaveLength(2);
    const addresses = vfs.map((v) => host.linkName(`/sys/bus/pci/devices/${pf}/${v}`)!);
    expect(addresses.map((a) => driverOf(host, a))).toEqual([null, null]);
    expect(sriovDevices(host, state(host), { target: parseTarget(pf), numVfs: 0 }, instant).status).toBe('applied');
  });
});
