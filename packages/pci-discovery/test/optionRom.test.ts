// Option ROM images (issue 26): the PCIR chain, code types, the EFI header, the x86 checksum,
// the last-image flag, and what does not parse said, never thrown.
import { describe, expect, it } from 'vitest';
import { parseOptionRom } from '../src/optionRom';
import { romImage } from './romImage';

describe('parseOptionRom', () => {
  it('a legacy image followed by an EFI x64 image: both, each with its ids, length and checksum', () => {
    const rom = Buffer.concat([
      romImage({ vendor: 0x10de, device: 0x2684, codeType: 0, last: false, blocks: 2 }),
      romImage({ vendor: 0x10de, device: 0x2684, codeType: 3, last: true }),
      Buffer.alloc(1024, 0xff),
    ]);
    const copy = Buffer.from(rom);
    const parsed = parseOptionRom(rom);
    expect(parsed.kind).toBe('both');
    expect(parsed.problems).toEqual([]);
    expect(parsed.images).toEqual([
      expect.objectContaining({ offset: 0, length: 1024, codeType: 'x86', vendorId: '10de', deviceId: '2684', class: '030000', last: false, checksumOk: true }),
      expect.objectContaining({
        offset: 1024,
        length: 512,
        codeType: 'efi',
        last: true,
        efi: { machine: 'x64', subsystem: 'boot-service-driver', compressed: false },
      }),
    ]);
    expect(rom).toEqual(copy);
  });

  it('legacy only, an EFI image for another machine (aa64) is not one a x64 UEFI guest can use, EBC is', () => {
    expect(parseOptionRom(romImage({ vendor: 0x1002, device: 0x73bf, codeType: 0, last: true })).kind).toBe('legacy');
    const arm = Buffer.concat([
      romImage({ vendor: 1, device: 2, codeType: 0, last: false }),
      romImage({ vendor: 1, device: 2, codeType: 3, last: true, efiMachine: 0xaa64 }),
    ]);
    expect(parseOptionRom(arm).kind).toBe('legacy');
    expect(parseOptionRom(romImage({ vendor: 1, device: 2, codeType: 3, last: true, efiMachine: 0x0ebc })).kind).toBe('efi');
  });

  it('says what does not parse: no signature, no PCIR, a length past the end, a bad checksum', () => {
    expect(parseOptionRom(Buffer.alloc(4096, 0xff))).toMatchObject({ kind: 'none', images: [], problems: ['image 0 at 0x0: no 0x55AA signature'] });
    const noPcir = romImage({ vendor: 1, device: 2, codeType: 0, last: true });
    noPcir.write('XXXX', 0x1c, 'latin1');
    expect(parseOptionRom(noPcir).problems).toEqual(['image 0 at 0x0: no PCIR data structure at 0x1c']);
    const short = romImage({ vendor: 1, device: 2, codeType: 0, last: true, blocks: 4 }).subarray(0, 1024);
    expect(parseOptionRom(short).problems).toEqual(["image 0 at 0x0: its length 2048 runs past the ROM's 1024 bytes"]);
    const bad = romImage({ vendor: 1, device: 2, codeType: 0, last: true });
    bad[100] ^= 0xff;
    expect(parseOptionRom(bad).problems).toEqual([expect.stringMatching(/^image 0 \(x86\) at 0x0: checksum \d+, not 0$/)]);
    expect(parseOptionRom(Buffer.alloc(0))).toMatchObject({ kind: 'none', images: [], problems: [] });
  });

  it('a chain without a last flag stops at the end of the ROM, and at 16 images', () => {
    const images = Array.from({ length: 20 }, () => romImage({ vendor: 1, device: 2, codeType: 0, last: false }));
    expect(parseOptionRom(Buffer.concat(images)).images).toHaveLength(16);
    expect(parseOptionRom(Buffer.concat(images.slice(0, 3))).images).toHaveLength(3);
  });
});
