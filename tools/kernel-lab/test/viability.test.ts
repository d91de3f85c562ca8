// Group viability, by the kernel: in every state the scenarios reach (before a bind, part bound
// by another hand, bound, restored; VT-d, AMD-Vi, no ACS), passthru's verdict on each group
// (report --format json: groups[].viable) equals VFIO_GROUP_GET_STATUS's VIABLE flag on
// /dev/vfio/N, the question QEMU and libvirt ask. Groups without a node have no kernel answer.
import { describe, expect, it } from 'vitest';
import { steps } from './records';

describe.each(['vtd', 'vtd-2', 'amd', 'no-acs'])('viability on the %s guest', (run) => {
  it("passthru's verdict equals the kernel's on every group that has a /dev/vfio node, in every recorded state", () => {
    const compared: string[] = [];
    for (const s of steps(run).filter((x) => x.report)) {
      for (const [id, g] of Object.entries(s.kernel.groups)) {
        expect(g.error, `${s.name}: group ${id}: ${g.error}`).toBeNull();
        if (g.viable === null) continue;
        const ours = s.report!.groups.find((x) => x.id === Number(id));
        expect(ours, `${s.name}: passthru's report has no group ${id}`).toBeDefined();
        expect({ step: s.name, group: id, viable: ours!.viable }).toEqual({ step: s.name, group: id, viable: g.viable });
        compared.push(`${s.name}/${id}=${g.viable}`);
      }
    }
    // The states must include both answers where the run reaches them (a part-bound group is not viable).
    expect(compared.length).toBeGreaterThan(0);
    if (run === 'vtd' || run === 'amd') expect(compared.some((c) => c.endsWith('=false'))).toBe(true);
    expect(compared.some((c) => c.endsWith('=true'))).toBe(true);
  });

  it('a group without a /dev/vfio node has no vfio-pci member, and passthru shows none bound', () => {
    for (const s of steps(run).filter((x) => x.report)) {
      for (const [id, g] of Object.entries(s.kernel.groups)) {
        const onVfio = g.devices.filter((a) => s.kernel.devices[a]!.driver === 'vfio-pci');
        expect({ step: s.name, group: id, node: g.vfioNode }).toEqual({ step: s.name, group: id, node: onVfio.length > 0 });
      }
    }
  });
});
