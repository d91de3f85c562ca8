import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { readIommuGroups, scanPciDevices } from '@passthru/pci-discovery';
import { SimulatedKernel } from '@passthru/sysfs-sim';
import { bindDevices, hostReadiness, parseTarget } from '@passthru/vfio-binder';
import { parse as parseYaml } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ExportersError,
  HostReportSchema,
  NFD_MAX_BYTES,
  readHostReport,
  renderKubevirt,
  renderNfdFeatures,
  renderPrometheus,
  renderSriovDp,
  renderYaml,
  type HostReport,
} from '../src/index';
import { parseExposition, parseNfdFeatureFile } from './formats';

const repo = path.resolve(__dirname, '../../..');
const FIXTURES = fs
  .readdirSync(path.join(repo, 'fixtures/hosts'))
  .filter((h) => fs.statSync(path.join(repo, 'fixtures/hosts', h)).isDirectory())
  .sort();
const NOW = new Date('2026-05-04T03:02:01.000Z');
const at = () => NOW;
const fixture = (name: string) => new HostFs(path.join(repo, 'fixtures/hosts', name));

const made: string[] = [];
afterEach(() =>
  made.splice(0).forEach((d) => {
    fs.rmSync(d, { recursive: true, force: true });
  }),
);
function copy(name: string): { root: string; host: HostFs; kernel: SimulatedKernel } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `exporters-${name}-`));
  made.push(root);
  fs.cpSync(path.join(repo, 'fixtures/hosts', name), root, { recursive: true, verbatimSymlinks: true });
  const kernel = new SimulatedKernel(root);
  return { root, host: new HostFs(root, { kernel }), kernel };
}
/** Binds one device to vfio-pci as the kernel would (driver_override, unbind, drivers_probe): no passthru journal. */
function bindBehindPassthrusBack(host: HostFs, address: string): void {
  const dev = `/sys/bus/pci/devices/${address}`;
  host.writeAttribute(`${dev}/driver_override`, 'vfio-pci');
  if (host.exists(`${dev}/driver`)) host.writeAttribute(`${dev}/driver/unbind`, address);
  host.writeAttribute('/sys/bus/pci/drivers_probe', address);
  host.writeAttribute(`${dev}/driver_override`, '\n');
}

