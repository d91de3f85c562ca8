// Issue 26: `rom show` and `rom dump` on a fixture tree: the ROM read through sysfs (enable,
// read, disable), its images parsed, the verified images written; refusals are exit 2 with
// nothing written.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { romImage } from '../../../packages/pci-discovery/test/romImage';
import { RomOutputSchema } from '../src/commands/outputs';
import { cleanFixtures, cli, fixtureCopy, kernelWrites, treeSnapshot } from './runCli';

afterEach(cleanFixtures);
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-rom-'));
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));
const GPU = '0000:01:00.0';
const IMAGES = Buffer.concat([
  romImage({ vendor: 0x10de, device: 0x2684, codeType: 0, last: false, blocks: 2 }),
  romImage({ vendor: 0x10de, device: 0x2684, codeType: 3, last: true }),
]);

function withRom(rom: Buffer) {
  const root = fixtureCopy('intel-workstation');
  fs.writeFileSync(path.join(root, 'sys/bus/pci/devices', GPU, 'rom'), rom);
  return root;
}

describe('passthru rom', () => {
  it('show parses the images; dump writes the verified images (not the padding) and enables the ROM only while reading it', async () => {
    const root = withRom(Buffer.concat([IMAGES, Buffer.alloc(4096, 0xff)]));
    const show = await cli('--root', root, 'rom', 'show', '01:00.0');
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('0000:01:00.0: option ROM of 5632 bytes, legacy and EFI images: a UEFI guest (OVMF, LXD and Incus VMs) can use it');
    expect(show.stdout).toContain('  image 1: EFI x64 boot-service-driver, 10de:2684, class 030000, 512 bytes at 0x400 (last)');
    const file = path.join(out, 'gpu.rom');
    const dump = await cli('--root', root, '--format', 'json', 'rom', 'dump', GPU, file);
    expect(dump.code).toBe(0);
    expect(RomOutputSchema.parse(JSON.parse(dump.stdout))).toMatchObject({ address: GPU, bytes: 1536, rom: { kind: 'both', size: 5632 } });
    expect(fs.readFileSync(file)).toEqual(IMAGES);
    expect(kernelWrites(root).map((w) => [w.path, w.data])).toEqual([
      [`/sys/bus/pci/devices/${GPU}/rom`, '1'],
      [`/sys/bus/pci/devices/${GPU}/rom`, '0'],
      [`/sys/bus/pci/devices/${GPU}/rom`, '1'],
      [`/sys/bus/pci/devices/${GPU}/rom`, '0'],
    ]);
  });

  it.each([
    ['no ROM BAR', '0000:01:00.1', undefined, /has no ROM BAR \(no rom attribute\)/],
    ['an empty ROM (a shadowed boot GPU)', GPU, Buffer.alloc(0), /the ROM reads empty/],
    ['no image that parses', GPU, Buffer.alloc(2048, 0xff), /no image parses \(image 0 at 0x0: no 0x55AA signature\)/],
    ['not a PCI address', '01:00', IMAGES, /not a PCI address/],
  ])('%s: exit 2, nothing written', async (_name, address, rom, message) => {
    const root = rom === undefined ? fixtureCopy('intel-workstation') : withRom(rom);
    const before = treeSnapshot(root);
    const file = path.join(out, `${_name.replace(/\W+/g, '-')}.rom`);
    const r = await cli('--root', root, 'rom', 'dump', address, file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(fs.existsSync(file)).toBe(false);
    // The ROM may have been enabled to be read: then it was disabled again (the simulator's write log records both).
    const outsideLog = (snap: Record<string, string>) => Object.fromEntries(Object.entries(snap).filter(([k]) => !k.startsWith('.sysfs-sim')));
    expect(outsideLog(treeSnapshot(root))).toEqual(outsideLog(before));
    expect(kernelWrites(root).at(-1)?.data ?? '0').toBe('0');
  });

  it('an existing FILE without --force: exit 2, the file as it was; with --force it is replaced; a FIFO never is', async () => {
    const root = withRom(IMAGES);
    const file = path.join(out, 'exists.rom');
    fs.writeFileSync(file, 'keep me');
    const r = await cli('--root', root, 'rom', 'dump', GPU, file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the file exists \(--force replaces it\); nothing was written/);
    expect(fs.readFileSync(file, 'utf8')).toBe('keep me');
    expect((await cli('--root', root, 'rom', 'dump', GPU, file, '--force')).code).toBe(0);
    expect(fs.readFileSync(file)).toEqual(IMAGES);
    const fifo = path.join(out, 'fifo.rom');
    execFileSync('mkfifo', [fifo]);
    const f = await cli('--root', root, 'rom', 'dump', GPU, fifo, '--force');
    expect(f.code).toBe(2);
    expect(f.stderr).toMatch(/a FIFO/);
  });
});

// The GPU ROM fixtures (issue 26): ROMs the simulator built from the specs, read through the
// simulated kernel as from a real `rom` attribute. Run on copies: a read writes the enable to the
// tree's kernel, whose log would change a committed tree.
describe('passthru rom on the GPU ROM fixtures', () => {
  const A4000 = '0000:01:00.0';

  it('gpu-efi-rom: dump writes the RTX A4000 ROM (legacy and EFI x64 images) and names each image; show --file says a UEFI guest runs it', async () => {
    const root = fixtureCopy('gpu-efi-rom');
    const file = path.join(out, 'a4000.rom');
    const dump = await cli('--root', root, 'rom', 'dump', A4000, file);
    expect(dump.code, dump.stderr).toBe(0);
    expect(dump.stdout).toBe(
      [
        '0000:01:00.0: option ROM of 123392 bytes, legacy and EFI images: a UEFI guest (OVMF, LXD and Incus VMs) can use it',
        '  image 0: x86 legacy (PC-AT), 10de:24b0, class 030000, 63488 bytes at 0x0',
        '  image 1: EFI x64 boot-service-driver, 10de:24b0, class 030000, 59904 bytes at 0xf800 (last)',
        `Wrote the 2 image(s), 123392 bytes, to ${file}.`,
        '',
      ].join('\n'),
    );
    expect(fs.readFileSync(file)).toEqual(fs.readFileSync(path.join(root, 'sys/bus/pci/devices', A4000, 'rom')));
    expect(kernelWrites(root).map((w) => [w.path, w.data])).toEqual([
      [`/sys/bus/pci/devices/${A4000}/rom`, '1'],
      [`/sys/bus/pci/devices/${A4000}/rom`, '0'],
    ]);
    const show = await cli('--root', root, 'rom', 'show', '01:00.0', '--file', file);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain(`${file}: option ROM of 123392 bytes, legacy and EFI images`);
    expect(show.stdout).toContain('For 0000:01:00.0 (10de:24b0), a UEFI guest on x64 runs it: its EFI x64 driver image at 0xf800.');
    const json = RomOutputSchema.parse(JSON.parse((await cli('--root', root, '--format', 'json', 'rom', 'show', A4000, '--file', file)).stdout));
    expect(json).toMatchObject({ address: A4000, file, fit: { machine: 'x64', device: '10de:24b0', fit: 'uefi', runs: true, image: 1 } });
    // --file reads the file, not the device: no more enable writes.
    expect(kernelWrites(root)).toHaveLength(2);
  });

  it("the HD 7970's ROM (gpu-legacy-rom) is legacy only, and another card's ROM given with --file is not its own; the I210's network-boot ROM (gpu-efi-rom) shows both images", async () => {
    const root = fixtureCopy('gpu-legacy-rom');
    const show = await cli('--root', root, 'rom', 'show', '0b:00.0');
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain(
      '0000:0b:00.0: option ROM of 59392 bytes, x86 legacy code only: a UEFI guest gets no display or boot option from it (give the VM a romfile with an EFI image)',
    );
    const file = path.join(out, 'other-card.rom');
    const dumped = await cli('--root', fixtureCopy('gpu-efi-rom'), 'rom', 'dump', A4000, file);
    expect(dumped.code, dumped.stderr).toBe(0);
    const other = await cli('--root', root, 'rom', 'show', '0b:00.0', '--file', file);
    expect(other.stdout).toContain(
      'For 0000:0b:00.0 (1002:6798), a UEFI guest on x64 does not run it for this device: its EFI x64 image is for 10de:24b0 (a ROM made for another card).',
    );
    const nic = await cli('--root', fixtureCopy('gpu-efi-rom'), 'rom', 'show', '03:00.0');
    expect(nic.stdout).toContain('  image 0: x86 legacy (PC-AT), 8086:1533, class 020000, 64000 bytes at 0x0');
    expect(nic.stdout).toContain('  image 1: EFI x64 boot-service-driver, 8086:1533, class 020000, 129024 bytes at 0xfa00 (last)');
  });

  it('gpu-legacy-rom: the boot GPU whose shadowed ROM reads as garbage: dump is exit 2, nothing written, and says where to capture it', async () => {
    const root = fixtureCopy('gpu-legacy-rom');
    const file = path.join(out, 'boot.rom');
    const r = await cli('--root', root, 'rom', 'dump', '0a:00.0', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /no image parses \(image 0 at 0x0: no 0x55AA signature\); 0000:0a:00\.0 is the boot GPU, whose ROM the firmware shadowed: capture it where the card is not the boot GPU/,
    );
    expect(fs.existsSync(file)).toBe(false);
  });

  it('show --file refuses a file with no image, a missing file and a FIFO (exit 2)', async () => {
    const root = fixtureCopy('gpu-efi-rom');
    const junk = path.join(out, 'junk.rom');
    fs.writeFileSync(junk, Buffer.alloc(4096, 0xff));
    const r = await cli('--root', root, 'rom', 'show', A4000, '--file', junk);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no image parses \(image 0 at 0x0: no 0x55AA signature\)/);
    expect((await cli('--root', root, 'rom', 'show', A4000, '--file', path.join(out, 'absent.rom'))).code).toBe(2);
    const fifo = path.join(out, 'show-fifo.rom');
    execFileSync('mkfifo', [fifo]);
    const f = await cli('--root', root, 'rom', 'show', A4000, '--file', fifo);
    expect(f.code).toBe(2);
    expect(f.stderr).toMatch(/not a regular file/);
  });
});
