import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SriovOutputSchema } from '../src/schemas';
import { cleanFixtures, cli, fixtureCopy, kernelWrites } from './runCli';

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
