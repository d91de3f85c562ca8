// Issue 18: restore is the mirror of bind (the IOMMU group is the unit), and devices another
// manager holds (libvirt managed='yes', driverctl, a foreign driver_override, vfio-pci bound by
// something else) are recognised: shown with their owner, never restored, changed only with adopt.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { readIommuGroups, scanPciDevices } from '@passthru/pci-discovery';
import { SimulatedKernel, loadHostSpec, materialize } from '@passthru/sysfs-sim';
import { afterEach, describe, expect, it } from 'vitest';
import { planBind } from '../src/bind/plan';
import { Journal } from '../src/Journal';
import { VfioBinderError } from '../src/VfioBinderError';
import { applyBind } from '../src/bind/apply';
import { parseLibvirtHostdevs } from '../src/bind/guards';
import { readOwnership } from '../src/journaled';
import { applyRestore, planRestore } from '../src/restore/plan';
import { parseTarget, resolveTargets } from '../src/bind/targets';
import { diffSnapshots, snapshotTree } from './treeSnapshot';

const specs = path.resolve(__dirname, '../../../fixtures/specs');
const roots: string[] = [];
afterEach(() =>
  roots.splice(0).forEach((r) => {
    fs.rmSync(r, { recursive: true, force: true });
  }),
);

function fixture(name = 'intel-workstation') {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `owners-${name}-`));
  roots.push(root);
  materialize(loadHostSpec(path.join(specs, `${name}.yaml`)), root);
  const kernel = new SimulatedKernel(root, { logWrites: false });
  return { root, host: new HostFs(root, { kernel }), kernel };
}

const instant = { verifyTimeoutMs: 0, sleep: () => {} };
const GPU = ['0000:01:00.0', '0000:01:00.1', '0000:01:00.2', '0000:01:00.3'];
const ORIGINAL = ['nvidia', 'snd_hda_intel', 'xhci_hcd', 'nvidia-gpu'];
const driverOf = (host: HostFs, a: string) => host.linkName(`/sys/bus/pci/devices/${a}/driver`) ?? null;
const overrideOf = (host: HostFs, a: string) => host.readAttributeIfExists(`/sys/bus/pci/devices/${a}/driver_override`);
const scan = (host: HostFs) => scanPciDevices(host).devices;

function plan(host: HostFs, target: string, withOwners = true) {
  const devices = scan(host);
  const groups = readIommuGroups(host, devices);
  return planBind(resolveTargets([parseTarget(target)], devices, groups), devices, groups, withOwners ? readOwnership(host, devices).owners : undefined);
}

/** What another manager does: its override, then unbind and probe (through the simulated kernel). */
function foreignBind(host: HostFs, address: string, driver: string | null) {
  host.writeAttribute(`/sys/bus/pci/devices/${address}/driver_override`, 'vfio-pci');
  if (driver) host.writeAttribute(`/sys/bus/pci/drivers/${driver}/unbind`, address);
  host.writeAttribute('/sys/bus/pci/drivers_probe', address);
}

