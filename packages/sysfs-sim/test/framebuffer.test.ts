// BARs in a host spec become the device's `resource` file as the kernel prints it, and the
// simulated kernel gives vfio-pci's bind its meaning for the firmware framebuffer: on Linux 6.0+
// a VGA device's probe removes the claim from /proc/iomem (vfio_pci_vga_init), before 6.0 and on
// other classes it stays; a driver's unbind releases what it reserved in its device's BARs.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HostFs } from '@passthru/hostfs';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedKernel, capture, loadHostSpec, materialize, parseHostSpec, SysfsSimError, type HostSpec } from '../src/index';

const SPEC = loadHostSpec(fileURLToPath(new URL('../../../fixtures/specs/gpu-boot-efifb.yaml', import.meta.url)));
const GPU = '0000:01:00.0';
const EFIFB = '      6000000000-60007e8fff : efifb';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** The fixture on `release`, with the GPU's class changed where asked. */
function host(release: string, edit: (spec: HostSpec) => void = () => {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-efifb-'));
  dirs.push(dir);
  const spec = structuredClone(SPEC);
  spec.kernelRelease = release;
  edit(spec);
  materialize(parseHostSpec(spec), dir);
  const kernel = new SimulatedKernel(dir, { logWrites: false });
  return { dir, fs: new HostFs(dir, { kernel }), iomem: () => fs.readFileSync(path.join(dir, 'proc/iomem'), 'utf8') };
}

/** What `passthru bind` writes for one device: override, unbind, probe. */
function bindToVfio(h: ReturnType<typeof host>, address: string, driver: string): void {
  h.fs.writeAttribute(`/sys/bus/pci/devices/${address}/driver_override`, 'vfio-pci');
  h.fs.writeAttribute(`/sys/bus/pci/drivers/${driver}/unbind`, address);
  h.fs.writeAttribute('/sys/bus/pci/drivers_probe', address);
  expect(h.fs.linkName(`/sys/bus/pci/devices/${address}/driver`)).toBe('vfio-pci');
}

describe('bars: the resource file', () => {
  it("is the kernel's: 64-bit prefetchable, 32-bit, I/O and ROM flags; the register a 64-bit BAR takes is empty; 7 lines", () => {
    const h = host('5.15.0-91-generic');
    const text = fs.readFileSync(path.join(h.dir, 'sys/bus/pci/devices', GPU, 'resource'), 'utf8');
    expect(text.split('\n')).toEqual([
      '0x00000000fb000000 0x00000000fbffffff 0x0000000000040200',
      '0x0000006000000000 0x000000600fffffff 0x000000000014220c',
      '0x0000000000000000 0x0000000000000000 0x0000000000000000',
      '0x0000006010000000 0x0000006011ffffff 0x000000000014220c',
      '0x0000000000000000 0x0000000000000000 0x0000000000000000',
      '0x000000000000f000 0x000000000000f07f 0x0000000000040101',
      '0x00000000fc000000 0x00000000fc07ffff 0x0000000000046200',
      '',
    ]);
  });

  it.each([
    [{ index: 0, start: 0xe0000000, size: 0x3000000, flags: 'mem32' }, 'a power of two'],
    [{ index: 0, start: 0xe0800000, size: 0x1000000, flags: 'mem32' }, 'aligned to its size'],
    [{ index: 5, start: 0xe0000000, size: 0x1000000, flags: 'mem64' }, 'takes two registers'],
  ])('refuses %j (%s)', (bar, why) => {
    const spec = JSON.parse(JSON.stringify(SPEC));
    spec.devices[5].bars = [bar];
    expect(() => parseHostSpec(spec)).toThrow(SysfsSimError);
    expect(() => parseHostSpec(spec)).toThrow(why);
  });

  it('refuses a BAR in the register a 64-bit BAR takes', () => {
    const spec = JSON.parse(JSON.stringify(SPEC));
    spec.devices[5].bars = [
      { index: 0, start: 0x6000000000, size: 0x10000000, flags: 'mem64' },
      { index: 1, start: 0xfb000000, size: 0x1000000, flags: 'mem32' },
    ];
    expect(() => parseHostSpec(spec)).toThrow(/devices\[5\]\.bars\[1\]\.index: BAR register 1 is taken twice/);
  });
});

describe("vfio-pci's bind and the firmware framebuffer in /proc/iomem", () => {
  it("Linux 6.1, a VGA device: the efifb claim in BAR 1 goes; so do nvidia's and the audio driver's regions as they unbind; nothing else changes", () => {
    const h = host('6.1.0-28-amd64');
    const before = h.iomem();
    expect(before).toContain(`${EFIFB}\n`);
    bindToVfio(h, GPU, 'nvidia');
    bindToVfio(h, '0000:01:00.1', 'snd_hda_intel');
    const removed = before.split('\n').filter((l) => !h.iomem().split('\n').includes(l));
    expect(removed).toEqual(['      fb000000-fbffffff : nvidia', '      fc080000-fc083fff : ICH HD audio', EFIFB]);
    expect(h.iomem().endsWith('\n')).toBe(true);
  });

  it('stays away after the device goes back to its driver (sysfb registers it again only at boot)', () => {
    const h = host('6.1.0-28-amd64');
    bindToVfio(h, GPU, 'nvidia');
    h.fs.writeAttribute(`/sys/bus/pci/devices/${GPU}/driver_override`, '\n');
    h.fs.writeAttribute('/sys/bus/pci/drivers/vfio-pci/unbind', GPU);
    h.fs.writeAttribute('/sys/bus/pci/drivers/nvidia/bind', GPU);
    expect(h.fs.linkName(`/sys/bus/pci/devices/${GPU}/driver`)).toBe('nvidia');
    expect(h.iomem()).not.toContain('efifb');
  });

  it.each([
    ['Linux 5.15 (before 6.0)', '5.15.0-91-generic', '030000'],
    ['a display controller that is not VGA class (0380)', '6.1.0-28-amd64', '038000'],
  ])("%s: the claim stays; only the unbound driver's region goes", (_, release, cls) => {
    const h = host(release, (spec) => {
      spec.devices[5]!.class = cls;
    });
    bindToVfio(h, GPU, 'nvidia');
    expect(h.iomem()).toContain(`${EFIFB}\n`);
    expect(h.iomem()).not.toContain(': nvidia');
  });

  it("a capture's tree keeps /proc/iomem (without the kernel image's place), and the simulated kernel reads the release it names", () => {
    const h = host('6.1.0-28-amd64');
    fs.appendFileSync(path.join(h.dir, 'proc/iomem'), '  01000000-01ffffff : Kernel code\n');
    const out = path.join(h.dir, '..', `${path.basename(h.dir)}-capture`);
    dirs.push(out);
    capture(h.dir, out);
    const captured = fs.readFileSync(path.join(out, 'proc/iomem'), 'utf8');
    expect(captured).toBe(h.iomem().replace('  01000000-01ffffff : Kernel code\n', ''));
    fs.writeFileSync(path.join(out, 'proc/sys/kernel/osrelease'), '5.15.0-91-generic\n');
    const kernel = new SimulatedKernel(out, { logWrites: false });
    const c = { dir: out, fs: new HostFs(out, { kernel }), iomem: () => fs.readFileSync(path.join(out, 'proc/iomem'), 'utf8') };
    bindToVfio(c, GPU, 'nvidia');
    expect(c.iomem()).toContain(EFIFB);
  });
});
