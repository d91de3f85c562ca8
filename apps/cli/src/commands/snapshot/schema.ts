import type { CaptureResult } from '@passthru/sysfs-sim';
import * as z from 'zod';
import { SchemaVersion } from '../../render/schema';

export const SnapshotOutputSchema = z.object({
  schemaVersion: SchemaVersion,
  outDir: z.string(),
  devices: z.number().int(),
  files: z.number().int(),
  skipped: z.array(z.string()),
});

// The schema's type and sysfs-sim's interface accept each other (tsc fails when one drifts).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const assertSame = <T extends true>(): T | undefined => undefined;
assertSame<Same<Omit<z.infer<typeof SnapshotOutputSchema>, 'schemaVersion' | 'outDir'>, CaptureResult>>();
