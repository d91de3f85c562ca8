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
  file: z.string().optional().describe('rom dump: where the verified images were written'),
  bytes: z.number().int().optional().describe('rom dump: the bytes written'),
  rom: z.object({
    size: z.number().int(),
    images: z.array(RomImageSchema),
    kind: z.enum(['legacy', 'efi', 'both', 'none']).describe('What a UEFI guest can use: efi or both (an EFI image for x64 or EBC)'),
    problems: z.array(z.string()),
  }),
});
