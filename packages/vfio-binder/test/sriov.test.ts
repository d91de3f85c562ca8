// Issue 15: the sriov use case on the sriov-server fixture (E810 0000:18:00.0 with 4 of 128 VFs,
// X710 0000:af:00.0 with 8 of 64): create, resize through 0, remove; ERANGE and EBUSY with
// nothing changed; the guards; the journal; lspci agreeing with the scan after every change;
// and the fault matrix over every write of a resize.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HostFs } from '@passthru/hostfs';
import { parseTarget, readIommuGroups, scanPciDevices } from '@passthru/pci-discovery';
import { afterEach, describe, expect, it } from 'vitest';
import { runLspci } from '../../../tools/peers/src/index';
import { Journal } from '../src/Journal';
import { sriovDevices } from '../src/sriov/sriovDevices';
import type { VfioBinderError } from '../src/VfioBinderError';
import { cleanSimHosts, simHost } from './simHost';
import { diffSnapshots, snapshotTree } from './treeSnapshot';

afterEach(cleanSimHosts);
const X710 = '0000:af:00.0';
const E810 = '0000:18:00.0';

function state(host: HostFs) {
  const { devices } = scanPciDevices(host);
  return { devices, groups: readIommuGroups(host, devices) };
}
const sriov = (host: HostFs, pf: string, numVfs: number, extra: { dryRun?: boolean; force?: boolean; autoprobe?: boolean } = {}) =>
  sriovDevices(host, state(host), { target: parseTarget(pf), numVfs, ...extra });
const vfsOf = (host: HostFs, pf: string) => scanPciDevices(host).devices.filter((d) => d.sriov?.role === 'vf' && d.sriov.physfn === pf);

async function expectLspciAgrees(root: string, host: HostFs) {
  const scan = scanPciDevices(host).devices.map((d) => ({
    address: d.address,
    vendorId: d.vendorId,
    deviceId: d.deviceId,
    driver: d.driver,
    iommuGroup: d.iommuGroup,
  }));
  const lspci = (await runLspci({ sysfsRoot: root })).map((r) => ({
    address: r.address,
    vendorId: r.vendorId,
    deviceId: r.deviceId,
    driver: r.driver ?? null,
    iommuGroup: r.iommuGroup ?? null,
  }));
  expect(scan).toEqual(lspci);
}