describe('readHostReport', () => {
  it.each(FIXTURES)('%s: a report the schema accepts, the scan time given', (name) => {
    const report = readHostReport(fixture(name), {}, at);
    expect(HostReportSchema.parse(report)).toEqual(report);
    expect(report.scannedAt).toBe(NOW.toISOString());
  });

  it('a group bound whole is ready and counted; a device bound alone leaves its group not viable', () => {
    const { host } = copy('intel-workstation');
    for (const a of ['0000:01:00.0', '0000:01:00.1', '0000:01:00.2', '0000:01:00.3']) bindBehindPassthrusBack(host, a);
    const report = readHostReport(host, {}, at);
    expect(report.groups.find((g) => g.id === 12)).toMatchObject({ viable: true, status: 'ready' });
    expect(report.devices.find((d) => d.address === '0000:01:00.0')).toMatchObject({ readiness: 'ready', driver: 'vfio-pci', drift: 'bound-unrecorded' });
    const partial = copy('intel-workstation');
    bindBehindPassthrusBack(partial.host, '0000:01:00.0');
    const r2 = readHostReport(partial.host, {}, at);
    expect(r2.groups.find((g) => g.id === 12)).toMatchObject({ viable: false });
    expect(r2.devices.find((d) => d.address === '0000:01:00.0')?.readiness).toBe('group-not-viable');
  });

  // The readiness published is vfio-binder's hostReadiness, `shared-group` folded into `bindable`.
  it.each(FIXTURES)('%s: each device and group as hostReadiness judges it', (name) => {
    const host = fixture(name);
    const { devices } = scanPciDevices(host);
    const judged = hostReadiness(host, { devices, groups: readIommuGroups(host, devices) });
    const report = readHostReport(host, {}, at);
    expect(report.devices.map((d) => d.readiness)).toEqual(judged.devices.map((d) => (d.status === 'shared-group' ? 'bindable' : d.status)));
    expect(report.groups.map((g) => [g.id, g.status, g.viable])).toEqual(judged.groups.map((g) => [g.id, g.status, g.viable]));
  });

  // An endpoint without a driver, in a group that is VM-ready through another endpoint, is
  // guarded when binding it meets a guard (here the console GPU's boot-vga): `bindable` promises
  // that `passthru bind` would succeed. The exporters used to publish it as bindable.
  it('an unbound console GPU in a ready group is guarded, its group ready', () => {
    const { host } = copy('twin-gpu');
    const state = () => {
      const { devices } = scanPciDevices(host);
      return { devices, groups: readIommuGroups(host, devices) };
    };
    expect(bindDevices(host, state(), { targets: [parseTarget('01:00.0')], force: true }, { verifyTimeoutMs: 0, sleep: () => {} }).status).toBe('applied');
    host.writeAttribute('/sys/bus/pci/drivers/vfio-pci/unbind', '0000:01:00.0'); // passthru's journal still holds it
    const report = readHostReport(host, {}, at);
    expect(report.groups.find((g) => g.endpoints.includes('0000:01:00.0'))).toMatchObject({ status: 'ready', viable: true });
    expect(report.devices.find((d) => d.address === '0000:01:00.0')).toMatchObject({ driver: null, readiness: 'guarded', drift: 'journal-not-bound' });
    expect(report.devices.find((d) => d.address === '0000:01:00.1')).toMatchObject({ readiness: 'ready' });
  });

  // The read model reads the groups on first use: that read's failure is still the exporters' error.
  it('an unreadable /sys/kernel/iommu_groups is an ExportersError that names it', () => {
    const { root, host } = copy('intel-workstation');
    // Group 12's member list replaced by a file: the kernel never does this, so the read fails (ENOTDIR).
    fs.rmSync(path.join(root, 'sys/kernel/iommu_groups/12/devices'), { recursive: true });
    fs.writeFileSync(path.join(root, 'sys/kernel/iommu_groups/12/devices'), 'not a folder\n');
    expect(() => readHostReport(host, {}, at)).toThrow(ExportersError);
    expect(() => readHostReport(host, {}, at)).toThrow(/Failed reading IOMMU groups via .*\/sys\/kernel\/iommu_groups/);
  });

  it('pcie_acs_override on the command line is seen; interrupt remapping comes from /proc/interrupts', () => {
    const { root, host } = copy('amd-shared-group');
    expect(readHostReport(host, {}, at).facts.acsOverride).toBe(false);
    fs.writeFileSync(
      path.join(root, 'proc/cmdline'),
      `${fs.readFileSync(path.join(root, 'proc/cmdline'), 'utf8').trim()} pcie_acs_override=downstream,multifunction\n`,
    );
    const report = readHostReport(host, {}, at);
    expect(report.facts.acsOverride).toBe(true);
    expect(report.facts.interruptRemapping).toBe(true);
    fs.writeFileSync(path.join(root, 'proc/interrupts'), '           CPU0\n  0:         10   IO-APIC   2-edge      timer\n');
    expect(readHostReport(host, {}, at).facts.interruptRemapping).toBe(false);
  });
});

