// bind and restore on a real kernel, judged by the kernel's sysfs after each step: the device's
// driver and interfaces, the group's /dev/vfio node, the module loader, and the guards.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { drivers, step, stepFile } from './records';

const NIC1 = '0000:01:00.0';
const NVME = '0000:03:00.0';
const CARD = ['0000:04:00.0', '0000:04:00.1'];
const NIC3 = '0000:06:00.0';

/** The drivers after the guest's coldplug, before any scenario changed them. */
const baseline = (run = 'vtd') => drivers(step(run, 'coldplug').kernel);
/** The files of a snapshot tar a step left (before.tar / after.tar). */
const tarFiles = (run: string, name: string, which: 'before' | 'after') =>
  execFileSync('tar', ['-tf', path.join(step(run, name).dir, `${which}.tar`)], { encoding: 'utf8' }).split('\n');
const tarFile = (run: string, name: string, which: 'before' | 'after', file: string) =>
  execFileSync('tar', ['-xOf', path.join(step(run, name).dir, `${which}.tar`), `./${file}`], { encoding: 'utf8' });

describe('vfio-pci loaded by bind (the module loader decides)', () => {
  it('where modprobe cannot load it (modprobe.d: install vfio_pci /bin/false): exit 1 naming why, nothing written', () => {
    const s = step('vtd', 'vfio-unloadable');
    expect(s.rc).toBe(1);
    expect(s.stderr).toContain('Failed loading module vfio-pci');
    expect(s.stderr).toContain("install command '/bin/false'");
    expect(s.stderr).toContain('nothing was written');
    expect(drivers(s.kernel)).toEqual(baseline());
    expect(s.kernel.modules).not.toContain('vfio_pci');
    expect(tarFiles('vtd', 'vfio-load', 'before').some((f) => f.includes('var/lib/passthru/journal'))).toBe(false);
  });

  it("--dry-run shows the load as the plan's first step and loads nothing", () => {
    const s = step('vtd', 'vfio-load-dryrun');
    expect(s.rc).toBe(0);
    expect(s.stdout.split('\n')[0]).toMatch(/^modprobe vfio-pci\b/);
    expect(s.kernel.modules).not.toContain('vfio_pci');
    expect(drivers(s.kernel)).toEqual(baseline());
  });

  it('where it can: loads it, binds, and the journal records the load', () => {
    const s = step('vtd', 'vfio-load');
    expect(s.rc).toBe(0);
    expect(s.kernel.modules).toEqual(expect.arrayContaining(['vfio_pci', 'vfio', 'vfio_iommu_type1']));
    expect(s.kernel.devices[NIC3]!.driver).toBe('vfio-pci');
    const group = String(s.kernel.devices[NIC3]!.iommuGroup);
    expect(s.kernel.vfioNodes).toEqual(expect.arrayContaining(['vfio', group]));
    const journal = tarFile('vtd', 'vfio-load', 'after', 'var/lib/passthru/journal.jsonl');
    const begin = journal
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l))
      .find((e) => e.event === 'begin');
    expect(begin.entry.modulesLoaded).toEqual(['vfio-pci']);
    const r = step('vtd', 'vfio-load-restore');
    expect(r.rc).toBe(0);
    expect(drivers(r.kernel)).toEqual(baseline());
  });
});

