import { ApplyResultSchema, BindPlanSchema, GuardFindingSchema } from '@passthru/vfio-binder';
import * as z from 'zod';
import { SchemaVersion } from '../../render/schema';

export const BindOutputSchema = z.union([
  z.object({ schemaVersion: SchemaVersion, dryRun: z.literal(true), plan: BindPlanSchema, guards: z.array(GuardFindingSchema) }),
  z.object({ schemaVersion: SchemaVersion, result: ApplyResultSchema, guards: z.array(GuardFindingSchema) }),
]);
