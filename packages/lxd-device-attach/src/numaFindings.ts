import type { Finding } from './Finding';
import { inProject } from './configOff';
import { formatCpuList, instanceNumaDevices, pinnedCpus, type HostNuma } from './numa';
import type { Instance } from './schemas';

/**
 * An instance with host hardware (pci, physical gpu, physical/sriov nic) whose pinned CPUs lie
 * (partly) on other NUMA nodes than the hardware, or that is not pinned on a multi-node host:
 * every DMA and interrupt then crosses the interconnect (LXD's performance tuning guide).
 * The fix pins limits.cpu to the devices' nodes' CPUs and, for VMs, backs memory with hugepages
 * where the nodes have hugepages reserved.
 */
export function numaFindings(instance: Instance, numa: HostNuma): Finding[] {
  if (numa.nodes.length < 2) return [];
  const devices = instanceNumaDevices(instance, numa);
  const nodes = [...new Set(devices.map((d) => d.node))]
    .sort((a, b) => a - b)
    .map((n) => numa.nodes.find((x) => x.node === n))
    .filter((n) => n !== undefined);
  if (nodes.length === 0) return [];
  const cfg = instance.expanded_config;
  const wanted = new Set(nodes.flatMap((n) => n.cpus));
  const cpulist = nodes.length === 1 ? nodes[0]!.cpulist : formatCpuList([...wanted]);
  const limit = cfg['limits.cpu']?.trim();
  const pinned = pinnedCpus(limit);
  const off = pinned?.filter((c) => !wanted.has(c));
  if (pinned && pinned.length > 0 && off!.length === 0) return [];
  const where = devices.map((d) => `${d.name} (${d.what}) on node ${d.node}`).join(', ');
  const nodeText = `node${nodes.length > 1 ? 's' : ''} ${nodes.map((n) => n.node).join(', ')} (CPUs ${cpulist})`;
  const hugepages = instance.type === 'virtual-machine' && cfg['limits.memory.hugepages'] !== 'true' && nodes.every((n) => n.hugepages > 0);
  const fix = `lxc config set ${instance.name}${inProject(instance)} limits.cpu=${cpulist}${hugepages ? ' limits.memory.hugepages=true' : ''}`;
  if (pinned && pinned.length > 0) {
    const onNodes = [...new Set(pinned.map((c) => numa.nodes.find((n) => n.cpus.includes(c))?.node).filter((n) => n !== undefined))].sort((a, b) => a - b);
    return [
      {
        id: 'numa-misaligned',
        severity: 'medium',
        summary: `limits.cpu=${limit} runs on NUMA node${onNodes.length === 1 ? '' : 's'} ${onNodes.join(', ') || "(none of the host's)"}, but ${where}: CPUs ${formatCpuList(off!)} are off the device's ${nodeText}, so DMA and interrupts cross the interconnect`,
        fix,
      },
    ];
  }
  return [
    {
      id: 'numa-misaligned',
      severity: 'low',
      summary: `limits.cpu ${limit ? `=${limit} is a count, not pinned` : 'is not set'} on a host with ${numa.nodes.length} NUMA nodes, and ${where}: the scheduler may run it on another node than the device's ${nodeText}`,
      fix,
    },
  ];
}
