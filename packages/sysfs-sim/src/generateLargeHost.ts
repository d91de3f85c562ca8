import type { HostSpecInput } from './HostSpec';
import { SysfsSimError } from './SysfsSimError';

export interface LargeHostOptions {
  /** SR-IOV NIC physical functions, one per root port. */
  nics: number;
  /** VFs enabled on every PF (sriov_numvfs). */
  vfsPerNic: number;
  /** GPUs with VGA, HDMI audio, USB xHCI and UCSI functions, each behind a switch. */
  gpus: number;
  /** Varies NIC and GPU models and the IOMMU group numbering; same seed, same host. */
  seed?: number;
  /** NUMA nodes (sockets); devices alternate between them. Default 2. */
  numaNodes?: number;
  name?: string;
}

/** NIC models: PF id, VF id, VF driver, SR-IOV routing-id offset, TotalVFs. */
const NIC_MODELS = [
  { device: '1592', subsystem: '0002', vfDevice: '1889', driver: 'ice', offset: 8, totalVfs: 256 }, // E810-C
  { device: '1572', subsystem: '0007', vfDevice: '154c', driver: 'i40e', offset: 16, totalVfs: 128 }, // X710
] as const;
/** GPU models: VGA, audio, USB, UCSI device ids. */
const GPU_MODELS = [
  { vga: '2684', audio: '22ba', usb: '1ad8', ucsi: '1ad9', subsystem: '16f1' }, // RTX 4090
  { vga: '1e07', audio: '10f7', usb: '1ad6', ucsi: '1ad7', subsystem: '12a4' }, // RTX 2080 Ti
] as const;

/** mulberry32: a tiny deterministic PRNG, so a seed names one host. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

/**
 * A large server spec for scale tests: every NIC PF behind its own root port (ACS on) with
 * `vfsPerNic` VFs enabled, every GPU behind a switch (upstream + downstream port, ACS on) with
 * its four functions in one group, one group per PF and per VF, devices spread over NUMA nodes,
 * one root bus and one DMAR unit per node (node n owns buses n*256/nodes .. (n+1)*256/nodes-1).
 * 30 NICs x 64 VFs + 8 GPUs gives about 2,000 functions.
 */
