// Option ROM images (issue 26): the PCIR chain, code types, the EFI header, the x86 checksum,
// the last-image flag, and what does not parse said, never thrown.
import { describe, expect, it } from 'vitest';
import { guestMachineOf, parseOptionRom, romFitFor } from '../src/optionRom';
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

describe('romFitFor: what a UEFI guest runs of a ROM for one device', () => {
  const A4000 = { vendorId: '10de', deviceId: '24b0' };
  const legacy = romImage({ vendor: 0x10de, device: 0x24b0, codeType: 0, last: false, blocks: 2 });

  it('an EFI x64 boot-service driver for the device: uefi (that image); for another device: other-ids', () => {
    const rom = parseOptionRom(Buffer.concat([legacy, romImage({ vendor: 0x10de, device: 0x24b0, codeType: 3, last: true })]));
    expect(romFitFor(rom, A4000)).toEqual({ fit: 'uefi', image: rom.images[1] });
    expect(romFitFor(rom, { vendorId: '1002', deviceId: '6798' })).toEqual({ fit: 'other-ids', image: rom.images[1] });
  });

  it('the machine type decides: aa64 only is other-machine for x64 and uefi for aa64; EBC runs on both', () => {
    const arm = parseOptionRom(romImage({ vendor: 0x10de, device: 0x24b0, codeType: 3, last: true, efiMachine: 0xaa64 }));
    expect(romFitFor(arm, A4000, 'x64')).toMatchObject({ fit: 'other-machine', images: [expect.objectContaining({ codeType: 'efi' })] });
    expect(romFitFor(arm, A4000, 'aa64').fit).toBe('uefi');
    const ebc = parseOptionRom(romImage({ vendor: 0x10de, device: 0x24b0, codeType: 3, last: true, efiMachine: 0x0ebc }));
    expect([romFitFor(ebc, A4000, 'x64').fit, romFitFor(ebc, A4000, 'aa64').fit]).toEqual(['uefi', 'uefi']);
  });

  it('legacy only is legacy; an EFI application (not a driver) or an image cut short does not run', () => {
    expect(romFitFor(parseOptionRom(romImage({ vendor: 0x10de, device: 0x24b0, codeType: 0, last: true })), A4000).fit).toBe('legacy');
    const app = romImage({ vendor: 0x10de, device: 0x24b0, codeType: 3, last: true });
    app.writeUInt16LE(10, 8); // EFI_IMAGE_SUBSYSTEM_EFI_APPLICATION
    expect(romFitFor(parseOptionRom(app), A4000).fit).toBe('other-machine');
    const cut = romImage({ vendor: 0x10de, device: 0x24b0, codeType: 3, last: true, blocks: 4 }).subarray(0, 1024);
    expect(romFitFor(parseOptionRom(cut), A4000).fit).toBe('other-machine');
    expect(romFitFor(parseOptionRom(Buffer.alloc(0)), A4000).fit).toBe('none');
  });
});

describe('guestMachineOf', () => {
  it('x64 on x86 CPUs, aa64 on arm64 (the CPU architecture line, asimd, or the kernel release)', () => {
    expect(guestMachineOf('vendor_id\t: GenuineIntel\nflags\t\t: fpu vmx\n')).toBe('x64');
    expect(guestMachineOf('vendor_id\t: AuthenticAMD\n', '6.1.0-28-arm64')).toBe('x64');
    expect(guestMachineOf('processor\t: 0\nFeatures\t: fp asimd evtstrm\nCPU architecture: 8\n')).toBe('aa64');
    expect(guestMachineOf('', '6.1.0-28-arm64')).toBe('aa64');
    expect(guestMachineOf('')).toBe('x64');
  });
});
