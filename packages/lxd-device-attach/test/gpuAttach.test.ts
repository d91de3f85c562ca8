// attach with gputype mdev, sriov and mig (issue 26) against a fake LXD and the fixture hosts:
// the device config LXD gets, the preflight against the GPU's modes, the refusals (bad input,
// exit 2, before any write), the holders rule for shared GPUs, and Incus's words.
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { afterEach, describe, expect, it } from 'vitest';
import { LxdClient } from '../src/LxdClient';
import type { LxdError } from '../src/LxdError';
import { applyAttach, planAttach, type AttachRequest } from '../src/attachDevice';
import { error, instance, startFakeLxd, sync, FAKE_SERVER } from './fakeLxd';

const fixtures = path.resolve(__dirname, '../../../fixtures/hosts');
const gvtg = new HostFs(path.join(fixtures, 'intel-gvtg'));
const sriov = new HostFs(path.join(fixtures, 'sriov-gpu'));
const mig = new HostFs(path.join(fixtures, 'nvidia-mig'));

let close: (() => Promise<void>) | undefined;
afterEach(async () => close?.());

/** A small stateful LXD (or Incus) with these instances; every PUT is recorded. */
async function lxd(instances: Record<string, ReturnType<typeof instance>>, server: 'lxd' | 'incus' = 'lxd') {
  let version = 1;
  const fake = await startFakeLxd((r) => {
    if (r.method === 'GET' && r.url === '/1.0') return sync({ ...FAKE_SERVER, environment: { ...FAKE_SERVER.environment, server } });
    if (r.url.startsWith('/1.0/instances?')) return sync(Object.values(instances));
    const m = /^\/1\.0\/instances\/([^?]+)/.exec(r.url);
    if (!m) return undefined;
    const inst = instances[m[1]!];
    if (!inst) return error(404, 'Instance not found');
    if (r.method === 'GET') return sync(inst, { ETag: `"v${version}"` });
    if (r.method === 'PUT') {
      if (r.headers['if-match'] !== `"v${version}"`) return error(412, 'ETag mismatch');
      const body = r.body as { devices: Record<string, Record<string, string>> };
      inst.devices = body.devices;
      inst.expanded_devices = { root: { type: 'disk', path: '/', pool: 'default' }, ...body.devices };
      version++;
      return sync({});
    }
    return undefined;
  });
  close = fake.close;
  return { fake, client: new LxdClient({ kind: 'unix', socketPath: fake.socketPath }), puts: () => fake.requests.filter((r) => r.method === 'PUT') };
}

const vm = (name: string, extra: Record<string, unknown> = {}) => instance(name, { type: 'virtual-machine', ...extra });
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => expect.unreachable('planned'),
    (e: unknown) => e as LxdError,
  );
const plan = (client: LxdClient, host: HostFs, request: AttachRequest) => planAttach(client, host, request);

