import { Option } from 'commander';
import { writeOutputFile } from '@passthru/hostfs';
import { readHost } from '@passthru/vfio-binder';
import type { CommandSpec } from '../../command';
import { CliError, EXIT } from '../../CliError';
import { nvidiaSmiOf, scanHost } from '../../host';
import { paint, printJson } from '../../render/output';
import { buildReport } from './buildReport';
import { clusterSummary, readCluster } from './cluster';
import { renderHtml } from './renderHtml';
import { version } from '../../version';

interface ReportOptions {
  html?: string;
  cluster?: boolean;
}

export const reportCommand: CommandSpec = {
  register(program, run) {
    program
      .command('report')
      .description('Write the host as one self-contained HTML page: PCI tree, IOMMU groups, readiness, guards, doctor checks')
      .option('--html <file>', "write the HTML report to FILE ('-': stdout); no network, no external assets")
      .option(
        '--cluster',
        "add the LXD or Incus cluster: every member's state, published readiness and VM-ready devices, passthru's cluster groups (asks the server)",
      )
      .addOption(new Option('--format <format>', 'table (a summary line) or json (the report data on stdout)').choices(['table', 'json']))
      .addHelpText(
        'after',
        '\nExamples:\n  passthru report --html host.html && xdg-open host.html\n  passthru --root fixtures/hosts/sriov-server report --html sriov.html\n  passthru report --format json | jq \'.devices[] | select(.readiness.status == "ready") | .address\'\n  passthru report --cluster --html fleet.html\n\nExit codes: 0 written (an OFFLINE member is shown, not an error), 2 bad input (no --html and no --format json, FILE not writable, --cluster on a server that is no cluster).',
      )
      .action(
        run<ReportOptions>(async (ctx, options) => {
          if (!options.html && ctx.format !== 'json') throw new CliError('report needs --html FILE (or --format json for the data)', EXIT.usage);
          const started = Date.now();
          const cluster = options.cluster ? await readCluster(ctx) : undefined;
          const scan = await scanHost(ctx);
          const view = readHost(ctx.host, { scan, examine: 'endpoints', nvidiaSmi: await nvidiaSmiOf(ctx, scan.devices) });
          const report = buildReport({ host: ctx.host, view, version, ...(cluster ? { cluster } : {}) });
          if (options.html) {
            const html = renderHtml(report);
            if (options.html === '-') ctx.out.raw.stdout.write(html);
            else {
              // The one output writer: on any failure (a full disk included) nothing is written and the
              // old page stays whole, so a failed write is exit 2 like any other refusal.
              try {
                writeOutputFile(options.html, html);
              } catch (error) {
                throw new CliError(`Failed writing the report via ${options.html}: ${(error as Error).message}`, EXIT.usage, { cause: error });
              }
            }
            ctx.verbose(`report built in ${Date.now() - started} ms, ${html.length} bytes`);
            if (options.html !== '-' && ctx.format !== 'json') {
              const counts = (s: string) => report.devices.filter((d) => d.readiness.status === s).length;
              const verdict = paint(ctx.out, report.verdict === 'ready' ? 'green' : report.verdict === 'not-ready' ? 'red' : 'yellow', report.verdict);
              ctx.out.stdout.write(
                `Wrote ${options.html} (${Math.round(html.length / 1024)} KiB): ${report.devices.length} PCI functions, ${report.groups.length} IOMMU groups; ` +
                  `${counts('ready')} ready, ${counts('bindable') + counts('shared-group')} bindable, ${counts('guarded')} guarded, ${counts('not-passable')} not passable (platform), ${counts('no-group')} without a group; host verdict: ${verdict}${cluster ? `; ${clusterSummary(cluster)}` : ''}.\n`,
              );
            }
          }
          if (ctx.format === 'json' && options.html !== '-') printJson(ctx.out, report);
          return EXIT.ok;
        }),
      );
  },
};
