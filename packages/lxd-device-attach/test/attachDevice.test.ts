import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import type { PciDevice } from '@passthru/pci-discovery';
import { afterEach, describe, expect, it } from 'vitest';
import { LxdClient } from '../src/LxdClient';
import type { LxdError } from '../src/LxdError';
import { applyAttach, planAttach, planDetach } from '../src/attachDevice';
import { hostInventory, type DeviceInventory } from '../src/deviceInventory';
import type { Instance } from '../src/schemas';
import { lxcConfigLines } from '../src/lxcConfig';
import { chooseDevice, resolveTarget } from '../src/resolveTarget';
import { error, instance, startFakeLxd, sync, type FakeRequest } from './fakeLxd';

const fixtures = path.resolve(__dirname, '../../../fixtures/hosts');
const workstation = new HostFs(path.join(fixtures, 'intel-workstation'));
const sriov = new HostFs(path.join(fixtures, 'sriov-server'));

describe('resolveTarget and chooseDevice', () => {
  it('a GPU: gpu pci= for a container and a VM; pci only for a VM', () => {
    const t = resolveTarget(workstation, '01:00.0');
    expect(t).toMatchObject({ kind: 'pci', address: '0000:01:00.0' });
    expect(chooseDevice(t, 'container')).toMatchObject({ device: { type: 'gpu', pci: '0000:01:00.0' }, name: 'gpu-0000-01-00-0' });
    expect(chooseDevice(t, 'virtual-machine', 'pci').device).toEqual({ type: 'pci', address: '0000:01:00.0' });
    expect(() => chooseDevice(t, 'container', 'pci')).toThrow(/pci devices are for virtual machines/);
    expect(resolveTarget(workstation, '10de:2684')).toMatchObject({ address: '0000:01:00.0' });
  });

  it('a NIC by interface -> nic physical; an SR-IOV PF with VFs -> nictype=sriov; a VF -> physical', () => {
    expect(chooseDevice(resolveTarget(workstation, 'eno1'), 'container').device).toEqual({ type: 'nic', nictype: 'physical', parent: 'eno1' });
    expect(chooseDevice(resolveTarget(workstation, '00:1f.6'), 'container').device).toEqual({ type: 'nic', nictype: 'physical', parent: 'eno1' });
    expect(chooseDevice(resolveTarget(sriov, 'ens1f0'), 'container').device).toEqual({ type: 'nic', nictype: 'sriov', parent: 'ens1f0' });
    const vf = chooseDevice(resolveTarget(sriov, 'ens1f0v1'), 'virtual-machine');
    expect(vf.device).toEqual({ type: 'nic', nictype: 'physical', parent: 'ens1f0v1' });
    expect(vf.reason).toContain('this VF exactly');
  });

  it('other devices are pci for VMs only; usb by vendor:product; bad targets are refused', () => {
    expect(chooseDevice(resolveTarget(workstation, '00:17.0'), 'virtual-machine').device).toEqual({ type: 'pci', address: '0000:00:17.0' });
    expect(() => chooseDevice(resolveTarget(workstation, '00:17.0'), 'container')).toThrow(/a container cannot take a raw pci device/);
    expect(chooseDevice(resolveTarget(workstation, '046d:c52b', 'usb', { hostCheck: false }), 'container').device).toEqual({
      type: 'usb',
      vendorid: '046d',
      productid: 'c52b',
    });
    expect(() => resolveTarget(workstation, '0000:ff:1f.7')).toThrow(/no PCI device 0000:ff:1f.7 on this host/);
    expect(() => resolveTarget(workstation, 'group:12')).toThrow(/one device/);
    expect(() => resolveTarget(workstation, 'no such thing!')).toThrow(/expected a PCI address/);
    expect(resolveTarget(workstation, '0000:ff:1f.7', 'auto', { hostCheck: false })).toEqual({ kind: 'pci', address: '0000:ff:1f.7', device: null });
  });

  it('--lxc-config: cgroup2 allow + mount entries for DRM nodes, phys for a NIC, with risk notes', () => {
    const gpu = lxcConfigLines(workstation, resolveTarget(workstation, '01:00.0'), 'c1');
    expect(gpu.lines).toContain('lxc.cgroup2.devices.allow = c 226:1 rwm');
    expect(gpu.lines).toContain('lxc.mount.entry = /dev/dri/card1 dev/dri/card1 none bind,optional,create=file');
    expect(gpu.lines.some((l) => l.startsWith('# risk: '))).toBe(true);
    expect(lxcConfigLines(workstation, resolveTarget(workstation, 'eno1')).lines).toContain('lxc.net.1.link = eno1');
  });
});

