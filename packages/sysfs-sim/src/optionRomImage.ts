// A device's option ROM as the kernel's `rom` attribute reads it, built from a compact spec (issue
// 26): a chain of PCI expansion ROM images (PCI Firmware Specification 3.0; UEFI's "PCI Option
// ROM"), each a 0x55AA header, a PCIR data structure (vendor, device, class, length in 512-byte
// blocks, code type, last-image flag) and, for EFI, the EFI header (machine, subsystem). A real
// read returns the chain up to the last image (pci_get_rom_size), never the BAR's padding. The
// code inside is filler: what readers check is the structure. The product parses ROMs
// (pci-discovery's optionRom.ts); only the simulator builds them.
import * as z from 'zod';

const EFI_MACHINES = { x64: 0x8664, ia32: 0x014c, aa64: 0xaa64, ebc: 0x0ebc } as const;

export const RomImageSpecSchema = z.object({
  /** legacy: x86 PC-AT code (PCIR code type 0, checksummed as a BIOS checks it); efi: an EFI driver (code type 3). */
  type: z.enum(['legacy', 'efi']),
  /** The PCIR's vendor:device; the device's own when absent (a ROM made for another card names that card's). */
  vendor: z
    .string()
    .regex(/^[0-9a-fA-F]{4}$/, 'rom.images[].vendor: expected 4 hex digits')
    .transform((s) => s.toLowerCase())
    .optional(),
  device: z
    .string()
    .regex(/^[0-9a-fA-F]{4}$/, 'rom.images[].device: expected 4 hex digits')
    .transform((s) => s.toLowerCase())
    .optional(),
  /** The image's size in KiB: whole 512-byte blocks (0.5 KiB steps), at most 65535 of them. */
  kib: z
    .number()
    .positive()
    .refine((k) => Number.isInteger(k * 2) && k * 2 <= 0xffff, 'rom.images[].kib: whole 512-byte blocks (steps of 0.5), at most 32767.5'),
  /** efi: the machine type of its code (x64 unless said; ebc: EFI byte code, which any UEFI firmware interprets). */
  machine: z.enum(['x64', 'ia32', 'aa64', 'ebc']).default('x64'),
});

/**
 * A device's ROM: `images` (the chain the card carries, in order; the last one gets the
 * last-image flag), or what the kernel's read returns for a boot GPU whose ROM the firmware
 * shadowed and never filled (a UEFI boot without CSM): `empty`, or `garbage` (bytes with no
 * 0x55AA signature), `kib` of them (the legacy shadow window is 128 KiB).
 */
export const RomSpecSchema = z
  .object({
    images: z.array(RomImageSpecSchema).min(1).optional(),
    reads: z.enum(['empty', 'garbage']).optional(),
    kib: z.number().int().min(1).max(16384).default(128),
  })
  .refine((r) => (r.images === undefined) !== (r.reads === undefined), 'rom: give images (what the ROM holds) or reads (empty, garbage), not both');

export type RomImageSpec = z.infer<typeof RomImageSpecSchema>;
export type RomSpec = z.infer<typeof RomSpecSchema>;

/** The device a ROM belongs to: its ids and class code (6 hex digits). */
interface RomOwner {
  address: string;
  vendor: string;
  device: string;
  class: string;
}

const PCIR = 0x1c;
const EFI_IMAGE = 0x40;

/** One image: header, PCIR, EFI header and a PE stub for EFI, filler code, checksum for legacy. */
function image(spec: RomImageSpec, owner: RomOwner, last: boolean): Buffer {
  const blocks = spec.kib * 2;
  const b = Buffer.alloc(blocks * 512);
  b.writeUInt16LE(0xaa55, 0);
  if (spec.type === 'efi') {
    b.writeUInt16LE(blocks, 0x02); // InitializationSize
    b.writeUInt32LE(0x0ef1, 0x04); // EfiSignature
    b.writeUInt16LE(11, 0x08); // EFI_IMAGE_SUBSYSTEM_EFI_BOOT_SERVICE_DRIVER
    b.writeUInt16LE(EFI_MACHINES[spec.machine], 0x0a);
    b.writeUInt16LE(0, 0x0c); // not compressed
    b.writeUInt16LE(EFI_IMAGE, 0x16); // EfiImageHeaderOffset
    b.write('MZ', EFI_IMAGE, 'latin1');
  } else {
    b[0x02] = Math.min(blocks, 0xff); // initialization size, 512-byte blocks
    b[0x03] = 0xe9; // jmp near: the BIOS calls offset 3
  }
  b.writeUInt16LE(PCIR, 0x18);
  b.write('PCIR', PCIR, 'latin1');
  b.writeUInt16LE(parseInt(spec.vendor ?? owner.vendor, 16), PCIR + 0x04);
  b.writeUInt16LE(parseInt(spec.device ?? owner.device, 16), PCIR + 0x06);
  b.writeUInt16LE(0x18, PCIR + 0x0a); // PCIR length
  b[PCIR + 0x0c] = 0; // PCIR revision
  // Class code, little-endian: programming interface, subclass, base class.
  b[PCIR + 0x0d] = parseInt(owner.class.slice(4, 6), 16);
  b[PCIR + 0x0e] = parseInt(owner.class.slice(2, 4), 16);
  b[PCIR + 0x0f] = parseInt(owner.class.slice(0, 2), 16);
  b.writeUInt16LE(blocks, PCIR + 0x10);
  b[PCIR + 0x14] = spec.type === 'efi' ? 3 : 0;
  b[PCIR + 0x15] = last ? 0x80 : 0;
  // Filler where the code would be, so the image is not all zeros.
  const code = spec.type === 'efi' ? EFI_IMAGE + 2 : PCIR + 0x18;
  for (let i = code; i < b.length - 1; i++) b[i] = (i * 151 + 7) & 0xff;
  if (spec.type === 'legacy') {
    let sum = 0;
    for (const byte of b) sum = (sum + byte) & 0xff;
    b[b.length - 1] = (0x100 - sum) & 0xff;
  }
  return b;
}

/** Bytes a shadow window the firmware never filled reads as: no 0x55AA, the same for the same device. */
function garbage(kib: number, seed: string): Buffer {
  const b = Buffer.alloc(kib * 1024);
  let x = 0x9e3779b9 | 0;
  for (const c of seed) x = Math.imul(x ^ c.charCodeAt(0), 0x01000193);
  x ||= 1;
  for (let i = 0; i < b.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  if (b[0] === 0x55 && b[1] === 0xaa) b[0] = 0;
  return b;
}

/** What the device's `rom` attribute reads (after the enable write): the image chain, or a shadowed boot GPU's empty or garbage read. */
export function buildOptionRom(rom: RomSpec, owner: RomOwner): Buffer {
  if (rom.reads === 'empty') return Buffer.alloc(0);
  if (rom.reads === 'garbage') return garbage(rom.kib, owner.address);
  const images = rom.images ?? [];
  return Buffer.concat(images.map((spec, i) => image(spec, owner, i === images.length - 1)));
}
