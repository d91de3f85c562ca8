// The use cases of the package door (bind, restore, persist, readiness): what a CLI, a fleet
// agent or an exporter calls, with the policy (--force, --adopt, consent) inside.
import * as path from 'node:path';
import type { HostFs } from '@passthru/hostfs';
import { readIommuGroups, scanPciDevices } from '@passthru/pci-discovery';
import { afterEach, describe, expect, it } from 'vitest';
import { bindDevices, hostReadiness, parseTarget, persistDevices, restoreDevices, VfioBinderError } from '../src/index';
import { cleanSimHosts, simHost } from './simHost';
import { diffSnapshots, snapshotTree } from './treeSnapshot';
import { giveDeviceId } from './renumber';

afterEach(cleanSimHosts);

const fixture = (name: string) => simHost(name, 'usecase');
const state = (host: HostFs) => {
  const { devices } = scanPciDevices(host);
  return { devices, groups: readIommuGroups(host, devices) };
};
const driverOf = (host: HostFs, a: string) => host.linkName(`/sys/bus/pci/devices/${a}/driver`) ?? null;
const instant = { verifyTimeoutMs: 0, sleep: () => {} };
const targets = (...raw: string[]) => raw.map(parseTarget);

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

  it('a group bound to vfio-pci is ready', () => {
    const { host } = fixture('twin-gpu');
    bindDevices(host, state(host), { targets: targets('02:00.0') }, instant);
    const r = hostReadiness(host, state(host));
    expect(r.devices.find((d) => d.address === '0000:02:00.0')!.status).toBe('ready');
    expect(r.groups.find((g) => g.endpoints.includes('0000:02:00.0'))).toMatchObject({ status: 'ready', viable: true, bound: 2 });
  });
});
