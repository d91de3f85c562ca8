import { HostFsError, type HostFs } from '@passthru/hostfs';
import { normalizePciAddress, pciDevicePath, PCI_DEVICES } from '@passthru/pci-discovery';
import type { DeviceConfig, Instance } from './schemas';

/** One NUMA node as /sys/devices/system/node/nodeN shows it. */
export interface NumaNode {
  node: number;
  /** The node's `cpulist` verbatim ("0-7", "0-3,16-19"): the value a fix puts in limits.cpu. */
  cpulist: string;
  cpus: number[];
  /** Hugepages reserved on the node (nr_hugepages summed over its hugepages-* pools). */
  hugepages: number;
}

/** What the LXD host says about NUMA: its nodes, and the node of each PCI device and network interface. */
export interface HostNuma {
  nodes: NumaNode[];
  /** PCI address -> numa_node (devices the kernel reports -1 for are left out). */
  pci: Readonly<Record<string, number>>;
  /** Interface name -> its PCI device's numa_node. */
  net: Readonly<Record<string, number>>;
}

export const NO_NUMA: HostNuma = { nodes: [], pci: {}, net: {} };

/**
 * Parses a kernel cpulist ("0-3,8-11", "5", "") into CPU numbers; undefined when it is not one.
 * LXD's limits.cpu uses the same grammar for pinning.
 */
export function parseCpuList(text: string): number[] | undefined {
  const s = text.trim();
  if (s === '') return [];
  const cpus = new Set<number>();
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const [from, to] = [Number(m[1]), Number(m[2] ?? m[1])];
    if (to < from) return undefined;
    for (let c = from; c <= to; c++) cpus.add(c);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** CPU numbers -> a compact cpulist ("0-3,8"). */
export function formatCpuList(cpus: number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(j === i ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/**
 * LXD's limits.cpu: a plain number is a CPU count (the kernel scheduler places it: not pinned);
 * a range or list ("0-3", "1,3", "2-2") pins the instance to those CPUs.
 */
export function pinnedCpus(limitsCpu: string | undefined): number[] | undefined {
  const v = (limitsCpu ?? '').trim();
  if (!/[-,]/.test(v)) return undefined;
  return parseCpuList(v);
}

const numaOf = (text: string | undefined) => (text !== undefined && /^\d+$/.test(text.trim()) ? Number(text.trim()) : undefined);

/** Reads the host's NUMA nodes, and the nodes of its PCI devices and interfaces, through `host`. */
export function probeHostNuma(host: HostFs): HostNuma {
  const read = (p: string) => {
    try {
      return host.readTextIfExists(p);
    } catch (error) {
      if (error instanceof HostFsError) return undefined;
      throw error;
    }
  };
  const list = (p: string) => {
    try {
      return host.exists(p) ? host.list(p) : [];
    } catch (error) {
      if (error instanceof HostFsError) return [];
      throw error;
    }
  };
  const nodes: NumaNode[] = [];
  for (const entry of list('/sys/devices/system/node')) {
    const m = /^node(\d+)$/.exec(entry);
    if (!m) continue;
    const cpulist = read(`/sys/devices/system/node/${entry}/cpulist`)?.trim();
    const cpus = cpulist === undefined ? undefined : parseCpuList(cpulist);
    if (cpulist === undefined || cpus === undefined) continue;
    const pools = list(`/sys/devices/system/node/${entry}/hugepages`);
    const hugepages = pools.reduce((n, pool) => n + (numaOf(read(`/sys/devices/system/node/${entry}/hugepages/${pool}/nr_hugepages`)) ?? 0), 0);
    nodes.push({ node: Number(m[1]), cpulist, cpus, hugepages });
  }
  nodes.sort((a, b) => a.node - b.node);
  const pci: Record<string, number> = {};
  const net: Record<string, number> = {};
  for (const address of list(PCI_DEVICES)) {
    const node = numaOf(read(pciDevicePath(address, 'numa_node')));
    if (node === undefined) continue;
    pci[address] = node;
    // A network function's interfaces are its net/ subfolders (as pci-discovery reads them).
    for (const ifname of list(pciDevicePath(address, 'net'))) net[ifname] = node;
  }
  return { nodes, pci, net };
}

/**
 * The NUMA node of an LXD device that hands host hardware to the instance: `pci address=`,
 * `gpu pci=` (physical GPUs), `nic nictype=physical|sriov parent=` (the PF's node for a VF).
 * Undefined for other devices, or when the host does not say.
 */
export function deviceNumaNode(device: DeviceConfig, numa: HostNuma): number | undefined {
  const at = (address: string | undefined) => {
    const a = address === undefined ? undefined : normalizePciAddress(address);
    return a === undefined ? undefined : numa.pci[a];
  };
  if (device.type === 'pci') return at(device.address);
  if (device.type === 'gpu' && (device.gputype ?? 'physical') === 'physical') return at(device.pci);
  if (device.type === 'nic' && (device.nictype === 'physical' || device.nictype === 'sriov') && device.parent) return numa.net[device.parent];
  return undefined;
}

/** The devices of an instance with a known NUMA node: name, what it is, node. */
export function instanceNumaDevices(instance: Instance, numa: HostNuma): { name: string; what: string; node: number }[] {
  return Object.entries(instance.expanded_devices)
    .map(([name, d]) => ({ name, what: `${d.type} ${d.pci ?? d.address ?? d.parent ?? ''}`.trim(), node: deviceNumaNode(d, numa) }))
    .filter((d): d is { name: string; what: string; node: number } => d.node !== undefined)
    .sort((a, b) => a.name.localeCompare(b.name));
}
