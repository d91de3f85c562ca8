// Issue 15: a baseline before and after a simulated kernel and firmware upgrade (fixtures
// upgrade-before / upgrade-after): the GPU's bus is renumbered (01 -> 0a) with its group
// (12 -> 14), and the NIC and the NVMe drive now share a group; each change is named and the
// diff breaks. A link speed change of an unrelated device is named and harmless.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { scanPciDevices } from '@passthru/pci-discovery';
import { afterAll, describe, expect, it } from 'vitest';
import { BaselineError, diffBaselines, readBaselineFile, takeBaseline, writeBaselineFile } from '../src/index';

const hosts = path.resolve(__dirname, '../../../fixtures/hosts');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'baseline-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
const baselineOf = (root: string) => {
  const host = new HostFs(root);
  return takeBaseline(host, scanPciDevices(host));
};

describe('baseline', () => {
  it('records identities, groups, drivers, reset methods, kernel and firmware; round-trips through a file', () => {
    const b = baselineOf(path.join(hosts, 'upgrade-before'));
    expect(b.kernel.release).toBe('6.1.0-18-amd64');
    expect(b.firmware.bios).toMatch(/1\.40/);
    expect(b.devices.find((d) => d.address === '0000:01:00.0')).toMatchObject({
      vendorId: '1002',
      deviceId: '731f',
      driver: 'vfio-pci',
      iommuGroup: 12,
      resetMethods: ['bus'],
    });
    expect(b.groups.find((g) => g.id === 12)?.devices).toEqual(['0000:01:00.0', '0000:01:00.1']);
    const file = path.join(work, 'b.json');
    writeBaselineFile(file, b);
    expect(readBaselineFile(file)).toEqual(b);
    expect(diffBaselines(b, b)).toEqual({ breaking: false, changes: [] });
  });

  it('after the upgrade: names the renumbered bus, the regrouped devices and the host changes, and breaks', () => {
    const diff = diffBaselines(baselineOf(path.join(hosts, 'upgrade-before')), baselineOf(path.join(hosts, 'upgrade-after')));
    expect(diff.breaking).toBe(true);
    const breaking = diff.changes.filter((c) => c.breaking).map((c) => [c.kind, c.address]);
    expect(breaking).toEqual([
      ['device-renumbered', '0000:01:00.0'],
      ['device-renumbered', '0000:01:00.1'],
      ['group-renumbered', '0000:01:00.0'],
      ['group-renumbered', '0000:01:00.1'],
      ['group-members-changed', '0000:04:00.0'],
      ['group-members-changed', '0000:05:00.0'],
    ]);
    const text = diff.changes.map((c) => c.summary).join('\n');
    expect(text).toContain('0000:01:00.0 (1002:731f, vfio-pci) is now at 0000:0a:00.0');
    expect(text).toContain('0000:01:00.0 (1002:731f, vfio-pci): IOMMU group 12 -> 14, same members: /dev/vfio/12 is now /dev/vfio/14');
    expect(text).toContain('0000:04:00.0 (8086:1563, ixgbe): IOMMU group 5 -> 4, now shared with 0000:05:00.0');
    expect(text).toMatch(/kernel 6\.1\.0-18-amd64 -> 6\.8\.0-45-generic/);
    expect(diff.changes.find((c) => c.kind === 'firmware-changed')?.breaking).toBe(false);
  });

  it('a link speed change of an unrelated device is named and harmless', () => {
    const root = path.join(work, 'link');
    fs.cpSync(path.join(hosts, 'upgrade-before'), root, { recursive: true, verbatimSymlinks: true });
    const before = baselineOf(root);
    const speed = path.join(root, 'sys/bus/pci/devices/0000:05:00.0/current_link_speed');
    expect(fs.readFileSync(speed, 'utf8')).toMatch(/GT\/s/);
    fs.writeFileSync(speed, '8.0 GT/s PCIe\n');
    const diff = diffBaselines(before, baselineOf(root));
    expect(diff.breaking).toBe(false);
    expect(diff.changes.map((c) => [c.kind, c.address, c.breaking])).toEqual([['link-changed', '0000:05:00.0', false]]);
  });

  it('a file that is not a baseline is a usage error', () => {
    const file = path.join(work, 'bad.json');
    fs.writeFileSync(file, '{"schemaVersion":1}');
    expect(() => readBaselineFile(file)).toThrow(BaselineError);
    expect(() => readBaselineFile(file)).toThrow(/not a passthru baseline/);
    expect(() => readBaselineFile(path.join(work, 'missing.json'))).toThrow(/Failed reading the baseline via/);
  });
});
