/**
 * The small readiness summary a member publishes into its cluster configuration. The judgement
 * of each device is vfio-binder's `hostReadiness` (the one the report and the exporters use);
 * what this module adds is about publishing: the doctor verdict and its FAILing checks.
 */
import type { HostFs } from '@passthru/hostfs';
import { runChecks, VerdictSchema } from '@passthru/iommu-check';
import { deviceClassOf, readIommuGroups, scanPciDevices, trailingPciAddress, type IommuGroup } from '@passthru/pci-discovery';
import { hostReadiness, isForeign, VFIO_DRIVER } from '@passthru/vfio-binder';
import * as z from 'zod';

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
 * This host's readiness summary. A function is VM-ready when hostReadiness says `ready` (an
 * endpoint on vfio-pci, its IOMMU group viable and free of platform functions), no foreign
 * manager holds it (libvirt, driverctl, a driver_override passthru did not write, or vfio-pci
 * without passthru's journal: an instance placed here would compete with that manager), and
 * no host-wide check nor a check of its own (group.viable.*, acs.*) FAILs.
 */
export function readinessOf(host: HostFs): ReadinessSummary {
  const scan = scanPciDevices(host);
  const devices = scan.devices;
  let groups: IommuGroup[] = [];
  try {
    groups = readIommuGroups(host, devices);
  } catch {
    groups = []; // no /sys/kernel/iommu_groups: the doctor checks say why
  }
  // The doctor is asked about every grouped function on vfio-pci: the verdict a member publishes.
  const asked = devices.filter((d) => !d.isBridge && d.driver === VFIO_DRIVER && d.iommuGroup !== null);
  const doctor = runChecks(host, { devices: asked.map((d) => d.address), scan });
  const failing = doctor.checks.filter((c) => c.status === 'FAIL');
  const hostFails = failing.some((c) => trailingPciAddress(c.id) === undefined);
  const deviceFails = new Set(failing.flatMap((c) => trailingPciAddress(c.id) ?? []));
  const readiness = hostReadiness(host, { devices, groups });

  const vmReady = hostFails
    ? []
    : devices.filter((d, i) => {
        const { status, owner } = readiness.devices[i]!; // hostReadiness keeps scan order
        return status === 'ready' && !isForeign(owner) && !deviceFails.has(d.address);
      });
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
