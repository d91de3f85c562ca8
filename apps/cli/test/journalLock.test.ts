// Issue 18 at the CLI: the host lock under real contention, a bind on a really full disk, odd
// lock files, and a torn journal that restore salvages and bind refuses to append to.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SimulatedKernel } from '@passthru/sysfs-sim';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { diffSnapshots, snapshotTree } from '../../../packages/vfio-binder/test/treeSnapshot';
import { cleanFixtures, cli, driverOf, fixtureCopy, kernelWrites, repo } from './runCli';

afterEach(cleanFixtures);
const GPU = ['0000:01:00.0', '0000:01:00.1', '0000:01:00.2', '0000:01:00.3'];
const NATIVE = ['nvidia', 'snd_hda_intel', 'xhci_hcd', 'nvidia-gpu'];
const lockOf = (root: string) => path.join(root, 'run/passthru/bind.lock');
const journalOf = (root: string) => path.join(root, 'var/lib/passthru/journal.jsonl');

function passthru(...args: string[]) {
  const child = spawn(process.execPath, [path.join(repo, 'apps/cli/dist/passthru.mjs'), ...args], { env: { ...process.env, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string; pid: number }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr, pid: child.pid! })),
  );
  return { child, done };
}

/**
 * Resolves once fault `id` has been seen `count` times: the simulated kernel saves the count
 * (rename into .sysfs-sim/) before it hangs, and a directory watch reports that, so no sleeping.
 */
async function faultSeen(root: string, kernel: SimulatedKernel, id: number, count: number): Promise<void> {
  const watcher = fs.watch(path.join(root, '.sysfs-sim'));
  try {
    for (;;) {
      const next = once(watcher, 'change');
      if (kernel.faults.find((f) => f.id === id)!.seen >= count) return;
      await next;
    }
  } finally {
    watcher.close();
  }
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid!;
}

describe('the host lock under real contention', () => {
  const ROUNDS = 32;
  it(`two binds race for a stale lock, ${ROUNDS} rounds: exactly one gets in, the other refuses naming it`, async () => {
    const root = fixtureCopy('intel-workstation');
    const kernel = new SimulatedKernel(root);
    fs.mkdirSync(path.dirname(lockOf(root)), { recursive: true });
    fs.writeFileSync(lockOf(root), `${deadPid()}\n`);
    const kinds: Record<string, number> = {};
    for (let round = 0; round < ROUNDS; round++) {
      // The stale lock: the one the last round's killed winner left (a dead pid with its nonce),
      // or one in the older `<pid>\n` format, or an empty one an hour old.
      const kind = round % 3 === 0 ? 'dead pid' : round % 3 === 1 ? 'older format' : 'empty, old';
      if (kind === 'older format') fs.writeFileSync(lockOf(root), `${deadPid()}\n`);
      if (kind === 'empty, old') {
        fs.writeFileSync(lockOf(root), '');
        const old = new Date(Date.now() - 3600_000);
        fs.utimesSync(lockOf(root), old, old);
      }
      kinds[kind] = (kinds[kind] ?? 0) + 1;
      kernel.clearFaults();
      // Whoever holds the lock hangs in its first sysfs write until it is killed below, once the
      // other contender has finished (the hang, 60 s, is the simulator's bound, not a timing).
      const hang = kernel.injectFault({ path: '/sys/bus/pci/devices/0000:01:00.0/driver_override', hang: 60_000 });
      const a = passthru('--root', root, 'bind', '01:00.0');
      const b = passthru('--root', root, 'bind', '01:00.0');
      const first = await Promise.race([a.done, b.done]);
      const winner = first.pid === a.child.pid ? b : a;
      try {
        expect(first.code, first.stderr).toBe(1);
        expect(first.stderr).toMatch(new RegExp(`another passthru run \\(pid ${winner.child.pid}\\)`));
        expect(fs.readFileSync(lockOf(root), 'utf8')).toMatch(new RegExp(`^${winner.child.pid}( [0-9a-f]{32})?\\n$`));
        // Kill the winner only once it hangs inside the write (never mid-append of its journal).
        await faultSeen(root, kernel, hang, 1);
      } finally {
        winner.child.kill('SIGKILL');
        await winner.done;
      }
      expect(kernel.faults.find((f) => f.id === hang)!.seen).toBe(1);
    }
    expect(kinds).toEqual({ 'dead pid': 11, 'older format': 11, 'empty, old': 10 });
    // Only the hung winners' writes were attempted, one per round, and none was applied.
    expect(kernelWrites(root)).toEqual([]);
    expect(GPU.map((x) => driverOf(root, x))).toEqual(NATIVE);
  }, 600_000);
});

