import type { CheckResult, DoctorReport } from '@passthru/iommu-check';
import type { CliContext } from '../../context';
import { headline, hostLine, STATUS_COLOUR } from './host';
import { paint, renderTable } from '../../render/output';

/** The doctor's table; with --device, each asked device's readiness after it. */
export function renderDoctor(ctx: CliContext, report: DoctorReport, asked: ReadonlyArray<{ address: string; status: string; summary: string }> = []): string {
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
  if (asked.length > 0)
    text += `\nReadiness:\n${renderTable(
      ['DEVICE', 'STATUS', 'SUMMARY'],
      asked.map((d) => [d.address, d.status, d.summary]),
    )}`;
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
