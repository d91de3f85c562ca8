import * as path from 'node:path';
import { auditLxc, lxcAuditFailed, lxcAuditSarif, type LxcAuditReport } from '@passthru/lxd-device-attach';
import type { CliContext } from '../../context';
import { EXIT } from '../../CliError';
import { paint, printJson, renderTable, type Colour, type Output } from '../../render/output';
import { version } from '../../version';
import { lxcPathOption } from '../attach/lxc';

const COLOURS: Record<string, Colour> = { critical: 'red', high: 'red', medium: 'yellow', low: 'gray' };

/** The plain-LXC audit as a table: one row per finding (its file:line, `config:N` for the container's own), then the notes. */
export function renderLxcAudit(out: Output, report: LxcAuditReport): string {
  const rows = report.containers.flatMap((c) => {
    if (c.findings.length === 0) return [[c.name, paint(out, 'green', 'ok'), '-', '-', 'no findings', '-']];
    return c.findings.map((f) => {
      const where = f.file === null ? '-' : `${f.file === c.config ? 'config' : f.file}${f.line === null ? '' : `:${f.line}`}`;
      return [c.name, paint(out, COLOURS[f.severity]!, f.severity), f.id, where, f.summary, f.fix];
    });
  });
  const notes = report.containers.flatMap((c) => c.notes.map((n) => `note (${c.name}): ${n}`));
  const head = report.lxcpath ? `lxcpath ${report.lxcpath}; ` : '';
  const host = `${head}AppArmor ${report.host.apparmor ? 'enabled' : 'not enabled'}; devices cgroup ${report.host.cgroup}\n`;
  if (report.containers.length === 0) return `${host}no containers in ${report.lxcpath} (a folder with a config file each)\n`;
  return `${host}${renderTable(['CONTAINER', 'SEVERITY', 'ID', 'WHERE', 'SUMMARY', 'FIX'], rows)}${notes.map((n) => `${n}\n`).join('')}`;
}

/**
 * `audit --lxc [NAME|FILE...]`: plain LXC containers of the lxcpath (every one, or those named)
 * and config files (an argument with a `/`; relative to the current folder on this machine).
 * Exit 1 on any high or critical finding, as the LXD audit.
 */
export function auditLxcCommand(ctx: CliContext, args: string[], lxcpath: string | undefined): number {
  const targets = args.map((a) => (a.includes('/') && ctx.host.isLive ? path.resolve(a) : a));
  const given = lxcPathOption(ctx, lxcpath);
  const report = auditLxc(ctx.host, { targets, ...(given !== undefined ? { lxcpath: given } : {}) });
  if (ctx.format === 'sarif') ctx.out.stdout.write(`${JSON.stringify(lxcAuditSarif(report, version), null, 2)}\n`);
  else if (ctx.format === 'json') printJson(ctx.out, report);
  else ctx.out.stdout.write(renderLxcAudit(ctx.out, report));
  return lxcAuditFailed(report) ? EXIT.failed : EXIT.ok;
}