describe('bind and restore, for real', () => {
  it('the NIC: on vfio-pci its interface goes; restored, it comes back under the same name', () => {
    const ifname = stepFile('vtd', '.', 'nic-ifname').trim();
    expect(ifname).not.toBe('');
    const bound = step('vtd', 'bind-nic');
    expect(bound.rc, bound.stderr).toBe(0);
    expect(bound.kernel.devices[NIC1]).toMatchObject({ driver: 'vfio-pci', net: [] });
    const restored = step('vtd', 'restore-nic');
    expect(restored.rc, restored.stderr).toBe(0);
    expect(restored.kernel.devices[NIC1]).toMatchObject({ driver: 'e1000e', driverOverride: null, net: [ifname] });
  });

  it("the card is one group: a function on vfio-pci by another hand is not passthru's (exit 1 without --adopt)", () => {
    const part = step('vtd', 'bind-card-part');
    expect(part.kernel.devices[CARD[0]!]!.driver).toBe('vfio-pci');
    const g = String(part.kernel.devices[CARD[0]!]!.iommuGroup);
    expect(part.kernel.groups[g]!.viable).toBe(false);
    const foreign = step('vtd', 'bind-card-foreign');
    expect(foreign.rc).toBe(1);
    expect(foreign.stderr).toContain('--adopt');
    expect(drivers(foreign.kernel)).toEqual(drivers(part.kernel));
  });

  it('the card, whole: display and audio on vfio-pci, the group viable by the kernel; restored to their drivers', () => {
    const bound = step('vtd', 'bind-card');
    expect(bound.rc, bound.stderr).toBe(0);
    for (const a of CARD) expect(bound.kernel.devices[a]!.driver).toBe('vfio-pci');
    const g = String(bound.kernel.devices[CARD[0]!]!.iommuGroup);
    expect(bound.kernel.groups[g]).toMatchObject({ vfioNode: true, viable: true });
    const restored = step('vtd', 'restore-card');
    expect(restored.rc, restored.stderr).toBe(0);
    expect(drivers(restored.kernel)).toEqual(baseline());
    expect(restored.kernel.vfioNodes).not.toContain(g);
  });

  it('the NVMe: bound and restored (nvme)', () => {
    const bound = step('vtd', 'bind-nvme');
    expect(bound.rc, bound.stderr).toBe(0);
    expect(bound.kernel.devices[NVME]!.driver).toBe('vfio-pci');
    const restored = step('vtd', 'restore-nvme');
    expect(restored.rc, restored.stderr).toBe(0);
    expect(restored.kernel.devices[NVME]!.driver).toBe('nvme');
  });

  it('AMD-Vi: the card binds whole and the kernel calls the group viable', () => {
    const bound = step('amd', 'bind-card');
    expect(bound.rc, bound.stderr).toBe(0);
    const g = String(bound.kernel.devices[CARD[0]!]!.iommuGroup);
    expect(bound.kernel.groups[g]).toMatchObject({ vfioNode: true, viable: true });
    expect(drivers(step('amd', 'restore-card').kernel)).toEqual(baseline('amd'));
  });

  it('root ports without ACS: one NIC of the shared group is refused (the other would move unasked); both bind, the ports stay on pcieport', () => {
    const one = step('no-acs', 'bind-one-of-group');
    expect(one.rc).toBe(1);
    expect(one.stdout + one.stderr).toContain('foreign-endpoint');
    expect(drivers(one.kernel)).toEqual(baseline('no-acs'));
    const bound = step('no-acs', 'bind-group');
    expect(bound.rc, bound.stderr).toBe(0);
    expect([bound.kernel.devices['0000:01:00.0']!.driver, bound.kernel.devices['0000:02:00.0']!.driver]).toEqual(['vfio-pci', 'vfio-pci']);
    expect([bound.kernel.devices['0000:00:03.0']!.driver, bound.kernel.devices['0000:00:03.1']!.driver]).toEqual(['pcieport', 'pcieport']);
    const g = String(bound.kernel.devices['0000:01:00.0']!.iommuGroup);
    expect(bound.kernel.groups[g]).toMatchObject({ vfioNode: true, viable: true });
    expect(drivers(step('no-acs', 'restore-group').kernel)).toEqual(baseline('no-acs'));
  });
});

describe('refusals leave the kernel as it was', () => {
  it.each([
    ['guard-platform', /platform function/],
    ['guard-route', /default route/],
    ['guard-mount', /mounted/],
  ])('%s: exit 1, the reason named, no driver changed', (name, reason) => {
    const s = step('vtd-2', name);
    expect(s.rc).toBe(1);
    expect(s.stderr + s.stdout).toMatch(reason);
    expect(drivers(s.kernel)).toEqual(baseline('vtd-2'));
  });
});

describe('kill -9 in the middle of a real bind of the card, then restore --all', () => {
  it.each([1, 2, 3])('moment %i (journal lines written when killed): the host is as it was', (i) => {
    expect(Number(stepFile('vtd-2', `kill9-${i}`, 'journal-lines').trim())).toBeGreaterThanOrEqual(i);
    const r = step('vtd-2', `kill9-${i}-restore`);
    expect(r.rc, `${r.stdout}${r.stderr}`).toBe(0);
    expect(drivers(r.kernel)).toEqual(baseline('vtd-2'));
    for (const a of CARD) expect(r.kernel.devices[a]!.driverOverride).toBeNull();
  });
});
