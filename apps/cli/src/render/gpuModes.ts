// One line per GPU that can be shared: the gputypes LXD and Incus can attach it as now, with
// what each offers (free mdev instances per type, free VFs, MIG compute instances) and notes.
import { mdevTypesOfCard, type GpuModes, type PciDevice } from '@passthru/pci-discovery';

/** `physical, mdev (i915-GVTg_V5_4: 1 free, i915-GVTg_V5_8: 2 free)`: what `attach --gputype` can give. */
export function gpuModesSummary(address: string, m: GpuModes): string {
  const parts = m.modes.map((mode) => {
    if (mode === 'mdev') {
      const types = [...mdevTypesOfCard(address, m).values()];
      // The type's folder is what `--mdev` takes; its name when that says more (NVIDIA's "A16-2Q").
      const named = (t: (typeof types)[number]['type']) => (t.name && !t.type.endsWith(t.name) ? `${t.type} "${t.name}"` : t.type);
      const free = types.filter((t) => t.free > 0).map((t) => `${named(t.type)}: ${t.free} free${t.on.some((a) => a !== address) ? ' on VFs' : ''}`);
      const full = types.length - free.length;
      return `mdev (${[...free, ...(full ? [`${full} more type${full === 1 ? '' : 's'} with none free`] : [])].join(', ')})`;
    }
    if (mode === 'sriov' && m.sriov) return `sriov (${m.sriov.freeVfs.length} of ${m.sriov.numVfs} VFs free)`;
    if (mode === 'mig' && m.mig) {
      const cis = m.mig.computeInstances.map((c) => `gi ${c.gi} ci ${c.ci}${c.profile ? ` ${c.profile}` : ''}`);
      return `mig (${cis.join(', ')})`;
    }
    return mode;
  });
  return parts.length ? parts.join(', ') : 'none (no IOMMU group)';
}

/**
 * Lines under `list`'s table: GPUs that offer more than `physical`, or about which there is
 * something to say; a VF only when its PF is not shown (the PF's line speaks for its VFs).
 */
export function gpuModeLines(modes: ReadonlyMap<string, GpuModes>, shown: readonly PciDevice[]): string[] {
  const listed = new Set(shown.map((d) => d.address));
  return shown.flatMap((d) => {
    const m = modes.get(d.address);
    if (!m || (m.modes.every((x) => x === 'physical') && m.notes.length === 0)) return [];
    if (d.sriov?.role === 'vf' && listed.has(d.sriov.physfn)) return [];
    return [`${d.address}: gpu modes: ${gpuModesSummary(d.address, m)}${m.notes.map((n) => `; ${n}`).join('')}`];
  });
}
