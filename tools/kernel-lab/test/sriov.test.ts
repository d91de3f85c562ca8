// SR-IOV on a real kernel: QEMU's NVMe with sriov_max_vfs gives real VFs, each in its own IOMMU
// group; passthru creates, resizes (through 0, as the kernel requires) and removes them, and a
// VF on vfio-pci stops the removal.
import { describe, expect, it } from 'vitest';
import { step, stepFile } from './records';

const PF = '0000:03:00.0';
const vfsOf = (name: string) => {
  const k = step('vtd-2', name).kernel;
  return Object.entries(k.devices)
    .filter(([, d]) => d.physfn === PF)
    .map(([a, d]) => ({ address: a, ...d }));
};

describe('sriov on the NVMe', () => {
  it('create: 2 VFs, each in an IOMMU group of its own', () => {
    const s = step('vtd-2', 'sriov-create');
    expect(s.rc, s.stderr).toBe(0);
    expect(s.kernel.devices[PF]!.sriovNumvfs).toBe(2);
    const vfs = vfsOf('sriov-create');
    expect(vfs).toHaveLength(2);
    const groups = vfs.map((v) => v.iommuGroup);
    expect(new Set(groups).size).toBe(2);
    expect(groups).not.toContain(s.kernel.devices[PF]!.iommuGroup);
    for (const v of vfs) expect(s.kernel.groups[String(v.iommuGroup)]!.devices).toEqual([v.address]);
  });

  it('resize 2 -> 1 (through 0): one VF left', () => {
    const s = step('vtd-2', 'sriov-resize');
    expect(s.rc, s.stderr).toBe(0);
    expect(s.kernel.devices[PF]!.sriovNumvfs).toBe(1);
    expect(vfsOf('sriov-resize')).toHaveLength(1);
  });

  it('a VF on vfio-pci blocks the removal (exit 1, nothing changed); once restored, the VFs go', () => {
    const vf = stepFile('vtd-2', '.', 'sriov-vf').trim();
    const bound = step('vtd-2', 'sriov-bind-vf');
    expect(bound.rc, bound.stderr).toBe(0);
    expect(bound.kernel.devices[vf]!.driver).toBe('vfio-pci');
    const blocked = step('vtd-2', 'sriov-remove-blocked');
    expect(blocked.rc).toBe(1);
    expect(blocked.stdout + blocked.stderr).toContain(vf);
    expect(blocked.kernel.devices[PF]!.sriovNumvfs).toBe(1);
    expect(blocked.kernel.devices[vf]!.driver).toBe('vfio-pci');
    expect(step('vtd-2', 'sriov-restore-vf').rc).toBe(0);
    const removed = step('vtd-2', 'sriov-remove');
    expect(removed.rc, removed.stderr).toBe(0);
    expect(removed.kernel.devices[PF]!.sriovNumvfs).toBe(0);
    expect(vfsOf('sriov-remove')).toEqual([]);
  });
});
