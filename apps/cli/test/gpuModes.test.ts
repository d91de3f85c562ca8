// The GPU's other modes on the CLI (issue 26): `list` shows how each GPU can be shared (JSON
// field gpuModes, a line per GPU under the table), `report --format json` carries it per GPU, and
// `attach --gputype mdev|sriov|mig` plans the device against a fake LXD (--dry-run writes
// nothing); bad combinations exit 2 with nothing sent to LXD but reads.
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_SERVER, instance, startFakeLxd, sync, error } from '../../../packages/lxd-device-attach/test/fakeLxd';
import { ListOutputSchema, ReportSchema } from '../src/commands/outputs';
import { cli, cliWithEnv, repo } from './runCli';

const host = (name: string) => path.join(repo, 'fixtures/hosts', name);
const pciIds = path.join(repo, 'fixtures/pci.ids');

describe('list and report show how each GPU can be shared', () => {
  it('list --format json: gpuModes on GPUs only, valid against the published schema', async () => {
    const r = await cli('--root', host('sriov-gpu'), 'list', '--format', 'json');
    expect(r.code).toBe(0);
    const doc = ListOutputSchema.parse(JSON.parse(r.stdout));
    const raw = JSON.parse(r.stdout) as { devices: Array<Record<string, unknown>> };
    for (const d of raw.devices) expect('gpuModes' in d, `${d.address}`).toBe(String(d.class).startsWith('03'));
    const byAddress = new Map(doc.devices.map((d) => [d.address, d.gpuModes]));
    expect(byAddress.get('0000:18:00.0')).toMatchObject({ modes: ['physical', 'sriov'], sriov: { freeVfs: ['0000:18:00.2', '0000:18:00.3', '0000:18:00.4'] } });
    expect(byAddress.get('0000:3b:00.0')!.modes).toEqual(['physical', 'mdev']);
    expect(byAddress.get('0000:00:17.0')).toBeUndefined();
    const migDoc = JSON.parse((await cli('--root', host('nvidia-mig'), 'list', '--class', 'gpu', '--format', 'json')).stdout);
    expect(migDoc.devices.map((d: { address: string; gpuModes: { modes: string[] } }) => [d.address, d.gpuModes.modes])).toEqual([
      ['0000:41:00.0', ['physical', 'mig']],
      ['0000:c1:00.0', ['physical']],
    ]);
  });

  it('the table gains one line per GPU that can be shared (a VF is its PF’s), and none on a host whose GPUs cannot', async () => {
    const lines = async (name: string) =>
      (await cli('--root', host(name), '--pci-ids', pciIds, 'list')).stdout.split('\n').filter((l) => l.includes('gpu modes'));
    expect(await lines('intel-gvtg')).toEqual(['0000:00:02.0: gpu modes: physical, mdev (i915-GVTg_V5_4: 1 free, i915-GVTg_V5_8: 2 free)']);
    expect(await lines('sriov-gpu')).toEqual([
      '0000:18:00.0: gpu modes: physical, sriov (3 of 4 VFs free)',
      '0000:3b:00.0: gpu modes: physical, mdev (nvidia-746 "NVIDIA A16-2Q": 3 free on VFs, 2 more types with none free)',
      expect.stringMatching(/^0000:5e:00\.0: gpu modes: physical; NVIDIA vGPU types on its VFs come through NVIDIA's own VFIO/),
    ]);
    expect(await lines('nvidia-mig')).toEqual(['0000:41:00.0: gpu modes: physical, mig (gi 1 ci 0 3g.20gb, gi 5 ci 0 2g.10gb, gi 13 ci 0 1g.5gb)']);
    expect(await lines('intel-workstation')).toEqual([]);
    // A VF shown without its PF speaks for itself.
    const vfOnly = (await cli('--root', host('sriov-gpu'), 'list', '--class', 'gpu')).stdout;
    expect(vfOnly).not.toContain('0000:3b:00.5: gpu modes');
  });

  it('report --format json: each GPU carries its gpuModes (what the HTML page’s GPU section draws), other devices none', async () => {
    const r = await cli('--root', host('intel-gvtg'), 'report', '--format', 'json');
    expect(r.code).toBe(0);
    const doc = ReportSchema.parse(JSON.parse(r.stdout));
    expect(doc.devices.filter((d) => d.gpuModes).map((d) => [d.address, d.gpuModes!.modes])).toEqual([['0000:00:02.0', ['physical', 'mdev']]]);
    expect(doc.devices.find((d) => d.address === '0000:00:02.0')!.gpuModes!.mdevTypes[0]!.mdevs).toEqual(['5c9f3e7a-1b2d-4e8f-9a06-3d2c1b0a9f84']);
  });
});

describe('attach --gputype against a fake LXD', () => {
  let lxd: Awaited<ReturnType<typeof startFakeLxd>>;
  const instances: Record<string, ReturnType<typeof instance>> = {
    vm1: instance('vm1', { type: 'virtual-machine' }),
    c1: instance('c1'),
  };
  beforeAll(async () => {
    lxd = await startFakeLxd((r) => {
      if (r.method === 'GET' && r.url === '/1.0') return sync(FAKE_SERVER);
      if (r.url.startsWith('/1.0/instances?')) return sync(Object.values(instances));
      const m = /^\/1\.0\/instances\/([^?]+)/.exec(r.url);
      if (m && r.method === 'GET') return instances[m[1]!] ? sync(instances[m[1]!], { ETag: '"v1"' }) : error(404, 'Instance not found');
      return undefined;
    });
  });
  afterAll(() => lxd.close());
  const attach = (root: string, ...argv: string[]) => cliWithEnv({ LXD_DIR: path.dirname(lxd.socketPath) }, '--root', host(root), 'attach', ...argv);
  const writes = () => lxd.requests.filter((r) => r.method !== 'GET');

  it('--dry-run prints the device for each gputype and writes nothing', async () => {
    const mdev = await attach('intel-gvtg', 'vm1', '00:02.0', '--gputype', 'mdev', '--mdev', 'i915-GVTg_V5_8', '--dry-run');
    expect(mdev.code, mdev.stderr).toBe(0);
    expect(mdev.stdout).toContain('attach gpu-0000-00-02-0-mdev to virtual-machine vm1 (project default, Stopped)');
    expect(mdev.stdout).toContain('  device: type=gpu gputype=mdev pci=0000:00:02.0 mdev=i915-GVTg_V5_8');
    const sriov = await attach('sriov-gpu', 'vm1', '18:00.0', '--type', 'gpu', '--gputype', 'sriov', '--dry-run', '--format', 'json');
    expect(JSON.parse(sriov.stdout)).toMatchObject({
      dryRun: true,
      plan: { device: { type: 'gpu', gputype: 'sriov', pci: '0000:18:00.0' }, iommu: { viable: true } },
    });
    const mig = await attach('nvidia-mig', 'c1', '41:00.0', '--gputype', 'mig', '--mig-gi', '1', '--mig-ci', '0', '--dry-run');
    expect(mig.code, mig.stderr).toBe(0);
    expect(mig.stdout).toContain('device: type=gpu gputype=mig pci=0000:41:00.0 mig.gi=1 mig.ci=0');
    expect(mig.stdout).toContain('warning: LXD starts a MIG device only with nvidia.runtime=true');
    const byUuid = await attach('nvidia-mig', 'c1', '41:00.0', '--gputype', 'mig', '--mig-uuid', 'MIG-94edb541-c5e7-5a83-8745-84e593997bde', '--dry-run');
    expect(byUuid.stdout).toContain('mig.uuid=MIG-94edb541-c5e7-5a83-8745-84e593997bde');
    expect(writes()).toEqual([]);
  });

  it.each([
    ['mdev on a container', ['intel-gvtg', 'c1', '00:02.0', '--gputype', 'mdev', '--mdev', 'i915-GVTg_V5_4'], /gputype=mdev is for virtual machines/],
    ['mig on a VM', ['nvidia-mig', 'vm1', '41:00.0', '--gputype', 'mig', '--mig-gi', '1', '--mig-ci', '0'], /gputype=mig is for containers/],
    ['--mdev without --gputype mdev', ['intel-gvtg', 'vm1', '00:02.0', '--mdev', 'i915-GVTg_V5_4'], /--mdev names an mdev type: it goes with --gputype mdev/],
    [
      'an unknown mdev type',
      ['intel-gvtg', 'vm1', '00:02.0', '--gputype', 'mdev', '--mdev', 'i915-GVTg_V5_1'],
      /has no mdev type i915-GVTg_V5_1; its mdev types: i915-GVTg_V5_4 .*\(1 free\), i915-GVTg_V5_8 .*\(2 free\)/,
    ],
    [
      'an unknown MIG instance',
      ['nvidia-mig', 'c1', '41:00.0', '--gputype', 'mig', '--mig-gi', '7', '--mig-ci', '0'],
      /has no MIG compute instance gi 7 ci 0; its compute instances: gi 1 ci 0/,
    ],
    ['sriov on a PF whose VFs all have a driver', ['sriov-gpu', 'vm1', '3b:00.0', '--gputype', 'sriov'], /every VF of 0000:3b:00.0 has a driver \(nvidia\)/],
    ['a MIG id over 255', ['nvidia-mig', 'c1', '41:00.0', '--gputype', 'mig', '--mig-gi', '256', '--mig-ci', '0'], /an instance id from 0 to 255/],
    [
      '--gputype with --lxc-config',
      ['intel-gvtg', 'c1', '00:02.0', '--gputype', 'mdev', '--mdev', 'x', '--lxc-config'],
      /--lxc-config .*: --gputype does not apply to it/,
    ],
    ['--gputype with --lxc', ['intel-gvtg', 'c1', '00:02.0', '--lxc', '--gputype', 'mig'], /--lxc edits a plain LXC config: --gputype does not apply to it/],
  ])('refuses %s: exit 2, nothing written', async (_, argv, message) => {
    const [root, ...rest] = argv as [string, ...string[]];
    const r = await attach(root, ...rest);
    expect(r.code, r.stdout).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(writes()).toEqual([]);
  });
});
