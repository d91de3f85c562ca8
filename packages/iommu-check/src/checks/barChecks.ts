/**
 * BARs: whether the 64-bit BARs of what is passed with an asked device fit the guest firmware's
 * 64-bit MMIO window. OVMF (what LXD and Incus VMs boot) reserves 32 GiB for 64-bit BARs unless
 * told otherwise (PcdPciMmio64Size; builds since edk2-stable202211 size the window from the
 * guest's physical address bits instead, but only when QEMU reports them), so a Resizable-BAR GPU
 * with a 32 GiB BAR does not fit: the guest leaves the BAR unassigned and its driver fails.
 * The fixes: a larger window through QEMU's fw_cfg (opt/ovmf/X-PciMmio64Mb), or a smaller BAR
 * through the kernel's resourceN_resize (Linux 6.1+; the function must have no driver).
 */
import { pciDevicePath, type Bar, type PciDevice } from '@passthru/pci-discovery';
import type { CheckResult } from '../DoctorReport';
import { check } from './check';
import { describeDevice } from './devices';
import type { Facts } from './Facts';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
/** OVMF's default 64-bit MMIO window (PcdPciMmio64Size, 0x800000000). */
export const OVMF_DEFAULT_MMIO64 = 32 * GIB;

/** "256 MiB", "32 GiB", "32.03 GiB": sizes as people read BARs. */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [
    ['TiB', 1024 * GIB],
    ['GiB', GIB],
    ['MiB', MIB],
    ['KiB', 1024],
  ] as const)
    if (bytes >= size) return `${Number((bytes / size).toFixed(2))} ${unit}`;
  return `${bytes} bytes`;
}

const nextPowerOfTwo = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(n, 1)));
const describeBar = (d: PciDevice, b: Bar) =>
  `${d.address} ${b.index === 6 ? 'ROM' : `BAR ${b.index}`}: ${formatSize(b.size)} (${b.space === 'io' ? 'I/O' : `${b.is64 ? '64' : '32'}-bit${b.prefetchable ? ', prefetchable' : ''}`})`;

/** The functions passed with `d`: the endpoints of its IOMMU group (bind moves them together), or `d` alone. */
function passedWith(f: Facts, d: PciDevice): PciDevice[] {
  const group = d.iommuGroup === null ? undefined : f.groups.find((g) => g.id === d.iommuGroup);
  const endpoints = (group?.endpoints ?? [d.address]).map((a) => f.byAddress.get(a)).filter((x): x is PciDevice => x !== undefined);
  return endpoints.length > 0 ? endpoints : [d];
}

export function checkBars(f: Facts, address: string): CheckResult {
  const id = `bars.${address}`;
  const d = f.byAddress.get(address);
  if (d === undefined) return check(id, 'SKIP', `No PCI device ${address} on this host.`, [`${pciDevicePath(address)}: absent`]);
  const passed = passedWith(f, d);
  const mem64 = passed.flatMap((x) => x.bars.filter((b) => b.space === 'mem' && b.is64).map((b) => ({ device: x, bar: b })));
  const evidence = passed.flatMap((x) =>
    x.bars.length > 0 ? x.bars.map((b) => describeBar(x, b)) : [`${pciDevicePath(x.address, 'resource')}: no assigned BAR`],
  );
  if (passed.every((x) => x.bars.length === 0))
    return check(id, 'SKIP', `No assigned BAR on ${describeDevice(d, address)} (its resource file lists none): nothing to size.`, evidence);
  const total = mem64.reduce((sum, { bar }) => sum + bar.size, 0);
  const window = nextPowerOfTwo(total);
  const withGroup = passed.length > 1 ? ` with ${passed.length - 1} other function${passed.length === 2 ? '' : 's'} of its group` : '';
  if (window < OVMF_DEFAULT_MMIO64)
    return check(
      id,
      'PASS',
      `${address}${withGroup} needs ${formatSize(total)} of 64-bit MMIO, within OVMF's default ${formatSize(OVMF_DEFAULT_MMIO64)} window.`,
      evidence,
    );
  const largest = mem64.reduce((a, b) => (b.bar.size > a.bar.size ? b : a));
  const wantMiB = (window * 2) / MIB;
  const fixes = [
    `Give the VM a larger 64-bit MMIO window (${formatSize(window * 2)}), the VM stopped: lxc config set VM raw.qemu="-fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=${wantMiB}" (Incus: incus config set VM raw.qemu=...; the same value).`,
  ];
  const resizable = largest.device.resizableBars?.find((r) => r.index === largest.bar.index);
  const smaller = resizable?.supportedSizes.filter((s) => s < largest.bar.size && nextPowerOfTwo(total - largest.bar.size + s) < OVMF_DEFAULT_MMIO64).at(-1);
  if (smaller !== undefined)
    fixes.push(
      `Or shrink ${largest.device.address} BAR ${largest.bar.index} (Resizable BAR, supports ${resizable!.supportedSizes.map(formatSize).join(', ')}) to ${formatSize(smaller)} before it is bound (Linux 6.1+, no driver on the function): echo ${Math.log2(smaller / MIB)} > ${pciDevicePath(largest.device.address)}/resource${largest.bar.index}_resize`,
    );
  return check(
    id,
    'WARN',
    `${address}${withGroup} needs ${formatSize(total)} of 64-bit MMIO (largest: ${describeBar(largest.device, largest.bar)}): more than OVMF's default ${formatSize(OVMF_DEFAULT_MMIO64)} window holds, so a UEFI guest (LXD and Incus VMs) leaves the BAR unassigned and the driver fails.`,
    evidence,
    fixes.join('\n'),
  );
}
