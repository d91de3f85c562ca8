// The use cases of the package door (bind, restore, persist, readiness): what a CLI, a fleet
// agent or an exporter calls, with the policy (--force, --adopt, consent) inside.
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bindDevices, hostReadiness, persistDevices, restoreDevices, VfioBinderError } from '../src/index';
import { cleanSimHosts, driverOf, instant, simHost, state, targets } from './simHost';
import { diffSnapshots, snapshotTree } from './treeSnapshot';
import { giveDeviceId } from './renumber';

afterEach(cleanSimHosts);

const fixture = (name: string) => simHost(name, 'usecase');

describe('bindDevices', () => {
  it('a guard blocks without force and writes nothing; with force the same plan applies', () => {
    const { root, host } = fixture('twin-gpu');
    const before = snapshotTree(root);
    const blocked = bindDevices(host, state(host), { targets: targets('01:00.0') }, instant);
    expect(blocked.status).toBe('blocked');
    expect(blocked.blockedBy).toEqual(['guards']);
    expect(blocked.guards.map((g) => g.id)).toContain('boot-vga');
    expect(blocked.result).toBeUndefined();
    expect(diffSnapshots(before, snapshotTree(root))).toEqual([]);

    const forced = bindDevices(host, state(host), { targets: targets('01:00.0'), force: true }, instant);
    expect(forced.status).toBe('applied');
    expect(forced.blockedBy).toEqual([]);
    expect(driverOf(host, '0000:01:00.0')).toBe('vfio-pci');
  });

  it('consent is asked once before writing; refused, nothing is written; a dry run never asks', () => {
    const { root, host } = fixture('intel-workstation');
    const before = snapshotTree(root);
    const asked: string[][] = [];
    const consent = (plan: { devices: Array<{ address: string }> }) => (asked.push(plan.devices.map((d) => d.address)), false);
    expect(bindDevices(host, state(host), { targets: targets('01:00.0'), dryRun: true, consent }, instant).status).toBe('planned');
    expect(asked).toEqual([]);
    const refused = bindDevices(host, state(host), { targets: targets('01:00.0'), consent }, instant);
    expect(refused.status).toBe('consent-refused');
    expect(asked).toEqual([['0000:01:00.0', '0000:01:00.1', '0000:01:00.2', '0000:01:00.3']]);
    expect(diffSnapshots(before, snapshotTree(root))).toEqual([]);
  });

  it('refuses an address that persist recorded for another device (the check bind and persist share)', async () => {
    const { root, host } = fixture('intel-workstation');
    await persistDevices(host, state(host), { targets: targets('01:00.0'), stamp: 't' });
    giveDeviceId(path.join(root, 'sys/bus/pci/devices/0000:01:00.0'), 0x2704);
    expect(() => bindDevices(host, state(host), { targets: targets('01:00.0'), dryRun: true }, instant)).toThrow(VfioBinderError);
    expect(() => bindDevices(host, state(host), { targets: targets('01:00.0'), dryRun: true }, instant)).toThrow(/than persist recorded/);
  });
});

describe('restoreDevices', () => {
  it('gives back what bindDevices bound, after consent; the tree is as before', () => {
    const { root, host } = fixture('intel-workstation');
    const before = snapshotTree(root);
    expect(bindDevices(host, state(host), { targets: targets('01:00.0') }, instant).status).toBe('applied');
    const planned: string[] = [];
    const outcome = restoreDevices(host, state(host), { targets: 'all', onPlanned: (o) => planned.push(o.status), consent: () => true }, instant);
    expect(planned).toEqual(['planned']);
    expect(outcome.status).toBe('restored');
    expect(outcome.result!.devices.map((d) => d.status)).toEqual(['restored', 'restored', 'restored', 'restored']);
    expect(driverOf(host, '0000:01:00.0')).toBe('nvidia');
    expect(diffSnapshots(before, snapshotTree(root)).filter((d) => !d.includes('var/lib/passthru'))).toEqual([]);
  });
});

describe('persistDevices', () => {
  it('a dry run plans the whole group and writes nothing; a run writes the planned files', async () => {
    const { root, host } = fixture('intel-workstation');
    const before = snapshotTree(root);
    const seen: number[] = [];
    const dry = await persistDevices(host, state(host), {
      targets: targets('01:00.0'),
      dryRun: true,
      stamp: 't',
      onPlanned: (p) => seen.push(p.changes.length),
    });
    expect(dry.status).toBe('planned');
    expect(dry.plan.devices.map((d) => d.address)).toEqual(['0000:01:00.0', '0000:01:00.1', '0000:01:00.2', '0000:01:00.3']);
    expect(seen).toEqual([dry.plan.changes.length]);
    expect(diffSnapshots(before, snapshotTree(root))).toEqual([]);
    const run = await persistDevices(host, state(host), { targets: targets('01:00.0'), stamp: 't' });
    expect(run.status).toBe('written');
    expect(run.written).toEqual(dry.plan.changes.map((c) => c.path));
  });
});