describe('lock files that name no owner', () => {
  it.each([
    ['empty', '', /the lock file is empty \(no owner pid; \d+ s old\)/],
    ['garbage', 'not a pid\n', /the lock file holds no pid \("not a pid\\n"; \d+ s old\)/],
  ])('%s: a young one is reported as it is and refused (exit 1), an old one is taken over and said so', async (_kind, content, words) => {
    const root = fixtureCopy('intel-workstation');
    fs.mkdirSync(path.dirname(lockOf(root)), { recursive: true });
    fs.writeFileSync(lockOf(root), content);
    const young = await cli('--root', root, 'bind', '01:00.0');
    expect(young.code).toBe(1);
    expect(young.stderr).toMatch(words);
    expect(young.stderr).toMatch(/counts as stale once 30 s old and is then taken over; remove it sooner if no passthru runs/);
    expect(young.stderr).not.toMatch(/pid \?|pid 0/);
    expect(kernelWrites(root)).toEqual([]);
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(lockOf(root), old, old);
    const r = await cli('--root', root, 'bind', '01:00.0');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/removed the stale host lock \/run\/passthru\/bind\.lock: the lock file (is empty|holds no pid).*older than 30 s/);
    expect(fs.existsSync(lockOf(root))).toBe(false);
  });
});

describe('a torn journal', () => {
  async function boundThenCut(cut: (text: string) => string) {
    const root = fixtureCopy('intel-workstation');
    const before = snapshotTree(root);
    expect((await cli('--root', root, 'bind', '01:00.0')).code).toBe(0);
    fs.writeFileSync(journalOf(root), cut(fs.readFileSync(journalOf(root), 'utf8')));
    return { root, before };
  }

  it('cut inside its first record while four devices are on vfio-pci: restore --all recovers the exact tree', async () => {
    const { root, before } = await boundThenCut((text) => text.slice(0, 150));
    const dry = await cli('--root', root, 'restore', '--all', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).not.toMatch(/Nothing to restore/);
    for (const a of GPU) expect(dry.stdout).toContain(`${a}: vfio-pci -> the driver the kernel's id tables pick`);
    const r = await cli('--root', root, 'restore', '--all');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/moved unreadable journal line\(s\) 1 verbatim into \/var\/lib\/passthru\/journal\.damaged-.*\.jsonl/);
    expect(GPU.map((a) => driverOf(root, a))).toEqual(NATIVE);
    expect(diffSnapshots(before, snapshotTree(root))).toEqual([]);
    const aside = fs.readdirSync(path.join(root, 'var/lib/passthru')).find((f) => f.startsWith('journal.damaged-'))!;
    expect(fs.readFileSync(path.join(root, 'var/lib/passthru', aside), 'utf8')).toHaveLength(151);
  });

  it('without damage, devices on vfio-pci by override with no record are named, not touched, with the command that gives them back', async () => {
    const { root } = await boundThenCut(() => '');
    const r = await cli('--root', root, 'restore', '--all');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /0000:01:00\.0, 0000:01:00\.1, 0000:01:00\.2, 0000:01:00\.3 are on vfio-pci by driver_override with no readable journal record.*passthru restore --all --unrecorded/,
    );
    expect(GPU.map((a) => driverOf(root, a))).toEqual(['vfio-pci', 'vfio-pci', 'vfio-pci', 'vfio-pci']);
    expect((await cli('--root', root, 'restore', '--all', '--unrecorded')).code).toBe(0);
    expect(GPU.map((a) => driverOf(root, a))).toEqual(NATIVE);
  });

  it('bind refuses to append after an unreadable record: exit 1, zero writes, the journal unchanged, advice that loses no record', async () => {
    const { root } = await boundThenCut((text) => {
      const lines = text.split('\n');
      lines[2] = lines[2]!.slice(0, 40);
      return lines.join('\n');
    });
    const torn = fs.readFileSync(journalOf(root), 'utf8');
    const writes = kernelWrites(root).length;
    const r = await cli('--root', root, 'bind', '00:14.0');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /Failed journalling the bind via \/var\/lib\/passthru\/journal\.jsonl: line 3 cannot be read .*nothing was changed.*`passthru restore --all`.*`passthru restore --repair-journal` only moves the unreadable line\(s\) aside/,
    );
    expect(kernelWrites(root).length).toBe(writes);
    expect(fs.readFileSync(journalOf(root), 'utf8')).toBe(torn);
    // The advice: --repair-journal moves only line 3 aside and keeps the devices bound.
    const repair = await cli('--root', root, 'restore', '--repair-journal');
    expect(repair.code).toBe(0);
    const lines = torn.split('\n');
    expect(fs.readFileSync(journalOf(root), 'utf8')).toBe([...lines.slice(0, 2), ...lines.slice(3)].join('\n'));
    expect(GPU.map((a) => driverOf(root, a))).toEqual(['vfio-pci', 'vfio-pci', 'vfio-pci', 'vfio-pci']);
    expect((await cli('--root', root, 'bind', '00:14.0')).code).toBe(0);
  });
});

