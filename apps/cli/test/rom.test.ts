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
