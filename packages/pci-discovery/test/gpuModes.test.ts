// How a GPU can be shared (issue 26), read from the fixture hosts as LXD reads a host: mdev
// types and the mdevs made from them, an SR-IOV GPU's VFs (free: no driver) and their vGPU
// files, NVIDIA MIG from procfs and from captured nvidia-smi output; and the nvidia-smi parsers.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { afterAll, describe, expect, it } from 'vitest';
import { mdevTypesOfCard, readGpuModes } from '../src/gpuModes';
import { parseCreatableVgpuTypes } from '../src/mdevTypes';
import { NVIDIA_SMI_CAPTURES, parseMigComputeInstances, parseMigGpuInstances, parseMigModes, parseNvidiaSmiList, readNvidiaSmi } from '../src/nvidiaSmi';
import { scanPciDevices } from '../src/scanPciDevices';

const fixtures = path.resolve(__dirname, '../../../fixtures/hosts');
const copies: string[] = [];
afterAll(() => {
  for (const c of copies) fs.rmSync(c, { recursive: true, force: true });
});

/** A writable copy of a fixture tree. */
function copy(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gpu-modes-${name}-`));
  copies.push(dir);
  fs.cpSync(path.join(fixtures, name), dir, { recursive: true, verbatimSymlinks: true });
  return dir;
}

async function modesOf(root: string) {
  const host = new HostFs(root);
  const { devices } = scanPciDevices(host);
  return readGpuModes(host, devices, await readNvidiaSmi(host, devices));
}

describe('readGpuModes on the fixtures', () => {
  it('intel-gvtg: the iGPU offers mdev (GVT-g types with their files) besides physical; the made vGPU is listed under its type', async () => {
    const modes = await modesOf(path.join(fixtures, 'intel-gvtg'));
    expect([...modes.keys()]).toEqual(['0000:00:02.0']);
    const igpu = modes.get('0000:00:02.0')!;
    expect(igpu.modes).toEqual(['physical', 'mdev']);
    expect(igpu.mdevTypes).toEqual([
      {
        type: 'i915-GVTg_V5_4',
        name: 'GVTg_V5_4',
        description: 'low_gm_size: 128MB\nhigh_gm_size: 512MB\nfence: 4\nresolution: 1920x1200\nweight: 4',
        deviceApi: 'vfio-pci',
        availableInstances: 1,
        mdevs: ['5c9f3e7a-1b2d-4e8f-9a06-3d2c1b0a9f84'],
      },
      expect.objectContaining({ type: 'i915-GVTg_V5_8', availableInstances: 2, mdevs: [] }),
    ]);
    expect(igpu).toMatchObject({ sriov: null, vgpu: null, mig: null, notes: [] });
  });

  it('an mdev is found through /sys/bus/mdev/devices and its mdev_type link when its type has no devices/ entry', async () => {
    const root = copy('intel-gvtg');
    fs.rmSync(path.join(root, 'sys/devices/pci0000:00/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_4/devices'), { recursive: true });
    const igpu = (await modesOf(root)).get('0000:00:02.0')!;
    expect(igpu.mdevTypes[0]!.mdevs).toEqual(['5c9f3e7a-1b2d-4e8f-9a06-3d2c1b0a9f84']);
  });

  it('a type with no free instance left takes mdev out of the modes, and says why', async () => {
    const root = copy('intel-gvtg');
    for (const t of ['i915-GVTg_V5_4', 'i915-GVTg_V5_8'])
      fs.writeFileSync(path.join(root, `sys/devices/pci0000:00/0000:00:02.0/mdev_supported_types/${t}/available_instances`), '0\n');
    const igpu = (await modesOf(root)).get('0000:00:02.0')!;
    expect(igpu.modes).toEqual(['physical']);
    expect(igpu.notes).toEqual(['no mdev type has a free instance (i915-GVTg_V5_4, i915-GVTg_V5_8)']);
  });

  it('sriov-gpu: the Flex PF offers sriov with its driverless VFs free (not the one on vfio-pci)', async () => {
    const modes = await modesOf(path.join(fixtures, 'sriov-gpu'));
    const flex = modes.get('0000:18:00.0')!;
    expect(flex.modes).toEqual(['physical', 'sriov']);
    expect(flex.sriov).toMatchObject({ totalVfs: 31, numVfs: 4, freeVfs: ['0000:18:00.2', '0000:18:00.3', '0000:18:00.4'] });
    expect(flex.sriov!.vfs.map((v) => [v.address, v.driver])).toEqual([
      ['0000:18:00.1', 'vfio-pci'],
      ['0000:18:00.2', null],
      ['0000:18:00.3', null],
      ['0000:18:00.4', null],
    ]);
    // The BMC's VGA is a GPU too, shared in no way.
    expect(modes.get('0000:02:00.0')).toMatchObject({ modes: ['physical'], mdevTypes: [], sriov: null, notes: [] });
  });

  it('sriov-gpu: the A16 offers mdev through the types on its VFs (only A16-2Q free, on three VFs); no sriov (every VF on nvidia)', async () => {
    const a16 = (await modesOf(path.join(fixtures, 'sriov-gpu'))).get('0000:3b:00.0')!;
    expect(a16.modes).toEqual(['physical', 'mdev']);
    expect(a16.mdevTypes).toEqual([]);
    expect(a16.sriov!.freeVfs).toEqual([]);
    const card = mdevTypesOfCard('0000:3b:00.0', a16);
    expect([...card.keys()]).toEqual(['nvidia-745', 'nvidia-746', 'nvidia-747']);
    expect(card.get('nvidia-746')).toMatchObject({
      free: 3,
      on: ['0000:3b:00.5', '0000:3b:00.6', '0000:3b:00.7'],
      type: { name: 'NVIDIA A16-2Q', mdevs: ['8d1a7cff-3802-4a82-9854-902de4e24e8d'] },
    });
    expect(card.get('nvidia-745')).toMatchObject({ free: 0, on: [] });
  });

  it('sriov-gpu: the L40 (vGPU 17) shows each VF’s creatable types and current type, and that LXD cannot create them', async () => {
    const l40 = (await modesOf(path.join(fixtures, 'sriov-gpu'))).get('0000:5e:00.0')!;
    expect(l40.modes).toEqual(['physical']);
    expect(l40.sriov!.vfs[0]!.vgpu).toEqual({ creatable: [], current: 1154 });
    expect(l40.sriov!.vfs[1]!.vgpu).toEqual({
      creatable: [
        { id: 1154, name: 'NVIDIA L40-4Q' },
        { id: 1166, name: 'NVIDIA L40-4A' },
        { id: 1178, name: 'NVIDIA L40-4C' },
      ],
      current: 0,
    });
    expect(l40.notes.join('\n')).toMatch(/nvidia\/creatable_vgpu_types.*only from mdev_supported_types/);
  });

  it('an SR-IOV GPU with no VF enabled is capable but offers no sriov, and says how to make free VFs', async () => {
    const root = copy('sriov-gpu');
    // The kernel's view after sriov_numvfs 0: no virtfn links, numvfs 0.
    const pf = path.join(root, 'sys/devices/pci0000:17/0000:17:00.0/0000:18:00.0');
    fs.writeFileSync(path.join(pf, 'sriov_numvfs'), '0\n');
    for (const f of fs.readdirSync(pf).filter((n) => n.startsWith('virtfn'))) fs.rmSync(path.join(pf, f));
    const flex = (await modesOf(root)).get('0000:18:00.0')!;
    expect(flex.modes).toEqual(['physical']);
    expect(flex.notes).toEqual([expect.stringContaining('SR-IOV capable (0 of 31 VFs enabled): passthru sriov 0000:18:00.0 --numvfs N --no-autoprobe')]);
  });

  it('nvidia-mig: GPU 0 in MIG mode offers mig with each compute instance, its profile and MIG device UUID; GPU 1 has MIG disabled', async () => {
    const modes = await modesOf(path.join(fixtures, 'nvidia-mig'));
    const gpu0 = modes.get('0000:41:00.0')!;
    expect(gpu0.modes).toEqual(['physical', 'mig']);
    expect(gpu0.mig).toMatchObject({ mode: 'enabled', minor: 0, gpuUuid: 'GPU-2efdfa28-97a8-475c-906d-ab365c62f34f' });
    expect(gpu0.mig!.gpuInstances.map((g) => [g.gi, g.profile, g.profileId, g.placement])).toEqual([
      [1, '3g.20gb', 9, '0:4'],
      [5, '2g.10gb', 14, '4:2'],
      [13, '1g.5gb', 19, '6:1'],
    ]);
    expect(gpu0.mig!.computeInstances).toEqual([
      { gi: 1, ci: 0, profile: '3g.20gb', uuid: 'MIG-7eb8e204-9e51-5afc-ba56-56d6d5bfb2c3' },
      { gi: 5, ci: 0, profile: '2g.10gb', uuid: 'MIG-ab62a01e-49f3-5235-a9f0-4e6fbbfd7587' },
      { gi: 13, ci: 0, profile: '1g.5gb', uuid: 'MIG-94edb541-c5e7-5a83-8745-84e593997bde' },
    ]);
    expect(gpu0.mig!.sources).toEqual(['procfs', `${NVIDIA_SMI_CAPTURES} (captured)`]);
    const gpu1 = modes.get('0000:c1:00.0')!;
    expect(gpu1.modes).toEqual(['physical']);
    expect(gpu1.mig).toMatchObject({ mode: 'disabled', minor: 1, computeInstances: [] });
  });

  it('nvidia-mig without nvidia-smi: the compute instances LXD checks come from procfs alone (no profiles, no UUIDs)', async () => {
    const root = copy('nvidia-mig');
    fs.rmSync(path.join(root, NVIDIA_SMI_CAPTURES), { recursive: true });
    const gpu0 = (await modesOf(root)).get('0000:41:00.0')!;
    expect(gpu0.modes).toEqual(['physical', 'mig']);
    expect(gpu0.mig).toMatchObject({ mode: 'enabled', sources: ['procfs'], devices: [] });
    expect(gpu0.mig!.computeInstances).toEqual([
      { gi: 1, ci: 0, profile: null, uuid: null },
      { gi: 5, ci: 0, profile: null, uuid: null },
      { gi: 13, ci: 0, profile: null, uuid: null },
    ]);
    // Without MIG mode from nvidia-smi and without instances, nothing says the GPU has MIG.
    expect((await modesOf(root)).get('0000:c1:00.0')!.mig).toBeNull();
  });

  it('a host whose GPUs share in no way: physical only (with a group), nothing else; other devices have no entry', async () => {
    const modes = await modesOf(path.join(fixtures, 'intel-workstation'));
    expect([...modes.keys()]).toEqual(['0000:00:02.0', '0000:01:00.0']);
    for (const m of modes.values()) expect(m).toEqual({ modes: ['physical'], mdevTypes: [], sriov: null, vgpu: null, mig: null, notes: [] });
    expect([...(await modesOf(path.join(fixtures, 'intel-iommu-off'))).values()].map((m) => m.modes)).toEqual([[], []]);
  });
});

describe('nvidia-smi', () => {
  it('runs on a live host only when a GPU is on the nvidia driver, each command once; a failed command leaves its part empty', async () => {
    const live = new HostFs('/');
    const calls: string[][] = [];
    const runner = async (args: readonly string[]) => {
      calls.push([...args]);
      return args[0] === '-L' ? 'GPU 0: NVIDIA A100-PCIE-40GB (UUID: GPU-2efdfa28-97a8-475c-906d-ab365c62f34f)\n' : null;
    };
    const { devices } = scanPciDevices(new HostFs(path.join(fixtures, 'intel-gvtg')));
    expect(await readNvidiaSmi(live, devices, runner)).toBeNull();
    expect(calls).toEqual([]);
    const nvidia = scanPciDevices(new HostFs(path.join(fixtures, 'nvidia-mig'))).devices;
    const smi = await readNvidiaSmi(live, nvidia, runner);
    expect(calls.map((c) => c.join(' ')).sort()).toEqual(['--query-gpu=pci.bus_id,mig.mode.current --format=csv,noheader', '-L', 'mig -lci', 'mig -lgi']);
    expect(smi).toMatchObject({
      source: 'nvidia-smi',
      gpuInstances: [],
      computeInstances: [],
      gpus: [{ index: 0, uuid: 'GPU-2efdfa28-97a8-475c-906d-ab365c62f34f' }],
    });
    // A tree never runs anything: its captured files, or nothing.
    expect(await readNvidiaSmi(new HostFs(path.join(fixtures, 'intel-workstation')), nvidia, runner)).toBeNull();
    expect(calls).toHaveLength(4);
  });

  it('parses -L with MIG devices, old drivers’ MIG-GPU-<uuid>/<gi>/<ci> names included', () => {
    const text = [
      'GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-5c89852c-d268-c3f3-1b07-005d5ae1dc3b)',
      '  MIG 3g.20gb Device 0: (UUID: MIG-GPU-5c89852c-d268-c3f3-1b07-005d5ae1dc3b/2/0)',
      '  MIG 1c.3g.20gb    Device  1: (UUID: MIG-3b2bc7c4-ad39-5bb3-b7ee-a2fe1d9d6f6f)',
      'GPU 1: NVIDIA A100-SXM4-40GB (UUID: GPU-0a1b2c3d-0000-1111-2222-333344445555)',
      '',
    ].join('\n');
    expect(parseNvidiaSmiList(text)).toEqual([
      {
        index: 0,
        name: 'NVIDIA A100-SXM4-40GB',
        uuid: 'GPU-5c89852c-d268-c3f3-1b07-005d5ae1dc3b',
        migDevices: [
          { index: 0, profile: '3g.20gb', uuid: 'MIG-GPU-5c89852c-d268-c3f3-1b07-005d5ae1dc3b/2/0', gi: 2, ci: 0 },
          { index: 1, profile: '1c.3g.20gb', uuid: 'MIG-3b2bc7c4-ad39-5bb3-b7ee-a2fe1d9d6f6f', gi: null, ci: null },
        ],
      },
      { index: 1, name: 'NVIDIA A100-SXM4-40GB', uuid: 'GPU-0a1b2c3d-0000-1111-2222-333344445555', migDevices: [] },
    ]);
    expect(parseNvidiaSmiList('No devices were found\n')).toEqual([]);
  });

  it('parses mig -lgi and -lci tables, with and without the placement column; no MIG device: nothing', () => {
    const lgiOld =
      '| GPU   Name          Profile  Instance |\n|                       ID       ID     |\n|=======|\n|   0  MIG 1g.5gb       19        7     |\n';
    expect(parseMigGpuInstances(lgiOld)).toEqual([{ gpu: 0, profile: '1g.5gb', profileId: 19, gi: 7, placement: null }]);
    const lci =
      '| GPU     GPU       Name             Profile   Instance   Placement  |\n|====|\n|   1      3       MIG 1c.2g.10gb       0         1          1:1     |\n';
    expect(parseMigComputeInstances(lci)).toEqual([{ gpu: 1, gi: 3, profile: '1c.2g.10gb', profileId: 0, ci: 1, placement: '1:1' }]);
    expect(parseMigGpuInstances('No MIG-enabled devices found.\n')).toEqual([]);
    expect(parseMigComputeInstances('No compute instances found: Not Found\n')).toEqual([]);
  });

  it('parses mig.mode.current by PCI address (8-digit domains), [N/A] as no MIG', () => {
    expect(parseMigModes('00000000:41:00.0, Enabled\n00000000:C1:00.0, Disabled\n00000000:01:00.0, [N/A]\n')).toEqual(
      new Map([
        ['0000:41:00.0', 'enabled'],
        ['0000:c1:00.0', 'disabled'],
        ['0000:01:00.0', null],
      ]),
    );
  });

  it('parses creatable_vgpu_types with or without its header line', () => {
    const types = [
      { id: 1155, name: 'NVIDIA L4-1B' },
      { id: 1156, name: 'NVIDIA L4-2Q' },
    ];
    expect(parseCreatableVgpuTypes('ID    : vGPU Name\n1155  : NVIDIA L4-1B\n1156  : NVIDIA L4-2Q\n')).toEqual(types);
    expect(parseCreatableVgpuTypes('1155 : NVIDIA L4-1B\n1156 : NVIDIA L4-2Q\n')).toEqual(types);
  });
});
