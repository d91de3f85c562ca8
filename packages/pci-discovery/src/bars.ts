// A function's BARs as the scan reports them: the size of each assigned BAR and of the expansion
// ROM (the `resource` file, as lspci takes them), and the sizes a Resizable BAR can take (the
// PCIe Resizable BAR extended capability, read from config space).
// Kernel quirks: `resource` lists 7 lines for an endpoint (BARs 0-5, the ROM), 17 for a bridge
// (then SR-IOV BARs and bridge windows): only lines 0-6 are a function's own BARs. An unassigned
// BAR reads as zeros. The capability needs config space past 256 bytes: root only.
import { parsePciResources } from './barClaims';
import { PCI_EXT_CAP_ID_REBAR, extendedCapabilityOffset, u32 } from './configSpace';
import type { Bar, ResizableBar } from './PciDevice';

/** The ROM's line in `resource` (PCI_ROM_RESOURCE). */
export const ROM_INDEX = 6;

/** Pure: the assigned BARs and ROM of a `resource` file (lines 0-6), with their sizes in bytes. */
export function barsOf(resource: string): Bar[] {
  return parsePciResources(resource)
    .filter((r) => r.index <= ROM_INDEX)
    .map(({ index, start, end, space, is64, prefetchable }) => ({ index, size: Number(end - start + 1n), space, is64, prefetchable }));
}

const MIB = 1024 * 1024;

/**
 * Pure: the Resizable BAR capability (PCIe r6, 7.8.6) of a config read: per BAR its current size
 * and the sizes it supports, in bytes. Capability register bits 4-31: 1 MiB to 128 TiB; control
 * register bits 0-2 the BAR, 5-7 (first entry) how many entries, 8-13 the current size (log2 MiB),
 * 16-31 the sizes past 128 TiB. [] without the capability; undefined when the read stops at 256
 * bytes or less (not root: the capability cannot be seen).
 */
export function resizableBarsOf(config: Uint8Array): ResizableBar[] | undefined {
  if (config.length <= 0x100) return config.length === 0x100 ? [] : undefined;
  const cap = extendedCapabilityOffset(config, PCI_EXT_CAP_ID_REBAR);
  return cap === undefined ? [] : rebarEntries(config, cap);
}

function rebarEntries(config: Uint8Array, cap: number): ResizableBar[] {
  if (cap + 12 > config.length) return [];
  const count = Math.min((u32(config, cap + 8) >>> 5) & 0x7, 6);
  const out: ResizableBar[] = [];
  for (let i = 0; i < count && cap + 12 + i * 8 <= config.length; i++) {
    const capability = u32(config, cap + 4 + i * 8);
    const control = u32(config, cap + 8 + i * 8);
    const supportedSizes: number[] = [];
    for (let bit = 4; bit < 32; bit++) if (capability & (1 << bit)) supportedSizes.push(2 ** (bit - 4) * MIB);
    for (let bit = 16; bit < 32; bit++) if (control & (1 << bit)) supportedSizes.push(2 ** (bit - 16 + 28) * MIB);
    out.push({ index: control & 0x7, currentSize: 2 ** ((control >>> 8) & 0x3f) * MIB, supportedSizes });
  }
  return out;
}
