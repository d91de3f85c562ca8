import { buildTopology, deviceLabel, slotOf, walkTopology, type IommuGroup, type PciDevice } from '@passthru/pci-discovery';
import { paint, type Colour, type Output } from './output';

const GROUP_COLOURS: Colour[] = ['cyan', 'magenta', 'blue', 'yellow', 'green'];

export interface TreeOptions {
  /** Only these devices and the bridges above them (list --class). */
  keep?: (d: PciDevice) => boolean;
  /** After the tree: the groups several devices share (groups --tree). */
  legend?: boolean;
}

/**
 * The PCI tree as `lspci -tv` draws it (`+-` a child, `\-` the last child, `|` a line going
 * on), one function a line with its IOMMU group marked: `[group 12]`, `[group 14*]` when
 * functions of other devices share the group, `[no group]` when the IOMMU does not cover it.
 * VFs hang under their PF; an Intel VMD domain under its VMD controller.
 */
export function renderTree(out: Output, devices: PciDevice[], groups: IommuGroup[], options: TreeOptions = {}): string {
  const byAddress = new Map(devices.map((d) => [d.address, d]));
  const topology = buildTopology(devices);
  const shared = new Set(groups.filter((g) => new Set(g.endpoints.map(slotOf)).size > 1).map((g) => g.id));

  // Which nodes to print: all, or the kept devices and everything above them.
  let visible: Set<string> | undefined;
  if (options.keep) {
    visible = new Set();
    for (const d of devices.filter(options.keep)) {
      for (let id: string | null = d.address; id !== null && !visible.has(id); id = topology.nodes.get(id)?.parent ?? null) visible.add(id);
    }
    for (const n of topology.nodes.values()) if (n.children.length === 0 && n.kind === 'root-bus') visible.delete(n.id);
    topology.roots.splice(0, topology.roots.length, ...topology.roots.filter((r) => visible!.has(r)));
    for (const n of topology.nodes.values()) n.children = n.children.filter((c) => visible!.has(c));
  }

  const lines: string[] = [];
  for (const { node, depth, last } of walkTopology(topology)) {
    // Roots start at the left edge; below them each level adds "| " or "  ", then "+-" or "\-".
    const prefix =
      depth === 0
        ? ''
        : last
            .slice(1, -1)
            .map((l) => (l ? '  ' : '| '))
            .join('') + (last[last.length - 1] ? '\\-' : '+-');
    if (node.kind === 'root-bus') {
      const [domain, bus] = node.id.slice(3).split(':');
      const where = node.parent ? `PCI domain ${domain} behind ${node.parent}` : `host bridge, domain ${domain} bus ${bus}`;
      lines.push(`${prefix}${paint(out, 'bold', node.id)} ${paint(out, 'gray', `(${where})`)}`);
      continue;
    }
    const d = byAddress.get(node.id)!;
    const mark =
      d.iommuGroup === null
        ? paint(out, 'yellow', '[no group]')
        : paint(out, GROUP_COLOURS[d.iommuGroup % GROUP_COLOURS.length]!, `[group ${d.iommuGroup}${shared.has(d.iommuGroup) ? '*' : ''}]`);
    const name = deviceLabel(d);
    const what = d.sriov?.role === 'vf' ? `VF ${d.sriov.vfIndex ?? '?'}: ${name}` : name;
    const driver = d.driver === null ? paint(out, 'gray', '(no driver)') : d.driver === 'vfio-pci' ? paint(out, 'green', d.driver) : d.driver;
    const vfs = d.sriov?.role === 'pf' ? paint(out, 'gray', ` (${d.sriov.numVfs} of ${d.sriov.totalVfs} VFs)`) : '';
    lines.push(`${prefix}${d.address} ${mark} ${d.vendorId}:${d.deviceId} ${what}${vfs} ${paint(out, 'gray', '->')} ${driver}`);
  }
  let text = lines.length ? `${lines.join('\n')}\n` : 'No PCI devices.\n';
  if (options.legend) {
    const sharedGroups = groups.filter((g) => shared.has(g.id));
    const ungrouped = devices.filter((d) => d.iommuGroup === null);
    text += '\n';
    text += groups.length === 0 ? 'No IOMMU groups: the IOMMU is off or absent (run `passthru doctor`).\n' : `${groups.length} IOMMU group(s).`;
    if (groups.length) {
      text += sharedGroups.length
        ? ` * shared by several devices (all of them move to vfio-pci together):\n${sharedGroups.map((g) => `  group ${g.id}: ${g.endpoints.join(', ')}`).join('\n')}\n`
        : ' Every group holds the functions of one device at most.\n';
    }
    if (ungrouped.length && groups.length) text += `No IOMMU group: ${ungrouped.map((d) => d.address).join(' ')}\n`;
  }
  return text;
}
