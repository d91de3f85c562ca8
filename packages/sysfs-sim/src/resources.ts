// A PCI device's `resource` file (drivers/pci/pci-sysfs.c resource_show): one line per resource,
// "0x<start> 0x<end> 0x<flags>" with 16 hex digits each; lines 0-5 the BARs, 6 the expansion
// ROM, then the SR-IOV and bridge windows; an unassigned resource is all zeros. The flags are
// the kernel's IORESOURCE_* bits (include/linux/ioport.h) with the BAR register's low bits kept
// below them (drivers/pci/probe.c decode_bar).
import type { BarSpec, DeviceSpec } from './HostSpec';

export const IORESOURCE_IO = 0x100n;
export const IORESOURCE_MEM = 0x200n;
const IORESOURCE_PREFETCH = 0x2000n;
const IORESOURCE_READONLY = 0x4000n;
const IORESOURCE_SIZEALIGN = 0x40000n;
const IORESOURCE_MEM_64 = 0x100000n;
/** BAR register low bits: I/O space; memory type 64-bit; prefetchable. */
const PCI_BASE_ADDRESS_SPACE_IO = 0x1n;
const PCI_BASE_ADDRESS_MEM_TYPE_64 = 0x4n;
const PCI_BASE_ADDRESS_MEM_PREFETCH = 0x8n;

const hex16 = (n: bigint) => `0x${n.toString(16).padStart(16, '0')}`;
const EMPTY = `${hex16(0n)} ${hex16(0n)} ${hex16(0n)}`;

/** The kernel's flags of one BAR. */
export function barFlags(bar: BarSpec): bigint {
  if (bar.index === 6) return IORESOURCE_MEM | IORESOURCE_PREFETCH | IORESOURCE_READONLY | IORESOURCE_SIZEALIGN;
  if (bar.flags === 'io') return IORESOURCE_IO | IORESOURCE_SIZEALIGN | PCI_BASE_ADDRESS_SPACE_IO;
  let flags = IORESOURCE_MEM | IORESOURCE_SIZEALIGN;
  if (bar.flags === 'mem64') flags |= IORESOURCE_MEM_64 | PCI_BASE_ADDRESS_MEM_TYPE_64;
  if (bar.prefetchable) flags |= IORESOURCE_PREFETCH | PCI_BASE_ADDRESS_MEM_PREFETCH;
  return flags;
}

/** The text of a device's `resource` file: `lines` lines (7 for an endpoint here, 17 for a bridge), its BARs on theirs. */
export function resourceFileText(device: Pick<DeviceSpec, 'bars'>, lines: number): string {
  const out = Array.from({ length: lines }, () => EMPTY);
  for (const bar of device.bars ?? []) {
    const start = BigInt(bar.start);
    out[bar.index] = `${hex16(start)} ${hex16(start + BigInt(bar.size) - 1n)} ${hex16(barFlags(bar))}`;
  }
  return out.join('\n');
}

/** The memory BARs (lines 0-5 with IORESOURCE_MEM) of a `resource` file's text: what the simulated kernel reads. */
export function memoryBars(text: string): Array<{ index: number; start: bigint; end: bigint }> {
  return text.split('\n').flatMap((line, index) => {
    const f = line.trim().split(/\s+/);
    if (index > 5 || f.length < 3) return [];
    const [start, end, flags] = f.map((x) => BigInt(x)) as [bigint, bigint, bigint];
    return (flags & IORESOURCE_MEM) !== 0n && end > start ? [{ index, start, end }] : [];
  });
}
