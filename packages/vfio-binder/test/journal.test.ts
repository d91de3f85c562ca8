// Issue 18: a journal that never lies (whole appends or none, salvage instead of refusal, no
// append after unreadable lines, recovery from the tree) and a lock that is really exclusive.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostFs, errnoError } from '@passthru/hostfs';
import { readIommuGroups, scanPciDevices } from '@passthru/pci-discovery';
import { SimulatedKernel, loadHostSpec, materialize } from '@passthru/sysfs-sim';
import { afterAll, describe, expect, it } from 'vitest';
import { planBind } from '../src/bind/plan';
import { LOCK_PATH, acquireHostLock } from '../src/HostLock';
import { Journal } from '../src/Journal';
import { VfioBinderError } from '../src/VfioBinderError';
import { applyBind } from '../src/bind/apply';
import { applyRecovery, planRecovery } from '../src/restore/recovery';
import { applyRestore, planRestore } from '../src/restore/plan';
import { parseTarget, resolveTargets } from '../src/bind/targets';
import { diffSnapshots, snapshotTree } from './treeSnapshot';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'journal-lock-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }), 120_000);
const pristine = path.join(work, 'pristine');
materialize(loadHostSpec(path.resolve(__dirname, '../../../fixtures/specs/intel-workstation.yaml')), pristine);
const GPU = ['0000:01:00.0', '0000:01:00.1', '0000:01:00.2', '0000:01:00.3'];
const instant = { verifyTimeoutMs: 0, sleep: () => {} };

let n = 0;
/**
 * A fresh copy of the fixture. `failWrite(k)`: the disk fills at the k-th regular-file write(2)
 * from now (its first bytes fit, then ENOSPC until `freeSpace()`).
 */
function freshHost() {
  const root = path.join(work, `h${n++}`);
  fs.cpSync(pristine, root, { recursive: true, verbatimSymlinks: true });
  const kernel = new SimulatedKernel(root, { logWrites: false });
  let countdown = 0;
  let full = false;
  const host = new HostFs(root, {
    kernel,
    writeSync: (fd, buffer, offset, length) => {
      if (full) throw errnoError('ENOSPC', 'no space left on device, write');
      if (countdown > 0 && --countdown === 0) {
        full = true;
        return fs.writeSync(fd, buffer, offset, Math.min(length, 9));
      }
      return fs.writeSync(fd, buffer, offset, length);
    },
  });
  return {
    root,
    kernel,
    host,
    failWrite: (k: number) => {
      countdown = k;
    },
    freeSpace: () => {
      full = false;
      countdown = 0;
    },
  };
}

function gpuPlan(host: HostFs) {
  const { devices } = scanPciDevices(host);
  const groups = readIommuGroups(host, devices);
  return planBind(resolveTargets([parseTarget('01:00.0')], devices, groups), devices, groups);
}
const driverOf = (host: HostFs, a: string) => host.linkName(`/sys/bus/pci/devices/${a}/driver`) ?? null;
const journalText = (root: string) => fs.readFileSync(path.join(root, 'var/lib/passthru/journal.jsonl'), 'utf8');
const lockFile = (root: string) => path.join(root, 'run/passthru/bind.lock');

describe('journal appends on a full disk', () => {
  // A GPU bind appends 6 records (begin, 4 device marks, finish): a full disk tears each in turn.
  it.each([1, 2, 3, 4, 5, 6])('the append of record %i tears: the bind fails with nothing half-written, and restore --all gives back the exact tree', (k) => {
    const { root, host, kernel, failWrite, freeSpace } = freshHost();
    const before = snapshotTree(root);
    // One earlier bind and restore of the NIC, so the journal has history to keep.
    const nicPlan = (() => {
      const { devices } = scanPciDevices(host);
      const groups = readIommuGroups(host, devices);
      return planBind(resolveTargets([parseTarget('00:1f.6')], devices, groups), devices, groups);
    })();
    expect(applyBind(host, nicPlan, instant).status).toBe('applied');
    expect(applyRestore(host, planRestore(host, scanPciDevices(host).devices, 'all'), instant).status).toBe('restored');
    const history = journalText(root);
    // The lock's temp file is write 1; the journal's records follow.
    failWrite(1 + k);
    let error: string | undefined;
    try {
      const result = applyBind(host, gpuPlan(host), instant);
      expect(result.status).toBe('rolled-back');
      error = result.error;
    } catch (thrown) {
      expect(thrown).toBeInstanceOf(VfioBinderError);
      error = (thrown as Error).message;
    }
    expect(error).toMatch(/Failed journalling .* via \/var\/lib\/passthru\/journal\.jsonl: Failed appending to .*ENOSPC/);
    // Every line whole: the history as it was, then whole records only.
    const text = journalText(root);
    expect(text.startsWith(history)).toBe(true);
    expect(new Journal(host).inspect().damaged).toEqual([]);
    // The device whose record tore was never touched, nor any after it.
    if (k >= 2 && k <= 5) for (const a of GPU.slice(k - 2)) expect(kernel.writes.filter((w) => w.data === a || w.path.includes(a)).length).toBe(0);
    expect(GPU.map((a) => driverOf(host, a))).toEqual(['nvidia', 'snd_hda_intel', 'xhci_hcd', 'nvidia-gpu']);
    freeSpace();
    const restore = applyRestore(host, planRestore(host, scanPciDevices(host).devices, 'all'), instant);
    expect(restore.status).not.toBe('partial');
    expect(diffSnapshots(before, snapshotTree(root))).toEqual([]);
    expect(new Journal(host).outstanding().size).toBe(0);
  });
});

