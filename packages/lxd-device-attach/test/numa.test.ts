import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { describe, expect, it } from 'vitest';
import { auditInstance } from '../src/auditInstance';
import { numaFindings } from '../src/numaFindings';
import { formatCpuList, parseCpuList, pinnedCpus, probeHostNuma } from '../src/numa';
import { InstanceSchema } from '../src/schemas';
import { instance } from './fakeLxd';

const numa = probeHostNuma(new HostFs(path.resolve(__dirname, '../../../fixtures/hosts/numa-dual-socket')));
const inst = (type: 'container' | 'virtual-machine', config: Record<string, string>, devices: Record<string, Record<string, string>>) =>
  InstanceSchema.parse(instance('i1', { type, config, devices, expanded_config: config, expanded_devices: devices }));

describe('NUMA alignment', () => {
  it('cpulists and limits.cpu: a count is not pinned, a range or list is', () => {
    expect(parseCpuList('0-3,8,10-11')).toEqual([0, 1, 2, 3, 8, 10, 11]);
    expect(parseCpuList('3-1')).toBeUndefined();
    expect(formatCpuList([11, 0, 1, 2, 8, 10])).toBe('0-2,8,10-11');
    expect(pinnedCpus('4')).toBeUndefined();
    expect(pinnedCpus('2-2')).toEqual([2]);
  });

  it('reads nodes, hugepages and device/interface nodes through the root', () => {
    expect(numa.nodes.map((n) => [n.node, n.cpulist, n.hugepages])).toEqual([
      [0, '0-7', 0],
      [1, '8-15', 1024],
    ]);
    expect([numa.pci['0000:01:00.0'], numa.pci['0000:81:00.0'], numa.net['ens3f0'], numa.net['ens3f0v1']]).toEqual([0, 1, 1, 1]);
  });

  it('a VM with an SR-IOV NIC of node 1 pinned across both nodes: the fix pins to node 1 and turns hugepages on (reserved there)', () => {
    const f = numaFindings(inst('virtual-machine', { 'limits.cpu': '4-11' }, { eth1: { type: 'nic', nictype: 'sriov', parent: 'ens3f0' } }), numa);
    expect(f.map((x) => [x.id, x.severity, x.fix])).toEqual([['numa-misaligned', 'medium', 'lxc config set i1 limits.cpu=8-15 limits.memory.hugepages=true']]);
    expect(f[0]!.summary).toContain('CPUs 4-7 are off');
  });

  it('no hugepages on node 0: the fix pins only; aligned, single-node or device-less instances have no finding', () => {
    expect(numaFindings(inst('virtual-machine', { 'limits.cpu': '8-15' }, { p: { type: 'pci', address: '0000:01:00.0' } }), numa).map((x) => x.fix)).toEqual([
      'lxc config set i1 limits.cpu=0-7',
    ]);
    expect(numaFindings(inst('virtual-machine', { 'limits.cpu': '0-3' }, { p: { type: 'pci', address: '0000:01:00.0' } }), numa)).toEqual([]);
    expect(
      numaFindings(inst('container', { 'limits.cpu': '2' }, { g: { type: 'gpu', pci: '0000:81:00.0' } }), { ...numa, nodes: numa.nodes.slice(0, 1) }),
    ).toEqual([]);
    expect(numaFindings(inst('container', { 'limits.cpu': '2' }, { eth0: { type: 'nic', nictype: 'bridged', parent: 'br0' } }), numa)).toEqual([]);
    // Without host NUMA facts (a remote LXD) auditInstance says nothing about NUMA.
    expect(auditInstance(inst('container', {}, { g: { type: 'gpu', pci: '0000:81:00.0' } })).map((x) => x.id)).not.toContain('numa-misaligned');
  });
});
