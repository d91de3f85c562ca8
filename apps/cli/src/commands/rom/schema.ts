import { AddressSchema as Address } from '@passthru/vfio-binder';
import * as z from 'zod';
import { SchemaVersion } from '../../render/schema';

export const RomImageSchema = z.object({
  offset: z.number().int(),
  length: z.number().int().describe('Bytes, from the PCIR image length (512-byte units)'),
  codeType: z.enum(['x86', 'open-firmware', 'hp-pa-risc', 'efi', 'other']),
  codeTypeByte: z.number().int(),
  vendorId: z.string(),
  deviceId: z.string(),
  class: z.string(),
  last: z.boolean(),
  checksumOk: z.boolean().nullable().describe('x86 images: the bytes sum to 0 mod 256; null for other code types'),
  efi: z.object({ machine: z.string(), subsystem: z.string(), compressed: z.boolean() }).optional(),
});
export const RomOutputSchema = z.object({
  schemaVersion: SchemaVersion,
  address: Address,
  file: z.string().optional().describe('rom dump: where the verified images were written; rom show --file: the file parsed'),
  bytes: z.number().int().optional().describe('rom dump: the bytes written'),
  rom: z.object({
    size: z.number().int(),
    images: z.array(RomImageSchema),
    kind: z.enum(['legacy', 'efi', 'both', 'none']).describe('What a UEFI guest can use: efi or both (an EFI image for x64 or EBC)'),
    problems: z.array(z.string()),
  }),
  fit: z
    .object({
      machine: z.enum(['x64', 'aa64']).describe("The EFI machine type of this host's VMs (OVMF on x86-64, AAVMF on arm64)"),
      device: z.string().nullable().describe("ADDRESS's vendor:device on this host; null when it is not a device here (the ROM's own ids stand in)"),
      fit: z
        .enum(['uefi', 'other-ids', 'other-machine', 'legacy', 'none'])
        .describe(
          'uefi: an EFI driver image of that machine type for the device; other-ids: one for another device; other-machine: EFI images, none it runs; legacy: x86 code only',
        ),
      runs: z.boolean().describe('A UEFI guest runs an image of the file for the device (fit is uefi)'),
      image: z.number().int().optional().describe('The index of that EFI image'),
    })
    .optional()
    .describe('rom show --file: what a UEFI guest on this host makes of FILE for the device at ADDRESS'),
});
