/**
 * The readiness report of `passthru doctor` (its JSON output, with `schemaVersion` added by the
 * CLI). Check ids are stable: scripts select checks by id. The types are inferred from the
 * report's zod schemas (./schemas); this module holds none, so what imports it does not load zod.
 */
import type * as z from 'zod';
import type { CheckResultSchema, CheckStatusSchema, DoctorReportSchema, HostIdentitySchema, VerdictSchema } from './schemas';

export const CHECK_STATUSES = ['PASS', 'WARN', 'FAIL', 'SKIP'] as const;
export type CheckStatus = z.infer<typeof CheckStatusSchema>;

export type CheckResult = z.infer<typeof CheckResultSchema>;

/**
 * `incomplete`: no check failed, but the tree lacks whole layers of evidence (a partial
 * capture without /sys/firmware or /sys/kernel): readiness is neither shown nor refuted.
 */
export const VERDICTS = ['ready', 'not-ready', 'ready-with-warnings', 'incomplete'] as const;
export type DoctorVerdict = z.infer<typeof VerdictSchema>;

export type HostIdentity = z.infer<typeof HostIdentitySchema>;

export type DoctorReport = z.infer<typeof DoctorReportSchema>;

/**
 * Any FAIL -> not-ready (a FAIL rests on evidence that is there); else absent layers ->
 * incomplete; else any WARN -> ready-with-warnings; SKIP counts as neither.
 */
export function verdictOf(checks: readonly Pick<CheckResult, 'status'>[], absent: readonly string[] = []): DoctorVerdict {
  if (checks.some((c) => c.status === 'FAIL')) return 'not-ready';
  if (absent.length > 0) return 'incomplete';
  if (checks.some((c) => c.status === 'WARN')) return 'ready-with-warnings';
  return 'ready';
}
