// Every fixture spec materializes into a tree real lspci reads as the spec says, the committed
// fixtures/hosts/X trees equal a fresh materialize (run `npm run fixtures` after editing a spec),
// and malformed specs are refused with the failing field named.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { allDevices, loadHostSpec, materialize, parseHostSpec, SysfsSimError, type HostSpecInput } from '../src/index';
import { lspci, pcilibLines } from './lspciOracle';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const specsDir = path.join(repo, 'fixtures/specs');
const hostsDir = path.join(repo, 'fixtures/hosts');
const specNames = fs
  .readdirSync(specsDir)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.slice(0, -5))
  .sort();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sysfs-sim-fixtures-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const fresh = new Map<string, string>();
function freshTree(name: string): string {
  let dir = fresh.get(name);
  if (!dir) {
    dir = path.join(tmp, name);
    materialize(loadHostSpec(path.join(specsDir, `${name}.yaml`)), dir);
    fresh.set(name, dir);
  }
  return dir;
}

/** Every file and symlink of a tree: relative path -> content (files) or `-> target` (links). */
function snapshot(dir: string): Map<string, string> {
  const entries = new Map<string, string>();
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      const full = path.join(dir, child);
      if (entry.isDirectory()) walk(child);
      else if (entry.isSymbolicLink()) entries.set(child, `-> ${fs.readlinkSync(full)}`);
      else if (entry.isFile()) {
        // Write-only (0200) attributes are empty; a non-root reader cannot open them.
        const readable = (fs.statSync(full).mode & 0o444) !== 0 || process.getuid?.() === 0;
        entries.set(child, readable ? fs.readFileSync(full).toString('base64') : `size ${fs.statSync(full).size}`);
      } else entries.set(child, `(${entry.isFIFO() ? 'fifo' : 'special'})`);
    }
  };
  walk('');
  return entries;
}

