// Issue 15: `sriov --persist` writes a systemd unit that makes the VFs again at boot, with a diff
// and a backup; systemd-analyze verify (when installed) accepts it. Issue 22, items 1 and 2: the
// VFs and the unit are one transaction: every file is checked before the first write (a unit
// that cannot be written changes nothing), a failure at any step rolls back both, and a run
// killed at any step is finished by `restore --all`.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { parseTarget } from '@passthru/pci-discovery';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal } from '../src/Journal';
import { restoreDevices } from '../src/restore/restoreDevices';
import { sriovDevices, type SriovRequest } from '../src/sriov/sriovDevices';
import { sriovUnitText } from '../src/sriov/unit';
import { cleanSimHosts, simHost, state } from './simHost';
import { diffSnapshots, snapshotTree } from './treeSnapshot';

afterEach(cleanSimHosts);
const X710 = '0000:af:00.0';
const UNIT = '/etc/systemd/system/passthru-sriov-0000-af-00.0.service';
const numVfs = (host: HostFs) => Number(host.readAttribute(`/sys/bus/pci/devices/${X710}/sriov_numvfs`));

const persist = (host: HostFs, n: number, extra: Partial<SriovRequest> = {}, stamp = 's1') =>
  sriovDevices(host, state(host), { target: parseTarget('ens2f0'), numVfs: n, persist: { stamp }, ...extra });