describe('sriov', () => {
  it('resizes through 0, creates and removes VFs; the scan and lspci agree after each change', async () => {
    const { root, host } = simHost('sriov-server', 'sriov');
    expect(vfsOf(host, X710)).toHaveLength(8);
    const resized = sriov(host, X710, 3);
    expect(resized.plan.writes.map((w) => `${path.basename(w.path)}=${w.data}`)).toEqual(['sriov_numvfs=0', 'sriov_numvfs=3']);
    expect(resized.status).toBe('applied');
    const vfs = vfsOf(host, X710);
    expect(vfs.map((d) => [d.address, d.sriov?.role === 'vf' ? d.sriov.vfIndex : null, d.driver])).toEqual([
      ['0000:af:02.0', 0, 'iavf'],
      ['0000:af:02.1', 1, 'iavf'],
      ['0000:af:02.2', 2, 'iavf'],
    ]);
    // Each new VF is its own IOMMU group with its physfn link back to the PF.
    expect(new Set(vfs.map((d) => d.iommuGroup)).size).toBe(3);
    expect(host.linkName('/sys/bus/pci/devices/0000:af:02.0/physfn')).toBe(X710);
    await expectLspciAgrees(root, host);

    expect(sriov(host, X710, 0).status).toBe('applied');
    expect(vfsOf(host, X710)).toHaveLength(0);
    await expectLspciAgrees(root, host);

    const created = sriov(host, X710, 2, { autoprobe: false });
    expect(created.plan.writes.map((w) => `${path.basename(w.path)}=${w.data}`)).toEqual(['sriov_drivers_autoprobe=0', 'sriov_numvfs=2']);
    expect(vfsOf(host, X710).map((d) => d.driver)).toEqual([null, null]);
    await expectLspciAgrees(root, host);

    const entries = new Journal(host).read().entries.filter((e) => e.operation === 'sriov');
    expect(entries.map((e) => [e.state, e.sriov?.fromNumVfs, e.sriov?.toNumVfs])).toEqual([
      ['applied', 8, 3],
      ['applied', 3, 0],
      ['applied', 0, 2],
    ]);
  });

  it('refuses a count above sriov_totalvfs (ERANGE) before writing anything', () => {
    const { root, host } = simHost('sriov-server', 'sriov');
    const before = snapshotTree(root);
    expect(() => sriov(host, E810, 129)).toThrow(/129 VFs exceeds sriov_totalvfs 128 \(the kernel answers ERANGE\); nothing was written/);
    try {
      sriov(host, E810, 129);
    } catch (error) {
      expect((error as VfioBinderError).kind).toBe('bad-input');
    }
    expect(diffSnapshots(before, snapshotTree(root))).toEqual([]);
  });

  it('refuses a device that is no PF, and a dry run writes nothing', () => {
    const { root, host } = simHost('sriov-server', 'sriov');
    expect(() => sriov(host, '0000:5e:00.0', 1)).toThrow(/names no SR-IOV physical function/);
    const before = snapshotTree(root);
    const planned = sriov(host, E810, 16, { dryRun: true });
    expect(planned.status).toBe('planned');
    expect(planned.plan.removedVfs).toHaveLength(4);
    expect(diffSnapshots(before, snapshotTree(root))).toEqual([]);
  });

  it('rolls back to the old count when the kernel answers EBUSY, with a clear error', () => {
    const { host, kernel } = simHost('sriov-server', 'sriov');
    kernel.injectFault({ path: `/sys/bus/pci/devices/${X710}/sriov_numvfs`, data: '4', fail: 'EBUSY' });
    const outcome = sriov(host, X710, 4);
    expect(outcome.status).toBe('rolled-back');
    expect(outcome.result?.error).toMatch(/Failed writing 4 via .*sriov_numvfs: the kernel answered EBUSY.*; the PF is back at 8 VFs/);
    expect(vfsOf(host, X710)).toHaveLength(8);
    expect(new Journal(host).read().entries.at(-1)?.state).toBe('rolled-back');
  });

  it('refuses to remove a VF a process holds through its VFIO group (or whose interface is up), unless forced', () => {
    const { root, host } = simHost('sriov-server', 'sriov');
    const vf = vfsOf(host, E810)[1]!;
    fs.mkdirSync(path.join(root, 'proc/4242/fd'), { recursive: true });
    fs.writeFileSync(path.join(root, 'proc/4242/comm'), 'qemu-system-x86\n');
    fs.symlinkSync(`/dev/vfio/${vf.iommuGroup}`, path.join(root, 'proc/4242/fd/17'));
    const before = snapshotTree(root);
    const refused = sriov(host, E810, 8);
    expect(refused.status).toBe('blocked');
    expect(refused.guards.map((g) => [g.id, g.address])).toEqual([['vf-held', vf.address]]);
    expect(refused.guards[0]!.summary).toMatch(/qemu-system-x86 \(pid 4242\)/);
    expect(diffSnapshots(before, snapshotTree(root))).toEqual([]);
    expect(sriov(host, E810, 8, { force: true }).status).toBe('applied');
    expect(vfsOf(host, E810)).toHaveLength(8);
  });

  it('leaves a PF carrying the default route alone in the guards (VFs do not take it away) and says so', () => {
    const { root, host } = simHost('sriov-server', 'sriov');
    fs.mkdirSync(path.join(root, 'proc/net'), { recursive: true });
    fs.writeFileSync(
      path.join(root, 'proc/net/route'),
      'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\nens2f0\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n',
    );
    const outcome = sriov(host, X710, 0, { dryRun: true });
    expect(outcome.guards).toEqual([]);
    expect(outcome.plan.pfRoutes).toEqual(['ens2f0']);
  });
});

describe('sriov fault matrix: every write of a resize with autoprobe off x {EBUSY, ENODEV, EIO, EACCES, ERANGE}', () => {
  const writes = ['sriov_drivers_autoprobe=0', 'sriov_numvfs=0', 'sriov_numvfs=5'];
  const cases = writes.flatMap((w) => ['EBUSY', 'ENODEV', 'EIO', 'EACCES', 'ERANGE'].map((errno) => ({ w, errno })));
  it.each(cases)('$errno at $w: rolled back to 8 VFs, autoprobe as before, journal says so', ({ w, errno }) => {
    const { host, kernel } = simHost('sriov-server', 'sriov');
    const [attr, data] = w.split('=') as [string, string];
    kernel.injectFault({ path: `/sys/bus/pci/devices/${X710}/${attr}`, data, fail: errno, nth: 1 });
    const outcome = sriov(host, X710, 5, { autoprobe: false });
    expect(outcome.status).toBe('rolled-back');
    expect(host.readAttribute(`/sys/bus/pci/devices/${X710}/sriov_numvfs`)).toBe('8');
    expect(host.readAttribute(`/sys/bus/pci/devices/${X710}/sriov_drivers_autoprobe`)).toBe('1');
    expect(vfsOf(host, X710).map((d) => d.driver)).toEqual(Array(8).fill('iavf'));
    expect(new Journal(host).read().entries.at(-1)).toMatchObject({ operation: 'sriov', state: 'rolled-back' });
  });
});