describe('fixture specs', () => {
  it('has the fixtures the other packages use', () => {
    expect(specNames).toEqual(
      expect.arrayContaining([
        'intel-workstation',
        'intel-iommu-off',
        'amd-shared-group',
        'sriov-server',
        'vmd-gaps',
        'no-group-device',
        'laptop-no-iommu',
        'intel-pch-desktop',
        'partial-capture',
        'twin-gpu',
        'numa-dual-socket',
        'lxd-tuned',
        'upgrade-before',
        'upgrade-after',
        'gpu-legacy-rom',
        'gpu-efi-rom',
        'gpu-boot-efifb',
      ]),
    );
  });

  describe.each(specNames)('%s', (name) => {
    const spec = loadHostSpec(path.join(specsDir, `${name}.yaml`));

    it('is named after its file', () => {
      expect(spec.name).toBe(name);
    });

    it('materializes into a tree lspci reads as the spec says (no pcilib warnings)', () => {
      const run = lspci(freshTree(name));
      expect(pcilibLines(run.stderr)).toEqual([]);
      const expected = allDevices(spec)
        .map((d) => ({
          slot: d.address,
          vendor: d.vendor,
          device: d.device,
          class: d.class,
          revision: d.revision,
          ...(d.driver ? { driver: d.driver } : {}),
          // A partial capture without /sys/kernel: the links dangle and lspci reports no group.
          ...(d.iommuGroup !== undefined && !spec.absent.includes('/sys/kernel') ? { iommuGroup: d.iommuGroup } : {}),
        }))
        .sort((a, b) => a.slot.localeCompare(b.slot));
      expect([...run.devices].sort((a, b) => a.slot.localeCompare(b.slot))).toEqual(expected);
    });

    it('has an up-to-date committed tree in fixtures/hosts (else run `npm run fixtures`)', () => {
      const committed = path.join(hostsDir, name);
      expect(fs.existsSync(committed), `fixtures/hosts/${name} is missing: run npm run fixtures`).toBe(true);
      const want = snapshot(freshTree(name));
      const have = snapshot(committed);
      const missing = [...want.keys()].filter((k) => !have.has(k));
      const extra = [...have.keys()].filter((k) => !want.has(k));
      const changed = [...want.keys()].filter((k) => have.has(k) && have.get(k) !== want.get(k));
      expect({ missing, extra, changed }, `fixtures/hosts/${name} is stale: run npm run fixtures`).toEqual({ missing: [], extra: [], changed: [] });
    });
  });

  it('matches the IOMMU state each fixture is about', () => {
    const load = (name: string) => loadHostSpec(path.join(specsDir, `${name}.yaml`));
    const off = load('intel-iommu-off');
    expect(off.iommu.enabled).toBe(false);
    expect(off.firmware.tables).toContain('DMAR');
    expect(off.cmdline).not.toMatch(/intel_iommu=on/);
    expect(off.modules.filter((m) => m.startsWith('vfio'))).toEqual([]);
    expect(fs.existsSync(path.join(freshTree('intel-iommu-off'), 'sys/kernel/iommu_groups/0'))).toBe(false);

    const amd = load('amd-shared-group');
    const gpu = amd.devices.find((d) => d.device === '73bf')!;
    const shared = amd.devices.filter((d) => d.iommuGroup === gpu.iommuGroup);
    expect(shared.map((d) => d.device)).toEqual(expect.arrayContaining(['73bf', 'ab28', '7901']));
    expect(shared.some((d) => d.class.startsWith('0604') && !d.acs?.enabled)).toBe(true);
    expect(amd.cmdline).toMatch(/amd_iommu=on .*iommu=pt/);

    const sriov = load('sriov-server');
    const pfs = sriov.devices.filter((d) => d.sriov);
    expect(pfs.map((d) => d.sriov!.numVfs)).toEqual([4, 8]);
    expect(new Set(pfs.map((d) => d.numaNode))).toEqual(new Set([0, 1]));
    expect(allDevices(sriov).filter((d) => d.physfn)).toHaveLength(12);

    const vmd = load('vmd-gaps');
    expect(vmd.domainParents).toEqual({ '10000': '0000:00:0e.0' });
    expect(fs.realpathSync(path.join(freshTree('vmd-gaps'), 'sys/bus/pci/devices/10000:e1:00.0'))).toContain(
      '/0000:00:0e.0/pci10000:e0/10000:e0:06.0/10000:e1:00.0',
    );

    const noGroup = load('no-group-device');
    expect(noGroup.iommu.enabled).toBe(true);
    expect(noGroup.devices.filter((d) => d.iommuGroup === undefined).map((d) => d.address)).toEqual(['0000:00:02.0']);

    const laptop = load('laptop-no-iommu');
    expect(laptop.firmware.tables).toEqual([]);
    expect(laptop.iommu.enabled).toBe(false);
    // A whole host keeps its layers even with no IOMMU table and no group: FACP/DSDT, /sys/kernel.
    expect(fs.readdirSync(path.join(hostsDir, 'laptop-no-iommu/sys/firmware/acpi/tables')).sort()).toEqual(['DSDT', 'FACP']);
    expect(fs.existsSync(path.join(hostsDir, 'intel-iommu-off/sys/kernel'))).toBe(true);

    const pch = load('intel-pch-desktop');
    expect(pch.devices.filter((d) => d.iommuGroup === 10).map((d) => [d.address, d.class])).toEqual([
      ['0000:00:1f.0', '060100'],
      ['0000:00:1f.3', '040300'],
      ['0000:00:1f.4', '0c0500'],
      ['0000:00:1f.5', '0c8000'],
    ]);
    expect(pch.devices.filter((d) => d.iommuGroup === 0).map((d) => d.class)).toEqual(['060000']);

    const partial = load('partial-capture');
    const tree = path.join(hostsDir, 'partial-capture');
    expect(partial.absent).toEqual(['/sys/firmware', '/sys/kernel', '/sys/class/iommu']);
    for (const layer of ['sys/firmware', 'sys/kernel', 'sys/class/iommu']) expect(fs.existsSync(path.join(tree, layer)), layer).toBe(false);
    const link = path.join(tree, 'sys/bus/pci/devices/0000:01:00.0/iommu_group');
    expect(fs.readlinkSync(link)).toMatch(/kernel\/iommu_groups\/6$/);
    expect(fs.existsSync(link)).toBe(false); // dangling
  });
});

