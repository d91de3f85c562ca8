// passthru export: for every fixture host, what it publishes (NFD labels, metrics, KubeVirt and
// SR-IOV device plugin snippets) agrees with `doctor` and `groups`; exit codes of the contract.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseExposition, parseNfdFeatureFile } from '../../../packages/exporters/test/formats';
import { cleanFixtures, cli, fixtureCopy, repo } from './runCli';

afterEach(cleanFixtures);
const FIXTURES = fs
  .readdirSync(path.join(repo, 'fixtures/hosts'))
  .filter((h) => fs.statSync(path.join(repo, 'fixtures/hosts', h)).isDirectory())
  .sort();
const host = (name: string) => path.join(repo, 'fixtures/hosts', name);
const VIABLE = new Set(['vfio-pci', 'pci-stub']);

interface Group {
  id: number;
  endpoints: string[];
  platformFunctions: unknown[];
}
interface Device {
  address: string;
  vendorId: string;
  deviceId: string;
  driver: string | null;
  iommuGroup: number | null;
  isBridge: boolean;
  owner: { kind: string } | null;
}
/** Owners that are passthru itself: any other (libvirt, driverctl, vfio-pci without a journal record) competes with a VM placed here. */
const OURS = new Set(['passthru', 'adopted']);

async function json(...argv: string[]) {
  const r = await cli(...argv);
  return JSON.parse(r.stdout);
}

describe('passthru export agrees with doctor and groups', () => {
  it.each(FIXTURES)('%s', async (name) => {
    const root = host(name);
    const doctor = await json('--root', root, 'doctor', '--format', 'json');
    const { groups } = (await json('--root', root, 'groups', '--format', 'json')) as { groups: Group[] };
    const { devices } = (await json('--root', root, 'list', '--format', 'json')) as { devices: Device[] };
    const byAddress = new Map(devices.map((d) => [d.address, d]));
    const status = (id: string) => doctor.checks.find((c: { id: string }) => c.id === id)?.status;
    const readyVerdict = doctor.verdict === 'ready' || doctor.verdict === 'ready-with-warnings';
    // A group is VM-ready when the verdict is usable, it holds no platform function, every
    // endpoint is on vfio-pci, pci-stub or none, at least one is on vfio-pci, and no endpoint is
    // held by a manager other than passthru.
    const vmReady = groups.filter(
      (g) =>
        readyVerdict &&
        g.platformFunctions.length === 0 &&
        g.endpoints.every((a) => byAddress.get(a)!.owner === null || OURS.has(byAddress.get(a)!.owner!.kind)) &&
        g.endpoints.length > 0 &&
        g.endpoints.every((a) => !byAddress.get(a)!.driver || VIABLE.has(byAddress.get(a)!.driver!)) &&
        g.endpoints.some((a) => byAddress.get(a)!.driver === 'vfio-pci'),
    );

    const nfd = await cli('--root', root, 'export', 'nfd', '-');
    expect(nfd.code, nfd.stderr).toBe(0);
    const { labels } = parseNfdFeatureFile(nfd.stdout, new Date());
    expect(labels.get('passthru.io/verdict')).toBe(doctor.verdict);
    expect(labels.get('passthru.io/ready')).toBe(String(readyVerdict));
    expect(labels.get('passthru.io/iommu.enabled')).toBe(String(status('iommu.kernel') === 'PASS'));
    expect(labels.get('passthru.io/vfio.ready')).toBe(String(status('iommu.kernel') === 'PASS' && status('vfio.modules') === 'PASS'));
    expect(labels.get('passthru.io/vm-ready-groups')).toBe(String(vmReady.length));

    const prom = await cli('--root', root, 'export', 'prometheus', '-');
    expect(prom.code, prom.stderr).toBe(0);
    const { samples } = parseExposition(prom.stdout);
    const of = (n: string) => samples.filter((s) => s.name === n);
    expect(of('passthru_ready')[0]!.value).toBe(readyVerdict ? 1 : 0);
    expect(
      of('passthru_verdict')
        .filter((s) => s.value === 1)
        .map((s) => s.labels.verdict),
    ).toEqual([doctor.verdict]);
    expect(
      of('passthru_check_status')
        .filter((s) => s.value === 1)
        .map((s) => `${s.labels.check}=${s.labels.status}`),
    ).toEqual(doctor.checks.map((c: { id: string; status: string }) => `${c.id}=${c.status}`));
    expect(of('passthru_device_info').map((s) => [s.labels.address, s.labels.vendor_id, s.labels.device_id, s.labels.driver, s.labels.iommu_group])).toEqual(
      devices.map((d) => [d.address, d.vendorId, d.deviceId, d.driver ?? '', d.iommuGroup === null ? '' : String(d.iommuGroup)]),
    );
    expect(of('passthru_group_viable').map((s) => Number(s.labels.iommu_group))).toEqual(groups.map((g) => g.id));
    expect(
      of('passthru_group_status')
        .filter((s) => s.labels.status === 'not-passable' && s.value === 1)
        .map((s) => Number(s.labels.iommu_group)),
    ).toEqual(groups.filter((g) => g.platformFunctions.length > 0 && g.endpoints.length > 0).map((g) => g.id));
    expect(of('passthru_vm_ready_groups')[0]!.value).toBe(vmReady.length);

    // KubeVirt and SR-IOV: never a bridge, a device without a group, or one of a group with a platform function.
    const forbidden = new Set(
      devices
        .filter((d) => d.isBridge || d.iommuGroup === null || groups.find((g) => g.id === d.iommuGroup)!.platformFunctions.length > 0)
        .map((d) => d.address),
    );
    const allowedIds = new Set(devices.filter((d) => !forbidden.has(d.address)).map((d) => `${d.vendorId}:${d.deviceId}`.toUpperCase()));
    const kv = await cli('--root', root, 'export', 'kubevirt');
    expect(kv.code, kv.stderr).toBe(0);
    const kvDoc = parseYaml(kv.stdout);
    expect(JSON.parse((await cli('--root', root, '--format', 'json', 'export', 'kubevirt')).stdout)).toEqual(kvDoc);
    for (const d of kvDoc.permittedHostDevices.pciHostDevices) expect(allowedIds, d.pciVendorSelector).toContain(d.pciVendorSelector);
    const dp = JSON.parse((await cli('--root', root, 'export', 'sriov-dp')).stdout);
    for (const r of dp.resourceList) for (const a of r.selectors.pciAddresses ?? []) expect(forbidden.has(a), a).toBe(false);
    if (status('iommu.kernel') !== 'PASS') {
      expect(kvDoc.permittedHostDevices.pciHostDevices).toEqual([]);
      expect(dp.resourceList).toEqual([]);
    }
  });
});

