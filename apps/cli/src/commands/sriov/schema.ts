import { FileChangeSchema, SriovGuardFindingSchema, SriovPlanSchema, SriovResultSchema } from '@passthru/vfio-binder';
import * as z from 'zod';
import { SchemaVersion } from '../../render/schema';

export const SriovOutputSchema = z.union([
  z.object({
    schemaVersion: SchemaVersion,
    dryRun: z.literal(true),
    plan: SriovPlanSchema,
    guards: z.array(SriovGuardFindingSchema),
    unit: z
      .object({ unit: z.string(), changes: z.array(FileChangeSchema), followUp: z.array(z.string()) })
      .optional()
      .describe('--persist: the boot unit, written after the VFs in the same transaction'),
  }),
  z.object({ schemaVersion: SchemaVersion, result: SriovResultSchema, guards: z.array(SriovGuardFindingSchema) }),
]);