describe('hostReadiness', () => {
  it('judges groups and devices: the console GPU guarded, its twin bindable, bridges as bridges', () => {
    const { host } = fixture('twin-gpu');
    const r = hostReadiness(host, state(host));
    const device = (a: string) => r.devices.find((d) => d.address === a)!;
    expect(device('0000:01:00.0').status).toBe('guarded');
    expect(device('0000:01:00.0').guards.map((g) => g.id)).toContain('boot-vga');
    expect(device('0000:02:00.0').status).toBe('bindable');
    expect(device('0000:00:01.0').status).toBe('bridge');
    const group = r.groups.find((g) => g.endpoints.includes('0000:02:00.0'))!;
    expect(group).toMatchObject({ status: 'bindable', isolated: true, bound: 0, viable: false });
    expect(r.guards.every((g) => g.address.startsWith('0000:01:00.'))).toBe(true);
  });

  // `guarded` is what `bind` of the device meets, and a bind takes its whole group: the HDMI
  // audio function of the console GPU is guarded by the GPU's boot-vga guard (the exporters
  // published this already; the report called it bindable, while `bind 01:00.1` was refused).
  it('a function whose group-mate is guarded is guarded too, naming that guard; bind agrees', () => {
    const { host } = fixture('twin-gpu');
    const r = hostReadiness(host, state(host));
    const audio = r.devices.find((d) => d.address === '0000:01:00.1')!;
    expect(audio.status).toBe('guarded');
    expect(audio.guards.map((g) => `${g.id} ${g.address}`)).toEqual(['boot-vga 0000:01:00.0']);
    expect(audio.summary).toMatch(/^A bind of its group would be refused: on 0000:01:00.0, it is the boot\/console GPU/);
    expect(bindDevices(host, state(host), { targets: targets('01:00.1') }, instant).blockedBy).toEqual(['guards']);
  });

  // A foreign manager's endpoint on a host driver refuses a bind of its group until --adopt: the
  // group is guarded, and so are its other endpoints (the exporters said so already).
  it('an endpoint a foreign manager holds guards its group and its group-mates', () => {
    const { host } = fixture('twin-gpu');
    host.writeFile('/etc/driverctl.d/pci-0000:02:00.1', 'snd_hda_intel\n');
    const r = hostReadiness(host, state(host));
    const group = r.groups.find((g) => g.endpoints.includes('0000:02:00.0'))!;
    expect(group.status).toBe('guarded');
    expect(group.summary).toBe('A bind would be refused: held by driverctl (0000:02:00.1).');
    expect(r.devices.find((d) => d.address === '0000:02:00.1')!.status).toBe('guarded');
    const gpu = r.devices.find((d) => d.address === '0000:02:00.0')!;
    expect(gpu.status).toBe('guarded');
    expect(gpu.summary).toMatch(/0000:02:00.1 is held by driverctl .*\(--adopt\)\.$/);
    expect(bindDevices(host, state(host), { targets: targets('02:00.0') }, instant).blockedBy).toEqual(['foreign']);
  });

  // In a group that is ready (viable, one endpoint on vfio-pci) an endpoint left without a driver
  // can still be guarded: binding it meets its guard (the exporters used to call it bindable).
  it('an endpoint without a driver in a ready group is guarded by its own guard', () => {
    const { host } = fixture('twin-gpu');
    expect(bindDevices(host, state(host), { targets: targets('01:00.0'), force: true }, instant).status).toBe('applied');
    host.writeAttribute('/sys/bus/pci/drivers/vfio-pci/unbind', '0000:01:00.0'); // passthru's journal still holds it
    const r = hostReadiness(host, state(host));
    expect(r.groups.find((g) => g.endpoints.includes('0000:01:00.0'))).toMatchObject({ status: 'ready', viable: true, bound: 1 });
    expect(r.devices.find((d) => d.address === '0000:01:00.0')).toMatchObject({ status: 'guarded' });
    expect(r.devices.find((d) => d.address === '0000:01:00.1')).toMatchObject({ status: 'ready' });
    expect(bindDevices(host, state(host), { targets: targets('01:00.0') }, instant).blockedBy).toEqual(['guards']);
  });

  it('a device whose group is not listed under /sys/kernel/iommu_groups has no group to judge', () => {
    const { host } = fixture('twin-gpu');
    const { devices, groups } = state(host);
    const r = hostReadiness(host, { devices, groups: groups.filter((g) => !g.endpoints.includes('0000:02:00.0')) });
    const gpu = r.devices.find((d) => d.address === '0000:02:00.0')!;
    expect(gpu.status).toBe('no-group');
    expect(gpu.summary).toMatch(/^IOMMU group \d+ is not listed under \/sys\/kernel\/iommu_groups/);
  });

  it('a group bound to vfio-pci is ready', () => {
    const { host } = fixture('twin-gpu');
    bindDevices(host, state(host), { targets: targets('02:00.0') }, instant);
    const r = hostReadiness(host, state(host));
    expect(r.devices.find((d) => d.address === '0000:02:00.0')!.status).toBe('ready');
    expect(r.groups.find((g) => g.endpoints.includes('0000:02:00.0'))).toMatchObject({ status: 'ready', viable: true, bound: 2 });
  });
});
