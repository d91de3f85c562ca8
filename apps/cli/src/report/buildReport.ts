import type { HostFs } from '@passthru/hostfs';
import { runChecks, type CheckResult, type DoctorReport } from '@passthru/iommu-check';
import type { IommuGroup, PciDevice, ScanProblem } from '@passthru/pci-discovery';
import { hostReadiness } from '@passthru/vfio-binder';
import { SCHEMA_VERSION } from '../output';
import type { Report, ReportCluster, ReportDevice } from '../schemas';
import { buildTopology, trailingPciAddress } from '@passthru/pci-discovery';

export interface ReportInput {
  host: HostFs;
  devices: PciDevice[];
  groups: IommuGroup[];
  problems: ScanProblem[];
  version: string;
  /** Ambient clock (tests pin it). */
  now?: () => Date;
  /** The doctor checks; injected so a failure there still leaves a report (doctorError). */
  doctor?: (host: HostFs, devices: string[]) => DoctorReport;
  /** With `report --cluster`: the LXD cluster's fleet status, shown in its own section. */
  cluster?: ReportCluster;
}

/**
 * Everything the HTML report shows, as one JSON document (`passthru report --format json`):
 * topology, groups with viability, each device's readiness, the guards a bind of each group
 * would meet, and the doctor checks. The readiness judgement is vfio-binder's `hostReadiness`
 * (the same a fleet agent or an exporter calls); here it is put in tree order next to the
 * doctor checks, and the page only draws it.
 */
export function buildReport(input: ReportInput): Report {
  const { host, devices, groups, problems } = input;
  const byAddress = new Map(devices.map((d) => [d.address, d]));
  const topology = buildTopology(devices);
  const readiness = hostReadiness(host, { devices, groups });
  const passable = new Set(readiness.groups.filter((g) => g.platformFunctions.length === 0).map((g) => g.id));

  let doctor: DoctorReport | null = null;
  let doctorError: string | undefined;
  // Per-device checks (group viability, ACS) for every grouped endpoint but VFs: a VF's group is
  // its own by construction, and asking for 2,000 VFs costs seconds; their readiness is below.
  // Devices of a group that holds a platform function are left out too: their group.viable would
  // only repeat "not passable" (their readiness says it) and make every host's verdict not-ready.
  const asked = devices.filter((d) => !d.isBridge && d.iommuGroup !== null && d.sriov?.role !== 'vf' && passable.has(d.iommuGroup)).map((d) => d.address);
  try {
    // The scan made for the report is handed on: doctor does not read /sys a second time.
    doctor = (input.doctor ?? ((h, a) => runChecks(h, { devices: a, scan: { devices, problems } })))(host, asked);
  } catch (error) {
    doctorError = `the doctor checks failed: ${(error as Error).message}`;
  }
  const checksByAddress = new Map<string, CheckResult[]>();
  for (const c of doctor?.checks ?? []) {
    const address = trailingPciAddress(c.id);
    if (address && byAddress.has(address)) checksByAddress.set(address, [...(checksByAddress.get(address) ?? []), c]);
  }

  const judged = new Map(readiness.devices.map((r) => [r.address, r]));
  const reportDevices: ReportDevice[] = topologyOrder(topology, devices).map((d) => {
    const { status, summary, sharedWith, owner, guards } = judged.get(d.address)!;
    return {
      address: d.address,
      vendorId: d.vendorId,
      deviceId: d.deviceId,
      class: d.class,
      className: d.className,
      vendorName: d.vendorName,
      deviceName: d.deviceName,
      revision: d.revision,
      driver: d.driver,
      driverOverride: d.driverOverride,
      iommuGroup: d.iommuGroup,
      numaNode: d.numaNode,
      isBridge: d.isBridge,
      bootVga: d.bootVga,
      sriov: d.sriov,
      net: d.net,
      owner,
      readiness: { status, summary, sharedWith },
      guards,
      checks: checksByAddress.get(d.address) ?? [],
    };
  });

  const report: Report = {
    schemaVersion: SCHEMA_VERSION,
    generatedAt: (input.now ?? (() => new Date()))().toISOString(),
    passthruVersion: input.version,
    root: host.root,
    topology: { roots: topology.roots, nodes: [...topology.nodes.values()] },
    devices: reportDevices,
    groups: readiness.groups,
    ungrouped: devices.filter((d) => d.iommuGroup === null).map((d) => d.address),
    guards: readiness.guards,
    doctor,
    problems,
  };
  if (doctorError !== undefined) report.doctorError = doctorError;
  if (input.cluster) report.cluster = input.cluster;
  return report;
}

/** Devices in tree order (what the page and `--tree` show top to bottom). */
function topologyOrder(topology: ReturnType<typeof buildTopology>, devices: PciDevice[]): PciDevice[] {
  const byAddress = new Map(devices.map((d) => [d.address, d]));
  const out: PciDevice[] = [];
  const visit = (id: string) => {
    const d = byAddress.get(id);
    if (d) out.push(d);
    for (const c of topology.nodes.get(id)?.children ?? []) visit(c);
  };
  topology.roots.forEach(visit);
  return out;
}
