import { Option } from 'commander';
import { SERVERS, auditFailed, auditLxd, auditSarif, type AuditReport, type Finding } from '@passthru/lxd-device-attach';
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
    // The server audited, by name, product and version: "server h1 (Incus 6.0.4)".
    ...rows(
      out,
      `server ${report.server.name ?? report.server.server}${report.server.version ? ` (${SERVERS[report.server.server].product} ${report.server.version})` : ''}`,
      report.server.findings,
    ),
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
  lxc?: boolean;
  lxcpath?: string;
}

export const auditCommand: CommandSpec = {
  register(program, run) {
    program
      .command('audit')
      .description(
        "Audit LXD or Incus against its security checklist: the server's config, version, certificates and trust tokens, socket access, projects and instances, with fix lines for that server's client (exit 1 on any high or critical finding)",
      )
      .argument(
        '[instance...]',
        'instances to audit (default: every instance of the project); with --lxc: containers by name, or config files (a path: /var/lib/lxc/NAME/config, /etc/pve/lxc/ID.conf)',
      )
      .option('--all', 'every instance of every project')
      .option('--project <project>', 'project (LXD or Incus)')
      .option('--lxc', 'audit plain LXC containers from their config files (includes followed; Proxmox VE .conf files too) instead of LXD or Incus')
      .option('--lxcpath <dir>', 'with --lxc: the containers folder (default: lxc.lxcpath of /etc/lxc/lxc.conf, else /var/lib/lxc)')
      .addOption(new Option('--format <format>', 'table, json or sarif (SARIF 2.1.0 for code scanning)').choices(['table', 'json', 'sarif']))
      .addHelpText(
        'after',
        '\nExamples:\n  passthru audit --all\n  passthru audit c1 c2 --project lab --format json | jq \'.instances[].findings[] | select(.severity=="critical")\'\n  passthru audit --all --format sarif > passthru-audit.sarif\n  passthru audit --lxc\n  passthru audit --lxc /etc/pve/lxc/101.conf --format json',
      )
      .action(
        run<AuditOptions>(async (ctx, options, args) => {
          if (options.all && args.length > 0) throw new CliError('audit takes INSTANCEs or --all, not both');
          if (options.lxc || options.lxcpath !== undefined) {
            if (!options.lxc || options.project)
              throw new CliError(options.lxc ? 'plain LXC has no projects: --project goes without --lxc' : '--lxcpath goes with --lxc');
            return (await import('./lxc')).auditLxcCommand(ctx, args, options.lxcpath);
          }
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
