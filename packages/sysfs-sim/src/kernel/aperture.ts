// vfio-pci and the firmware framebuffer (drivers/vfio/pci/vfio_pci_core.c vfio_pci_vga_init).
// Since Linux 6.0 (commit d17378062079, "vfio/pci: Remove console drivers") vfio-pci calls
// aperture_remove_conflicting_pci_devices() when it takes a VGA-class device (class 0x0300xx):
// sysfb's platform device goes (sysfb_disable), and with it the framebuffer driver on it (efifb,
// vesafb, simplefb, simpledrm) and its claim inside the device's memory BARs in /proc/iomem
// (simple-framebuffer's BOOTFB resource included). It stays away after an unbind: sysfb does not
// register it again until the next boot. Before 6.0 the claim stays, and a VM's mmap of that BAR
// fails ("BAR N: can't reserve"). Not modelled: 6.0-6.3 also removed a framebuffer that sat on
// another GPU (sysfb_disable regardless of overlap; fixed in 6.4 by 5ae3716cfdcd and in stable).
// /proc/iomem is edited line by line: a tree without it (most fixtures) is left as it is.
import { memoryBars } from '../resources';
import type { SysfsTree, TreeDevice } from './SysfsTree';

/** The names firmware framebuffers claim memory under (/proc/iomem). */
export const FIRMWARE_FRAMEBUFFER_NAMES = ['efifb', 'vesafb', 'simplefb', 'simpledrm', 'simple-framebuffer', 'BOOTFB'];

const IOMEM_LINE = /^(\s*)([0-9a-f]+)-([0-9a-f]+) : (.*)$/;

/** Linux 6.0 and later (the release as uname -r spells it). */
export function vfioRemovesFramebuffers(release: string | undefined): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release ?? '');
  return m !== null && Number(m[1]) >= 6;
}

/**
 * What vfio-pci's probe does to /proc/iomem on this tree's kernel: for a VGA-class device, the
 * firmware framebuffer claims overlapping its memory BARs go, with the lines nested under them.
 * `release` is the tree's (/proc/sys/kernel/osrelease), else the spec's.
 */
export function removeFirmwareFramebuffers(tree: SysfsTree, device: TreeDevice, specRelease: string | undefined): void {
  if (device.class >> 8 !== 0x0300) return;
  if (!vfioRemovesFramebuffers(tree.readFile('/proc/sys/kernel/osrelease')?.trim() || specRelease)) return;
  const bars = memoryBars(tree.readFile(`${device.folder}/resource`) ?? '');
  dropIomemEntries(tree, (e) => FIRMWARE_FRAMEBUFFER_NAMES.includes(e.name) && bars.some((b) => e.start <= b.end && e.end >= b.start));
}

/**
 * A driver letting go of a device (its remove(): pci_release_regions and the like): what it
 * reserved inside the device's BARs leaves /proc/iomem. A firmware framebuffer there is not the
 * driver's and stays. (A driver's probe reserving them again is not modelled: names vary.)
 */
export function releaseDriverRegions(tree: SysfsTree, device: TreeDevice): void {
  dropIomemEntries(tree, (e) => e.parent === device.address && !FIRMWARE_FRAMEBUFFER_NAMES.includes(e.name));
}

/** Rewrites /proc/iomem without the entries `drop` picks and those nested under them; nothing when the tree has none. */
function dropIomemEntries(tree: SysfsTree, drop: (e: { name: string; start: bigint; end: bigint; parent: string | undefined }) => boolean): void {
  const iomem = tree.readFile('/proc/iomem');
  if (iomem === undefined) return;
  const kept: string[] = [];
  const ancestors: Array<{ depth: number; name: string }> = [];
  let droppedDepth: number | undefined;
  for (const line of iomem.split('\n')) {
    const m = IOMEM_LINE.exec(line);
    if (!m) {
      kept.push(line);
      continue;
    }
    const depth = m[1]!.length;
    const name = m[4]!.trim();
    while (ancestors.length && ancestors[ancestors.length - 1]!.depth >= depth) ancestors.pop();
    const parent = ancestors[ancestors.length - 1]?.name;
    ancestors.push({ depth, name });
    if (droppedDepth !== undefined && depth > droppedDepth) continue;
    droppedDepth = undefined;
    if (drop({ name, start: BigInt(`0x${m[2]}`), end: BigInt(`0x${m[3]}`), parent })) {
      droppedDepth = depth;
      continue;
    }
    kept.push(line);
  }
  if (kept.length !== iomem.split('\n').length) tree.writeFile('/proc/iomem', kept.join('\n'));
}
