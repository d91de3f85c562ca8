/** The shape every check returns, and the remediation text built from a boot-loader edit plan. */
import { type CmdlineEditSpec, describeCmdlinePlan } from '@passthru/boot-config';
import type { CheckResult, CheckStatus } from '../DoctorReport';
import type { Facts } from './Facts';

export function planRemediation(f: Facts, why: string, fallback: string, extra?: CmdlineEditSpec): string {
  const { plans, error } = f.plans(extra);
  const changed = plans.filter((p) => p.changed);
  if (error !== undefined) return `${why}${fallback} (no edit planned: ${error})`;
  if (changed.length === 0) return `${why}${fallback}`;
  return `${why}${changed.map((p) => `${capitalise(describeCmdlinePlan(p))}${p.loader === 'grub' ? '' : ` (${p.loader})`}:\n${p.diff.trimEnd()}`).join('\n')}\n(\`passthru persist\` applies this edit; \`--dry-run\` shows it.)`;
}

export function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function check(id: string, status: CheckStatus, summary: string, evidence: string[], remediation?: string): CheckResult {
  const c: CheckResult = { id, status, summary, evidence };
  if (remediation !== undefined && remediation !== '') c.remediation = remediation;
  return c;
}

export function excerpt(text: string, max = 200): string {
  const t = text.trim().replace(/\s+/g, ' ');
  return t.length > max ? `${t.slice(0, max)}...` : t;
}