describe('restore is the mirror of bind: the IOMMU group is the unit', () => {
  it('restoring ONE function of a bound GPU gives back the whole group, byte for byte; a second restore writes nothing', () => {
    const { root, host, kernel } = fixture();
    const before = snapshotTree(root);
    expect(applyBind(host, plan(host, '01:00.0'), instant).status).toBe('applied');
    const restorePlan = planRestore(host, scan(host), ['0000:01:00.2']);
    expect(restorePlan.devices.map((d) => [d.record.address, d.reason])).toEqual([
      ['0000:01:00.0', 'same-group'],
      ['0000:01:00.1', 'same-group'],
      ['0000:01:00.2', 'named'],
      ['0000:01:00.3', 'same-group'],
    ]);
    expect(restorePlan.leftOnVfio).toEqual([]);
    const result = applyRestore(host, restorePlan, instant);
    expect(result.status).toBe('restored');
    // Reverse bind order.
    expect(result.devices.map((d) => d.address)).toEqual(GPU);
    expect(GPU.map((a) => driverOf(host, a))).toEqual(ORIGINAL);
    expect(diffSnapshots(before, snapshotTree(root))).toEqual([]);

    const writes = kernel.writes.length;
    const again = applyRestore(host, planRestore(host, scan(host), ['0000:01:00.2']), instant);
    expect(again).toMatchObject({ status: 'noop', writes: 0 });
    expect(kernel.writes.length).toBe(writes);
  });

  it('--split-group restores only the named device and names what it leaves on vfio-pci; the group target brings back the rest', () => {
    const { root, host } = fixture();
    const before = snapshotTree(root);
    applyBind(host, plan(host, '01:00.0'), instant);
    const split = planRestore(host, scan(host), ['0000:01:00.1'], { splitGroup: true });
    expect(split.devices.map((d) => d.record.address)).toEqual(['0000:01:00.1']);
    expect(split.leftOnVfio.map((l) => [l.address, l.iommuGroup])).toEqual([
      ['0000:01:00.0', 12],
      ['0000:01:00.2', 12],
      ['0000:01:00.3', 12],
    ]);
    const result = applyRestore(host, split, instant);
    expect(result.leftOnVfio.map((l) => l.address)).toEqual(['0000:01:00.0', '0000:01:00.2', '0000:01:00.3']);
    expect(GPU.map((a) => driverOf(host, a))).toEqual(['vfio-pci', 'snd_hda_intel', 'vfio-pci', 'vfio-pci']);
    // The restored device still names its group: the rest of it comes back.
    expect(applyRestore(host, planRestore(host, scan(host), ['0000:01:00.1']), instant).status).toBe('restored');
    expect(diffSnapshots(before, snapshotTree(root))).toEqual([]);
  });

  it('refuses (usage, nothing written) a restore that would leave a group member another manager holds on vfio-pci', () => {
    const { host, kernel } = fixture();
    // An older passthru did not journal a device already on vfio-pci: the plan without owners is that.
    foreignBind(host, '0000:01:00.3', 'nvidia-gpu');
    applyBind(host, plan(host, '01:00.0', false), instant);
    const writes = kernel.writes.length;
    let error: unknown;
    try {
      planRestore(host, scan(host), ['0000:01:00.0']);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(VfioBinderError);
    expect((error as VfioBinderError).kind).toBe('bad-input');
    expect((error as Error).message).toMatch(/would split IOMMU group 12: 0000:01:00\.3 \(held by a driver_override passthru did not write \(vfio-pci\)/);
    expect((error as Error).message).toMatch(/--split-group/);
    expect(kernel.writes.length).toBe(writes);
    const split = planRestore(host, scan(host), ['0000:01:00.0'], { splitGroup: true });
    expect(split.devices.map((d) => d.record.address)).toEqual(['0000:01:00.0']);
    expect(split.leftOnVfio.map((l) => l.address)).toEqual(['0000:01:00.1', '0000:01:00.2', '0000:01:00.3']);
  });
});

describe('devices another manager holds', () => {
  it('reads the owner: journal, libvirt managed=yes (defined and running domains), driverctl, a foreign driver_override, other', () => {
    const { host } = fixture();
    expect(readOwnership(host, scan(host)).owners.size).toBe(0);
    foreignBind(host, '0000:01:00.0', 'nvidia');
    host.writeFile('/etc/driverctl.d/pci-0000:01:00.1', 'vfio-pci\n');
    host.writeFile(
      '/run/libvirt/qemu/win11.xml',
      "<domain><devices><hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x01' slot='0x00' function='0x2'/></source><address type='pci' domain='0x0000' bus='0x07' slot='0x00' function='0x0'/></hostdev></devices></domain>\n",
    );
    foreignBind(host, '0000:00:1f.6', 'e1000e');
    host.writeAttribute('/sys/bus/pci/devices/0000:00:1f.6/driver_override', '\n');
    host.writeFile(
      '/etc/libvirt/qemu/unmanaged.xml',
      "<domain><devices><hostdev mode='subsystem' type='pci' managed='no'><source><address domain='0x0000' bus='0x01' slot='0x00' function='0x3'/></source></hostdev></devices></domain>\n",
    );
    const { owners } = readOwnership(host, scan(host));
    expect(owners.get('0000:01:00.0')).toMatchObject({ kind: 'driver_override', summary: 'a driver_override passthru did not write (vfio-pci)' });
    expect(owners.get('0000:01:00.1')).toMatchObject({ kind: 'driverctl' });
    expect(owners.get('0000:01:00.1')!.evidence).toContain('/etc/driverctl.d/pci-0000:01:00.1 = vfio-pci');
    expect(owners.get('0000:01:00.2')).toMatchObject({ kind: 'libvirt' });
    expect(owners.get('0000:01:00.2')!.summary).toContain('/run/libvirt/qemu/win11.xml');
    expect(owners.get('0000:00:1f.6')).toMatchObject({ kind: 'other' });
    // managed='no': libvirt does not bind it; the guard (not ownership) speaks for it.
    expect(owners.has('0000:01:00.3')).toBe(false);
    expect(parseLibvirtHostdevs('x.xml', "<hostdev type='usb' managed='yes'><source><address bus='1' device='2'/></source></hostdev>")).toEqual([]);
  });

  it('bind refuses a foreign driver_override without adopt (zero writes); with adopt the journal records it and restore gives back its original state', () => {
    const { root, host, kernel } = fixture();
    foreignBind(host, '0000:01:00.0', 'nvidia');
    const before = snapshotTree(root);
    const writes = kernel.writes.length;
    const p = plan(host, '01:00.0');
    expect(p.noop).toBe(false);
    expect(() => applyBind(host, p, instant)).toThrow(/0000:01:00\.0 is held by a driver_override passthru did not write \(vfio-pci\).*--adopt/);
    expect(kernel.writes.length).toBe(writes);
    expect(host.exists('/var/lib/passthru/journal.jsonl')).toBe(false);

    // restore --all leaves it alone, and says so.
    const all = planRestore(host, scan(host), 'all');
    expect(all.devices).toEqual([]);
    expect(all.foreign.map((f) => [f.address, f.owner.kind])).toEqual([['0000:01:00.0', 'driver_override']]);

    const result = applyBind(host, p, { ...instant, adopt: true });
    expect(result.status).toBe('applied');
    expect(result.devices.find((d) => d.address === '0000:01:00.0')).toMatchObject({
      status: 'already-bound',
      note: expect.stringContaining('adopted from a driver_override'),
    });
    const record = new Journal(host).outstanding().get('0000:01:00.0')!.device;
    expect(record).toMatchObject({
      owner: 'adopted',
      originalDriver: 'vfio-pci',
      originalOverride: 'vfio-pci',
      adoptedFrom: 'a driver_override passthru did not write (vfio-pci)',
    });
    expect(new Journal(host).outstanding().get('0000:01:00.1')!.device.owner).toBe('passthru');
    expect(readOwnership(host, scan(host)).owners.get('0000:01:00.0')).toMatchObject({ kind: 'adopted' });

    expect(applyRestore(host, planRestore(host, scan(host), ['0000:01:00.1']), instant).status).toBe('restored');
    expect(GPU.map((a) => driverOf(host, a))).toEqual(['vfio-pci', 'snd_hda_intel', 'xhci_hcd', 'nvidia-gpu']);
    expect(overrideOf(host, '0000:01:00.0')).toBe('vfio-pci');
    expect(diffSnapshots(before, snapshotTree(root))).toEqual([]);
  });

  it('a driverctl device: refused without adopt, adopted, and restored to exactly what driverctl had', () => {
    const { root, host, kernel } = fixture();
    foreignBind(host, '0000:01:00.1', 'snd_hda_intel');
    host.writeFile('/etc/driverctl.d/pci-0000:01:00.1', 'vfio-pci\n');
    const before = snapshotTree(root);
    const writes = kernel.writes.length;
    expect(() => applyBind(host, plan(host, '01:00.0'), instant)).toThrow(/0000:01:00\.1 is held by driverctl/);
    expect(kernel.writes.length).toBe(writes);
    expect(applyBind(host, plan(host, '01:00.0'), { ...instant, adopt: true }).status).toBe('applied');
    expect(new Journal(host).outstanding().get('0000:01:00.1')!.device).toMatchObject({ owner: 'adopted', adoptedFrom: expect.stringContaining('driverctl') });
    expect(applyRestore(host, planRestore(host, scan(host), ['0000:01:00.0']), instant).status).toBe('restored');
    expect(diffSnapshots(before, snapshotTree(root))).toEqual([]);
  });

  it('an override naming another driver is put back after the bind, so restore is exact (exit 0, not 3)', () => {
    const { root, host } = fixture();
    // snd_hda_intel holds it, and someone wrote an override naming another driver afterwards.
    host.writeAttribute('/sys/bus/pci/devices/0000:01:00.1/driver_override', 'pci-stub');
    const before = snapshotTree(root);
    expect(() => applyBind(host, plan(host, '01:00.0'), instant)).toThrow(/0000:01:00\.1 is held by a driver_override passthru did not write \(pci-stub\)/);
    expect(applyBind(host, plan(host, '01:00.0'), { ...instant, adopt: true }).status).toBe('applied');
    const result = applyRestore(host, planRestore(host, scan(host), 'all'), instant);
    expect(result.status).toBe('restored');
    expect(driverOf(host, '0000:01:00.1')).toBe('snd_hda_intel');
    expect(overrideOf(host, '0000:01:00.1')).toBe('pci-stub');
    expect(diffSnapshots(before, snapshotTree(root))).toEqual([]);
  });

  it('an override the kernel refuses to take back (5,000 characters): refused up front; adopted, restore puts back the driver and says what it could not', () => {
    const { root, host, kernel } = fixture();
    const folder = fs.realpathSync(path.join(root, 'sys/bus/pci/devices/0000:01:00.0'));
    fs.writeFileSync(path.join(folder, 'driver_override'), `${'x'.repeat(5000)}\n`);
    expect(() => applyBind(host, plan(host, '01:00.0'), instant)).toThrow(
      /driver_override held 5000 bytes; the kernel refuses overrides of PAGE_SIZE-1 \(4095\) bytes or more \(EINVAL\)/,
    );
    expect(kernel.writes).toEqual([]);
    const bound = applyBind(host, plan(host, '01:00.0'), { ...instant, adopt: true });
    expect(bound.status).toBe('applied');
    expect(new Journal(host).outstanding().get('0000:01:00.0')!.device.unrestorable).toMatch(/5000 bytes/);
    const result = applyRestore(host, planRestore(host, scan(host), ['0000:01:00.0']), instant);
    expect(result.status).toBe('restored');
    expect(result.devices.find((d) => d.address === '0000:01:00.0')!.note).toMatch(/could not put back: driver_override held 5000 bytes.*it is cleared/);
    expect(GPU.map((a) => driverOf(host, a))).toEqual(ORIGINAL);
    expect(overrideOf(host, '0000:01:00.0')).toBe('(null)');
    // Restored is restored: a second restore has nothing to do (no exit-3 loop).
    expect(applyRestore(host, planRestore(host, scan(host), 'all'), instant)).toMatchObject({ status: 'noop', writes: 0 });
  });

  it('an older journal (no owner, no unrestorable field) with such an override: restore ends restored, not in an exit-3 loop', () => {
    const { root, host } = fixture();
    const folder = fs.realpathSync(path.join(root, 'sys/bus/pci/devices/0000:01:00.0'));
    fs.writeFileSync(path.join(folder, 'driver_override'), `${'x'.repeat(5000)}\n`);
    // What an older passthru did: no owners, no refusal.
    expect(applyBind(host, plan(host, '01:00.0', false), instant).status).toBe('applied');
    const file = path.join(root, 'var/lib/passthru/journal.jsonl');
    fs.writeFileSync(
      file,
      fs
        .readFileSync(file, 'utf8')
        .replace(/,"owner":"passthru"/g, '')
        .replace(/,"unrestorable":"[^"]*"/g, ''),
    );
    const record = new Journal(host).outstanding().get('0000:01:00.0')!.device;
    expect(record.unrestorable).toBeUndefined();
    expect(record.owner).toBe('passthru');
    const result = applyRestore(host, planRestore(host, scan(host), 'all'), instant);
    expect(result.status).toBe('restored');
    expect(result.devices.find((d) => d.address === '0000:01:00.0')!.note).toMatch(/could not put back: driver_override held 5000 bytes/);
    expect(GPU.map((a) => driverOf(host, a))).toEqual(ORIGINAL);
  });
});

/** What `driverctl set-override ADDRESS vfio-pci` does: its file, the override, the device moved to vfio-pci. */
function driverctlToVfio(host: HostFs, address: string, file = true) {
  if (file) host.writeFile(`/etc/driverctl.d/pci-${address}`, 'vfio-pci\n');
  host.writeAttribute(`/sys/bus/pci/devices/${address}/driver_override`, 'vfio-pci');
  const driver = driverOf(host, address);
  if (driver) host.writeAttribute(`/sys/bus/pci/drivers/${driver}/unbind`, address);
  host.writeAttribute('/sys/bus/pci/drivers_probe', address);
}

describe('the one ownership rule in restore --unrecorded and sriov (issue 22, items 3 and 4)', () => {
  it('restore --all --unrecorded leaves what driverctl holds on vfio-pci, and gives back only the device no manager explains', async () => {
    const { restoreDevices } = await import('../src/restore/restoreDevices');
    const { host } = fixture();
    for (const a of GPU.slice(0, 3)) driverctlToVfio(host, a);
    driverctlToVfio(host, GPU[3]!, false);
    const { devices } = scanPciDevices(host);
    const outcome = restoreDevices(host, { devices, groups: readIommuGroups(host, devices) }, { targets: 'all', unrecorded: true }, instant);
    expect(outcome.recovery.devices.map((d) => d.address)).toEqual([GPU[3]]);
    expect(outcome.plan.foreign.map((f) => [f.address, f.owner.kind])).toEqual(GPU.slice(0, 3).map((a) => [a, 'driverctl']));
    for (const a of GPU.slice(0, 3)) expect(driverOf(host, a)).toBe('vfio-pci');
    expect(driverOf(host, GPU[3]!)).toBe('nvidia-gpu');
  });

  it('sriov refuses to remove a VF driverctl holds on vfio-pci (vf-managed), unless forced', async () => {
    const { sriovDevices } = await import('../src/sriov/sriovDevices');
    const { host } = fixture('sriov-server');
    const state = () => {
      const { devices } = scanPciDevices(host);
      return { devices, groups: readIommuGroups(host, devices) };
    };
    const vf = state().devices.find((d) => d.sriov?.role === 'vf' && d.sriov.physfn === '0000:af:00.0')!.address;
    driverctlToVfio(host, vf);
    const blocked = sriovDevices(host, state(), { target: parseTarget('0000:af:00.0'), numVfs: 2 });
    expect(blocked.status).toBe('blocked');
    expect(blocked.guards).toEqual([
      expect.objectContaining({
        id: 'vf-managed',
        address: vf,
        summary: expect.stringMatching(/^driverctl \(override vfio-pci in \/etc\/driverctl\.d\/pci-.*\) holds it$/),
      }),
    ]);
    expect(host.readAttribute('/sys/bus/pci/devices/0000:af:00.0/sriov_numvfs')).toBe('8');
    expect(sriovDevices(host, state(), { target: parseTarget('0000:af:00.0'), numVfs: 2, force: true }).status).toBe('applied');
  });
});