export function generateLargeHost(options: LargeHostOptions): HostSpecInput {
  const { nics, vfsPerNic, gpus, seed = 1, numaNodes = 2 } = options;
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const devices: NonNullable<HostSpecInput['devices']> = [];
  const slotsPerNode = Math.floor(256 / numaNodes);
  // Per node: next free bus and next root-port device number on its root bus.
  const nodes = Array.from({ length: numaNodes }, (_, n) => ({ rootBus: n * slotsPerNode, nextBus: n * slotsPerNode + 1, nextPort: 0 }));
  // Groups: sequential from a seeded start, with a seeded gap between blocks (as real hosts have).
  let group = Math.floor(random() * 8);
  const nextGroup = () => group++;

  const rootPort = (node: number, buses: number, linkWidth: number) => {
    const n = nodes[node]!;
    if (n.nextBus + buses - 1 >= (node + 1) * slotsPerNode || n.nextPort >= 31 * 8)
      throw new SysfsSimError('generating', 'large host', undefined, `NUMA node ${node} ran out of bus numbers; use more numaNodes or fewer devices`);
    const port = n.nextPort++;
    const address = `0000:${hex2(n.rootBus)}:${hex2(1 + (port >> 3))}.${port & 7}`;
    const secondary = n.nextBus;
    n.nextBus += buses;
    devices.push({
      address,
      vendor: '8086',
      device: '2030',
      class: '060400',
      revision: '07',
      driver: 'pcieport',
      iommuGroup: nextGroup(),
      numaNode: node,
      secondaryBus: hex2(secondary),
      subordinateBus: hex2(secondary + buses - 1),
      pcie: { type: 'root-port', linkGen: 4, linkWidth },
      acs: { enabled: true },
    });
    return secondary;
  };

  for (let n = 0; n < numaNodes; n++) {
    devices.push({
      address: `0000:${hex2(nodes[n]!.rootBus)}:00.0`,
      vendor: '8086',
      device: '09a2',
      class: '088000',
      revision: '04',
      iommuGroup: nextGroup(),
      numaNode: n,
    });
  }

  for (let i = 0; i < nics; i++) {
    const model = pick(NIC_MODELS);
    const node = i % numaNodes;
    const totalVfs = Math.max(model.totalVfs, vfsPerNic);
    // VF routing ids run from PF + offset; reserve every bus they reach.
    const lastRid = model.offset + (vfsPerNic - 1);
    const bus = rootPort(node, Math.max(1, Math.floor(Math.max(lastRid, 0) / 256) + 1), 16);
    group += 1;
    const vfGroupBase = group;
    group += vfsPerNic;
    devices.push({
      address: `0000:${hex2(bus)}:00.0`,
      vendor: '8086',
      device: model.device,
      class: '020000',
      revision: '02',
      subsystem: { vendor: '8086', device: model.subsystem },
      driver: model.driver,
      iommuGroup: vfGroupBase - 1,
      numaNode: node,
      net: [`ens${i + 1}f0`],
      pcie: { type: 'endpoint', linkGen: 4, linkWidth: 16 },
      resetMethods: ['flr', 'bus'],
      sriov: {
        totalVfs,
        numVfs: vfsPerNic,
        vfDevice: model.vfDevice,
        offset: model.offset,
        stride: 1,
        vfDriver: 'iavf',
        vfGroupBase,
        vfNetPrefix: `ens${i + 1}f0v`,
      },
    });
    group += Math.floor(random() * 3);
  }

  for (let i = 0; i < gpus; i++) {
    const model = pick(GPU_MODELS);
    const node = i % numaNodes;
    const upstreamBus = rootPort(node, 3, 16);
    const [downstreamBus, gpuBus] = [upstreamBus + 1, upstreamBus + 2];
    devices.push({
      address: `0000:${hex2(upstreamBus)}:00.0`,
      vendor: '10b5',
      device: '8747',
      class: '060400',
      revision: 'ca',
      driver: 'pcieport',
      iommuGroup: nextGroup(),
      numaNode: node,
      secondaryBus: hex2(downstreamBus),
      subordinateBus: hex2(gpuBus),
      pcie: { type: 'upstream-port', linkGen: 3, linkWidth: 16 },
    });
    devices.push({
      address: `0000:${hex2(downstreamBus)}:08.0`,
      vendor: '10b5',
      device: '8747',
      class: '060400',
      revision: 'ca',
      driver: 'pcieport',
      iommuGroup: nextGroup(),
      numaNode: node,
      secondaryBus: hex2(gpuBus),
      pcie: { type: 'downstream-port', linkGen: 3, linkWidth: 16 },
      acs: { enabled: true },
    });
    const gpuGroup = nextGroup();
    const fn = (f: number, device: string, cls: string, extra: Partial<NonNullable<HostSpecInput['devices']>[number]>) =>
      devices.push({
        address: `0000:${hex2(gpuBus)}:00.${f}`,
        vendor: '10de',
        device,
        class: cls,
        revision: 'a1',
        subsystem: { vendor: '10de', device: model.subsystem },
        iommuGroup: gpuGroup,
        numaNode: node,
        pcie: { type: f === 0 ? 'legacy-endpoint' : 'endpoint', linkGen: 3, linkWidth: 16 },
        ...extra,
      });
    fn(0, model.vga, '030000', { driver: 'nvidia', drm: [`card${i}`, `renderD${128 + i}`], resetMethods: ['bus'] });
    fn(1, model.audio, '040300', { driver: 'snd_hda_intel' });
    fn(2, model.usb, '0c0330', { driver: 'xhci_hcd' });
    fn(3, model.ucsi, '0c8000', { driver: 'nvidia-gpu' });
  }

  return {
    name: options.name ?? `large-host-${nics}x${vfsPerNic}-${gpus}gpu`,
    description: `Generated (seed ${seed}): ${nics} SR-IOV NICs with ${vfsPerNic} VFs each, ${gpus} GPUs, ${numaNodes} NUMA nodes.`,
    cpu: { vendor: 'intel', model: 'Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz', flags: ['vmx', 'ept', 'vpid', 'x2apic'], count: 16 },
    cmdline: 'BOOT_IMAGE=/boot/vmlinuz-6.1.0-28-amd64 root=/dev/mapper/vg0-root ro quiet intel_iommu=on iommu=pt',
    firmware: { tables: ['DMAR'] },
    iommu: {
      enabled: true,
      groupType: 'identity',
      interruptRemapping: true,
      units: Array.from({ length: numaNodes }, (_, n) => ({ name: `dmar${n}`, cap: '08d2078c106f0466', ecap: '0000000000f020df' })),
    },
    modules: ['ice', 'i40e', 'iavf', 'nvidia', 'snd_hda_intel', 'xhci_pci', 'vfio', 'vfio_iommu_type1', 'vfio_pci'],
    drivers: [{ name: 'iavf', module: 'iavf', ids: ['8086:1889', '8086:154c'] }],
    devices,
  };
}
