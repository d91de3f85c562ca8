/**
 * The kernel lab's guests: one q35 machine under QEMU's software emulation (TCG, never KVM)
 * with the devices passthru is about, in a few IOMMU topologies, and the runs that boot them.
 * Device addresses are fixed (guest/scenarios.sh names them):
 *   00:01.0 std VGA (boot display)        00:10.0, 00:11.0 virtio-9p (the lab's shares)
 *   00:1f.x ICH9 LPC, SATA, SMBus (one platform group)
 *   01:00.0, 02:00.0 e1000e (two identical NICs with no network behind them: nothing leaves QEMU)
 *   03:00.0 NVMe with SR-IOV (2 VFs)      04:00.0 bochs-display + 04:00.1 intel-hda (one card)
 *   05:00.0 NVMe with a 64 MiB namespace  06:00.0 e1000 (the only device with its ids; no network either)
 */
export type IommuModel = 'intel' | 'amd' | 'none';

export interface Topology {
  name: string;
  description: string;
  iommu: IommuModel;
  /** Extra kernel command line. */
  append: string;
  /** Root ports with ACS (QEMU's default) or without (disable-acs=on). */
  acs: boolean;
  /** The firmware: SeaBIOS (QEMU's default) or OVMF (UEFI; Debian's ovmf package, OVMF_FIRMWARE). */
  firmware?: 'seabios' | 'ovmf';
}

/** OVMF as Debian's ovmf package installs it: the code (read-only) and the variable store each guest gets a copy of. */
export const OVMF_FIRMWARE = { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.fd' };

export const TOPOLOGIES: Record<string, Topology> = {
  vtd: { name: 'vtd', description: 'Intel VT-d with interrupt remapping', iommu: 'intel', append: '', acs: true },
  amd: { name: 'amd', description: 'AMD-Vi with interrupt remapping', iommu: 'amd', append: '', acs: true },
  'no-iommu': { name: 'no-iommu', description: 'no IOMMU at all', iommu: 'none', append: '', acs: true },
  'iommu-off': { name: 'iommu-off', description: 'VT-d present, intel_iommu=off on the command line', iommu: 'intel', append: 'intel_iommu=off', acs: true },
  'no-acs': { name: 'no-acs', description: 'VT-d, root ports without ACS (the two NIC ports share one slot)', iommu: 'intel', append: '', acs: false },
  // UEFI: OVMF's GOP framebuffer on the std VGA is BAR 0 of 00:01.0, and with bochs kept out efifb
  // holds it (bochs would take the device and remove efifb itself).
  'vtd-uefi': {
    name: 'vtd-uefi',
    description: 'Intel VT-d, UEFI firmware (OVMF), bochs blacklisted: efifb holds BAR 0 of the boot display',
    iommu: 'intel',
    append: 'modprobe.blacklist=bochs,bochs_drm',
    acs: true,
    firmware: 'ovmf',
  },
};

/** A run: one guest boot (two for a reboot) running scenarios of guest/scenarios.sh in order. */
export interface LabRun {
  name: string;
  topology: Topology;
  scenarios: string[];
  /** Scenarios of a second boot of the same guest, whose /etc is what the first left. */
  afterReboot?: string[];
}

const t = TOPOLOGIES;
/** Longest first: two guests run at a time, and the short runs fill in behind the long ones. */
export const RUNS: LabRun[] = [
  { name: 'vtd', topology: t.vtd!, scenarios: ['doctor', 'inventory', 'vfio_load', 'bind_nic', 'bind_card', 'bind_nvme', 'reset'] },
  { name: 'vtd-2', topology: t.vtd!, scenarios: ['guards', 'kill9', 'sriov'] },
  { name: 'amd', topology: t.amd!, scenarios: ['doctor', 'inventory', 'bind_card'] },
  { name: 'no-acs', topology: t['no-acs']!, scenarios: ['inventory', 'shared_group'] },
  { name: 'efifb', topology: t['vtd-uefi']!, scenarios: ['framebuffer'] },
  { name: 'persist', topology: t.vtd!, scenarios: ['persist'], afterReboot: ['after_reboot'] },
  { name: 'no-iommu', topology: t['no-iommu']!, scenarios: ['doctor', 'inventory'] },
  { name: 'iommu-off', topology: t['iommu-off']!, scenarios: ['doctor'] },
];

/**
 * QEMU's arguments for a topology. `host` is shared read-only, `out` read-write, `disk` backs
 * 05:00.0's namespace, `vars` is the guest's copy of OVMF's variable store (OVMF guests only).
 */
export function qemuArgs(topology: Topology, image: { kernel: string; initrd: string }, shares: { out: string; disk: string; vars?: string }): string[] {
  // Without ACS, the first two root ports are functions 0 and 1 of one slot (00:03.0, 00:03.1):
  // the kernel then groups both ports and the NICs behind them together.
  const rootPort = (n: number) => {
    const addr = topology.acs || n > 2 ? `0x${(n + 2).toString(16)}` : `0x3.${n - 1}${n === 1 ? ',multifunction=on' : ''}`;
    return `pcie-root-port,id=rp${n},chassis=${n},slot=${n},bus=pcie.0,addr=${addr}${topology.acs ? '' : ',disable-acs=on'}`;
  };
  const iommu =
    topology.iommu === 'intel' ? ['-device', 'intel-iommu,intremap=on,caching-mode=on'] : topology.iommu === 'amd' ? ['-device', 'amd-iommu,intremap=on'] : [];
  // OVMF boots the -kernel image as an EFI application (the kernel's EFI stub) from QEMU's fw_cfg.
  const firmware =
    topology.firmware === 'ovmf'
      ? ['-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_FIRMWARE.code}`, '-drive', `if=pflash,format=raw,unit=1,file=${shares.vars}`]
      : [];
  return [
    ...['-accel', 'tcg', '-machine', 'q35,kernel-irqchip=split', '-cpu', 'max', '-smp', '1', '-m', '1536'],
    ...firmware,
    ...['-display', 'none', '-monitor', 'none', '-no-reboot', '-nodefaults', '-serial', 'stdio', '-vga', 'std'],
    ...['-kernel', image.kernel, '-initrd', image.initrd, '-append', `console=ttyS0 panic=-1 quiet ${topology.append}`.trim()],
    ...iommu,
    ...['-fsdev', 'local,id=fs0,path=/,security_model=none,readonly=on,multidevs=remap'],
    ...['-device', 'virtio-9p-pci,fsdev=fs0,mount_tag=host,bus=pcie.0,addr=0x10'],
    ...['-fsdev', `local,id=fs1,path=${shares.out},security_model=none,multidevs=remap`],
    ...['-device', 'virtio-9p-pci,fsdev=fs1,mount_tag=out,bus=pcie.0,addr=0x11'],
    ...[1, 2, 3, 4, 5, 6].flatMap((n) => ['-device', rootPort(n)]),
    ...['-device', 'e1000e,bus=rp1', '-device', 'e1000e,bus=rp2'],
    ...['-device', 'nvme-subsys,id=subsys0'],
    ...['-device', 'nvme,serial=lab0,subsys=subsys0,bus=rp3,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2,max_ioqpairs=6,msix_qsize=4'],
    ...['-device', 'bochs-display,bus=rp4,addr=0.0,multifunction=on', '-device', 'intel-hda,bus=rp4,addr=0.1'],
    ...['-drive', `file=${shares.disk},if=none,id=disk1,format=raw`, '-device', 'nvme,serial=lab1,drive=disk1,bus=rp5'],
    ...['-device', 'e1000,bus=rp6'],
  ];
}
