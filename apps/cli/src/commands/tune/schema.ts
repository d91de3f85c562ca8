import { SysctlPlanSchema } from '@passthru/lxd-device-attach';
import * as z from 'zod';
import { SchemaVersion } from '../../render/schema';

/** `passthru tune`: the /etc/sysctl.d plan, and what was written (nothing with --dry-run or when up to date). */
export const TuneOutputSchema = z.object({ schemaVersion: SchemaVersion, dryRun: z.boolean(), plan: SysctlPlanSchema, written: z.array(z.string()) });
