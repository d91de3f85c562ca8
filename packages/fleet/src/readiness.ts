/**
 * The small readiness summary a member publishes into its cluster configuration, and the one
 * adapter that computes it from today's APIs (iommu-check `runChecks`, pci-discovery's scan,
 * groups and platform functions, vfio-binder's ownership). The adapter is the only place that
 * judges readiness; when the readiness use case lands in vfio-binder it points there instead.
 */
import type { HostFs } from '@passthru/hostfs';
import { runChecks, VerdictSchema, type CheckResult } from '@passthru/iommu-check';
import { deviceClassOf, platformFunctionsOf, readIommuGroups, scanPciDevices, type IommuGroup, type PciDevice } from '@passthru/pci-discovery';
import { isForeign, readOwnership, VFIO_DRIVER } from '@passthru/vfio-binder';
import * as z from 'zod';

/** Drivers that leave an IOMMU group viable (the kernel's vfio_dev_driver_allowed, or none). */
const VIABLE_DRIVERS = new Set([VFIO_DRIVER, 'pci-stub']);
const ADDRESS_AT_END = /([0-9a-f]{4,8}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7])$/;

export const DEVICE_KINDS = ['gpu', 'net', 'storage', 'usb', 'accel', 'other'] as const;

export const ViableCountSchema = z.object({
  kind: z.enum(DEVICE_KINDS),
  vendorId: z.string(),
  deviceId: z.string(),
  /** IOMMU groups holding a VM-ready device of this kind and id. */
  groups: z.number().int().nonnegative(),
});
export type ViableCount = z.infer<typeof ViableCountSchema>;

export const ReadinessSummarySchema = z.object({
  /** The doctor verdict of the member (host checks plus the checks of its vfio-pci devices). */
  verdict: VerdictSchema,
  /** Ids of the checks that FAILed (iommu.kernel, group.viable.0000:01:00.0, ...). */
  failing: z.array(z.string()),
  /** The kernel made IOMMU groups (false: LXD's iommu_group 0 means nothing on this member). */
  iommu: z.boolean(),
  /** Addresses of the VM-ready functions (see readinessOf). */
  vmReady: z.array(z.string()),
  viable: z.array(ViableCountSchema),
});
export type ReadinessSummary = z.infer<typeof ReadinessSummarySchema>;

/**
 * This host's readiness summary. A function is VM-ready when: it is an endpoint on vfio-pci;
 * every endpoint of its IOMMU group is on vfio-pci, pci-stub or no driver (the group is
 * viable); the group holds no platform function; no foreign manager (libvirt, driverctl, a
 * driver_override passthru did not write) holds it; and no host-wide check nor a check of
 * its own (group.viable.*, acs.*) FAILs.
 */
export function readinessOf(host: HostFs): ReadinessSummary {
  const scan = scanPciDevices(host);
  const devices = scan.devices;
  const byAddress = new Map(devices.map((d) => [d.address, d]));
  let groups: IommuGroup[] = [];
  try {
    groups = readIommuGroups(host, devices);
  } catch {
    groups = []; // no /sys/kernel/iommu_groups: the doctor checks say why
  }
  const groupById = new Map(groups.map((g) => [g.id, g]));
  const candidates = devices.filter((d) => !d.isBridge && d.driver === VFIO_DRIVER && d.iommuGroup !== null);
  const doctor = runChecks(host, { devices: candidates.map((d) => d.address), scan });
  const failing = doctor.checks.filter((c) => c.status === 'FAIL');
  const hostFails = failing.some((c) => !ADDRESS_AT_END.test(c.id));
  const deviceFails = new Set(failing.flatMap((c: CheckResult) => ADDRESS_AT_END.exec(c.id)?.[1] ?? []));
  const { owners } = readOwnership(host, devices);

  const ready = (d: PciDevice): boolean => {
    if (hostFails || deviceFails.has(d.address) || d.iommuGroup === null) return false;
    const group = groupById.get(d.iommuGroup);
    if (!group || platformFunctionsOf(group, byAddress).length > 0) return false;
    const endpoints = group.endpoints.map((a) => byAddress.get(a));
    if (!endpoints.every((e) => e !== undefined && (e.driver === null || VIABLE_DRIVERS.has(e.driver)))) return false;
    return !isForeign(owners.get(d.address));
  };
  const vmReady = candidates.filter(ready);
  const counts = new Map<string, { kind: ViableCount['kind']; vendorId: string; deviceId: string; groups: Set<number> }>();
  for (const d of vmReady) {
    const kind = deviceClassOf(d.class);
    const key = `${kind}/${d.vendorId}:${d.deviceId}`;
    const entry = counts.get(key) ?? { kind, vendorId: d.vendorId, deviceId: d.deviceId, groups: new Set<number>() };
    entry.groups.add(d.iommuGroup!);
    counts.set(key, entry);
  }
  return {
    verdict: doctor.verdict,
    failing: failing.map((c) => c.id),
    iommu: groups.length > 0,
    vmReady: vmReady.map((d) => d.address),
    viable: [...counts.values()]
      .map((c) => ({ kind: c.kind, vendorId: c.vendorId, deviceId: c.deviceId, groups: c.groups.size }))
      .sort((a, b) => `${a.kind}/${a.vendorId}:${a.deviceId}`.localeCompare(`${b.kind}/${b.vendorId}:${b.deviceId}`)),
  };
}
