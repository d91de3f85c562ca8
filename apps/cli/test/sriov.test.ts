import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SriovOutputSchema } from '../src/commands/outputs';
import { cleanFixtures, cli, fixtureCopy, kernelWrites, treeSnapshot } from './runCli';

afterEach(cleanFixtures);

describe('passthru sriov on a fixture tree', () => {
  it('resizes through 0, the new VFs show in list with their PF, then removes them', async () => {
    const root = fixtureCopy('sriov-server');
    const dry = await cli('--root', root, 'sriov', 'ens2f0', '--numvfs', '3', '--dry-run', '--format', 'json');
    expect(dry.code).toBe(0);
    const plan = SriovOutputSchema.parse(JSON.parse(dry.stdout));
    expect('plan' in plan && plan.plan.writes.map((w) => w.data)).toEqual(['0', '3']);
    expect(kernelWrites(root)).toEqual([]);

    const r = await cli('--root', root, 'sriov', 'ens2f0', '--numvfs', '3');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('0000:af:00.0 now has 3 VF(s) (2 writes): 0000:af:02.0, 0000:af:02.1, 0000:af:02.2.');
    const list = JSON.parse((await cli('--root', root, 'list', '--class', 'all', '--format', 'json')).stdout);
    const vfs = list.devices.filter((d: { sriov: { role: string; physfn?: string } | null }) => d.sriov?.role === 'vf' && d.sriov.physfn === '0000:af:00.0');
    expect(vfs.map((d: { address: string }) => d.address)).toEqual(['0000:af:02.0', '0000:af:02.1', '0000:af:02.2']);

    const gone = await cli('--root', root, 'sriov', '0000:af:00.0', '--numvfs', '0', '--format', 'json');
    expect(gone.code).toBe(0);
    expect(SriovOutputSchema.parse(JSON.parse(gone.stdout))).toMatchObject({ result: { status: 'applied', numVfs: 0, vfs: [] } });
  });

  it('--persist writes the systemd unit after the change, with its diff; not enabled off the live host', async () => {
    const root = fixtureCopy('sriov-server');
    const r = await cli('--root', root, 'sriov', 'ens1f0', '--numvfs', '8', '--no-autoprobe', '--persist');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('0000:18:00.0 now has 8 VF(s)');
    expect(r.stdout).toContain('+++ etc/systemd/system/passthru-sriov-0000-18-00.0.service');
    expect(r.stdout).toContain('  systemctl enable passthru-sriov-0000-18-00.0.service');
    expect(fs.readFileSync(path.join(root, 'etc/systemd/system/passthru-sriov-0000-18-00.0.service'), 'utf8')).toContain(
      'echo 8 > /sys/bus/pci/devices/0000:18:00.0/sriov_numvfs',
    );
  });

  it('above sriov_totalvfs: exit 2 with the ERANGE explained, nothing written; a non-PF is exit 2 too', async () => {
    const root = fixtureCopy('sriov-server');
    const r = await cli('--root', root, 'sriov', '0000:18:00.0', '--numvfs', '129');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/129 VFs exceeds sriov_totalvfs 128 \(the kernel answers ERANGE\); nothing was written/);
    expect((await cli('--root', root, 'sriov', '0000:5e:00.0', '--numvfs', '1')).code).toBe(2);
    expect((await cli('--root', root, 'sriov', '0000:18:00.0', '--numvfs', 'many')).code).toBe(2);
    expect(kernelWrites(root)).toEqual([]);
  });
});

describe('sriov --persist and restore: one transaction (issue 22, items 1 and 2)', () => {
  it('a unit that cannot be written (/etc/systemd/system a file) is exit 2 before any write; --dry-run says the same', async () => {
    const root = fixtureCopy('sriov-server');
    fs.mkdirSync(path.join(root, 'etc/systemd'), { recursive: true });
    fs.writeFileSync(path.join(root, 'etc/systemd/system'), 'not a folder');
    const before = treeSnapshot(root);
    for (const extra of [['--dry-run'], []]) {
      const r = await cli('--root', root, 'sriov', '0000:18:00.0', '--numvfs', '2', '--persist', ...extra);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        /Failed planning sriov --persist via \/etc\/systemd\/system\/passthru-sriov-0000-18-00\.0\.service: .*ENOTDIR .*nothing was written/,
      );
    }
    expect(treeSnapshot(root)).toEqual(before);
    expect(kernelWrites(root)).toEqual([]);
  });

  it('restore --all finishes an sriov change a kill -9 interrupted: the PF back at its count, the journal entry closed', async () => {
    const root = fixtureCopy('sriov-server');
    // What a kill -9 between the writes of 0 and 2 leaves: the journal's begin record, and no VFs.
    const begin = {
      event: 'begin',
      entry: {
        id: '2026-12-06T00:00:00.000Z-4242',
        operation: 'sriov',
        startedAt: '2026-12-06T00:00:00.000Z',
        state: 'applying',
        devices: [],
        sriov: { pf: '0000:af:00.0', fromNumVfs: 8, toNumVfs: 2, fromAutoprobe: true, toAutoprobe: null },
      },
    };
    fs.mkdirSync(path.join(root, 'var/lib/passthru'), { recursive: true });
    fs.writeFileSync(path.join(root, 'var/lib/passthru/journal.jsonl'), `${JSON.stringify(begin)}\n`);
    expect((await cli('--root', root, 'sriov', '0000:af:00.0', '--numvfs', '0', '--force')).code).toBe(0);
    fs.writeFileSync(path.join(root, 'var/lib/passthru/journal.jsonl'), `${JSON.stringify(begin)}\n`);
    const dry = await cli('--root', root, 'restore', '--all', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('  sriov 0000:af:00.0: 0 -> 8 VFs (the change to 2 was interrupted; journal entry 2026-12-06T00:00:00.000Z-4242)');
    const r = await cli('--root', root, 'restore', '--all');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('sriov 0000:af:00.0: back at 8 VF(s)');
    expect(fs.readFileSync(path.join(root, 'sys/bus/pci/devices/0000:af:00.0/sriov_numvfs'), 'utf8').trim()).toBe('8');
    const again = await cli('--root', root, 'restore', '--all');
    expect(again.stdout).toContain('Nothing to restore');
  });
});