describe('gputype=mdev', () => {
  it('a GVT-g vGPU for a stopped VM: gputype, mdev and pci; no IOMMU group moves; applied with If-Match and verified', async () => {
    const { client, puts } = await lxd({ vm1: vm('vm1') });
    const p = await plan(client, gvtg, { instance: 'vm1', target: '00:02.0', gpu: { gputype: 'mdev', mdev: 'i915-GVTg_V5_4' } });
    expect(p.device).toEqual({ type: 'gpu', gputype: 'mdev', mdev: 'i915-GVTg_V5_4', pci: '0000:00:02.0' });
    expect(p.deviceName).toBe('gpu-0000-00-02-0-mdev');
    expect(p.iommu).toBeNull();
    expect(p.notes.join('\n')).toContain('mdev i915-GVTg_V5_4 "GVTg_V5_4": 1 free; LXD creates the vGPU when vm1 starts');
    const r = await applyAttach(client, undefined, p);
    expect(r.applied).toEqual(p.device);
    expect(puts()).toHaveLength(1);
    expect(puts()[0]!.headers['if-match']).toBe('"v1"');
  });

  it('the A16 (vGPU 16): a type found on its VFs is attached with the PF address; LXD makes it on the first free VF', async () => {
    const { client } = await lxd({ vm1: vm('vm1') });
    const p = await plan(client, sriov, { instance: 'vm1', target: '3b:00.0', gpu: { gputype: 'mdev', mdev: 'nvidia-746' } });
    expect(p.device).toEqual({ type: 'gpu', gputype: 'mdev', mdev: 'nvidia-746', pci: '0000:3b:00.0' });
    expect(p.notes.join('\n')).toContain('3 free on VFs 0000:3b:00.5, 0000:3b:00.6, 0000:3b:00.7 (LXD makes it on the first)');
  });

  it('refuses, before any write: a container, a running VM, an unknown type (naming the types), a type with none free, the L40’s vGPU 17 types', async () => {
    const { client, puts } = await lxd({ c1: instance('c1'), vm1: vm('vm1'), run: vm('run', { status: 'Running' }) });
    const mdev = (inst: string, target: string, type: string) =>
      plan(client, target.startsWith('00:') ? gvtg : sriov, { instance: inst, target, gpu: { gputype: 'mdev', mdev: type } });
    const container = await refusal(mdev('c1', '00:02.0', 'i915-GVTg_V5_4'));
    expect(container).toMatchObject({ reason: 'bad-input', kind: 'bad-input' });
    expect(container.message).toMatch(/^Failed attaching 00:02\.0 to instance c1 via .*: gputype=mdev is for virtual machines .*c1 is a container/);
    expect(await refusal(mdev('run', '00:02.0', 'i915-GVTg_V5_4'))).toMatchObject({
      reason: 'preflight',
      message: expect.stringContaining('cannot be hot-plugged into a running VM): stop run first (lxc stop run)'),
    });
    expect((await refusal(mdev('vm1', '00:02.0', 'i915-GVTg_V5_2'))).message).toMatch(
      /0000:00:02\.0 has no mdev type i915-GVTg_V5_2; its mdev types: i915-GVTg_V5_4 "GVTg_V5_4" \(1 free\), i915-GVTg_V5_8 "GVTg_V5_8" \(2 free\)$/,
    );
    expect(await refusal(mdev('vm1', '3b:00.0', 'nvidia-745'))).toMatchObject({
      reason: 'preflight',
      message: expect.stringMatching(/nvidia-745 of 0000:3b:00\.0 has no free instance/),
    });
    expect((await refusal(mdev('vm1', '5e:00.0', 'nvidia-1154'))).message).toMatch(
      /no mdev type nvidia-1154; it offers no mdev type \(.*nvidia\/creatable_vgpu_types/,
    );
    expect(puts()).toEqual([]);
  });

  it('Incus hears the same refusals in its own words', async () => {
    const { client } = await lxd({ run: vm('run', { status: 'Running' }) }, 'incus');
    const e = await refusal(plan(client, gvtg, { instance: 'run', target: '00:02.0', gpu: { gputype: 'mdev', mdev: 'i915-GVTg_V5_4' } }));
    expect(e.message).toContain('Incus adds a gputype=mdev device only when the instance starts');
    expect(e.message).toContain('(incus stop run)');
  });

  it('vGPUs of one card go to several VMs; not while a VM has the card whole', async () => {
    const held = vm('other', { expanded_devices: { v: { type: 'gpu', gputype: 'mdev', mdev: 'i915-GVTg_V5_8', pci: '0000:00:02.0' } } });
    const shared = await lxd({ vm1: vm('vm1'), other: held });
    await expect(plan(shared.client, gvtg, { instance: 'vm1', target: '00:02.0', gpu: { gputype: 'mdev', mdev: 'i915-GVTg_V5_4' } })).resolves.toBeDefined();
    const whole = await lxd({ vm1: vm('vm1'), other: vm('other', { expanded_devices: { g: { type: 'gpu', pci: '0000:00:02.0' } } }) });
    expect(await refusal(plan(whole.client, gvtg, { instance: 'vm1', target: '00:02.0', gpu: { gputype: 'mdev', mdev: 'i915-GVTg_V5_4' } }))).toMatchObject({
      reason: 'conflict',
      message: expect.stringContaining('already given to default/other (device g)'),
    });
  });
});

describe('gputype=sriov', () => {
  it('the Flex PF for a stopped VM: gputype=sriov pci=PF; the IOMMU check is on the VF LXD takes (the first with no driver)', async () => {
    const { client } = await lxd({ vm1: vm('vm1') });
    const p = await plan(client, sriov, { instance: 'vm1', target: '18:00.0', gpu: { gputype: 'sriov' } });
    expect(p.device).toEqual({ type: 'gpu', gputype: 'sriov', pci: '0000:18:00.0' });
    expect(p.deviceName).toBe('gpu-0000-18-00-0-sriov');
    expect(p.iommu).toMatchObject({ viable: true });
    expect(p.notes.join('\n')).toContain('3 of 4 free (0000:18:00.2, 0000:18:00.3, 0000:18:00.4); the first now is 0000:18:00.2');
  });

  it('refuses a VF (naming its PF), a GPU with no SR-IOV, a PF whose VFs all have a driver, and a container', async () => {
    const { client, puts } = await lxd({ vm1: vm('vm1'), c1: instance('c1') });
    const sr = (inst: string, target: string) => refusal(plan(client, sriov, { instance: inst, target, gpu: { gputype: 'sriov' } }));
    expect(await sr('vm1', '18:00.2')).toMatchObject({
      reason: 'bad-input',
      message: expect.stringContaining('0000:18:00.2 is a VF of 0000:18:00.0: name the PF'),
    });
    expect(await sr('vm1', '02:00.0')).toMatchObject({ reason: 'bad-input', message: expect.stringContaining('0000:02:00.0 is not an SR-IOV GPU') });
    expect(await sr('vm1', '3b:00.0')).toMatchObject({
      reason: 'preflight',
      message: expect.stringContaining('every VF of 0000:3b:00.0 has a driver (nvidia)'),
    });
    expect(await sr('c1', '18:00.0')).toMatchObject({ reason: 'bad-input', message: expect.stringContaining('gputype=sriov is for virtual machines') });
    expect(puts()).toEqual([]);
  });
});

describe('gputype=mig', () => {
  it('a MIG device by UUID, or a compute instance by GI and CI, for a stopped container; a warning while nvidia.runtime is off', async () => {
    const { client } = await lxd({ c1: instance('c1'), c2: instance('c2', { expanded_config: { 'nvidia.runtime': 'true' } }) });
    const byUuid = await plan(client, mig, { instance: 'c1', target: '41:00.0', gpu: { gputype: 'mig', migUuid: 'MIG-ab62a01e-49f3-5235-a9f0-4e6fbbfd7587' } });
    expect(byUuid.device).toEqual({ type: 'gpu', gputype: 'mig', pci: '0000:41:00.0', 'mig.uuid': 'MIG-ab62a01e-49f3-5235-a9f0-4e6fbbfd7587' });
    expect(byUuid.deviceName).toBe('gpu-0000-41-00-0-mig-ab62a01e');
    expect(byUuid.notes.join('\n')).toContain('MIG device MIG-ab62a01e-49f3-5235-a9f0-4e6fbbfd7587 (2g.10gb) of 0000:41:00.0');
    expect(byUuid.warnings).toEqual([
      expect.stringContaining('nvidia.runtime=true on the container (it is not set on c1): lxc config set c1 nvidia.runtime=true'),
    ]);
    const byIds = await plan(client, mig, { instance: 'c2', target: '41:00.0', gpu: { gputype: 'mig', migGi: 13, migCi: 0 } });
    expect(byIds.device).toEqual({ type: 'gpu', gputype: 'mig', pci: '0000:41:00.0', 'mig.gi': '13', 'mig.ci': '0' });
    expect(byIds.deviceName).toBe('gpu-0000-41-00-0-mig-13-0');
    expect(byIds.notes.join('\n')).toContain('gi 13 ci 0 (1g.5gb) of 0000:41:00.0 (/proc/driver/nvidia/capabilities/gpu0/mig/gi13/ci0)');
    expect(byIds.warnings).toEqual([]);
  });

  it('refuses an unknown UUID or GI/CI (naming what exists), a GPU with MIG disabled, and a VM', async () => {
    const { client, puts } = await lxd({ c1: instance('c1'), vm1: vm('vm1') });
    const m = (inst: string, target: string, gpu: AttachRequest['gpu']) =>
      refusal(plan(client, mig, { instance: inst, target, gpu: { gputype: 'mig', ...gpu } }));
    expect((await m('c1', '41:00.0', { migUuid: 'MIG-00000000-0000-0000-0000-000000000000' })).message).toMatch(
      /has no MIG device MIG-00000000-0000-0000-0000-000000000000; its MIG devices: MIG-7eb8e204-9e51-5afc-ba56-56d6d5bfb2c3 \(3g\.20gb\), /,
    );
    expect((await m('c1', '41:00.0', { migGi: 2, migCi: 0 })).message).toMatch(
      /has no MIG compute instance gi 2 ci 0; its compute instances: gi 1 ci 0 \(3g\.20gb\) MIG-7eb8e204.*, gi 13 ci 0 \(1g\.5gb\)/,
    );
    expect(await m('c1', 'c1:00.0', { migGi: 1, migCi: 0 })).toMatchObject({
      reason: 'preflight',
      message: expect.stringContaining('0000:c1:00.0 has MIG disabled'),
    });
    expect(await m('vm1', '41:00.0', { migGi: 1, migCi: 0 })).toMatchObject({
      reason: 'bad-input',
      message: expect.stringContaining('gputype=mig is for containers'),
    });
    expect(puts()).toEqual([]);
  });

  it('one compute instance is one container’s; another instance of the same GPU is free', async () => {
    const other = instance('other', {
      expanded_devices: { m: { type: 'gpu', gputype: 'mig', pci: '0000:41:00.0', 'mig.uuid': 'MIG-7eb8e204-9e51-5afc-ba56-56d6d5bfb2c3' } },
    });
    const { client } = await lxd({ c1: instance('c1'), other });
    expect(
      await refusal(plan(client, mig, { instance: 'c1', target: '41:00.0', gpu: { gputype: 'mig', migUuid: '7eb8e204-9e51-5afc-ba56-56d6d5bfb2c3' } })),
    ).toMatchObject({
      reason: 'conflict',
      message: expect.stringContaining('default/other (device m)'),
    });
    await expect(plan(client, mig, { instance: 'c1', target: '41:00.0', gpu: { gputype: 'mig', migGi: 5, migCi: 0 } })).resolves.toBeDefined();
  });
});

describe('bad combinations are refused before LXD is asked anything', () => {
  it.each<[string, AttachRequest['gpu'], AttachRequest['type'], RegExp]>([
    ['--mdev without --gputype mdev', { mdev: 'i915-GVTg_V5_4' }, 'gpu', /--mdev names an mdev type: it goes with --gputype mdev/],
    ['--mdev with --gputype sriov', { gputype: 'sriov', mdev: 'x' }, 'auto', /goes with --gputype mdev, not sriov/],
    ['--gputype mdev without --mdev', { gputype: 'mdev' }, 'auto', /--gputype mdev needs --mdev TYPE/],
    ['--mig-gi without --gputype mig', { migGi: 1, migCi: 0 }, 'auto', /go with --gputype mig/],
    ['--mig-uuid and --mig-gi', { gputype: 'mig', migUuid: 'MIG-7eb8e204-9e51-5afc-ba56-56d6d5bfb2c3', migGi: 1 }, 'auto', /either --mig-uuid or --mig-gi/],
    ['--mig-gi alone', { gputype: 'mig', migGi: 1 }, 'auto', /needs --mig-uuid UUID, or both --mig-gi N and --mig-ci N/],
    ['a bad MIG UUID', { gputype: 'mig', migUuid: 'GPU-1234' }, 'auto', /is not a MIG device UUID/],
    ['a GI over 255', { gputype: 'mig', migGi: 256, migCi: 0 }, 'auto', /--mig-gi must be an integer from 0 to 255/],
    ['--gputype with --type pci', { gputype: 'sriov' }, 'pci', /goes with --type gpu, not --type pci/],
  ])('%s', async (_, gpu, type, message) => {
    const { client, fake } = await lxd({ vm1: vm('vm1') });
    const e = await refusal(plan(client, gvtg, { instance: 'vm1', target: '00:02.0', type, gpu }));
    expect(e).toMatchObject({ reason: 'bad-input', kind: 'bad-input' });
    expect(e.message).toMatch(message);
    expect(fake.requests).toEqual([]);
  });

  it('a non-GPU target cannot be shared as a GPU', async () => {
    const { client } = await lxd({ vm1: vm('vm1') });
    expect((await refusal(plan(client, gvtg, { instance: 'vm1', target: '00:17.0', gpu: { gputype: 'sriov' } }))).message).toMatch(
      /--gputype sriov shares a GPU; 0000:00:17\.0 is a storage device \(class 010601\), not a GPU/,
    );
  });

  it('with the host check off (a remote server), the keys are sent unchecked and the plan says LXD checks them at start', async () => {
    const { client } = await lxd({ vm1: vm('vm1') });
    const p = await planAttach(client, gvtg, { instance: 'vm1', target: '0000:00:02.0', hostCheck: false, gpu: { gputype: 'mdev', mdev: 'i915-GVTg_V5_2' } });
    expect(p.device).toEqual({ type: 'gpu', gputype: 'mdev', mdev: 'i915-GVTg_V5_2', pci: '0000:00:02.0' });
    expect(p.notes.join('\n')).toContain('mdev not checked on the server: LXD checks it when vm1 starts');
  });
});
