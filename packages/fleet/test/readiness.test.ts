import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { readIommuGroups, scanPciDevices } from '@passthru/pci-discovery';
import { SimulatedKernel } from '@passthru/sysfs-sim';
import { hostReadiness } from '@passthru/vfio-binder';
import { afterAll, describe, expect, it } from 'vitest';
import { joinDevices, publishedConfig, readinessOf, readPublished, wantedGroups, withPublished } from '../src/index';

const REPO = path.resolve(__dirname, '../../..');
const fixture = (name: string) => new HostFs(path.join(REPO, 'fixtures/hosts', name));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-readiness-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("readinessOf (the adapter over today's APIs)", () => {
  it('a GPU group bound to vfio-pci is VM-ready, counted per kind and id', () => {
    const copy = path.join(tmp, 'bound');
    execFileSync('cp', ['-a', path.join(REPO, 'fixtures/hosts/intel-workstation'), copy]);
    execFileSync(process.execPath, [path.join(REPO, 'apps/cli/dist/passthru.mjs'), '--root', copy, 'bind', '01:00.0', '--yes'], { stdio: 'ignore' });
    const r = readinessOf(new HostFs(copy));
    expect(r.verdict).toBe('ready');
    expect(r.iommu).toBe(true);
    expect(r.vmReady).toEqual(['0000:01:00.0', '0000:01:00.1', '0000:01:00.2', '0000:01:00.3']);
    expect(r.viable).toContainEqual({ kind: 'gpu', vendorId: '10de', deviceId: '2684', groups: 1 });
    expect([...wantedGroups(r).keys()]).toEqual(['passthru-gpu', 'passthru-10de-2684', 'passthru-10de-1ad8']);
  });

  // The one condition publishing adds to hostReadiness's `ready`: no foreign manager holds the
  // function (docs/reference.md, fleet publish). vfio-pci without passthru's journal (vfio-pci.ids,
  // new_id, another manager) is such an owner: the report says ready, the member does not offer it.
  it('a GPU group on vfio-pci that passthru did not bind is ready for the report, not VM-ready for the fleet', () => {
    const copy = path.join(tmp, 'behind');
    execFileSync('cp', ['-a', path.join(REPO, 'fixtures/hosts/intel-workstation'), copy]);
    const host = new HostFs(copy, { kernel: new SimulatedKernel(copy, { logWrites: false }) });
    const functions = ['0000:01:00.0', '0000:01:00.1', '0000:01:00.2', '0000:01:00.3'];
    for (const a of functions) {
      host.writeAttribute(`/sys/bus/pci/devices/${a}/driver_override`, 'vfio-pci');
      host.writeAttribute(`/sys/bus/pci/devices/${a}/driver/unbind`, a);
      host.writeAttribute('/sys/bus/pci/drivers_probe', a);
      host.writeAttribute(`/sys/bus/pci/devices/${a}/driver_override`, '\n');
    }
    const { devices } = scanPciDevices(host);
    const judged = hostReadiness(host, { devices, groups: readIommuGroups(host, devices) }).devices.filter((d) => functions.includes(d.address));
    expect(judged.map((d) => [d.status, d.owner?.kind])).toEqual(functions.map(() => ['ready', 'other']));
    const r = readinessOf(host);
    expect(r.verdict).toBe('ready');
    expect(r.vmReady).toEqual([]);
  });

  it('the same host with the GPU on its host driver has nothing VM-ready', () => {
    const r = readinessOf(fixture('intel-workstation'));
    expect(r.vmReady).toEqual([]);
    expect(wantedGroups(r).size).toBe(0);
  });

  it('IOMMU off: not-ready, the failing host checks named, iommu false', () => {
    const r = readinessOf(fixture('intel-iommu-off'));
    expect(r.verdict).toBe('not-ready');
    expect(r.failing).toContain('iommu.kernel');
    expect(r.iommu).toBe(false);
  });
});

describe('published config (user.passthru.*)', () => {
  const summary = {
    verdict: 'not-ready' as const,
    failing: ['iommu.kernel', 'iommu.cmdline'],
    iommu: false,
    vmReady: ['0000:01:00.0'],
    viable: [{ kind: 'gpu' as const, vendorId: '10de', deviceId: '2684', groups: 2 }],
  };

  it("round-trips through the member config, and replaces only passthru's keys", () => {
    const config = publishedConfig(summary, new Date('2026-01-02T03:04:05Z'), '1.2.3');
    expect(config['user.passthru.viable']).toBe('gpu/10de:2684=2');
    expect(readPublished(config)).toEqual({ ...summary, publishedAt: '2026-01-02T03:04:05.000Z', version: '1.2.3' });
    const merged = withPublished({ 'user.passthru.stale-key': 'x', 'user.other': 'kept', 'scheduler.instance': 'all' }, config);
    expect(merged['user.other']).toBe('kept');
    expect(merged['scheduler.instance']).toBe('all');
    expect(merged['user.passthru.stale-key']).toBeUndefined();
  });

  it('a member that published nothing (or garbage) reads as null', () => {
    expect(readPublished({})).toBeNull();
    expect(readPublished({ 'user.passthru.verdict': 'great', 'user.passthru.published-at': 'now' })).toBeNull();
  });
});

describe('joinDevices (LXD 5.0 resources)', () => {
  const resources = {
    pci: {
      devices: [
        { pci_address: '0000:01:00.0', vendor_id: '10de', product_id: '2684', vendor: '', product: '', driver: 'vfio-pci', numa_node: 0, iommu_group: 0 },
      ],
    },
    gpu: {
      cards: [
        { pci_address: '0000:01:00.0', vendor_id: '10de', product_id: '2684', driver: 'vfio-pci', numa_node: 0 },
        { pci_address: '0000:02:00.0', vendor_id: '1002', product_id: '73bf', driver: 'amdgpu', numa_node: 0 },
      ],
    },
  };
  const published = (iommu: boolean) => ({
    verdict: 'ready' as const,
    failing: [],
    iommu,
    vmReady: ['0000:01:00.0'],
    viable: [],
    publishedAt: '2026-01-01T00:00:00Z',
    version: '',
  });

  it('joins gpu.cards to pci.devices by address; a card alone gets no group', () => {
    expect(joinDevices(resources, published(true))).toEqual([
      { address: '0000:01:00.0', vendorId: '10de', deviceId: '2684', iommuGroup: 0, driver: 'vfio-pci', gpu: true, vmReady: true },
      { address: '0000:02:00.0', vendorId: '1002', deviceId: '73bf', iommuGroup: null, driver: 'amdgpu', gpu: true, vmReady: false },
    ]);
  });

  it('iommu_group 0 means nothing on a member that published "no IOMMU"', () => {
    expect(joinDevices(resources, published(false))[0]!.iommuGroup).toBeNull();
  });

  it('without (fresh) published readiness nothing is VM-ready', () => {
    expect(joinDevices(resources, null).map((d) => d.vmReady)).toEqual([false, false]);
  });
});
