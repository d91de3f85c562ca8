// Issue 18: platform functions are never bindable (bind, groups, doctor, report agree), and a
// partial capture is judged on the evidence it holds (doctor "incomplete", list agrees with lspci).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DoctorOutputSchema, GroupsOutputSchema, ListOutputSchema, ReportSchema } from '../src/commands/outputs';
import { cleanFixtures, cli, driverOf, fixtureCopy, kernelWrites, repo } from './runCli';

afterEach(cleanFixtures);
const fixture = (name: string) => path.join(repo, 'fixtures/hosts', name);

/** Every file and link target under a tree (what "writes nothing" is checked against). */
function treeState(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = path.join(rel, e.name);
      if (e.isSymbolicLink()) out.push(`${child} -> ${fs.readlinkSync(path.join(root, child))}`);
      else if (e.isDirectory()) walk(child);
      else out.push(`${child} ${fs.statSync(path.join(root, child)).size}`);
    }
  };
  walk('');
  return out.sort();
}

describe('platform functions (intel-pch-desktop)', () => {
  it('bind refuses the onboard audio and the host bridge (--force and --dry-run too), names the function, writes nothing; the GPU binds', async () => {
    const root = fixtureCopy('intel-pch-desktop');
    const before = treeState(root);
    for (const argv of [['00:1f.3'], ['00:1f.3', '--force', '--yes'], ['group:10', '--dry-run'], ['0000:00:00.0', '--force']]) {
      const r = await cli('--root', root, 'bind', ...argv);
      expect(r.code, argv.join(' ')).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/not passable: holds platform function 0000:00:(1f\.0 \(ISA bridge\)|00\.0 \(host bridge\))/);
      expect(r.stderr).toMatch(/--force does not override this/);
    }
    expect(kernelWrites(root)).toEqual([]);
    expect(treeState(root)).toEqual(before);
    const gpu = await cli('--root', root, 'bind', '01:00.0');
    expect(gpu.code, gpu.stderr).toBe(0);
    expect(['0000:01:00.0', '0000:01:00.1'].map((a) => driverOf(root, a))).toEqual(['vfio-pci', 'vfio-pci']);
    expect(driverOf(root, '0000:00:1f.3')).toBe('snd_hda_intel');
  });

  it('groups and the report do not call them bindable; doctor --device says "not passable"', async () => {
    const root = fixture('intel-pch-desktop');
    const groups = await cli('--root', root, 'groups');
    expect(groups.stdout).toContain('Group 0: not passable: holds platform function 0000:00:00.0 (host bridge).');
    expect(groups.stdout).toContain(
      'Group 10: not passable: holds platform function 0000:00:1f.0 (ISA bridge), 0000:00:1f.4 (SMBus controller), 0000:00:1f.5 (SPI flash controller).',
    );
    expect(groups.stdout).not.toMatch(/Group 12: not passable/);
    const json = GroupsOutputSchema.parse(JSON.parse((await cli('--root', root, 'groups', '--format', 'json')).stdout));
    expect(json.groups.find((g) => g.id === 10)!.platformFunctions.map((p) => p.kind)).toEqual(['ISA bridge', 'SMBus controller', 'SPI flash controller']);
    expect(json.groups.find((g) => g.id === 12)!.platformFunctions).toEqual([]);

    const report = ReportSchema.parse(JSON.parse((await cli('--root', root, 'report', '--format', 'json')).stdout));
    const status = (a: string) => report.devices.find((d) => d.address === a)!.readiness;
    for (const a of ['0000:00:00.0', '0000:00:1f.0', '0000:00:1f.3', '0000:00:1f.4', '0000:00:1f.5']) expect(status(a).status, a).toBe('not-passable');
    expect(status('0000:00:1f.3').summary).toMatch(/^Not passable: holds platform function 0000:00:1f\.0 \(ISA bridge\)/);
    expect(status('0000:01:00.0').status).toBe('bindable');
    expect(report.groups.find((g) => g.id === 0)).toMatchObject({
      status: 'not-passable',
      platformFunctions: [{ address: '0000:00:00.0', kind: 'host bridge' }],
    });
    expect(report.groups.find((g) => g.id === 10)!.status).toBe('not-passable');
    // The host verdict is the host checks' (doctor's): the platform groups are said per group, not by the verdict.
    expect(report.verdict).toBe('ready');
    expect(report.doctor.verdict).toBe('ready');

    const doctor = await cli('--root', root, 'doctor', '--device', '00:1f.3', '--format', 'json');
    expect(doctor.code).toBe(1);
    const viable = DoctorOutputSchema.parse(JSON.parse(doctor.stdout)).checks.find((c) => c.id === 'group.viable.0000:00:1f.3')!;
    expect(viable).toMatchObject({ status: 'FAIL', summary: expect.stringMatching(/not passable: holds platform function 0000:00:1f\.0 \(ISA bridge\)/) });
  });

  it('intel-workstation: the host bridge is not bindable there either; its verdicts stay', async () => {
    const root = fixture('intel-workstation');
    const report = ReportSchema.parse(JSON.parse((await cli('--root', root, 'report', '--format', 'json')).stdout));
    expect(report.devices.find((d) => d.address === '0000:00:00.0')!.readiness.status).toBe('not-passable');
    expect(report.verdict).toBe('ready');
    expect((await cli('--root', root, 'doctor')).code).toBe(0);
  });
});

