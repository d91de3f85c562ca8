// The differential test of issue 3: on every fixture host and on this machine's live /sys,
// the scan agrees with real lspci reading the same tree on every device's address, ids,
// class, revision, driver and IOMMU group, and on each BAR's size (lspci -vv).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { loadHostSpec, materialize } from '@passthru/sysfs-sim';
import { afterAll, describe, expect, it } from 'vitest';
import { runLspci, runLspciRegions, type LspciRecord } from '../../../tools/peers/src/index';
import { scanPciDevices, type PciDevice } from '../src/index';

const specsDir = path.resolve(__dirname, '../../../fixtures/specs');
const specs = fs.readdirSync(specsDir).filter((f) => f.endsWith('.yaml'));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pci-diff-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function fromScan(d: PciDevice) {
  return {
    address: d.address,
    vendorId: d.vendorId,
    deviceId: d.deviceId,
    class: d.class,
    revision: d.revision ?? '00',
    driver: d.driver,
    iommuGroup: d.iommuGroup,
  };
}
function fromLspci(r: LspciRecord) {
  return {
    address: r.address,
    vendorId: r.vendorId,
    deviceId: r.deviceId,
    class: r.classCode,
    revision: r.revision ?? '00',
    driver: r.driver ?? null,
    iommuGroup: r.iommuGroup ?? null,
  };
}

describe('scan agrees with lspci', () => {
  it('has fixture specs to compare', () => expect(specs.length).toBeGreaterThan(0));

  for (const file of specs) {
    it(`on fixture ${file}`, async () => {
      const root = path.join(work, file.replace(/\.yaml$/, ''));
      materialize(loadHostSpec(path.join(specsDir, file)), root);
      const spec = loadHostSpec(path.join(specsDir, file));
      const scan = scanPciDevices(new HostFs(root));
      const lspci = await runLspci({ sysfsRoot: root });
      // A partial capture without /sys/kernel (partial-capture): every group link dangles, lspci
      // reports no group, and the scan agrees and says so once per device.
      const dangling = spec.absent.includes('/sys/kernel')
        ? scan.devices.filter((d) => spec.devices.some((s) => s.address === d.address && s.iommuGroup !== undefined)).map((d) => d.address)
        : [];
      expect(scan.problems.map((p) => p.address)).toEqual(dangling);
      for (const p of scan.problems) expect(p.message).toMatch(/iommu_group: the link leads to \/sys\/kernel\/iommu_groups\/\d+, which is not in this tree/);
      expect(scan.devices.length).toBeGreaterThan(0);
      expect(scan.devices.map(fromScan)).toEqual(lspci.map(fromLspci));
      await expectBarsAgree(scan.devices, root);
    });
  }

  it("on this machine's live /sys", async () => {
    const scan = scanPciDevices(new HostFs('/'));
    const lspci = await runLspci({});
    expect(scan.devices.length).toBe(fs.readdirSync('/sys/bus/pci/devices').length);
    // Symlinks are followed on the live host too: the real folder, and so the parent bridge.
    for (const d of scan.devices) {
      expect(d.sysfsPath).toBe(fs.realpathSync(`/sys/bus/pci/devices/${d.address}`));
      expect(d.parent).toBe(
        /^[0-9a-f]{4,8}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(path.basename(path.dirname(d.sysfsPath))) ? path.basename(path.dirname(d.sysfsPath)) : null,
      );
    }
    expect(scan.devices.map(fromScan)).toEqual(lspci.map(fromLspci));
    await expectBarsAgree(scan.devices);
  });
});

/** Every device's BARs and ROM (index, size, memory or I/O) as `lspci -D -vv` prints them for the same tree. */
async function expectBarsAgree(devices: PciDevice[], root?: string): Promise<void> {
  const regions = await runLspciRegions(root === undefined ? {} : { sysfsRoot: root });
  const sized = (bars: Array<{ index: number; size: number; space: string }>) => bars.map(({ index, size, space }) => ({ index, size, space }));
  expect(new Map(devices.map((d) => [d.address, sized(d.bars)]))).toEqual(new Map([...regions].map(([a, r]) => [a, sized(r)])));
}
