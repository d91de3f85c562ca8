import {
  RecoveryPlanSchema,
  RecoveryResultSchema,
  RestorePlanSchema,
  RestoreResultSchema,
  SriovRestorePlanSchema,
  SriovRestoreResultSchema,
} from '@passthru/vfio-binder';
import * as z from 'zod';
import { SchemaVersion } from '../../render/schema';

export const RestoreOutputSchema = z.union([
  z.object({
    schemaVersion: SchemaVersion,
    dryRun: z.literal(true),
    plan: RestorePlanSchema,
    recovery: RecoveryPlanSchema.optional(),
    sriov: z.array(SriovRestorePlanSchema).optional(),
  }),
  z.object({
    schemaVersion: SchemaVersion,
    result: RestoreResultSchema,
    recovery: RecoveryResultSchema.optional(),
    sriov: z.array(SriovRestoreResultSchema).optional(),
  }),
]);