describe('a partial capture (no /sys/firmware, no /sys/kernel)', () => {
  const root = fixture('partial-capture');

  it('doctor: firmware and kernel SKIP "not in this tree", verdict incomplete, exit 1', async () => {
    const r = await cli('--root', root, 'doctor', '--format', 'json');
    expect(r.code).toBe(1);
    const report = DoctorOutputSchema.parse(JSON.parse(r.stdout));
    expect(report.verdict).toBe('incomplete');
    expect(report.absent).toEqual(['/sys/firmware', '/sys/kernel']);
    const byId = (id: string) => report.checks.find((c) => c.id === id)!;
    expect(byId('iommu.firmware')).toMatchObject({ status: 'SKIP', summary: expect.stringMatching(/^\/sys\/firmware is not in this tree/) });
    expect(byId('iommu.kernel')).toMatchObject({
      status: 'SKIP',
      summary: expect.stringMatching(/^\/sys\/kernel is not in this tree.*carry iommu_group links/),
    });
    expect(report.checks.filter((c) => c.status === 'FAIL')).toEqual([]);
    const table = await cli('--root', root, 'doctor');
    expect(table.stdout).toMatch(/^INCOMPLETE: no check failed, but \/sys\/firmware, \/sys\/kernel are not in this tree/);
  });

  it('list follows lspci: no group from a dangling link, and the link reported as a scan problem', async () => {
    const r = await cli('--root', root, 'list', '--format', 'json');
    expect(r.code).toBe(0);
    const list = ListOutputSchema.parse(JSON.parse(r.stdout));
    expect(list.devices.map((d) => d.iommuGroup)).toEqual(list.devices.map(() => null));
    expect(list.problems.map((p) => p.address)).toEqual(list.devices.map((d) => d.address));
    expect(list.problems[0]!.message).toMatch(/iommu_group: the link leads to \/sys\/kernel\/iommu_groups\/0, which is not in this tree/);
    expect(r.stderr).toMatch(/passthru: warning: Failed resolving \/sys\/bus\/pci\/devices\/0000:01:00\.0\/iommu_group/);
  });

  it('an iommu_group symlink loop is a scan problem naming the loop, and bind names it too', async () => {
    const copy = fixtureCopy('intel-workstation');
    const dev = fs.realpathSync(path.join(copy, 'sys/bus/pci/devices/0000:00:1f.6'));
    fs.rmSync(path.join(dev, 'iommu_group'));
    fs.symlinkSync('iommu_group', path.join(dev, 'iommu_group'));
    const list = JSON.parse((await cli('--root', copy, 'list', '--format', 'json')).stdout);
    expect(list.problems).toEqual([
      {
        address: '0000:00:1f.6',
        message: 'Failed resolving /sys/bus/pci/devices/0000:00:1f.6/iommu_group: the link is a symlink loop (-> iommu_group), so its group cannot be read',
      },
    ]);
    const bind = await cli('--root', copy, 'bind', '00:1f.6', '--dry-run');
    expect(bind.code).toBe(1);
    expect(bind.stderr).toMatch(/warning: Failed resolving .*0000:00:1f\.6\/iommu_group: the link is a symlink loop/);
  });
});
