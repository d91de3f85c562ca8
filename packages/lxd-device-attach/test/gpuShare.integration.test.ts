/**
 * attach with gputype mdev, sriov and mig against REAL daemons (issue 26): Debian's LXD 5.0 and
 * Incus 6.0 (private daemons, realDaemon.ts), the same tests on each. passthru's preflight reads
 * the fixture hosts (intel-gvtg, sriov-gpu, nvidia-mig); the daemon gets the keys and keeps them.
 *
 * What the daemons do with these keys, found here: adding a gpu device to a STOPPED instance
 * validates its keys only (mdev type, PCI address and MIG instance are looked up at start), so a
 * host without any GPU takes them; `gputype=mdev|sriov` on a container and `gputype=mig` on a
 * VM are refused ("Unsupported device type"), and so is a mig device with neither `mig.uuid` nor
 * both `mig.gi` and `mig.ci`; a running container refuses a mig device ("cannot be added when
 * instance is running").
 *
 * VMs: this machine has no KVM, so a stopped VM is a record written into the database (as
 * packages/fleet/test does), with its root volume's record, folder and link, so that the daemon
 * can write the instance's backup file after a config change (without them it changes the
 * database and then fails the request). It is never started.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { HostFs } from '@passthru/hostfs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LxdError } from '../src/LxdError';
import { applyAttach, applyDetach, planAttach, planDetach } from '../src/attachDevice';
import { instancePut, type DeviceConfig } from '../src/schemas';
import type { ServerName } from '../src/servers';
import { provisionDaemon, type RealDaemon } from './realDaemon';

const fixtures = path.resolve(__dirname, '../../../fixtures/hosts');
const gvtg = new HostFs(path.join(fixtures, 'intel-gvtg'));
const sriovGpu = new HostFs(path.join(fixtures, 'sriov-gpu'));
const mig = new HostFs(path.join(fixtures, 'nvidia-mig'));
const id = randomBytes(3).toString('hex');

describe.each<ServerName>(['lxd', 'incus'])('%s: shared GPU devices (real daemon)', { timeout: 60_000 }, (server) => {
  const name = (s: string) => `pt-${id}-${server[0]}-${s}`;
  const created: string[] = [];
  let daemon: RealDaemon;

  /** The daemon's own SQL client on its global database. */
  const sql = (query: string) => {
    const [file, args] = server === 'incus' ? ['incus', ['admin', 'sql', 'global']] : ['lxd', ['sql', 'global']];
    const run = promisify(execFile)(file, [...args, query], { env: daemon.env, timeout: 60_000 });
    run.child.stdin?.end();
    return run;
  };

  /** A stopped VM in the default project: its record, profile, uuid, and root volume (record, folder, link). */
  async function vmRecord(instance: string): Promise<void> {
    created.push(instance);
    await sql(
      `INSERT INTO instances (node_id, name, architecture, type, description, project_id) SELECT n.id, '${instance}', 2, 1, '', p.id FROM nodes n, projects p WHERE p.name = 'default'`,
    );
    await sql(
      `INSERT INTO instances_profiles (instance_id, profile_id, apply_order) SELECT i.id, pr.id, 0 FROM instances i, profiles pr WHERE i.name = '${instance}' AND pr.name = 'default' AND pr.project_id = i.project_id`,
    );
    await sql(`INSERT INTO instances_config (instance_id, key, value) SELECT id, 'volatile.uuid', '${randomUUID()}' FROM instances WHERE name = '${instance}'`);
    await sql(
      `INSERT INTO storage_volumes (name, storage_pool_id, node_id, type, description, project_id, content_type) SELECT '${instance}', sp.id, n.id, 3, '', p.id, 1 FROM storage_pools sp, nodes n, projects p WHERE sp.name = 'default' AND p.name = 'default'`,
    );
    const volume = path.join(daemon.dir, 'storage-pools/default/virtual-machines', instance);
    fs.mkdirSync(volume, { recursive: true });
    fs.mkdirSync(path.join(daemon.dir, 'virtual-machines'), { recursive: true });
    fs.symlinkSync(volume, path.join(daemon.dir, 'virtual-machines', instance));
  }
  const container = async (instance: string, start = false) => {
    created.push(instance);
    await daemon.cli(start ? 'launch' : 'init', 'passthru-busybox', instance);
  };
  const devicesOf = async (instance: string) => (await daemon.client.getInstance(instance)).instance.devices;
  /** A device written straight through the API, past passthru's preflight: the daemon's own answer. */
  const putDevice = async (instance: string, device: string, config: DeviceConfig) => {
    const { instance: inst, etag } = await daemon.client.getInstance(instance);
    const put = instancePut(inst);
    put.devices[device] = config;
    return daemon.client.updateInstance(instance, put, etag).then(
      () => 'accepted',
      (e: unknown) => e as LxdError,
    );
  };

  beforeAll(async () => {
    daemon = provisionDaemon(server);
    expect((await daemon.client.serverKind()).name).toBe(server);
  }, 320_000);

  afterAll(async () => {
    if (!daemon) return;
    await Promise.all(created.map((n) => daemon.cli('delete', '-f', n).catch(() => undefined)));
  }, 60_000);

  it('gputype=mdev on a stopped VM: the daemon keeps gputype, mdev and pci; detach removes it', async () => {
    const v = name('mdev');
    await vmRecord(v);
    const plan = await planAttach(daemon.client, gvtg, { instance: v, target: '00:02.0', gpu: { gputype: 'mdev', mdev: 'i915-GVTg_V5_4' } });
    const result = await applyAttach(daemon.client, gvtg, plan);
    expect(result.verified).toEqual([`instance ${v} holds device gpu-0000-00-02-0-mdev ${JSON.stringify(result.applied)}`]);
    expect((await devicesOf(v))['gpu-0000-00-02-0-mdev']).toEqual({ type: 'gpu', gputype: 'mdev', mdev: 'i915-GVTg_V5_4', pci: '0000:00:02.0' });
    await applyDetach(daemon.client, await planDetach(daemon.client, { instance: v, device: 'gpu-0000-00-02-0-mdev' }));
    expect(await devicesOf(v)).toEqual({});

    // The daemon itself checks no mdev type on a stopped VM: one this host cannot have is taken
    // (passthru's preflight, with the host check on, is what refuses it).
    expect(await putDevice(v, 'unchecked', { type: 'gpu', gputype: 'mdev', mdev: 'i915-GVTg_V5_1', pci: '0000:00:02.0' })).toBe('accepted');
    await expect(planAttach(daemon.client, gvtg, { instance: v, target: '00:02.0', gpu: { gputype: 'mdev', mdev: 'i915-GVTg_V5_1' } })).rejects.toMatchObject({
      reason: 'bad-input',
    });
    // ... but it refuses an mdev device without its type.
    const untyped = await putDevice(v, 'untyped', { type: 'gpu', gputype: 'mdev', pci: '0000:00:02.0' });
    expect(untyped).toBeInstanceOf(LxdError);
    expect((untyped as LxdError).detail).toMatch(/Invalid value for device option "mdev": Required value/);
  });

  it('gputype=sriov on a stopped VM: gputype and the PF in pci=; the daemon refuses sriov and mdev on a container', async () => {
    const v = name('sriov');
    const c = name('sriov-c');
    await Promise.all([vmRecord(v), container(c)]);
    const plan = await planAttach(daemon.client, sriovGpu, { instance: v, target: '18:00.0', gpu: { gputype: 'sriov' } });
    await applyAttach(daemon.client, sriovGpu, plan);
    expect((await devicesOf(v))['gpu-0000-18-00-0-sriov']).toEqual({ type: 'gpu', gputype: 'sriov', pci: '0000:18:00.0' });

    for (const config of [
      { type: 'gpu', gputype: 'sriov', pci: '0000:18:00.0' },
      { type: 'gpu', gputype: 'mdev', mdev: 'i915-GVTg_V5_4', pci: '0000:00:02.0' },
    ]) {
      const refused = await putDevice(c, 'g', config);
      expect(refused).toBeInstanceOf(LxdError);
      expect((refused as LxdError).detail).toMatch(/Device validation failed for "g": Unsupported device type/);
    }
    expect(await devicesOf(c)).toEqual({});
    // passthru says so before asking: exit 2, nothing sent.
    await expect(planAttach(daemon.client, sriovGpu, { instance: c, target: '18:00.0', gpu: { gputype: 'sriov' } })).rejects.toMatchObject({
      reason: 'bad-input',
    });
  });

  it('gputype=mig on a stopped container, by MIG UUID and by GI/CI; refused on a VM, without an instance, and on a running container', async () => {
    const c = name('mig');
    const v = name('mig-v');
    const r = name('mig-r');
    const other = name('mig-o');
    await Promise.all([container(c), container(other), vmRecord(v), container(r, true)]);
    const byUuid = await planAttach(daemon.client, mig, {
      instance: c,
      target: '41:00.0',
      gpu: { gputype: 'mig', migUuid: 'MIG-7eb8e204-9e51-5afc-ba56-56d6d5bfb2c3' },
    });
    await applyAttach(daemon.client, mig, byUuid);
    const byIds = await planAttach(daemon.client, mig, { instance: c, target: '41:00.0', gpu: { gputype: 'mig', migGi: 5, migCi: 0 } });
    await applyAttach(daemon.client, mig, byIds);
    expect(await devicesOf(c)).toEqual({
      'gpu-0000-41-00-0-mig-7eb8e204': { type: 'gpu', gputype: 'mig', pci: '0000:41:00.0', 'mig.uuid': 'MIG-7eb8e204-9e51-5afc-ba56-56d6d5bfb2c3' },
      'gpu-0000-41-00-0-mig-5-0': { type: 'gpu', gputype: 'mig', pci: '0000:41:00.0', 'mig.gi': '5', 'mig.ci': '0' },
    });
    // The same compute instance is now that container's; another one of the GPU is free.
    await expect(planAttach(daemon.client, mig, { instance: other, target: '41:00.0', gpu: { gputype: 'mig', migGi: 5, migCi: 0 } })).rejects.toMatchObject({
      reason: 'conflict',
      message: expect.stringContaining(`already given to default/${c} (device gpu-0000-41-00-0-mig-5-0)`),
    });
    await expect(planAttach(daemon.client, mig, { instance: other, target: '41:00.0', gpu: { gputype: 'mig', migGi: 13, migCi: 0 } })).resolves.toBeDefined();

    const onVm = await putDevice(v, 'm', { type: 'gpu', gputype: 'mig', pci: '0000:41:00.0', 'mig.gi': '1', 'mig.ci': '0' });
    expect((onVm as LxdError).detail).toMatch(/Unsupported device type/);
    const neither = await putDevice(c, 'm', { type: 'gpu', gputype: 'mig', pci: '0000:41:00.0' });
    expect((neither as LxdError).detail).toMatch(/Either "mig.uuid" or both "mig.gi" and "mig.ci" must be set/);
    const running = await putDevice(r, 'm', { type: 'gpu', gputype: 'mig', pci: '0000:41:00.0', 'mig.gi': '1', 'mig.ci': '0' });
    expect((running as LxdError).detail).toMatch(/Device cannot be added when instance is running/);
    expect(await devicesOf(r)).toEqual({});
    // passthru refuses the running container before the write, with the fix.
    await expect(planAttach(daemon.client, mig, { instance: r, target: '41:00.0', gpu: { gputype: 'mig', migGi: 1, migCi: 0 } })).rejects.toThrow(
      new RegExp(`stop ${r} first \\(${daemon.kind.cli} stop ${r}\\)`),
    );
  });
});
