import { HostFsError, type HostFs } from '@passthru/hostfs';
import { canonicalParamKey, parseCmdline, parseInterruptRemapping, runChecks, type DoctorReport } from '@passthru/iommu-check';
import { platformFunctionsOf, readIommuGroups, scanPciDevices, type PciDevice, type PciScan, type PlatformFunction } from '@passthru/pci-discovery';
import { evaluateGuards, isForeign, planBind, readOwnership, VFIO_DRIVER, type GuardFinding } from '@passthru/vfio-binder';
import { ExportersError } from './ExportersError';
import { HostReportSchema, type DeviceReadiness, type ExportDevice, type ExportGroup, type HostReport } from './HostReport';

/** Drivers that leave a group viable (the kernel's vfio_dev_driver_allowed, and none). */
const VIABLE_DRIVERS = new Set([VFIO_DRIVER, 'pci-stub']);

export interface ReadHostReportOptions {
  /** A scan already made (the CLI's, with names and its problems said on stderr). */
  scan?: PciScan;
  /** The doctor checks; injected so the lead can point this at the readiness use case. */
  doctor?: (host: HostFs, scan: PciScan) => DoctorReport;
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
 * The host as the renderers see it, from today's APIs: the scan, the IOMMU groups with their
 * platform functions, who holds each device (journal, libvirt, driverctl), the guards a bind
 * of each group would meet, and `passthru doctor`'s checks and verdict (no --device: the same
 * verdict `passthru doctor` prints). `now` is the scan time.
 */
export function readHostReport(host: HostFs, options: ReadHostReportOptions = {}, now: () => Date = () => new Date()): HostReport {
  const scannedAt = now();
  let scan: PciScan;
  try {
    scan = options.scan ?? scanPciDevices(host);
  } catch (error) {
    if (!(error instanceof HostFsError)) throw error;
    scan = { devices: [], problems: [{ address: '/sys/bus/pci/devices', message: error.message }] };
  }
  const { devices } = scan;
  const doctor = (options.doctor ?? ((h, s) => runChecks(h, { devices: [], scan: s })))(host, scan);
  let groups: ReturnType<typeof readIommuGroups>;
  try {
    groups = readIommuGroups(host, devices);
  } catch (error) {
    throw new ExportersError(`Failed reading IOMMU groups via ${host.root}/sys/kernel/iommu_groups: ${(error as Error).message}`, { cause: error });
  }
  const byAddress = new Map(devices.map((d) => [d.address, d]));
  const platformOf = new Map<number, PlatformFunction[]>();
  for (const g of groups) {
    const found = platformFunctionsOf(g, byAddress);
    if (found.length > 0) platformOf.set(g.id, found);
  }
  const { owners } = readOwnership(host, devices);
  // One plan over every passable group's endpoints meets exactly the guards one plan per group
  // would (guards are judged per device), reading the host's state once (as `passthru report`).
  const endpoints = groups
    .filter((g) => !platformOf.has(g.id))
    .flatMap((g) => g.endpoints.map((a) => byAddress.get(a)).filter((d): d is PciDevice => d !== undefined));
  const guards = endpoints.length ? evaluateGuards(host, planBind(endpoints, devices, groups, owners), devices) : [];
  const guarded = new Map<string, GuardFinding[]>();
  for (const f of guards) guarded.set(f.address, [...(guarded.get(f.address) ?? []), f]);

  const exportGroups: ExportGroup[] = groups.map((g) => {
    const members = g.endpoints.map((a) => byAddress.get(a)).filter((d): d is PciDevice => d !== undefined);
    const viable = members.every((d) => d.driver === null || VIABLE_DRIVERS.has(d.driver));
    const bound = members.filter((d) => d.driver === VFIO_DRIVER).length;
    const platformFunctions = platformOf.get(g.id) ?? [];
    let status: ExportGroup['status'];
    if (members.length === 0) status = 'bridges-only';
    else if (platformFunctions.length) status = 'not-passable';
    else if (viable && bound > 0) status = 'ready';
    else if (g.endpoints.some((a) => guarded.has(a) || (isForeign(owners.get(a)) && byAddress.get(a)?.driver !== VFIO_DRIVER))) status = 'guarded';
    else status = 'bindable';
    return { id: g.id, devices: g.devices, endpoints: g.endpoints, bridges: g.bridges, viable, platformFunctions, status };
  });
  const groupById = new Map(exportGroups.map((g) => [g.id, g]));

  const exportDevices: ExportDevice[] = devices.map((d) => {
    const group = d.iommuGroup === null ? undefined : groupById.get(d.iommuGroup);
    const owner = owners.get(d.address);
    let readiness: DeviceReadiness;
    if (d.isBridge) readiness = 'bridge';
    else if (group === undefined) readiness = 'no-group';
    else if (group.platformFunctions.length) readiness = 'not-passable';
    else if (d.driver === VFIO_DRIVER) readiness = group.viable ? 'ready' : 'group-not-viable';
    else if (group.status === 'guarded') readiness = 'guarded';
    else readiness = 'bindable';
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
      readiness,
      drift,
    };
  });

  const status = (id: string) => doctor.checks.find((c) => c.id === id)?.status;
  const interrupts = readOptional(host, '/proc/interrupts');
  const cmdline = readOptional(host, '/proc/cmdline') ?? '';
  const iommuEnabled = status('iommu.kernel') === 'PASS';
  const report: HostReport = {
    scannedAt: scannedAt.toISOString(),
    verdict: doctor.verdict,
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