function hasSystemdAnalyze(): boolean {
  try {
    execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('sriov --persist', () => {
  it('writes the unit with the VFs (resize through 0, autoprobe first), then a changed count with a diff and a backup', () => {
    const { root, host } = simHost('sriov-server', 'sriov-persist');
    const dry = persist(host, 3, { autoprobe: false, dryRun: true });
    expect(dry.status).toBe('planned');
    expect(dry.unit!.changes[0]!.backup).toBeNull();
    expect(fs.existsSync(path.join(root, UNIT))).toBe(false);
    const first = persist(host, 3, { autoprobe: false });
    expect(first.status).toBe('applied');
    expect(first.result!.unit).toBe(UNIT);
    expect(numVfs(host)).toBe(3);
    expect(first.unit!.followUp).toEqual(['systemctl daemon-reload', 'systemctl enable passthru-sriov-0000-af-00.0.service']);
    const text = fs.readFileSync(path.join(root, UNIT), 'utf8');
    expect(text).toContain(
      "ExecStart=/bin/sh -c 'echo 0 > /sys/bus/pci/devices/0000:af:00.0/sriov_drivers_autoprobe && echo 0 > /sys/bus/pci/devices/0000:af:00.0/sriov_numvfs && echo 3 > /sys/bus/pci/devices/0000:af:00.0/sriov_numvfs'",
    );
    expect(persist(host, 3, { autoprobe: false }, 's2').status).toBe('noop');
    const second = persist(host, 6, {}, 's3');
    expect(second.status).toBe('applied');
    expect(second.unit!.changes[0]!.diff).toMatch(/^-.*echo 3 > .*sriov_numvfs'$/m);
    expect(second.unit!.changes[0]!.diff).toMatch(/^\+.*echo 6 > .*sriov_numvfs'$/m);
    expect(fs.readFileSync(path.join(root, `${UNIT}.passthru-s3.bak`), 'utf8')).toBe(text);
    // The journal entry carries the unit, so a rollback or restore can put it back.
    const entry = new Journal(host).read().entries.at(-1)!;
    expect(entry.sriov!.unit).toMatchObject({ path: UNIT, before: text });
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

/** The unit's path in a tree, its folder made. */
const unitIn = (root: string) => {
  fs.mkdirSync(path.join(root, path.dirname(UNIT)), { recursive: true });
  return path.join(root, UNIT);
};

/** Ways the unit's place can be spoiled before a run: each must be refused before any write. */
const SPOILED: Array<[string, RegExp, (root: string) => void]> = [
  ['/etc/systemd/system is a file', /ENOTDIR/, (root) => fs.writeFileSync(path.join(root, 'etc/systemd/system'), 'x')],
  ['the unit is a folder', /EISDIR .*a folder/, (root) => fs.mkdirSync(path.join(root, UNIT.slice(1)), { recursive: true })],
  ['the unit is a FIFO', /a FIFO/, (root) => execFileSync('mkfifo', [unitIn(root)])],
  ['the unit is a symlink out of the root', /EXDEV/, (root) => fs.symlinkSync('/etc/hostname', unitIn(root))],
  ['the unit is a dangling symlink', /a symlink/, (root) => fs.symlinkSync('nowhere', unitIn(root))],
  ['a folder on the way is a symlink out of the root', /EXDEV/, (root) => fs.symlinkSync(os.tmpdir(), path.join(root, 'etc/systemd/system'))],
  ['a symlink loop', /ELOOP/, (root) => fs.symlinkSync('system', path.join(root, 'etc/systemd/system'))],
  [
    'the folder is immutable',
    /EPERM/,
    (root) => {
      fs.mkdirSync(path.join(root, 'etc/systemd/system'));
      execFileSync('chattr', ['+i', path.join(root, 'etc/systemd/system')]);
    },
  ],
];

describe('sriov --persist checks the unit before any write (issue 22, item 1)', () => {
  const immutable: string[] = [];
  afterEach(() => {
    for (const f of immutable.splice(0)) execFileSync('chattr', ['-i', f]);
  });

  it.each(SPOILED)('%s: refused (usage), the VFs and the tree unchanged, --dry-run says the same', (_name, why, spoil) => {
    const { root, host } = simHost('sriov-server', 'sriov-preflight');
    fs.mkdirSync(path.join(root, 'etc/systemd'), { recursive: true });
    spoil(root);
    if (_name.includes('immutable')) immutable.push(path.join(root, 'etc/systemd/system'));
    const before = snapshotTree(root);
    for (const dryRun of [true, false]) {
      let error: unknown;
      try {
        persist(host, 2, { dryRun });
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ kind: 'bad-input', message: expect.stringMatching(why) });
      expect((error as Error).message).toMatch(/Failed planning sriov --persist via .*; nothing was written$/);
    }
    expect(numVfs(host)).toBe(8);
    expect(diffSnapshots(before, snapshotTree(root))).toEqual([]);
  });
});

/** A HostFs whose writeFile of one path fails (a full disk, an I/O error after the checks passed). */
class FailingWrites extends HostFs {
  failOn = '';
  override writeFile(hostPath: string, data: string | Buffer, mode?: number): void {
    if (hostPath === this.failOn) throw Object.assign(new Error(`ENOSPC: no space left on device, write '${hostPath}'`), { code: 'ENOSPC' });
    super.writeFile(hostPath, data, mode);
  }
}

/** Every step of an 8 -> 2 resize with --persist over an existing unit, in order. */
const STEPS = [
  { name: 'sriov_drivers_autoprobe', sysfs: `/sys/bus/pci/devices/${X710}/sriov_drivers_autoprobe` },
  { name: 'sriov_numvfs 0', sysfs: `/sys/bus/pci/devices/${X710}/sriov_numvfs`, data: '0' },
  { name: 'sriov_numvfs 2', sysfs: `/sys/bus/pci/devices/${X710}/sriov_numvfs`, data: '2' },
  { name: 'the backup', file: `${UNIT}.passthru-s2.bak` },
  { name: 'the unit', file: UNIT },
];

function composite() {
  const { root, kernel } = simHost('sriov-server', 'sriov-composite');
  const host = new FailingWrites(root, { kernel });
  persist(host, 8, {}, 's0');
  return { root, host, kernel };
}

describe('sriov --persist is one transaction (issue 22: the fault matrix of sriov + persist)', () => {
  it.each(STEPS)('$name fails: the VFs, autoprobe and the unit are as they were', (step) => {
    const { root, host, kernel } = composite();
    const before = snapshotTree(root);
    if (step.sysfs) kernel.injectFault({ path: step.sysfs, ...(step.data ? { data: step.data } : {}), nth: 1, fail: 'EIO' });
    if (step.file) host.failOn = step.file;
    const outcome = persist(host, 2, { autoprobe: false }, 's2');
    expect(outcome.status).toBe('rolled-back');
    expect(outcome.result!.error).toMatch(step.file ? /ENOSPC/ : /EIO/);
    expect(numVfs(host)).toBe(8);
    expect(diffSnapshots(before, snapshotTree(root))).toEqual([]);
  });

  it.each(STEPS)('killed at $name: restore --all puts the PF and the unit back as they were', (step) => {
    const { root, host, kernel } = composite();
    const before = snapshotTree(root);
    // A kill -9: the run stops dead at this step (nothing after it runs: no rollback, no finish record).
    const killed = new Error('killed');
    const original = host.writeAttribute.bind(host);
    const originalFile = HostFs.prototype.writeFile;
    host.writeAttribute = (p, d) => {
      if (p === step.sysfs && (!step.data || d === step.data)) throw killed;
      original(p, d);
    };
    host.writeFile = function (p, d, m) {
      if (p === step.file) throw killed;
      originalFile.call(this, p, d, m);
    };
    expect(() => persist(host, 2, { autoprobe: false }, 's2')).toThrow('killed');
    const after = new HostFs(root, { kernel });
    expect(new Journal(after).read().entries.at(-1)!.state).toBe('applying');
    const restored = restoreDevices(after, state(after), { targets: 'all' }, { verifyTimeoutMs: 0, sleep: () => {} });
    expect(restored.status).toBe('restored');
    expect(restored.sriovResults).toEqual([{ pf: X710, status: 'restored', numVfs: 8 }]);
    expect(diffSnapshots(before, snapshotTree(root))).toEqual([]);
    expect(new Journal(after).read().entries.at(-1)!.state).toBe('restored');
    // Finished: a second restore has nothing left to do.
    expect(restoreDevices(after, state(after), { targets: 'all' }).sriov).toEqual([]);
  });
});