// A real full disk: the journal's folder is a small tmpfs (on a host, /sys is never on that disk,
// so only passthru's own files see ENOSPC). Mounting needs root.
describe('bind on a full disk (tmpfs)', () => {
  // Not skipped in silence: without root this suite fails and says why.
  beforeAll(() => {
    if (process.getuid?.() !== 0) throw new Error('mounting a tmpfs needs root: run the tests as root (sudo npm test)');
  });
  const mounts: string[] = [];
  afterAll(() =>
    mounts.forEach((m) => {
      execFileSync('umount', [m]);
    }),
  );
  afterEach(() => expect(mounts).toEqual([]));

  // The six records of a GPU bind, from a reference run in this process (same pid, same lengths).
  let records: number[] = [];
  it('a reference bind appends six records', async () => {
    const root = fixtureCopy('intel-workstation');
    expect((await cli('--root', root, 'bind', '01:00.0')).code).toBe(0);
    records = fs
      .readFileSync(journalOf(root), 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => l.length + 1);
    expect(records).toHaveLength(6);
    expect(records.reduce((a, b) => a + b)).toBeLessThan(4000);
  });

  it.each([1, 2, 3, 4, 5, 6])(
    'the disk fills inside record %i: the bind fails clearly, nothing torn stays, and after freeing space restore --all gives back the exact tree',
    async (k) => {
      const root = fixtureCopy('intel-workstation');
      const before = snapshotTree(root);
      const dir = path.join(root, 'var/lib/passthru');
      fs.mkdirSync(dir, { recursive: true });
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=32k', 'tmpfs', dir]);
      mounts.push(dir);
      try {
        await fullDiskBind(root, dir, before, k);
      } finally {
        execFileSync('umount', [mounts.pop()!]);
      }
    },
  );

  async function fullDiskBind(root: string, dir: string, before: Map<string, string>, k: number) {
    // Earlier history fills the journal's first block so that its end falls in the middle of record k.
    const middle = records.slice(0, k - 1).reduce((a, b) => a + b, 0) + Math.floor(records[k - 1]! / 2);
    const head = '{"event":"finish","id":"earlier","state":"restored","finishedAt":"2026-01-01T00:00:00.000Z"';
    const history = `${head}${' '.repeat(4096 - middle - head.length - 2)}}\n`;
    fs.writeFileSync(journalOf(root), history);
    const filler = fs.openSync(path.join(dir, 'filler'), 'w');
    try {
      for (;;) fs.writeSync(filler, Buffer.alloc(4096));
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      fs.closeSync(filler);
    }

    const r = await cli('--root', root, 'bind', '01:00.0');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /Failed journalling .*via \/var\/lib\/passthru\/journal\.jsonl: Failed appending to \/var\/lib\/passthru\/journal\.jsonl via .*: ENOSPC no space left on device.*nothing of it was kept/,
    );
    // The record that tore, and that its device was not touched.
    const what = k === 1 ? 'the bind' : k === 6 ? 'the end of the bind' : `${GPU[k - 2]} before binding it`;
    expect(r.stderr).toContain(`Failed journalling ${what} via`);
    if (k === 1) expect(kernelWrites(root)).toEqual([]);
    if (k > 1 && k < 6) expect(kernelWrites(root).filter((w) => w.path.includes(GPU[k - 2]!) || w.data === GPU[k - 2])).toEqual([]);
    const text = fs.readFileSync(journalOf(root), 'utf8');
    expect(text.startsWith(history)).toBe(true);
    expect(text.endsWith('\n')).toBe(true);
    // Whole records only: those before k, then whatever of the rollback's records fitted.
    const added = text.slice(history.length).split('\n').filter(Boolean);
    expect(added.length).toBeGreaterThanOrEqual(k - 1);
    for (const line of added) expect(() => JSON.parse(line)).not.toThrow();
    expect(GPU.map((a) => driverOf(root, a))).toEqual(NATIVE);

    fs.rmSync(path.join(dir, 'filler'));
    const back = await cli('--root', root, 'restore', '--all');
    expect(back.code, back.stderr).toBe(0);
    expect(back.stderr).toBe('');
    expect(diffSnapshots(before, snapshotTree(root))).toEqual([]);
    expect(GPU.map((a) => driverOf(root, a))).toEqual(NATIVE);
  }
});