describe('renderNfdFeatures', () => {
  it.each(FIXTURES)('%s: NFD reads every label (documented format, 64 kB, expiry after the scan)', (name) => {
    const report = readHostReport(fixture(name), {}, at);
    const text = renderNfdFeatures(report, { ttlSeconds: 120 });
    const { labels, all } = parseNfdFeatureFile(text, NOW);
    expect(all.length).toBe(labels.size);
    expect(all.every((l) => l.expiry?.getTime() === NOW.getTime() + 120_000)).toBe(true);
    // Past the expiry NFD drops them all.
    expect(parseNfdFeatureFile(text, new Date(NOW.getTime() + 121_000)).labels.size).toBe(0);
    expect([...labels.keys()].every((k) => k.startsWith('passthru.io/'))).toBe(true);
    expect(labels.get('passthru.io/iommu.enabled')).toBe(String(report.facts.iommuEnabled));
    expect(labels.get('passthru.io/vfio.ready')).toBe(String(report.facts.vfioReady));
    expect(labels.get('passthru.io/verdict')).toBe(report.verdict);
    expect(labels.get('passthru.io/ready')).toBe(String(report.verdict === 'ready' || report.verdict === 'ready-with-warnings'));
    expect(labels.get('passthru.io/vm-ready-groups')).toBe(String(report.groups.filter((g) => g.vmReady).length));
  });

  // VM-ready is the read model's: a `ready` group that another manager holds (vfio-pci without
  // passthru's journal) is ready, but a VM placed here would compete with that manager.
  it('a ready group another manager holds is not VM-ready; the same group bound by passthru is', () => {
    const behind = copy('intel-workstation');
    for (const a of ['0000:01:00.0', '0000:01:00.1', '0000:01:00.2', '0000:01:00.3']) bindBehindPassthrusBack(behind.host, a);
    const held = readHostReport(behind.host, {}, at);
    expect(held.groups.find((g) => g.id === 12)).toMatchObject({ status: 'ready', vmReady: false });
    expect(parseNfdFeatureFile(renderNfdFeatures(held), NOW).labels.get('passthru.io/vm-ready-groups')).toBe('0');
    expect(parseExposition(renderPrometheus(held)).samples.find((s) => s.name === 'passthru_vm_ready_groups')?.value).toBe(0);
  });

  it('counts a VM-ready group once, under the class and vendor-device of its primary function', () => {
    const { host } = copy('intel-workstation');
    const { devices } = scanPciDevices(host);
    const state = { devices, groups: readIommuGroups(host, devices) };
    expect(bindDevices(host, state, { targets: [parseTarget('group:12')] }, { verifyTimeoutMs: 0, sleep: () => {} }).status).toBe('applied');
    const { labels } = parseNfdFeatureFile(renderNfdFeatures(readHostReport(host, {}, at)), NOW);
    expect(labels.get('passthru.io/vm-ready-groups')).toBe('1');
    expect(labels.get('passthru.io/vm-ready-groups.gpu')).toBe('1');
    expect(labels.get('passthru.io/vm-ready-groups.10de-2684')).toBe('1');
    expect(labels.has('passthru.io/vm-ready-groups.usb')).toBe(false);
    expect(labels.has('passthru.io/vm-ready-groups.10de-22ba')).toBe(false);
  });

  it("refuses to render past NFD's 64 kB limit (nfd-worker would ignore the whole file)", () => {
    const base = readHostReport(fixture('intel-workstation'), {}, at);
    const devices = Array.from({ length: 3000 }, (_, i) => ({
      ...base.devices.find((d) => d.address === '0000:01:00.0')!,
      address: `0001:${(i >> 5).toString(16).padStart(2, '0')}:${(i & 31).toString(16).padStart(2, '0')}.0`,
      deviceId: i.toString(16).padStart(4, '0'),
      iommuGroup: 100 + i,
      driver: 'vfio-pci',
      readiness: 'ready' as const,
    }));
    const big: HostReport = {
      ...base,
      devices,
      groups: devices.map((d) => ({
        id: d.iommuGroup,
        devices: [d.address],
        endpoints: [d.address],
        bridges: [],
        viable: true,
        platformFunctions: [],
        status: 'ready' as const,
        vmReady: true,
      })),
    };
    expect(() => renderNfdFeatures(big)).toThrow(ExportersError);
    expect(() => renderNfdFeatures(big)).toThrow(new RegExp(`over NFD's limit of ${NFD_MAX_BYTES}`));
  });
});

describe('renderPrometheus', () => {
  it.each(FIXTURES)('%s: one HELP and TYPE per family, the contract metrics, one device_info per function', (name) => {
    const report = readHostReport(fixture(name), {}, at);
    const { samples, help, type } = parseExposition(renderPrometheus(report));
    for (const n of new Set(samples.map((s) => s.name))) {
      expect(help.has(n), n).toBe(true);
      expect(type.get(n), n).toBe('gauge');
    }
    const one = (n: string) => samples.filter((s) => s.name === n);
    expect(one('passthru_ready')).toEqual([
      { name: 'passthru_ready', labels: {}, value: report.verdict === 'ready' || report.verdict === 'ready-with-warnings' ? 1 : 0 },
    ]);
    const statuses = one('passthru_check_status').filter((s) => s.value === 1);
    expect(statuses.map((s) => [s.labels.check, s.labels.status])).toEqual(report.checks.map((c) => [c.id, c.status]));
    const info = one('passthru_device_info');
    expect(info.map((s) => s.labels.address)).toEqual(report.devices.map((d) => d.address));
    for (const d of report.devices) {
      expect(info.find((s) => s.labels.address === d.address)!.labels).toMatchObject({
        vendor_id: d.vendorId,
        device_id: d.deviceId,
        driver: d.driver ?? '',
        iommu_group: d.iommuGroup === null ? '' : String(d.iommuGroup),
      });
    }
    expect(one('passthru_scan_timestamp_seconds')[0]!.value).toBe(NOW.getTime() / 1000);
  });

  it('escapes backslash, double quote and line feed in label values', () => {
    const report = readHostReport(fixture('intel-workstation'), {}, at);
    const odd = 'a"b\\c\nd';
    const { samples } = parseExposition(renderPrometheus({ ...report, devices: report.devices.map((d, i) => (i === 0 ? { ...d, driver: odd } : d)) }));
    expect(samples.find((s) => s.name === 'passthru_device_info')!.labels.driver).toBe(odd);
  });
});

