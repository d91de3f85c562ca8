import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanFixtures, cli, fixtureCopy, repo } from './runCli';

afterEach(cleanFixtures);
const demo = path.join(repo, 'fixtures/hosts/intel-workstation');
const pciIds = path.join(repo, 'fixtures/pci.ids');

describe('passthru list / groups', () => {
  it('JSON carries schemaVersion and the documented device keys', async () => {
    const r = await cli('--root', demo, 'list', '--format', 'json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.schemaVersion).toBe(1);
    expect(doc.devices).toHaveLength(10);
    const gpu = doc.devices.find((d: { address: string }) => d.address === '0000:01:00.0');
    expect(gpu).toMatchObject({ vendorId: '10de', deviceId: '2684', class: '030000', driver: 'nvidia', iommuGroup: 12, numaNode: null });
    for (const key of ['address', 'vendorId', 'deviceId', 'class', 'driver', 'iommuGroup', 'numaNode', 'vendorName', 'deviceName'])
      expect(gpu).toHaveProperty(key);
  });

  it('--class filters', async () => {
    const gpus = JSON.parse((await cli('--root', demo, 'list', '--class', 'gpu', '--format', 'json')).stdout).devices;
    expect(gpus.map((d: { address: string }) => d.address)).toEqual(['0000:00:02.0', '0000:01:00.0']);
    const bad = await cli('--root', demo, 'list', '--class', 'toaster');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Allowed choices are gpu, net, storage, usb, accel, all/);
  });

  it('table output (snapshot, names from the bundled pci.ids)', async () => {
    expect((await cli('--root', demo, '--pci-ids', pciIds, 'list')).stdout).toMatchSnapshot();
    expect((await cli('--root', demo, '--pci-ids', pciIds, 'groups')).stdout).toMatchSnapshot();
  });

  it('groups JSON: gaps kept, endpoints and bridges, ungrouped devices listed', async () => {
    const doc = JSON.parse((await cli('--root', path.join(repo, 'fixtures/hosts/no-group-device'), 'groups', '--format', 'json')).stdout);
    expect(doc.ungrouped.length).toBeGreaterThan(0);
    const vmd = JSON.parse((await cli('--root', path.join(repo, 'fixtures/hosts/vmd-gaps'), 'groups', '--format', 'json')).stdout);
    const ids = vmd.groups.map((g: { id: number }) => g.id);
    expect(ids).toEqual([...ids].sort((a: number, b: number) => a - b));
    expect(ids.some((id: number, i: number) => i > 0 && id - ids[i - 1] > 1)).toBe(true);
  });

  it('says when there are no groups', async () => {
    const r = await cli('--root', path.join(repo, 'fixtures/hosts/intel-iommu-off'), 'groups');
    expect(r.stdout).toMatch(/No IOMMU groups/);
  });
});

describe('passthru snapshot', () => {
  it('captures a fixture tree that lists the same as its source', async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'snap-')), 'host');
    const source = fixtureCopy('sriov-server');
    const r = await cli('--root', source, 'snapshot', out);
    expect(r.code).toBe(0);
    const a = JSON.parse((await cli('--root', source, 'list', '--format', 'json')).stdout).devices;
    const b = JSON.parse((await cli('--root', out, 'list', '--format', 'json')).stdout).devices;
    expect(b.map((d: { address: string; driver: string; iommuGroup: number }) => [d.address, d.driver, d.iommuGroup])).toEqual(
      a.map((d: { address: string; driver: string; iommuGroup: number }) => [d.address, d.driver, d.iommuGroup]),
    );
    const again = await cli('--root', source, 'snapshot', out);
    expect(again.code).toBe(2);
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  });
});