describe('planAttach / applyAttach against a fake LXD', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => close?.());

  /** A tiny stateful LXD: one or more instances, ETags that change on every write. */
  async function lxd(instances: Record<string, ReturnType<typeof instance>>, onPut?: (r: FakeRequest, name: string) => ReturnType<typeof error> | undefined) {
    let version = 1;
    const server = await startFakeLxd((r) => {
      const m = /^\/1\.0\/instances\/([^?]+)/.exec(r.url);
      if (r.url.startsWith('/1.0/projects/'))
        return r.url.startsWith('/1.0/projects/default') ? sync({ name: 'default', config: {} }) : error(404, 'Project not found');
      if (r.url.startsWith('/1.0/instances?')) return sync(Object.values(instances));
      if (!m) return undefined;
      const inst = instances[m[1]!];
      if (!inst) return error(404, 'Instance not found');
      if (r.method === 'GET') return sync(inst, { ETag: `"v${version}"` });
      if (r.method === 'PUT') {
        if (r.headers['if-match'] !== `"v${version}"`) return error(412, `ETag doesn't match: v${version} vs ${r.headers['if-match']}`);
        const refused = onPut?.(r, m[1]!);
        if (refused) return refused;
        const body = r.body as { devices: Record<string, Record<string, string>>; config: Record<string, string> };
        inst.devices = body.devices;
        inst.expanded_devices = { root: { type: 'disk', path: '/', pool: 'default' }, ...body.devices };
        version++;
        return sync({});
      }
      return undefined;
    });
    close = server.close;
    return { server, client: new LxdClient({ kind: 'unix', socketPath: server.socketPath }) };
  }

  it('adds the device with If-Match and verifies it', async () => {
    const c1 = instance('c1');
    const { server, client } = await lxd({ c1 });
    const plan = await planAttach(client, workstation, { instance: 'c1', target: '01:00.0' });
    const result = await applyAttach(client, undefined, plan);
    expect(result.applied).toEqual({ type: 'gpu', pci: '0000:01:00.0' });
    const put = server.requests.find((r) => r.method === 'PUT')!;
    expect(put.headers['if-match']).toBe('"v1"');
    expect((put.body as { config: object }).config).toEqual({ 'volatile.uuid': 'u' });
  });

  it('refuses a device another instance holds, a name in use, and a VM group that is not viable (with the bind plan)', async () => {
    const vm = instance('vm1', { type: 'virtual-machine' });
    const c2 = instance('c2', { expanded_devices: { g: { type: 'gpu', pci: '0000:01:00.0' } } });
    const { client } = await lxd({ vm1: vm, c2 });
    await expect(planAttach(client, workstation, { instance: 'vm1', target: '01:00.0', type: 'pci' })).rejects.toThrow(
      /IOMMU group 12 is not viable[\s\S]*0000:01:00.1: snd_hda_intel -> vfio-pci[\s\S]*passthru bind group:12/,
    );
    await expect(planAttach(client, workstation, { instance: 'vm1', target: '00:1f.6', type: 'pci' })).resolves.toMatchObject({ iommu: { viable: true } });
    await expect(planAttach(client, workstation, { instance: 'c2', target: '00:02.0', name: 'g' })).rejects.toMatchObject({ reason: 'conflict' });
    const vm2 = await lxd({
      vm1: instance('vm1', { type: 'virtual-machine' }),
      c2: instance('c2', { expanded_devices: { g: { type: 'pci', address: '0000:00:17.0' } } }),
    });
    await expect(planAttach(vm2.client, workstation, { instance: 'vm1', target: '00:17.0' })).rejects.toThrow(/already given to default\/c2 \(device g\)/);
  });

  it('refuses a VM device whose group holds a platform function, naming it; the discrete GPU of the same host passes preflight', async () => {
    const pch = new HostFs(path.join(fixtures, 'intel-pch-desktop'));
    const vm = instance('vm1', { type: 'virtual-machine' });
    const { server, client } = await lxd({ vm1: vm });
    const e = (await planAttach(client, pch, { instance: 'vm1', target: '00:1f.3', type: 'pci' }).catch((x: unknown) => x)) as LxdError;
    expect(e).toMatchObject({ reason: 'preflight' });
    expect(e.message).toMatch(
      /IOMMU group 10 is not passable: holds platform function 0000:00:1f\.0 \(ISA bridge\), 0000:00:1f\.4 \(SMBus controller\), 0000:00:1f\.5 \(SPI flash controller\)/,
    );
    expect(e.message).toMatch(/a slot whose root port has ACS/);
    await expect(planAttach(client, pch, { instance: 'vm1', target: '00:00.0', type: 'pci' })).rejects.toThrow(
      /holds platform function 0000:00:00\.0 \(host bridge\)/,
    );
    // The GPU's group is only the card: the preflight asks for its bind plan, not a refusal of principle.
    await expect(planAttach(client, pch, { instance: 'vm1', target: '01:00.0', type: 'pci' })).rejects.toThrow(
      /IOMMU group 12 is not viable[\s\S]*passthru bind group:12/,
    );
    expect(server.requests.filter((r) => r.method === 'PUT')).toEqual([]);
  });

  it("in a cluster an address is one member's device: only instances on the same member hold it", async () => {
    const c1 = instance('c1', { location: 'm1' });
    const held = (location: string) => instance('c2', { location, expanded_devices: { g: { type: 'gpu', pci: '0000:01:00.0' } } });
    const elsewhere = await lxd({ c1, c2: held('m2') });
    await expect(planAttach(elsewhere.client, workstation, { instance: 'c1', target: '00:02.0' })).resolves.toMatchObject({ checkedOn: 'this host' });
    const gpu = await planAttach(elsewhere.client, workstation, { instance: 'c1', target: '01:00.0' });
    expect(gpu.device).toEqual({ type: 'gpu', pci: '0000:01:00.0' });
    const same = await lxd({ c1: instance('c1', { location: 'm1' }), c2: held('m1') });
    await expect(planAttach(same.client, workstation, { instance: 'c1', target: '01:00.0' })).rejects.toThrow(/already given to default\/c2 \(device g\)/);
  });

  it('with an inventory for the instance (another cluster member), TARGET is looked up and judged there, after the instance is read', async () => {
    const vm = instance('vm1', { type: 'virtual-machine', location: 'm2' });
    const { server, client } = await lxd({ vm1: vm });
    const gpu = { ...resolveTarget(workstation, '01:00.0').device!, address: '0000:06:00.0', iommuGroup: 14, driver: 'vfio-pci' } as PciDevice;
    const seen: string[] = [];
    const member = (viable: boolean): DeviceInventory => ({
      ...hostInventory(workstation),
      where: 'cluster member m2',
      note: 'checked against cluster member m2',
      pciAt: (a) => (a === gpu.address ? gpu : null),
      pciDevices: () => [gpu],
      absent: () => 'its resources list no such function',
      iommu: (d) => ({
        group: d.iommuGroup,
        viable,
        toBind: [],
        platformFunctions: [],
        plan: [viable ? 'group 14 is VM-ready on m2' : 'not VM-ready on m2: publish'],
      }),
      numaWarnings: () => [],
    });
    const inventoryFor = (viable: boolean) => async (i: Instance) => {
      seen.push(i.location ?? '');
      return member(viable);
    };
    const plan = await planAttach(client, workstation, { instance: 'vm1', target: '06:00.0' }, { inventoryFor: inventoryFor(true) });
    expect(plan).toMatchObject({ checkedOn: 'cluster member m2', device: { type: 'gpu', pci: '0000:06:00.0' }, iommu: { viable: true } });
    expect(plan.notes).toEqual(expect.arrayContaining(['checked against cluster member m2', 'group 14 is VM-ready on m2']));
    expect(seen).toEqual(['m2']);
    // 01:00.0 exists on this host, not on m2: refused as absent there.
    await expect(planAttach(client, workstation, { instance: 'vm1', target: '01:00.0' }, { inventoryFor: inventoryFor(true) })).rejects.toMatchObject({
      reason: 'not-found',
      message: expect.stringContaining('no PCI device 0000:01:00.0 on cluster member m2 (its resources list no such function)'),
    });
    await expect(planAttach(client, workstation, { instance: 'vm1', target: '06:00.0' }, { inventoryFor: inventoryFor(false) })).rejects.toMatchObject({
      reason: 'preflight',
      message: expect.stringContaining('not VM-ready on m2: publish'),
    });
    // Bad syntax is still said before LXD is asked; an instance on this host (null) is checked here.
    const before = server.requests.length;
    await expect(planAttach(client, workstation, { instance: 'vm1', target: 'group:12' }, { inventoryFor: inventoryFor(true) })).rejects.toMatchObject({
      kind: 'bad-input',
    });
    expect(server.requests.length).toBe(before);
    await expect(
      planAttach(client, workstation, { instance: 'vm1', target: '00:1f.6', type: 'pci' }, { inventoryFor: async () => null }),
    ).resolves.toMatchObject({
      checkedOn: 'this host',
      iommu: { viable: true },
    });
    expect(server.requests.filter((r) => r.method === 'PUT')).toEqual([]);
  });

  it('a conflict (412) writes nothing; an LXD failure leaves nothing; a failed verify is rolled back', async () => {
    const c1 = instance('c1');
    const { client } = await lxd({ c1 }, (r) =>
      (r.body as { devices: object }).devices && Object.keys((r.body as { devices: object }).devices).includes('bad')
        ? error(400, 'Failed to start device "bad": nope')
        : undefined,
    );
    const plan = await planAttach(client, workstation, { instance: 'c1', target: '01:00.0' });
    await expect(
      applyAttach(client, undefined, plan, { afterRead: async () => void (await applyAttach(client, undefined, { ...plan, deviceName: 'other' })) }),
    ).rejects.toMatchObject({ reason: 'conflict', status: 412 });
    expect(Object.keys(c1.devices)).toEqual(['other']);
    await expect(applyAttach(client, undefined, { ...plan, deviceName: 'bad' })).rejects.toMatchObject({
      kind: 'bad-input',
      detail: 'Failed to start device "bad": nope',
    });
    expect(Object.keys(c1.devices)).toEqual(['other']);
    // LXD stores something else than asked: passthru removes what it added and reports `verify`.
    const mangled = await lxd({ c1: instance('c1') }, (r) => {
      const { devices } = r.body as { devices: Record<string, Record<string, string>> };
      if (devices['gpu-0000-01-00-0']) devices['gpu-0000-01-00-0'] = { type: 'gpu', pci: '0000:09:00.0' };
    });
    const e = (await applyAttach(mangled.client, undefined, plan).catch((x: unknown) => x)) as LxdError;
    expect(e).toMatchObject({ reason: 'verify' });
    expect((await mangled.client.getInstance('c1')).instance.devices).toEqual({});
  });

  it('detach refuses a device that comes from a profile, and an unknown one', async () => {
    const { client } = await lxd({ c1: instance('c1') });
    await expect(planDetach(client, { instance: 'c1', device: 'root' })).rejects.toMatchObject({
      reason: 'preflight',
      message: expect.stringContaining('comes from a profile'),
    });
    await expect(planDetach(client, { instance: 'c1', device: 'x' })).rejects.toMatchObject({ reason: 'not-found' });
    await expect(planDetach(client, { instance: 'c1', device: 'x', project: 'nope' })).rejects.toMatchObject({
      reason: 'not-found',
      message: expect.stringContaining('unknown project'),
    });
  });
});
