/**
 * Evidence-bound absence, in one place. A partial capture of a real machine often holds only
 * /sys/bus and /sys/devices: a check that needs a layer the tree lacks is SKIP "not in this
 * tree", never FAIL, and the verdict is `incomplete`.
 */
import type { HostFs } from '@passthru/hostfs';
import type { PciDevice } from '@passthru/pci-discovery';
import { pciDevicePath } from '@passthru/pci-discovery';

/** Layers of a host whose absence from a tree leaves checks without evidence. */
export const EVIDENCE_LAYERS = ['/proc/cpuinfo', '/proc/cmdline', '/sys/firmware', '/sys/kernel', '/sys/kernel/iommu_groups'] as const;
export type EvidenceLayer = (typeof EVIDENCE_LAYERS)[number];

// Re-exported from the import (the bundle maps an import, not an `export ... from`, to the one
// file that defines the name: a re-export from the package would load every module it exports).
import { IOMMU_GROUPS } from '@passthru/pci-discovery';
export { IOMMU_GROUPS };

export const notInTree = (layer: string) => `${layer} is not in this tree`;

/** A symlink's raw target, or undefined (absent, not a link, unreadable). */
function tryReadlink(host: HostFs, path: string): string | undefined {
  try {
    return host.readlink(path);
  } catch {
    return undefined;
  }
}

/**
 * Devices whose `iommu_group` link exists, resolved or not: what the kernel had when the tree
 * was made. Read on first call only.
 */
export function linkedGroupsOf(host: HostFs, devices: readonly PciDevice[]): () => Map<string, string> {
  let linked: Map<string, string> | undefined;
  return () =>
    (linked ??= new Map(
      devices.flatMap((d) => {
        const target = tryReadlink(host, pciDevicePath(d.address, 'iommu_group'));
        const n = target === undefined ? undefined : /(\d+)$/.exec(target)?.[1];
        return n === undefined ? [] : [[d.address, n] as [string, string]];
      }),
    ));
}

/**
 * The evidence layers absent from the tree. /proc/cmdline is absent when it neither reads nor
 * fails; /sys/kernel/iommu_groups only when device links name groups the tree does not hold
 * (then the groups folder is missing, not empty).
 */
export function absentLayers(
  host: HostFs,
  cmdline: { value?: string | undefined; error?: string | undefined },
  groupsError: string | undefined,
  linkedGroups: () => Map<string, string>,
): Set<EvidenceLayer> {
  const absent = new Set<EvidenceLayer>();
  if (cmdline.value === undefined && cmdline.error === undefined) absent.add('/proc/cmdline');
  if (!host.exists('/proc/cpuinfo')) absent.add('/proc/cpuinfo');
  if (!host.exists('/sys/firmware')) absent.add('/sys/firmware');
  if (!host.exists('/sys/kernel')) absent.add('/sys/kernel');
  if (!absent.has('/sys/kernel') && !host.exists(IOMMU_GROUPS) && groupsError === undefined && linkedGroups().size > 0) absent.add('/sys/kernel/iommu_groups');
  return absent;
}

/** The kernel's IOMMU layer missing from the tree (/sys/kernel, else its groups), or undefined. */
export function missingKernelLayer(f: { absent: ReadonlySet<EvidenceLayer> }): string | undefined {
  return f.absent.has('/sys/kernel') ? '/sys/kernel' : f.absent.has('/sys/kernel/iommu_groups') ? IOMMU_GROUPS : undefined;
}

/** The kernel's IOMMU layer is missing from the tree: no group, unit or mode can be judged. */
export function kernelAbsent(f: { absent: ReadonlySet<EvidenceLayer> }): boolean {
  return missingKernelLayer(f) !== undefined;
}
