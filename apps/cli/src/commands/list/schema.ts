import { GpuModesSchema, PciDeviceSchema, ScanProblemSchema } from '@passthru/pci-discovery';
import * as z from 'zod';
import { OwnerField, SchemaVersion } from '../../render/schema';

export const ListOutputSchema = z.object({
  schemaVersion: SchemaVersion,
  root: z.string(),
  devices: z.array(
    PciDeviceSchema.extend({
      owner: OwnerField,
      gpuModes: GpuModesSchema.optional().describe('GPUs (class 03xx) only: how LXD and Incus can attach it (gputype physical, mdev, sriov, mig)'),
    }),
  ),
  problems: z.array(ScanProblemSchema),
});
