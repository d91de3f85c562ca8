import type { CheckResult, DoctorReport } from '@passthru/iommu-check';
import type { CliContext } from './context';
import { headline, hostLine, STATUS_COLOUR } from './doctorHost';
import { paint, renderTable } from './output';

export function renderDoctor(ctx: CliContext, report: DoctorReport): string {
  const out = ctx.out;
  const colour = (c: CheckResult): string => paint(out, STATUS_COLOUR[c.status], c.status);
  const v =
    report.verdict === 'not-ready'
      ? paint(out, 'red', headline(report))
      : report.verdict === 'ready'
        ? paint(out, 'green', headline(report))
        : paint(out, 'yellow', headline(report));
  let text = `${v}\n${hostLine(report.host)}\n\n`;
  text += renderTable(
    ['STATUS', 'CHECK', 'SUMMARY'],
    report.checks.map((c) => [colour(c), c.id, c.summary]),
  );
  if (ctx.options.verbose) {
    text += '\nEvidence:\n';
    for (const c of report.checks) text += `  ${c.id}:\n${c.evidence.map((e) => `    ${e}`).join('\n')}\n`;
  }
  const fixes = report.checks.filter((c) => c.remediation !== undefined && (c.status === 'FAIL' || c.status === 'WARN'));
  if (fixes.length > 0) {
    text += '\nRemediation:\n';
    for (const c of fixes)
      text += `  ${colour(c)} ${paint(out, 'bold', c.id)}\n${c
        .remediation!.split('\n')
        .map((l) => `    ${l}`)
        .join('\n')}\n`;
  }
  return text;
}
