// The simulated kernel held to the real one. Before each recorded change the guest captured
// itself (`passthru snapshot`, with passthru's journal); here the same command runs against
// that capture with the simulated kernel, and the after-state is compared with the guest's own
// capture after the command: every function's driver, driver_override and group, the VF counts,
// the firmware framebuffer's claims in /proc/iomem, the /dev/vfio nodes, whether vfio-pci is
// loaded, the files passthru writes under /etc, the journal (without ids and times) and the exit
// code.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FIRMWARE_FRAMEBUFFERS } from '@passthru/pci-discovery';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from '../src/lab';
import { RUNS } from '../src/topologies';
import { results, steps } from './records';

const CLI = path.join(REPO, 'apps/cli/dist/passthru.mjs');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kernel-lab-diff-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function untar(file: string, name: string): string {
  const dir = path.join(work, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const r = spawnSync('tar', ['-xf', file, '-C', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar -xf ${file}: ${r.stderr}`);
  return dir;
}

const readOr = (file: string) => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};
const linkName = (file: string) => {
  try {
    return path.basename(fs.readlinkSync(file));
  } catch {
    return null;
  }
};
const list = (dir: string) => {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
};

/** What the comparison looks at, read the same way from the simulated tree and from the guest's capture. */
function stateOf(root: string) {
  const devices: Record<string, unknown> = {};
  for (const address of list(path.join(root, 'sys/bus/pci/devices'))) {
    const d = path.join(root, 'sys/bus/pci/devices', address);
    const override = readOr(path.join(d, 'driver_override'))?.trim();
    devices[address] = {
      driver: linkName(path.join(d, 'driver')),
      driverOverride: override === undefined || override === '' || override === '(null)' ? null : override,
      iommuGroup: linkName(path.join(d, 'iommu_group')),
      sriovNumvfs: readOr(path.join(d, 'sriov_numvfs'))?.trim() ?? null,
      virtfns: list(d).filter((n) => /^virtfn\d+$/.test(n)).length,
    };
  }
  const etc: Record<string, string> = {};
  for (const dir of ['etc/modprobe.d', 'etc/modules-load.d', 'etc/initramfs-tools', 'etc/default', 'etc/kernel', 'etc/systemd/system'])
    for (const f of list(path.join(root, dir))) {
      const text = readOr(path.join(root, dir, f));
      if (text !== undefined && !f.startsWith('lab-')) etc[`${dir}/${f}`] = text;
    }
  return {
    devices,
    // The firmware framebuffer's claims (vfio-pci removes them when it takes a VGA device on 6.0+).
    framebuffers: (readOr(path.join(root, 'proc/iomem')) ?? '')
      .split('\n')
      .filter((l) => FIRMWARE_FRAMEBUFFERS.includes(l.split(' : ')[1] ?? ''))
      .map((l) => l.trim()),
    vfioNodes: list(path.join(root, 'dev/vfio')),
    vfioPciLoaded: (readOr(path.join(root, 'proc/modules')) ?? '').split('\n').some((l) => l.startsWith('vfio_pci ')),
    etc,
    journal: journalOf(root),
  };
}

/** The journal's entries folded from its events, without ids, pids and times. */
function journalOf(root: string) {
  const text = readOr(path.join(root, 'var/lib/passthru/journal.jsonl'));
  if (text === undefined) return null;
  const entries = new Map<string, { operation: string; state: string; devices: Array<Record<string, unknown>>; modulesLoaded?: string[]; sriov?: unknown }>();
  for (const line of text.split('\n').filter((l) => l.trim())) {
    const e = JSON.parse(line);
    if (e.event === 'begin') entries.set(e.entry.id, { ...e.entry, id: undefined, startedAt: undefined, finishedAt: undefined });
    else if (e.event === 'device') {
      const d = entries.get(e.id)?.devices.find((x) => x.address === e.address);
      if (d) Object.assign(d, { status: e.status, note: e.note });
    } else if (e.event === 'finish') {
      const x = entries.get(e.id);
      if (x) x.state = e.state;
    }
  }
  return [...entries.values()].map((e) => JSON.parse(JSON.stringify(e)));
}

const snapshotted = RUNS.flatMap((run) =>
  [undefined, 'steps-boot-1'].flatMap((folder) => {
    const root = path.join(results(), run.name, folder ?? 'steps');
    if (!fs.existsSync(root)) return [];
    return steps(run.name, folder).filter((s) => fs.existsSync(path.join(s.dir, 'before.tar')) && fs.existsSync(path.join(s.dir, 'after.tar')));
  }),
);

describe('the simulated kernel does what the real kernel did', () => {
  it('the guests recorded changes to compare', () => {
    expect(snapshotted.length).toBeGreaterThan(15);
  });

  it.each(snapshotted.map((s) => [`${s.run}/${s.name}: ${s.cmd.slice(1).join(' ')}`, s] as const))('%s', (_, s) => {
    const id = `${s.run}-${s.name}`;
    const sim = untar(path.join(s.dir, 'before.tar'), `${id}-sim`);
    const real = untar(path.join(s.dir, 'after.tar'), `${id}-real`);
    expect(s.cmd[0]).toBe('passthru');
    const r = spawnSync(process.execPath, [CLI, '--root', sim, ...s.cmd.slice(1)], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect({ exit: r.status, ...stateOf(sim) }, `simulated: ${r.stdout}${r.stderr}\nreal: ${s.stdout}${s.stderr}`).toEqual({ exit: s.rc, ...stateOf(real) });
  });
});
