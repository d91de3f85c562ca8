import type * as z from 'zod';
import type { PciDevice } from './PciDevice';
import { PCI_ADDRESS_RE, ROOT_BUS_RE, compareAddresses } from './pciAddress';
import type { TopologyNodeSchema } from './schemas';

/**
 * The PCI topology as a flat forest: root buses (`pci0000:00`, one per host bridge / root
 * complex) hold the functions on them; bridges hold what lies behind them; an SR-IOV PF holds
 * its VFs (the kernel puts VFs beside their PF, under the PF's bridge); a device that starts
 * a PCI domain of its own (Intel VMD) holds that domain's root bus. Flat (ids, not nesting) so
 * the JSON stays shallow for 2,000-function hosts.
 */
export type TopologyNode = z.infer<typeof TopologyNodeSchema>;

export interface Topology {
  roots: string[];
  nodes: Map<string, TopologyNode>;
}

/** `pci0000:00` from `/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0`: the last root bus on the path. */
export function rootBusOf(sysfsPath: string): string | null {
  const parts = sysfsPath.split('/');
  for (let i = parts.length - 1; i >= 0; i--) if (ROOT_BUS_RE.test(parts[i]!)) return parts[i]!;
  return null;
}

/** The function whose folder holds a root bus (VMD), from the path segment before `pciDDDD:BB`. */
function rootBusHolder(sysfsPath: string, bus: string): string | null {
  const parts = sysfsPath.split('/');
  const i = parts.indexOf(bus);
  const before = i > 0 ? parts[i - 1]! : '';
  return PCI_ADDRESS_RE.test(before) ? before : null;
}

const compareBuses = (a: string, b: string) => compareAddresses(`${a.slice(3)}:00.0`, `${b.slice(3)}:00.0`);

/** The topology of the scanned devices (every device once; see above). */
export function buildTopology(devices: readonly PciDevice[]): Topology {
  const nodes = new Map<string, TopologyNode>();
  const present = new Set(devices.map((d) => d.address));
  const sorted = [...devices].sort((a, b) => compareAddresses(a.address, b.address));
  for (const d of sorted) nodes.set(d.address, { id: d.address, kind: 'function', parent: null, children: [] });
  const busNode = (bus: string, holderPath: string): TopologyNode => {
    let node = nodes.get(bus);
    if (!node) {
      const holder = rootBusHolder(holderPath, bus);
      node = { id: bus, kind: 'root-bus', parent: holder && present.has(holder) ? holder : null, children: [] };
      nodes.set(bus, node);
    }
    return node;
  };
  for (const d of sorted) {
    const node = nodes.get(d.address)!;
    const physfn = d.sriov?.role === 'vf' && present.has(d.sriov.physfn) ? d.sriov.physfn : null;
    if (physfn) node.parent = physfn;
    else if (d.parent && present.has(d.parent)) node.parent = d.parent;
    else node.parent = busNode(rootBusOf(d.sysfsPath) ?? `pci${d.address.slice(0, d.address.lastIndexOf(':'))}`, d.sysfsPath).id;
  }
  for (const node of nodes.values()) if (node.parent) nodes.get(node.parent)!.children.push(node.id);
  // Children: functions in address order, then the root buses a device holds (VMD).
  for (const node of nodes.values()) {
    node.children.sort((a, b) => {
      const ka = a.startsWith('pci') ? 1 : 0;
      const kb = b.startsWith('pci') ? 1 : 0;
      return ka - kb || (ka ? compareBuses(a, b) : compareAddresses(a, b));
    });
  }
  const roots = [...nodes.values()]
    .filter((n) => n.parent === null)
    .map((n) => n.id)
    .sort(compareBuses);
  return { roots, nodes };
}

/** Depth-first order of the forest (what a tree view prints, top to bottom). */
export function* walkTopology(topology: Topology): Generator<{ node: TopologyNode; depth: number; last: boolean[] }> {
  function* walk(id: string, depth: number, last: boolean[]): Generator<{ node: TopologyNode; depth: number; last: boolean[] }> {
    const node = topology.nodes.get(id)!;
    yield { node, depth, last };
    for (let i = 0; i < node.children.length; i++) yield* walk(node.children[i]!, depth + 1, [...last, i === node.children.length - 1]);
  }
  for (let i = 0; i < topology.roots.length; i++) yield* walk(topology.roots[i]!, 0, [i === topology.roots.length - 1]);
}
