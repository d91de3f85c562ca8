import type { HostFs } from '@passthru/hostfs';
import { runChecks, type CheckResult, type DoctorReport } from '@passthru/iommu-check';
import { blockingEndpoints, buildTopology, notPassable, platformFunctionsOf, slotOf, trailingPciAddress, type IommuGroup, type PciDevice, type PlatformFunction, type ScanProblem } from '@passthru/pci-discovery';
import { evaluateGuards, isForeign, planBind, readOwnership, VFIO_DRIVER, type GuardFinding } from '@passthru/vfio-binder';
import { SCHEMA_VERSION } from '../output';
import type { Report, ReportDevice, ReportGroup } from '../schemas';


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
}

/**
 * Everything the HTML report shows, as one JSON document (`passthru report --format json`):
 * topology, groups with viability, each device's readiness, the guards a bind of each group
 * would meet, and the doctor checks. The page only draws it; every judgement is made here.
 */
export function buildReport(input: ReportInput): Report {
  const { host, devices, groups, problems } = input;
  const byAddress = new Map(devices.map((d) => [d.address, d]));
  const topology = buildTopology(devices);

  // Guards: what `bind group:N` would meet, for every group. Guards are judged per device, and
  // a plan naming all endpoints of its groups never pulls in a foreign one; so one plan over
  // every group's endpoints finds exactly what one plan per group finds, in one pass over the
  // host's state (2,000 per-group plans re-read it 2,000 times: minutes on a large host).
  // Groups holding a platform function are never planned (planBind refuses them): no guards.
  const platformOf = new Map<number, PlatformFunction[]>();
  for (const g of groups) {
    const found = platformFunctionsOf(g, byAddress);
    if (found.length > 0) platformOf.set(g.id, found);
  }
  const endpoints = groups.filter((g) => !platformOf.has(g.id)).flatMap((g) => g.endpoints.map((a) => byAddress.get(a)).filter((d): d is PciDevice => d !== undefined));
  // Who holds each device (passthru's journal, libvirt, driverctl, driver_override), read once.
  const { owners } = readOwnership(host, devices);
  const allGuards = endpoints.length ? evaluateGuards(host, planBind(endpoints, devices, groups, owners), devices) : [];
  const guardsByAddress = new Map<string, GuardFinding[]>();
  for (const f of allGuards) guardsByAddress.set(f.address, [...(guardsByAddress.get(f.address) ?? []), f]);

  let doctor: DoctorReport | null = null;
  let doctorError: string | undefined;
  // Per-device checks (group viability, ACS) for every grouped endpoint but VFs: a VF's group is
  // its own by construction, and asking for 2,000 VFs costs seconds; their readiness is below.
  // Devices of a group that holds a platform function are left out too: their group.viable would
  // only repeat "not passable" (their readiness says it) and make every host's verdict not-ready.
  const asked = devices.filter((d) => !d.isBridge && d.iommuGroup !== null && d.sriov?.role !== 'vf' && !platformOf.has(d.iommuGroup)).map((d) => d.address);
  try {
    // The scan made for the report is handed on: doctor does not read /sys a second time.
    doctor = (input.doctor ?? ((h, a) => runChecks(h, { devices: a, scan: { devices, problems } })))(host, asked);
  } catch (error) {
    doctorError = `the doctor checks failed: ${(error as Error).message}`;
  }
  const checksByAddress = new Map<string, CheckResult[]>();
  for (const c of doctor?.checks ?? []) {
    const a = trailingPciAddress(c.id);
    if (a !== undefined && byAddress.has(a)) checksByAddress.set(a, [...(checksByAddress.get(a) ?? []), c]);
  }

  const reportGroups: ReportGroup[] = groups.map((g) => {
    const endpoints = g.endpoints.map((a) => byAddress.get(a)).filter((d): d is PciDevice => d !== undefined);
    const viable = blockingEndpoints(g, byAddress).length === 0;
    const bound = endpoints.filter((d) => d.driver === VFIO_DRIVER).length;
    const isolated = new Set(g.endpoints.map(slotOf)).size <= 1;
    const guarded = g.endpoints.filter((a) => guardsByAddress.has(a));
    let status: ReportGroup['status'];
    let summary: string;
    const platform = platformOf.get(g.id);
    if (endpoints.length === 0) {
      status = 'bridges-only';
      summary = 'Bridges only: nothing here is passed through.';
    } else if (platform) {
      const np = notPassable(platform);
      status = 'not-passable';
      summary = `${capitalise(np.summary)} (${np.why}). ${np.fix}`;
    } else if (viable && bound > 0) {
      status = 'ready';
      summary = `Viable: ${bound} of ${endpoints.length} endpoint(s) on vfio-pci, the rest without a driver.`;
      if (bound === endpoints.length) summary = `Viable: every endpoint (${bound}) is on vfio-pci.`;
    } else if (guarded.length) {
      status = 'guarded';
      summary = `A bind would be refused: ${[...new Set(guarded.flatMap((a) => guardsByAddress.get(a)!.map((f) => f.id)))].join(', ')} (${guarded.join(', ')}).`;
    } else {
      status = 'bindable';
      summary = isolated ? `Can be bound: ${endpoints.length} function(s) of one device, alone in the group.` : `Can be bound, all together: ${endpoints.length} endpoints of ${new Set(g.endpoints.map(slotOf)).size} devices share the group.`;
    }
    return { ...g, viable, isolated, bound, status, summary, platformFunctions: platform ?? [] };
  });
  const groupById = new Map(reportGroups.map((g) => [g.id, g]));

  const reportDevices: ReportDevice[] = topologyOrder(topology, devices).map((d) => {
    const group = d.iommuGroup === null ? undefined : groupById.get(d.iommuGroup);
    const guards = guardsByAddress.get(d.address) ?? [];
    const owner = owners.get(d.address) ?? null;
    const sharedWith = group && !d.isBridge ? group.endpoints.filter((a) => slotOf(a) !== slotOf(d.address)) : [];
    let status: ReportDevice['readiness']['status'];
    let summary: string;
    if (d.isBridge) {
      status = 'bridge';
      summary = 'PCI bridge: stays on its driver; the endpoints behind it are what passes through.';
    } else if (d.iommuGroup === null) {
      status = 'no-group';
      summary = 'No IOMMU group: the IOMMU is off or does not cover this device, so it cannot be passed through.';
    } else if (platformOf.has(d.iommuGroup)) {
      const np = notPassable(platformOf.get(d.iommuGroup)!);
      status = 'not-passable';
      summary = `${capitalise(np.summary)}: IOMMU group ${d.iommuGroup} cannot be passed through without ACS (${np.why}). ${np.fix}`;
    } else if (d.driver === VFIO_DRIVER && group?.viable) {
      status = 'ready';
      summary = `Ready: on vfio-pci, and IOMMU group ${d.iommuGroup} is viable.`;
    } else if (isForeign(owner) && d.driver !== VFIO_DRIVER) {
      status = 'guarded';
      summary = `Held by ${owner.summary}: a bind changes it only with --adopt.`;
    } else if (guards.length) {
      status = 'guarded';
      summary = `A bind would be refused (--force overrides): ${guards.map((g) => g.summary).join('; ')}.`;
    } else if (d.driver === VFIO_DRIVER) {
      status = 'group-not-viable';
      summary = `On vfio-pci, but group ${d.iommuGroup} is not viable: ${group && blockingEndpoints(group, byAddress).join(', ')} still on a host driver.`;
    } else if (sharedWith.length) {
      status = 'shared-group';
      summary = `Bindable with its group: shares IOMMU group ${d.iommuGroup} with ${sharedWith.length} other device(s) that move to vfio-pci too.`;
    } else {
      status = 'bindable';
      summary = `Bindable: IOMMU group ${d.iommuGroup} holds only this device${group && group.endpoints.length > 1 ? "'s functions" : ''}; now on ${d.driver ?? 'no driver'}.`;
    }
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
    groups: reportGroups,
    ungrouped: devices.filter((d) => d.iommuGroup === null).map((d) => d.address),
    guards: allGuards,
    doctor,
    problems,
  };
  if (doctorError !== undefined) report.doctorError = doctorError;
  return report;
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

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