describe('a journal with unreadable lines', () => {
  function boundThenTorn(cut: (text: string) => string) {
    const fixture = freshHost();
    const before = snapshotTree(fixture.root);
    expect(applyBind(fixture.host, gpuPlan(fixture.host), instant).status).toBe('applied');
    const file = path.join(fixture.root, 'var/lib/passthru/journal.jsonl');
    fs.writeFileSync(file, cut(fs.readFileSync(file, 'utf8')));
    return { ...fixture, before, file };
  }

  it('bind refuses to append after a torn record: zero writes, journal unchanged, advice that keeps every record', () => {
    const { host, kernel, file } = boundThenTorn((text) => `${text}{"event":"device","id":"x","addr`);
    const torn = fs.readFileSync(file, 'utf8');
    const writes = kernel.writes.length;
    const { devices } = scanPciDevices(host);
    const groups = readIommuGroups(host, devices);
    const nic = planBind(resolveTargets([parseTarget('00:1f.6')], devices, groups), devices, groups);
    expect(() => applyBind(host, nic, instant)).toThrow(
      /Failed journalling the bind via \/var\/lib\/passthru\/journal\.jsonl: line 7 cannot be read \(a torn last record.*nothing was changed.*passthru restore --all.*passthru restore --repair-journal/,
    );
    expect(kernel.writes.length).toBe(writes);
    expect(fs.readFileSync(file, 'utf8')).toBe(torn);
    expect(host.exists(LOCK_PATH)).toBe(false);
  });

  it('restore salvages: an unreadable middle line does not hide the devices recorded around it', () => {
    const { host, file } = boundThenTorn((text) => {
      const lines = text.split('\n');
      lines.splice(2, 0, 'garbage \u0000 from a bad disk');
      return lines.join('\n');
    });
    expect(new Journal(host).inspect().damaged).toMatchObject([{ line: 3, text: 'garbage \u0000 from a bad disk' }]);
    expect([...new Journal(host).outstanding().keys()]).toEqual(GPU);
    expect(fs.readFileSync(file, 'utf8')).toContain('garbage');
  });

  it('a record appended right after a torn one (older passthru) is salvaged from the shared line', () => {
    const { host } = boundThenTorn((text) => {
      const lines = text.trimEnd().split('\n');
      // The mark of 01:00.1 tore after 30 bytes and the next writer appended the rest on its line.
      return [lines[0], `${lines[1]!.slice(0, 30)}${lines.slice(2).join('\n')}`, ''].join('\n');
    });
    const { damaged } = new Journal(host).inspect();
    expect(damaged).toHaveLength(1);
    expect(damaged[0]!.reason).toMatch(/the record after its first 30 bytes was salvaged/);
    // 01:00.0's mark is lost, so only the three later devices are known bound.
    expect([...new Journal(host).outstanding().keys()]).toEqual(GPU.slice(1));
  });

  it('setAsideDamaged moves only the unreadable lines, verbatim, into a dated file; every readable line stays', () => {
    const { host, root, file } = boundThenTorn((text) => `${text}not json\n`);
    const readable = fs.readFileSync(file, 'utf8').replace('not json\n', '');
    const moved = new Journal(host, () => new Date('2026-01-02T03:04:05.678Z')).setAsideDamaged();
    expect(moved).toEqual({ path: '/var/lib/passthru/journal.damaged-2026-01-02T03-04-05-678Z.jsonl', lines: [7] });
    expect(fs.readFileSync(path.join(root, moved!.path), 'utf8')).toBe('not json\n');
    expect(fs.readFileSync(file, 'utf8')).toBe(readable);
    expect(new Journal(host).setAsideDamaged()).toBeUndefined();
  });

  it('a journal cut inside its first record while four devices are on vfio-pci: recovery from the tree gives back the exact tree', () => {
    const { host, root, before } = boundThenTorn((text) => text.slice(0, 200));
    expect(GPU.map((a) => driverOf(host, a))).toEqual(['vfio-pci', 'vfio-pci', 'vfio-pci', 'vfio-pci']);
    const { devices } = scanPciDevices(host);
    expect(planRestore(host, devices, 'all').devices).toEqual([]);
    const plan = planRecovery(host, devices);
    expect(plan.devices.map((d) => d.address)).toEqual(GPU);
    expect(plan.damagedLines).toEqual([1]);
    // Appending needs a whole journal: set the torn line aside first (what `restore` does).
    expect(() => applyRecovery(host, plan, instant)).toThrow(/line 1 cannot be read/);
    new Journal(host).setAsideDamaged();
    const result = applyRecovery(host, plan, instant);
    expect(result.status).toBe('restored');
    expect(result.devices.map((d) => d.to)).toEqual(['nvidia', 'snd_hda_intel', 'xhci_hcd', 'nvidia-gpu']);
    expect(diffSnapshots(before, snapshotTree(root))).toEqual([]);
    expect(planRecovery(host, scanPciDevices(host).devices).devices).toEqual([]);
  });
});

describe('host lock', () => {
  it('is never visible empty: it holds the owner pid from its first byte', () => {
    const { host, root } = freshHost();
    const release = acquireHostLock(host, { pid: 4242 });
    expect(fs.readFileSync(lockFile(root), 'utf8')).toMatch(/^4242 [0-9a-f]{32}\n$/);
    expect(fs.readdirSync(path.dirname(lockFile(root)))).toEqual(['bind.lock']);
    release();
    expect(fs.existsSync(lockFile(root))).toBe(false);
  });

  it.each([
    ['empty', '', /the lock file is empty \(no owner pid; 5 s old\)/],
    ['garbage', 'hello\u0007\n', /the lock file holds no pid \("hello\\u0007\\n"; 5 s old\)/],
  ])('%s lock file: reported as it is, held while young, taken over once 30 s old', (_kind, content, words) => {
    const { host, root } = freshHost();
    fs.mkdirSync(path.dirname(lockFile(root)), { recursive: true });
    fs.writeFileSync(lockFile(root), content);
    const mtime = fs.statSync(lockFile(root)).mtimeMs;
    expect(() => acquireHostLock(host, { now: () => mtime + 5_000 })).toThrow(words);
    expect(() => acquireHostLock(host, { now: () => mtime + 5_000 })).toThrow(
      /counts as stale once 30 s old and is then taken over; remove it sooner if no passthru runs/,
    );
    const told: string[] = [];
    const release = acquireHostLock(host, { now: () => mtime + 30_000, pid: 77, onTakeover: (m) => told.push(m) });
    expect(told).toEqual([
      expect.stringMatching(/removed the stale host lock \/run\/passthru\/bind\.lock: the lock file (is empty|holds no pid).*older than 30 s/),
    ]);
    expect(fs.readFileSync(lockFile(root), 'utf8')).toMatch(/^77 /);
    release();
  });

  it('two contenders judge the same dead owner: the second cannot remove the lock the first just took', () => {
    const { host, root } = freshHost();
    fs.mkdirSync(path.dirname(lockFile(root)), { recursive: true });
    fs.writeFileSync(lockFile(root), '999999\n');
    let first: (() => void) | undefined;
    // B reads the dead owner; while it checks the pid, A takes the stale lock over completely.
    const isAliveForB = (pid: number) => {
      if (pid === 999999 && !first) first = acquireHostLock(host, { pid: 1001, isAlive: (p) => p !== 999999 });
      return pid === 1001;
    };
    expect(() => acquireHostLock(host, { pid: 1002, isAlive: isAliveForB })).toThrow(/another passthru run \(pid 1001\)/);
    expect(first).toBeDefined();
    expect(fs.readFileSync(lockFile(root), 'utf8')).toMatch(/^1001 /);
    first!();
    expect(fs.readdirSync(path.dirname(lockFile(root)))).toEqual([]);
  });

  it('a contender that died inside its takeover leaves a claim: the next contender claims after it and takes over', () => {
    const { host, root } = freshHost();
    fs.mkdirSync(path.dirname(lockFile(root)), { recursive: true });
    fs.writeFileSync(lockFile(root), '999999 00112233445566778899aabbccddeeff\n');
    fs.writeFileSync(`${lockFile(root)}.takeover-00112233445566778899aabbccddeeff-1`, '888888\n');
    // While the claimant lives, its takeover is in progress: refuse, naming it.
    expect(() => acquireHostLock(host, { pid: 5, isAlive: (p) => p === 888888 })).toThrow(
      /pid 999999 is not running, and another passthru run \(pid 888888\) is taking over that stale lock/,
    );
    const release = acquireHostLock(host, { pid: 5, isAlive: () => false });
    expect(fs.readdirSync(path.dirname(lockFile(root)))).toEqual(['bind.lock']);
    release();
  });
});
