import { PciDeviceSchema, ScanProblemSchema } from '@passthru/pci-discovery';
import * as z from 'zod';
import { OwnerField, SchemaVersion } from '../../render/schema';

export const ListOutputSchema = z.object({
  schemaVersion: SchemaVersion,
  root: z.string(),
  devices: z.array(PciDeviceSchema.extend({ owner: OwnerField })),
  problems: z.array(ScanProblemSchema),
});
