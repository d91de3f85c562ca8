import { HostFsError, type HostFs } from '@passthru/hostfs';
import { canonicalParamKey, parseCmdline } from '@passthru/boot-config';
import { parseInterruptRemapping } from '@passthru/iommu-check';
import { scanPciDevices, type PciScan, PCI_DEVICES } from '@passthru/pci-discovery';
import { readHost, VFIO_DRIVER, type DeviceStatus, type HostView } from '@passthru/vfio-binder';
import { ExportersError } from './ExportersError';
import { HostReportSchema, type DeviceReadiness, type ExportDevice, type ExportGroup, type HostReport } from './HostReport';

/** The published readiness of a device: vfio-binder's, with `shared-group` folded into `bindable` (a bind moves its group). */
const PUBLISHED: Record<DeviceStatus, DeviceReadiness> = {
  ready: 'ready',
  bindable: 'bindable',
  'shared-group': 'bindable',
  guarded: 'guarded',
  'group-not-viable': 'group-not-viable',
  'no-group': 'no-group',
  'not-passable': 'not-passable',
  bridge: 'bridge',
};

export interface ReadHostReportOptions {
  /** A scan already made (the CLI's, with names and its problems said on stderr). */
  scan?: PciScan;
}

function readOptional(host: HostFs, path: string): string | undefined {
  try {
    return host.readTextIfExists(path);
  } catch (error) {
    if (error instanceof HostFsError) return undefined;
    throw error;
  }
}

/**
 * The host as the renderers see it: vfio-binder's read model (`readHost`: the scan, each group's
 * and device's readiness, the host checks and THE verdict, the VM-ready groups), the same that
 * `doctor`, `report` and `fleet publish` render, cut down to what the exporters publish.
 * `now` is the scan time.
 */
export function readHostReport(host: HostFs, options: ReadHostReportOptions = {}, now: () => Date = () => new Date()): HostReport {
  const scannedAt = now();
  let scan: PciScan;
  try {
    scan = options.scan ?? scanPciDevices(host);
  } catch (error) {
    if (!(error instanceof HostFsError)) throw error;
    scan = { devices: [], problems: [{ address: PCI_DEVICES, message: error.message }] };
  }
  let view: HostView;
  let readiness: HostView['readiness'];
  try {
    view = readHost(host, { scan });
    // The read model reads groups, owners and guards on first use: here, inside the try.
    readiness = view.readiness;
  } catch (error) {
    if (!(error instanceof HostFsError)) throw error;
    throw new ExportersError(`Failed reading IOMMU groups via ${host.root}/sys/kernel/iommu_groups: ${error.message}`, { cause: error });
  }
  const { devices, doctor } = view;
  const exportGroups: ExportGroup[] = readiness.groups.map((g) => ({
    id: g.id,
    devices: g.devices,
    endpoints: g.endpoints,
    bridges: g.bridges,
    viable: g.viable,
    platformFunctions: g.platformFunctions,
    status: g.status,
    vmReady: view.vmReadyGroups.includes(g.id),
  }));

  const exportDevices: ExportDevice[] = devices.map((d, i) => {
    const { status, owner } = readiness.devices[i]!; // hostReadiness keeps scan order
    const ours = owner?.kind === 'passthru' || owner?.kind === 'adopted';
    const drift = ours && d.driver !== VFIO_DRIVER ? 'journal-not-bound' : owner?.kind === 'other' && d.driver === VFIO_DRIVER ? 'bound-unrecorded' : null;
    return {
      address: d.address,
      vendorId: d.vendorId,
      deviceId: d.deviceId,
      class: d.class,
      driver: d.driver,
      iommuGroup: d.iommuGroup,
      resetMethods: d.resetMethods,
      isBridge: d.isBridge,
      sriov: d.sriov === null ? null : d.sriov.role === 'pf' ? { role: 'pf' } : { role: 'vf', physfn: d.sriov.physfn },
      net: d.net,
      owner: owner?.kind ?? null,
      readiness: PUBLISHED[status],
      drift,
    };
  });

  const status = (id: string) => doctor.checks.find((c) => c.id === id)?.status;
  const interrupts = readOptional(host, '/proc/interrupts');
  const cmdline = readOptional(host, '/proc/cmdline') ?? '';
  const iommuEnabled = status('iommu.kernel') === 'PASS';
  const report: HostReport = {
    scannedAt: scannedAt.toISOString(),
    verdict: view.verdict,
    checks: doctor.checks.map((c) => ({ id: c.id, status: c.status, summary: c.summary })),
    facts: {
      iommuEnabled,
      interruptRemapping: interrupts !== undefined ? parseInterruptRemapping(interrupts).remapped : status('irq.remapping') === 'PASS',
      acsOverride: parseCmdline(cmdline).params.some((p) => canonicalParamKey(p.key) === 'pcie_acs_override'),
      vfioReady: iommuEnabled && status('vfio.modules') === 'PASS',
    },
    devices: exportDevices,
    groups: exportGroups,
  };
  // The boundary the renderers trust: a report that does not parse is a bug here, not bad input.
  return HostReportSchema.parse(report);
}
