/**
 * The firmware framebuffer on a GPU to be passed through, and the advice for it.
 *
 * vfio-pci removes it by itself since Linux 6.0 (commit d17378062079, "vfio/pci: Remove console
 * drivers"): binding a VGA-class device (class 0300xx; vfio_pci_is_vga) calls
 * aperture_remove_conflicting_pci_devices(), which unregisters sysfb's framebuffer device and the
 * driver on it. Before 6.0 the claim stays and a VM given the device fails to start (vfio-pci's
 * mmap of the BAR: "BAR 1: can't reserve"); then the claim must not be made at boot:
 * - efifb: `video=efifb:off` (efifb_probe returns -ENODEV when fb_get_options says "off").
 * - vesafb: it ignores that answer (vesafb_probe calls fb_get_options only for its options), so
 *   `video=vesafb:off` does nothing; and sysfb's simple-framebuffer (its BOOTFB resource, with
 *   simplefb or simpledrm on it) has no such option at all. For these, no framebuffer device at
 *   all: `initcall_blacklist=sysfb_init`. sysfb_init registers the device on x86 since 3.15
 *   (arch/x86/kernel/sysfb.c; drivers/firmware/sysfb.c from 5.15); simple-framebuffer replaced
 *   efifb where distributions turned on CONFIG_SYSFB_SIMPLEFB (Proxmox and others from 5.15),
 *   which is why video=efifb:off stopped helping there.
 * Binding vfio-pci early (initramfs, softdep) does not help: sysfb and efifb are built in and
 * claim the BAR at an initcall, before any module of the initramfs loads.
 */
import type { HostFs } from '@passthru/hostfs';
import { describeResource, barEvidence, readBarClaims, readIomem, type IomemRead, type PciDevice } from '@passthru/pci-discovery';
import { readKernelRelease } from './HostFacts';

/** The first release whose vfio-pci removes a firmware framebuffer from the VGA device it binds. */
export const VFIO_REMOVES_FRAMEBUFFER_SINCE = '6.0';

/** Does vfio-pci on `release` remove a firmware framebuffer from a device of class `deviceClass`? undefined: the release is unknown. */
export function vfioRemovesFramebuffer(release: string | undefined, deviceClass: string): boolean | undefined {
  if (!deviceClass.startsWith('0300')) return false;
  const m = /^(\d+)\.(\d+)/.exec(release ?? '');
  if (!m) return undefined;
  return Number(m[1]) >= 6;
}

/** The kernel parameter that keeps `holder` (a /proc/iomem name of FIRMWARE_FRAMEBUFFERS) from claiming the GPU at boot. */
export function framebufferParam(holder: string): string {
  return holder === 'efifb' ? 'video=efifb:off' : 'initcall_blacklist=sysfb_init';
}

/** A firmware framebuffer inside a device's memory BARs. */
export interface FramebufferClaim {
  address: string;
  /** Its /proc/iomem names (efifb; BOOTFB and simpledrm under it). */
  holders: string[];
  /** The BARs it sits in, as the kernel names them (`BAR 1 [mem 0xe000000000-0xe00fffffff 64bit pref]`). */
  bars: string[];
  release: string | undefined;
  /** vfio-pci removes it when it binds the device; undefined: the kernel release is unknown. */
  removedByVfio: boolean | undefined;
  /** The kernel parameters that keep it off the GPU from boot on. */
  params: string[];
  /** The `resource` and /proc/iomem lines, and the release. */
  evidence: string[];
}

/**
 * The firmware framebuffers inside the memory BARs of `devices`' display controllers (class
 * 03xxxx: firmware sets up its framebuffer on nothing else), with /proc/iomem read once. A tree
 * without /proc/iomem, or a reader who sees its addresses as 0, finds none.
 */
export function firmwareFramebufferClaims(host: HostFs, devices: readonly PciDevice[], iomem?: IomemRead): FramebufferClaim[] {
  const displays = devices.filter((d) => d.class.startsWith('03'));
  if (displays.length === 0) return [];
  const read = iomem ?? readIomem(host);
  if (read.iomem === undefined || read.iomem.hidden) return [];
  const release = readKernelRelease(host);
  return displays.flatMap((d): FramebufferClaim[] => {
    const claims = readBarClaims(host, d, read).claims.filter((c) => c.kind === 'framebuffer');
    if (claims.length === 0) return [];
    const bars = [...new Set(claims.map((c) => c.bar))];
    const holders = [...new Set(claims.map((c) => c.holder))];
    return [
      {
        address: d.address,
        holders,
        bars: bars.map(describeResource),
        release,
        removedByVfio: vfioRemovesFramebuffer(release, d.class),
        params: [...new Set(holders.map(framebufferParam))],
        evidence: [...bars.flatMap((b) => barEvidence(d.address, b, read.iomem, claims)), `/proc/sys/kernel/osrelease: ${release ?? 'absent'}`],
      },
    ];
  });
}
