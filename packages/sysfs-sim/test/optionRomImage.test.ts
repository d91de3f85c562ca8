// The option ROMs the simulator builds from a spec's `rom` (issue 26): each image's header, PCIR
// and EFI header as PCI Firmware 3.0 and UEFI lay them out, the x86 checksum, the last-image
// flag; the shadowed boot GPU's empty and garbage reads; the spec refusing what is not one ROM.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseHostSpec } from '../src/HostSpec';
import { materialize } from '../src/materialize';
import { buildOptionRom, RomSpecSchema } from '../src/optionRomImage';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sysfs-sim-rom-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const GPU = { address: '0000:01:00.0', vendor: '10de', device: '24b0', class: '030000' };
const rom = (value: unknown) => RomSpecSchema.parse(value);

/** The PCIR fields of the image at `offset`. */
function pcir(b: Buffer, offset: number) {
  const p = offset + b.readUInt16LE(offset + 0x18);
  return {
    signature: b.toString('latin1', p, p + 4),
    ids: `${b
      .readUInt16LE(p + 4)
      .toString(16)
      .padStart(4, '0')}:${b
      .readUInt16LE(p + 6)
      .toString(16)
      .padStart(4, '0')}`,
    class: [b[p + 0x0f], b[p + 0x0e], b[p + 0x0d]].map((x) => x!.toString(16).padStart(2, '0')).join(''),
    blocks: b.readUInt16LE(p + 0x10),
    codeType: b[p + 0x14],
    last: (b[p + 0x15]! & 0x80) !== 0,
  };
}

describe('buildOptionRom', () => {
  it('a legacy image then an EFI x64 driver: headers, PCIR, lengths, the last flag on the last image only', () => {
    const b = buildOptionRom(
      rom({
        images: [
          { type: 'legacy', kib: 62 },
          { type: 'efi', kib: 58.5 },
        ],
      }),
      GPU,
    );
    expect(b.length).toBe((62 + 58.5) * 1024);
    expect(b.readUInt16LE(0)).toBe(0xaa55);
    expect(pcir(b, 0)).toEqual({ signature: 'PCIR', ids: '10de:24b0', class: '030000', blocks: 124, codeType: 0, last: false });
    let sum = 0;
    for (let i = 0; i < 62 * 1024; i++) sum = (sum + b[i]!) & 0xff;
    expect(sum).toBe(0);
    const efi = 62 * 1024;
    expect(b.readUInt16LE(efi)).toBe(0xaa55);
    expect(b.readUInt32LE(efi + 4)).toBe(0x0ef1);
    expect(b.readUInt16LE(efi + 8)).toBe(11); // boot-service driver
    expect(b.readUInt16LE(efi + 0x0a)).toBe(0x8664); // x64
    expect(b.toString('latin1', efi + b.readUInt16LE(efi + 0x16), efi + b.readUInt16LE(efi + 0x16) + 2)).toBe('MZ');
    expect(pcir(b, efi)).toEqual({ signature: 'PCIR', ids: '10de:24b0', class: '030000', blocks: 117, codeType: 3, last: true });
  });

  it("an image may name another card's ids and another machine; the same spec builds the same bytes", () => {
    const spec = rom({ images: [{ type: 'efi', kib: 1, vendor: '1002', device: '73BF', machine: 'aa64' }] });
    const b = buildOptionRom(spec, GPU);
    expect(pcir(b, 0)).toMatchObject({ ids: '1002:73bf', codeType: 3, last: true });
    expect(b.readUInt16LE(0x0a)).toBe(0xaa64);
    expect(buildOptionRom(spec, GPU)).toEqual(b);
  });

  it('a shadowed boot GPU: empty reads nothing, garbage reads 128 KiB without 0x55AA, the same each time', () => {
    expect(buildOptionRom(rom({ reads: 'empty' }), GPU)).toEqual(Buffer.alloc(0));
    const g = buildOptionRom(rom({ reads: 'garbage' }), GPU);
    expect(g.length).toBe(128 * 1024);
    expect(g.readUInt16LE(0)).not.toBe(0xaa55);
    expect(new Set(g.subarray(0, 4096)).size).toBeGreaterThan(200);
    expect(buildOptionRom(rom({ reads: 'garbage' }), GPU)).toEqual(g);
  });

  it('refuses images and reads together, neither, and a size that is not whole 512-byte blocks', () => {
    expect(() => rom({ images: [{ type: 'legacy', kib: 1 }], reads: 'empty' })).toThrow(/images .* or reads/);
    expect(() => rom({})).toThrow(/images .* or reads/);
    expect(() => rom({ images: [{ type: 'legacy', kib: 1.3 }] })).toThrow(/512-byte blocks/);
    expect(() => rom({ images: [] })).toThrow();
  });

  it("materialize writes the device's rom (0600, as the kernel makes it) only where the spec gives one", () => {
    const dir = path.join(tmp, 'host');
    materialize(
      parseHostSpec({
        name: 'rom-host',
        cpu: { vendor: 'intel' },
        devices: [
          {
            ...GPU,
            driver: 'nvidia',
            rom: {
              images: [
                { type: 'legacy', kib: 2 },
                { type: 'efi', kib: 1 },
              ],
            },
          },
          { address: '0000:01:00.1', vendor: '10de', device: '228b', class: '040300' },
        ],
      }),
      dir,
    );
    const file = path.join(dir, 'sys/bus/pci/devices/0000:01:00.0/rom');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file).length).toBe(3 * 1024);
    expect(fs.existsSync(path.join(dir, 'sys/bus/pci/devices/0000:01:00.1/rom'))).toBe(false);
  });
});
