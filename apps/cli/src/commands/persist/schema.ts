import { PersistPlanSchema } from '@passthru/vfio-binder';
import * as z from 'zod';
import { SchemaVersion } from '../../render/schema';

export const PersistOutputSchema = z.object({ schemaVersion: SchemaVersion, dryRun: z.literal(true), plan: PersistPlanSchema });