describe('host spec validation', () => {
  const base = (): HostSpecInput => ({
    name: 'bad-host',
    cpu: { vendor: 'intel' },
    iommu: { enabled: true },
    devices: [
      { address: '0000:00:00.0', vendor: '8086', device: 'a700', class: '060000' },
      { address: '0000:00:01.0', vendor: '8086', device: 'a70d', class: '060400', secondaryBus: '01' },
      { address: '0000:01:00.0', vendor: '10de', device: '2684', class: '030000' },
    ],
  });
  const refused = (spec: unknown): string => {
    try {
      parseHostSpec(spec, 'test spec');
    } catch (error) {
      expect(error).toBeInstanceOf(SysfsSimError);
      return (error as Error).message;
    }
    throw new Error('the spec was accepted');
  };

  it('accepts the well-formed base spec', () => {
    expect(parseHostSpec(base()).devices).toHaveLength(3);
  });

  it('refuses a bad vendor, naming devices[2].vendor', () => {
    const spec = base();
    spec.devices[2]!.vendor = '10dz';
    expect(refused(spec)).toMatch(/^Failed validating test spec: .*devices\[2\]\.vendor: .*4 hex digits/);
  });

  it('refuses a duplicate address, naming the second one', () => {
    const spec = base();
    spec.devices[2]!.address = '0000:00:01.0';
    expect(refused(spec)).toMatch(/devices\[2\]\.address: duplicate address 0000:00:01\.0 \(also devices\[1\]\)/);
  });

  it('refuses an IOMMU group while the IOMMU is off', () => {
    const spec = { ...base(), iommu: { enabled: false } };
    spec.devices[2]!.iommuGroup = 3;
    expect(refused(spec)).toMatch(/devices\[2\]\.iommuGroup: the IOMMU is off/);
  });

  it('refuses a bridge without secondaryBus', () => {
    const spec = base();
    delete spec.devices[1]!.secondaryBus;
    expect(refused(spec)).toMatch(/devices\[1\]\.secondaryBus: a PCI bridge \(class 0604xx\) needs secondaryBus/);
  });

  it('refuses a malformed address and names every failing field at once', () => {
    const spec = base();
    spec.devices[0]!.address = '00:00.0';
    spec.devices[1]!.class = '0604';
    const message = refused(spec);
    expect(message).toMatch(/devices\[0\]\.address: expected a PCI address/);
    expect(message).toMatch(/devices\[1\]\.class: /);
  });

  it('refuses numVfs above totalVfs and a physfn that is not a device', () => {
    const spec = base();
    spec.devices[2]!.sriov = { totalVfs: 4, numVfs: 8, vfDevice: '1889' };
    spec.devices[0]!.physfn = '0000:09:00.0';
    const message = refused(spec);
    expect(message).toMatch(/devices\[2\]\.sriov\.numVfs: numVfs 8 exceeds totalVfs 4/);
    expect(message).toMatch(/devices\[0\]\.physfn: physfn 0000:09:00\.0 is not a device/);
  });

  it('materialize refuses a malformed spec before writing anything', () => {
    const spec = base();
    spec.devices[2]!.vendor = 'nvidia';
    const dir = path.join(tmp, 'refused');
    expect(() => materialize(spec, dir)).toThrow(/devices\[2\]\.vendor/);
    expect(fs.existsSync(dir)).toBe(false);
  });
});
