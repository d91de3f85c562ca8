import { LxcEditPlanSchema } from '@passthru/lxd-device-attach';
import * as z from 'zod';
import { SchemaVersion } from '../../render/schema';

/** `passthru attach --lxc` and `detach --lxc`: the plan, and what was written and checked inside the container (nothing with --dry-run). */
export const LxcEditOutputSchema = z.object({
  schemaVersion: SchemaVersion,
  dryRun: z.boolean(),
  plan: LxcEditPlanSchema,
  written: z.array(z.string()).describe('the backup and the config, in the order written'),
  verified: z.array(z.string()).describe('device nodes checked inside the running container after the hot-plug (present after attach, absent after detach)'),
});
