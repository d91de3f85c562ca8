import { BaselineDiffSchema } from '@passthru/baseline';
import * as z from 'zod';
import { SchemaVersion } from '../../render/schema';

export const BaselineSaveOutputSchema = z.object({ schemaVersion: SchemaVersion, file: z.string(), devices: z.number().int(), groups: z.number().int() });
export const BaselineDiffOutputSchema = BaselineDiffSchema.extend({ schemaVersion: SchemaVersion });
