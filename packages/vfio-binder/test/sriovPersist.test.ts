// Issue 15: `sriov --persist` writes a systemd unit that makes the VFs again at boot, with a diff
// and a backup; systemd-analyze verify (when installed) accepts it.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { HostFs } from '@passthru/hostfs';
import { parseTarget, readIommuGroups, scanPciDevices } from '@passthru/pci-discovery';
import { afterEach, describe, expect, it } from 'vitest';
import { persistSriov, sriovUnitText } from '../src/sriovPersist';
import { cleanSimHosts, simHost } from './simHost';

afterEach(cleanSimHosts);

function state(host: HostFs) {
  const { devices } = scanPciDevices(host);
  return { devices, groups: readIommuGroups(host, devices) };
}
const UNIT = '/etc/systemd/system/passthru-sriov-0000-af-00.0.service';

function hasSystemdAnalyze(): boolean {
  try {
    execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('sriov --persist', () => {
  it('writes the unit (resize through 0, autoprobe first), then a changed count with a diff and a backup', async () => {
    const { root, host } = simHost('sriov-server', 'sriov-persist');
    const dry = await persistSriov(host, state(host), { target: parseTarget('ens2f0'), numVfs: 3, autoprobe: false, dryRun: true, stamp: 's1' });
    expect(dry.status).toBe('planned');
    expect(fs.existsSync(path.join(root, UNIT))).toBe(false);
    const first = await persistSriov(host, state(host), { target: parseTarget('ens2f0'), numVfs: 3, autoprobe: false, stamp: 's1' });
    expect(first.status).toBe('written');
    expect(first.plan.followUp).toEqual(['systemctl daemon-reload', 'systemctl enable passthru-sriov-0000-af-00.0.service']);
    const text = fs.readFileSync(path.join(root, UNIT), 'utf8');
    expect(text).toContain(
      "ExecStart=/bin/sh -c 'echo 0 > /sys/bus/pci/devices/0000:af:00.0/sriov_drivers_autoprobe && echo 0 > /sys/bus/pci/devices/0000:af:00.0/sriov_numvfs && echo 3 > /sys/bus/pci/devices/0000:af:00.0/sriov_numvfs'",
    );
    expect((await persistSriov(host, state(host), { target: parseTarget('ens2f0'), numVfs: 3, autoprobe: false, stamp: 's2' })).status).toBe('unchanged');
    const second = await persistSriov(host, state(host), { target: parseTarget('0000:af:00.0'), numVfs: 6, stamp: 's3' });
    expect(second.plan.changes[0]!.diff).toMatch(/^-.*echo 3 > .*sriov_numvfs'$/m);
    expect(second.plan.changes[0]!.diff).toMatch(/^\+.*echo 6 > .*sriov_numvfs'$/m);
    expect(fs.readFileSync(path.join(root, `${UNIT}.passthru-s3.bak`), 'utf8')).toBe(text);
  });

  it('systemd-analyze verify accepts the unit', () => {
    // Not skipped in silence: without the checker this test fails and says how to get it.
    if (!hasSystemdAnalyze()) throw new Error('systemd-analyze is missing: apt-get install -y systemd');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sriov-unit-'));
    try {
      const file = path.join(dir, 'passthru-sriov-0000-af-00.0.service');
      fs.writeFileSync(file, sriovUnitText('0000:af:00.0', '8086:1572', 4, false));
      // --recursive-errors=no: the units it orders itself against (libvirtd, lxd) need not be installed here.
      execFileSync('systemd-analyze', ['verify', '--man=no', '--recursive-errors=no', file], { stdio: 'pipe' });
      fs.writeFileSync(file, sriovUnitText('0000:af:00.0', '8086:1572', 4, false).replace('ExecStart=/bin/sh', 'ExecStart=bin/sh'));
      expect(() => execFileSync('systemd-analyze', ['verify', '--man=no', '--recursive-errors=no', file], { stdio: 'pipe' })).toThrow();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