describe('passthru export: files and exit codes', () => {
  it('nfd DIR gets one file "passthru", prometheus FILE is written; both atomically, nothing else left', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-export-'));
    try {
      expect((await cli('--root', host('intel-workstation'), 'export', 'nfd', out, '--ttl', '60')).code).toBe(0);
      expect((await cli('--root', host('intel-workstation'), 'export', 'prometheus', path.join(out, 'passthru.prom'))).code).toBe(0);
      expect(fs.readdirSync(out).sort()).toEqual(['passthru', 'passthru.prom']);
      const text = fs.readFileSync(path.join(out, 'passthru'), 'utf8');
      const expiry = /# \+expiry-time=(.*)/.exec(text)![1]!;
      const scanned = /scanned (\S+)/.exec(text)![1]!;
      expect(Date.parse(expiry) - Math.floor(Date.parse(scanned) / 1000) * 1000).toBe(60_000);
      expect(fs.readFileSync(path.join(out, 'passthru.prom'), 'utf8')).toMatch(/^passthru_ready 1$/m);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it('after passthru bind, the bound group is VM-ready in every export', async () => {
    const root = fixtureCopy('intel-workstation');
    expect((await cli('--root', root, 'bind', '01:00.0')).code).toBe(0);
    const { labels } = parseNfdFeatureFile((await cli('--root', root, 'export', 'nfd', '-')).stdout, new Date());
    expect(labels.get('passthru.io/vm-ready-groups.gpu')).toBe('1');
    expect(labels.get('passthru.io/vm-ready-groups.10de-2684')).toBe('1');
    const kv = parseYaml((await cli('--root', root, 'export', 'kubevirt', '--bound-only')).stdout);
    expect(kv.permittedHostDevices.pciHostDevices.map((d: { pciVendorSelector: string }) => d.pciVendorSelector)).toEqual([
      '10DE:1AD8',
      '10DE:1AD9',
      '10DE:22BA',
      '10DE:2684',
    ]);
  });

  it('bad input is exit 2 and writes nothing', async () => {
    const root = host('intel-workstation');
    const missing = path.join(os.tmpdir(), `cli-export-missing-${process.pid}`);
    for (const argv of [
      ['export', 'nfd', missing],
      ['export', 'prometheus', path.join(missing, 'x.prom')],
      ['export', 'nfd', '-', '--ttl', '0'],
      ['export', 'nfd', '-', '--ttl', 'soon'],
      // Past JavaScript's last date: was exit 1 "Invalid time value" (issue 22, item 10).
      ['export', 'nfd', '-', '--ttl', '9000000000000'],
      ['export', 'nfd', '-', '--ttl', '315360001'],
      ['--format', 'json', 'export', 'prometheus', '-'],
      ['export', 'kubevirt', '--resource-prefix', 'Not A Prefix'],
      ['export', 'carrier-pigeon'],
    ]) {
      const r = await cli('--root', root, ...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stdout, argv.join(' ')).toBe('');
    }
    expect(fs.existsSync(missing)).toBe(false);
  });

  it('a not-ready host still exports (exit 0): the verdict is in the data', async () => {
    const r = await cli('--root', host('laptop-no-iommu'), 'export', 'prometheus', '-');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^passthru_ready 0$/m);
  });
});

describe('tools/image/daemonset.yaml', () => {
  it('runs export nfd and export prometheus with --root /host in a loop, into the folders it mounts from the node', () => {
    const ds = parseYaml(fs.readFileSync(path.join(repo, 'tools/image/daemonset.yaml'), 'utf8'));
    const pod = ds.spec.template.spec;
    const c = pod.containers[0];
    const script: string = c.args.join('\n');
    expect(script).toMatch(/while :; do/);
    const mounts = new Map<string, string>(c.volumeMounts.map((m: { name: string; mountPath: string }) => [m.mountPath, m.name]));
    const hostPaths = new Map<string, string>(pod.volumes.map((v: { name: string; hostPath: { path: string } }) => [v.name, v.hostPath.path]));
    expect(hostPaths.get(mounts.get('/host')!)).toBe('/');
    const nfd = /passthru --root \/host export nfd (\S+)/.exec(script)![1]!;
    const prom = /passthru --root \/host export prometheus (\S+)/.exec(script)![1]!;
    // Each output lands in a folder mounted from the same path on the node (what nfd-worker and node-exporter read).
    expect(hostPaths.get(mounts.get(nfd)!)).toBe('/etc/kubernetes/node-feature-discovery/features.d');
    expect(hostPaths.get(mounts.get(path.dirname(prom))!)).toBe(path.dirname(prom));
    expect(prom.endsWith('.prom')).toBe(true);
  });
});
