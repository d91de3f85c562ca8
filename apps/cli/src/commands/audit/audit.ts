import { Option } from 'commander';
import { auditFailed, auditLxd, auditSarif, type AuditReport, type Finding } from '@passthru/lxd-device-attach';
import { version } from '../../version';
import type { CommandSpec } from '../../command';
import { CliError, EXIT } from '../../CliError';
import { paint, printJson, renderTable, type Colour, type Output } from '../../render/output';
import { lxdClientFor } from '../../lxd';

const COLOURS: Record<Finding['severity'], Colour> = { critical: 'red', high: 'red', medium: 'yellow', low: 'gray' };

function rows(out: Output, scope: string, findings: Finding[]): string[][] {
  if (findings.length === 0) return [[scope, paint(out, 'green', 'ok'), '-', 'no findings', '-']];
  return findings.map((f) => [scope, paint(out, COLOURS[f.severity], f.severity), f.id, f.summary, f.fix]);
}

export function renderAudit(out: Output, report: AuditReport): string {
  const sysctl = report.host.findings.filter((f) => f.id === 'server-sysctl');
  const all = [
    ...rows(out, `server ${report.server.name ?? 'lxd'}${report.server.version ? ` (LXD ${report.server.version})` : ''}`, report.server.findings),
    ...(report.host.socket
      ? rows(
          out,
          `socket ${report.host.socket.path}`,
          report.host.findings.filter((f) => f.id !== 'server-sysctl'),
        )
      : []),
    ...(sysctl.length > 0 ? rows(out, 'host /proc/sys', sysctl) : []),
    ...report.projects.flatMap((p) => rows(out, `project ${p.name}`, p.findings)),
    ...report.instances.flatMap((i) => rows(out, `${i.project}/${i.name}`, i.findings)),
  ];
  return renderTable(['SCOPE', 'SEVERITY', 'ID', 'SUMMARY', 'FIX'], all);
}

interface AuditOptions {
  all?: boolean;
  project?: string;
}

export const auditCommand: CommandSpec = {
  register(program, run) {
    program
      .command('audit')
      .description(
        "Audit LXD against its security checklist: the server's config, version and certificates, socket access, projects and instances (exit 1 on any high or critical finding)",
      )
      .argument('[instance...]', 'instances to audit (default: every instance of the project)')
      .option('--all', 'every instance of every project')
      .option('--project <project>', 'LXD project')
      .addOption(new Option('--format <format>', 'table, json or sarif (SARIF 2.1.0 for code scanning)').choices(['table', 'json', 'sarif']))
      .addHelpText(
        'after',
        '\nExamples:\n  passthru audit --all\n  passthru audit c1 c2 --project lab --format json | jq \'.instances[].findings[] | select(.severity=="critical")\'\n  passthru audit --all --format sarif > passthru-audit.sarif',
      )
      .action(
        run<AuditOptions>(async (ctx, options, args) => {
          if (options.all && args.length > 0) throw new CliError('audit takes INSTANCEs or --all, not both');
          const { client, remote } = lxdClientFor(ctx);
          const report = await auditLxd(client, remote ? undefined : ctx.host, {
            instances: args,
            all: Boolean(options.all),
            ...(options.project ? { project: options.project } : {}),
          });
          if (ctx.format === 'sarif') ctx.out.stdout.write(`${JSON.stringify(auditSarif(report, version), null, 2)}\n`);
          else if (ctx.format === 'json') printJson(ctx.out, report);
          else ctx.out.stdout.write(renderAudit(ctx.out, report));
          return auditFailed(report) ? EXIT.failed : EXIT.ok;
        }),
      );
  },
};
