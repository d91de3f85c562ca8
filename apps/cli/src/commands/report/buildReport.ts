import type { HostFs } from '@passthru/hostfs';
import type { PciDevice } from '@passthru/pci-discovery';
import type { HostView } from '@passthru/vfio-binder';
import { SCHEMA_VERSION } from '../../render/output';
import type { Report, ReportCluster, ReportDevice } from './schema';
import { buildTopology } from '@passthru/pci-discovery';

export interface ReportInput {
  host: HostFs;
  /** The host as vfio-binder's `readHost` read it, with `examine: 'endpoints'`. */
  view: HostView;
  version: string;
  /** Ambient clock (tests pin it). */
  now?: () => Date;
  /** With `report --cluster`: the LXD cluster's fleet status, shown in its own section. */
  cluster?: ReportCluster;
}

/**
 * Everything the HTML report shows, as one JSON document (`passthru report --format json`):
 * topology, groups with viability, each device's readiness and its device checks, the guards a
 * bind of each group would meet, the host checks and the verdict. Every judgement is the read
 * model's (`readHost`, the one `doctor`, `export` and `fleet publish` render); here it is only
 * put in tree order, and the page only draws it.
 */
export function buildReport(input: ReportInput): Report {
  const { host, view } = input;
  const { devices, problems, readiness, doctor } = view;
  const topology = buildTopology(devices);
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
      checks: view.deviceChecks.get(d.address) ?? [],
      ...(view.gpuModes.has(d.address) ? { gpuModes: view.gpuModes.get(d.address)! } : {}),
    };
  });

  const report: Report = {
    schemaVersion: SCHEMA_VERSION,
    generatedAt: (input.now ?? (() => new Date()))().toISOString(),
    passthruVersion: input.version,
    root: host.root,
    verdict: view.verdict,
    vmReadyGroups: view.vmReadyGroups,
    topology: { roots: topology.roots, nodes: [...topology.nodes.values()] },
    devices: reportDevices,
    groups: readiness.groups,
    ungrouped: devices.filter((d) => d.iommuGroup === null).map((d) => d.address),
    guards: readiness.guards,
    doctor: { verdict: doctor.verdict, host: doctor.host, checks: doctor.checks, absent: doctor.absent },
    problems,
  };
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
