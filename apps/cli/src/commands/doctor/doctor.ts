import { Option } from 'commander';
import { HostFsError } from '@passthru/hostfs';
import { normalizePciAddress, type PciScan, PCI_DEVICES } from '@passthru/pci-discovery';
import { loadJournalRecords, readHostWith, type ReadHostOptions } from '@passthru/vfio-binder';
import type { CommandSpec } from '../../command';
import { CliError, EXIT } from '../../CliError';
import { liveIdentity } from './host';
import { renderDoctor } from './render';
import { scanHost } from '../../host';
import { printJson } from '../../render/output';

export const doctorCommand: CommandSpec = {
  register(program, run) {
    program
      .command('doctor')
      .description(
        'Check that this host is ready for PCI passthrough (firmware, kernel, cmdline, interrupt remapping, vfio, groups, ACS) and say exactly what to fix',
      )
      .addOption(
        new Option(
          '--device <bdf...>',
          "also check these devices: IOMMU group viability, ACS above them, reset, and what their option ROM gives a UEFI guest (read as root: the kernel's enable write to its rom attribute)",
        ),
      )
      .addOption(new Option('--format <format>', 'table or json').choices(['table', 'json']))
      .addHelpText(
        'after',
        '\nExit status: 0 ready (warnings allowed), 1 a check failed or the tree is incomplete (whole layers such as /sys/firmware or /sys/kernel absent: verdict "incomplete").\n\nExamples:\n  passthru doctor\n  passthru doctor --device 01:00.0\n  passthru doctor --format json | jq \'.checks[] | select(.status == "FAIL")\'\n  passthru --root fixtures/hosts/amd-shared-group doctor --device 0000:06:00.0',
      )
      .action(
        run<{ device?: string[] }>(async (ctx, options) => {
          const devices: string[] = [];
          for (const raw of options.device ?? []) {
            const a = normalizePciAddress(raw);
            if (a === undefined) throw new CliError(`--device ${raw}: not a PCI address (expected 0000:01:00.0 or 01:00.0)`, EXIT.usage);
            devices.push(a);
          }
          let scan: PciScan;
          try {
            // The host checks name no device and read none of its detail (ReadOptions.withoutDetail):
            // names and detail are read when devices are asked (their checks, and their groups', need them).
            scan = await scanHost(ctx, { names: devices.length > 0, detail: devices.length > 0 });
          } catch (error) {
            if (!(error instanceof HostFsError)) throw error;
            scan = { devices: [], problems: [{ address: PCI_DEVICES, message: error.message }] };
          }
          const readOptions: ReadHostOptions = { asked: devices, scan };
          if (ctx.host.isLive) readOptions.identity = await liveIdentity(ctx);
          // Who holds each device (the bind journal) counts only in the readiness of asked devices:
          // the journal is read, and its reader (zod) loaded, only when a device is asked about.
          const journal = devices.length ? await loadJournalRecords(ctx.host) : undefined;
          const view = readHostWith(ctx.host, readOptions, () => journal!);
          const report = view.doctor;
          // The asked devices' readiness, as report, export and fleet give it.
          const asked = (devices.length ? view.readiness.devices : [])
            .filter((r) => devices.includes(r.address))
            .map(({ address, status, summary }) => ({ address, status, summary }));
          if (scan.devices.length === 0) {
            ctx.note(
              `passthru: no PCI devices readable under ${ctx.host.isLive ? '' : ctx.host.root}/sys/bus/pci/devices (no PCI bus here, or reading is denied); to see a full report try: passthru --root fixtures/hosts/intel-workstation doctor`,
            );
          }
          if (ctx.format === 'json')
            printJson(ctx.out, {
              verdict: report.verdict,
              host: report.host,
              checks: report.checks,
              absent: report.absent,
              ...(devices.length ? { devices: asked } : {}),
            });
          else ctx.out.stdout.write(renderDoctor(ctx, report, asked));
          // incomplete exits 1 like not-ready: readiness is not shown, and `doctor && bind` must stop.
          return report.verdict === 'not-ready' || report.verdict === 'incomplete' ? EXIT.failed : EXIT.ok;
        }),
      );
  },
};
