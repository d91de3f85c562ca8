/**
 * The small readiness summary a member publishes into its cluster configuration. The judgement
 * is vfio-binder's read model (`readHost`, the one doctor, the report and the exporters render);
 * what this module adds is about publishing: the summary's shape and its counts.
 */
import type { HostFs } from '@passthru/hostfs';
import { VerdictSchema } from '@passthru/iommu-check';
import { deviceClassOf } from '@passthru/pci-discovery';
import { readHost } from '@passthru/vfio-binder';
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
  /** The member's verdict: its host checks, as `passthru doctor` gives it. */
  verdict: VerdictSchema,
  /** Ids of the host checks that FAILed (iommu.kernel, irq.remapping, ...). */
  failing: z.array(z.string()),
  /** The kernel made IOMMU groups (false: LXD's iommu_group 0 means nothing on this member). */
  iommu: z.boolean(),
  /** Addresses of the VM-ready functions (see readinessOf). */
  vmReady: z.array(z.string()),
  viable: z.array(ViableCountSchema),
});
export type ReadinessSummary = z.infer<typeof ReadinessSummarySchema>;

/**
 * This host's readiness summary, from vfio-binder's read model (`readHost`, the one `doctor`,
 * `report` and `export` render): its verdict (the host checks), the failing checks, and the
 * VM-ready functions: the endpoints on vfio-pci of the VM-ready groups (the verdict usable, the
 * group `ready`, no endpoint held by libvirt, driverctl, a driver_override passthru did not
 * write, or vfio-pci without passthru's journal: an instance placed here would compete with
 * that manager).
 */
export function readinessOf(host: HostFs): ReadinessSummary {
  const view = readHost(host);
  const byAddress = new Map(view.devices.map((d) => [d.address, d]));
  const vmReady = view.vmReady.map((a) => byAddress.get(a)!);
  const counts = new Map<string, { kind: ViableCount['kind']; vendorId: string; deviceId: string; groups: Set<number> }>();
  for (const d of vmReady) {
    const kind = deviceClassOf(d.class);
    const key = `${kind}/${d.vendorId}:${d.deviceId}`;
    const entry = counts.get(key) ?? { kind, vendorId: d.vendorId, deviceId: d.deviceId, groups: new Set<number>() };
    entry.groups.add(d.iommuGroup!);
    counts.set(key, entry);
  }
  return {
    verdict: view.verdict,
    failing: view.doctor.checks.filter((c) => c.status === 'FAIL').map((c) => c.id),
    iommu: view.readiness.groups.length > 0,
    vmReady: vmReady.map((d) => d.address),
    viable: [...counts.values()]
      .map((c) => ({ kind: c.kind, vendorId: c.vendorId, deviceId: c.deviceId, groups: c.groups.size }))
      .sort((a, b) => `${a.kind}/${a.vendorId}:${a.deviceId}`.localeCompare(`${b.kind}/${b.vendorId}:${b.deviceId}`)),
  };
}