describe('renderKubevirt and renderSriovDp', () => {
  it("sriov-server: each PF's VFs are one SR-IOV resource selected by pfNames; KubeVirt gets each vendor:device once", () => {
    const report = readHostReport(fixture('sriov-server'), {}, at);
    const byAddress = new Map(report.devices.map((d) => [d.address, d]));
    const { resourceList } = renderSriovDp(report);
    const vfResources = resourceList.filter((r) => r.resourceName.startsWith('sriov_'));
    expect(vfResources.length).toBeGreaterThan(0);
    for (const r of vfResources) {
      expect(r.selectors.drivers).toEqual(['vfio-pci']);
      const pf = report.devices.find((d) => d.net.includes(r.selectors.pfNames![0]!));
      expect(pf?.sriov?.role).toBe('pf');
      const vfs = report.devices.filter(
        (d) => d.sriov?.role === 'vf' && d.sriov.physfn === pf!.address && (d.readiness === 'ready' || d.readiness === 'bindable'),
      );
      expect(vfs.length).toBeGreaterThan(0);
      expect(vfs.some((v) => r.selectors.vendors.includes(v.vendorId) && r.selectors.devices.includes(v.deviceId))).toBe(true);
    }
    const kv = renderKubevirt(report).permittedHostDevices.pciHostDevices;
    expect(new Set(kv.map((d) => d.pciVendorSelector)).size).toBe(kv.length);
    for (const d of kv) {
      const [v, id] = d.pciVendorSelector.toLowerCase().split(':');
      expect(report.devices.some((x) => x.vendorId === v && x.deviceId === id && ['ready', 'bindable'].includes(x.readiness))).toBe(true);
      expect(d.resourceName).toBe(`passthru.io/pci_${v}_${id}`);
    }
    // Nothing of a group with a platform function, no bridge, nothing without a group.
    const never = report.devices
      .filter((d) => ['not-passable', 'bridge', 'no-group'].includes(d.readiness))
      .map((d) => `${d.vendorId}:${d.deviceId}`.toUpperCase());
    const offered = new Set(report.devices.filter((d) => ['ready', 'bindable'].includes(d.readiness)).map((d) => `${d.vendorId}:${d.deviceId}`.toUpperCase()));
    for (const id of never.filter((x) => !offered.has(x))) expect(kv.map((d) => d.pciVendorSelector)).not.toContain(id);
    expect(byAddress.size).toBe(report.devices.length);
  });

  it('--bound-only offers only devices on vfio-pci in a viable group', () => {
    const { host } = copy('intel-workstation');
    expect(renderKubevirt(readHostReport(host, {}, at), { boundOnly: true }).permittedHostDevices.pciHostDevices).toEqual([]);
    for (const a of ['0000:01:00.0', '0000:01:00.1', '0000:01:00.2', '0000:01:00.3']) bindBehindPassthrusBack(host, a);
    const kv = renderKubevirt(readHostReport(host, {}, at), { boundOnly: true, resourcePrefix: 'example.org' }).permittedHostDevices.pciHostDevices;
    expect(kv.map((d) => d.pciVendorSelector)).toEqual(['10DE:1AD8', '10DE:1AD9', '10DE:22BA', '10DE:2684']);
    expect(kv[3]).toEqual({ pciVendorSelector: '10DE:2684', resourceName: 'example.org/pci_10de_2684', externalResourceProvider: false });
  });

  it('renderYaml: a YAML parser reads back the same document (strings stay strings)', () => {
    const doc = {
      a: {
        list: [
          { x: '10DE:1EB8', y: false, z: 'true' },
          { x: '0x10', y: true, n: 3 },
        ],
        empty: [],
        none: null,
        obj: {},
      },
      s: 'q"uote\\',
    };
    expect(parseYaml(renderYaml(doc))).toEqual(doc);
    const kv = renderKubevirt(readHostReport(fixture('sriov-server'), {}, at));
    expect(parseYaml(renderYaml(kv))).toEqual(kv);
  });
});
