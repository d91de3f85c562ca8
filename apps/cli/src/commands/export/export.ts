import { Argument, Option } from 'commander';
import {
  NFD_DEFAULT_TTL_SECONDS,
  NFD_FEATURES_DIR,
  NFD_FILE_NAME,
  PROMETHEUS_TEXTFILE,
  DEFAULT_RESOURCE_PREFIX,
  readHostReport,
  writeFileAtomic,
} from '@passthru/exporters';
import type { CommandSpec } from '../../command';
import { CliError, EXIT } from '../../CliError';
import { scanHost } from '../../host';
import { KINDS, exportFile, renderExport, type Kind } from './files';

/** The longest --ttl: ten years of seconds. */
const MAX_TTL_SECONDS = 315_360_000;

export const exportCommand: CommandSpec = {
  register(program, run) {
    program
      .command('export')
      .description(
        'Publish readiness where Kubernetes and monitoring look: an NFD feature file, a Prometheus textfile, KubeVirt permittedHostDevices, SR-IOV device plugin config',
      )
      .addArgument(new Argument('<kind>', 'nfd, prometheus, kubevirt or sriov-dp').choices([...KINDS]))
      .argument(
        '[path]',
        `nfd: the features.d folder (default ${NFD_FEATURES_DIR}; gets the file "${NFD_FILE_NAME}"); prometheus: the .prom file (default ${PROMETHEUS_TEXTFILE}); kubevirt, sriov-dp: a file (default stdout); "-" for stdout`,
      )
      .addOption(
        new Option('--ttl <seconds>', 'nfd: seconds the labels stand without a newer export (# +expiry-time=)').default(String(NFD_DEFAULT_TTL_SECONDS)),
      )
      .option('--bound-only', 'kubevirt, sriov-dp: only devices already on vfio-pci in a viable group (default: also those `bind` would make ready)')
      .addOption(new Option('--resource-prefix <prefix>', 'kubevirt, sriov-dp: the resource name prefix').default(DEFAULT_RESOURCE_PREFIX))
      .addHelpText(
        'after',
        `\nThe host is read with --root (a DaemonSet mounts the node's / at /host: --root /host); the output paths are plain paths of the machine passthru runs on. Files are written atomically (a dot-file in the same folder, fsync, rename). kubevirt prints YAML (JSON with --format json); sriov-dp prints the plugin's config.json.\nExit status: 0 written (whatever the verdict: it is in the data), 1 reading the host or writing failed, 2 bad input (a missing folder, a bad --ttl; nothing written).\n\nExamples:\n  passthru export nfd\n  passthru --root /host export prometheus /var/lib/prometheus/node-exporter/passthru.prom\n  passthru --root fixtures/hosts/intel-workstation export prometheus -\n  passthru export kubevirt --bound-only\n  passthru --root fixtures/hosts/sriov-server export sriov-dp`,
      )
      .action(
        run<{ ttl: string; boundOnly?: boolean; resourcePrefix: string }>(async (ctx, options, args) => {
          const kind = args[0] as Kind;
          const target = args[1];
          if (!KINDS.includes(kind)) throw new CliError(`export: KIND must be one of ${KINDS.join(', ')}`, EXIT.usage);
          if (ctx.format === 'json' && (kind === 'nfd' || kind === 'prometheus'))
            throw new CliError(
              `export ${kind} writes ${kind === 'nfd' ? "NFD's feature file" : "Prometheus' text format"}; --format json is for kubevirt and sriov-dp`,
              EXIT.usage,
            );
          const ttl = Number(options.ttl);
          // Ten years at most: the expiry stays a date (JavaScript's dates end in the year 275760).
          if (!/^\d+$/.test(options.ttl) || ttl < 1 || ttl > MAX_TTL_SECONDS)
            throw new CliError(`--ttl must be a whole number of seconds from 1 to ${MAX_TTL_SECONDS} (ten years) (got '${options.ttl}')`, EXIT.usage);
          if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(options.resourcePrefix) || options.resourcePrefix.length > 253)
            throw new CliError(`--resource-prefix must be a DNS subdomain such as ${DEFAULT_RESOURCE_PREFIX} (got '${options.resourcePrefix}')`, EXIT.usage);
          const file = exportFile(ctx, kind, target);
          const report = readHostReport(ctx.host, { scan: await scanHost(ctx) });
          const text = renderExport(ctx, kind, report, { ...options, ttl });
          if (file === undefined) ctx.out.raw.stdout.write(text);
          else {
            writeFileAtomic(file, text);
            ctx.verbose(`wrote ${file} (${Buffer.byteLength(text)} bytes; verdict ${report.verdict})`);
          }
          return EXIT.ok;
        }),
      );
  },
};
