import * as z from 'zod';

export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** One audit finding; `id` is stable (scripts filter on it), `fix` says what to change. */
export const FindingSchema = z.object({
  id: z.string(),
  severity: z.enum(SEVERITIES),
  summary: z.string(),
  fix: z.string(),
});
export type Finding = z.infer<typeof FindingSchema>;

export const severityRank = (s: Severity) => SEVERITIES.indexOf(s);
export const isSerious = (f: Finding) => f.severity === 'critical' || f.severity === 'high';
export const bySeverity = (a: Finding, b: Finding) => severityRank(a.severity) - severityRank(b.severity) || a.id.localeCompare(b.id);
/** Most severe first, then by id (the order every audit list uses). */
export const sortFindings = (findings: Finding[]) => findings.sort(bySeverity);
