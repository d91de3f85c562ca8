// Who holds a PCI device's BARs: the kernel's resource tree (/proc/iomem) read against the
// device's assigned ranges (/sys/bus/pci/devices/X/resource). A BAR is an entry named by the
// device's address; a driver that reserves memory inside it (request_mem_region) shows as an
// entry nested under it. The firmware framebuffer the machine booted on is one: efifb or vesafb
// (their own names), or sysfb's simple-framebuffer with its "BOOTFB" resource and simplefb or
// simpledrm under that. vfio-pci cannot reserve a BAR such a claim sits in, and a VM's mmap of it
// fails ("vfio-pci 0000:01:00.0: BAR 1: can't reserve [mem ...]").
// Kernel quirks: since Linux 4.15 a reader without CAP_SYS_ADMIN sees every address of
// /proc/iomem as 0 (the names stay); the `resource` file shows real addresses to anyone.
// /proc/iomem indents two spaces per level, at most 5 levels deep (kernel/resource.c r_show):
// deeper entries print at level 5, so nesting is judged here by ranges, not by indentation alone.
import { type HostFs, tryReadText } from '@passthru/hostfs';
import type { PciDevice } from './PciDevice';
import { PCI_ADDRESS_RE } from './pciAddress';
import { pciDevicePath } from './sysfsPaths';

export const IOMEM = '/proc/iomem';

/** The names firmware framebuffers reserve memory under (drivers/video/fbdev, drivers/firmware/sysfb*, drm/tiny/simpledrm). */
export const FIRMWARE_FRAMEBUFFERS: readonly string[] = ['efifb', 'vesafb', 'simplefb', 'simpledrm', 'simple-framebuffer', 'BOOTFB'];

export interface IomemEntry {
  start: bigint;
  end: bigint;
  name: string;
  /** Indentation level (0: top). */
  depth: number;
  /** The line as /proc/iomem printed it. */
  line: string;
  /** Its place in the file. */
  order: number;
}

export interface Iomem {
  entries: IomemEntry[];
  /** Every address reads 0: the reader lacks CAP_SYS_ADMIN, so nothing can be placed. */
  hidden: boolean;
}

const IOMEM_LINE = /^( *)([0-9a-f]+)-([0-9a-f]+) : (.*)$/;

/** Pure: /proc/iomem's lines, in file order (other lines are ignored). */
export function parseIomem(text: string): Iomem {
  const entries: IomemEntry[] = [];
  for (const line of text.split('\n')) {
    const m = IOMEM_LINE.exec(line);
    if (!m) continue;
    entries.push({ start: BigInt(`0x${m[2]}`), end: BigInt(`0x${m[3]}`), name: m[4]!, depth: m[1]!.length / 2, line, order: entries.length });
  }
  return { entries, hidden: entries.length > 0 && entries.every((e) => e.start === 0n && e.end === 0n) };
}

/** One line of a device's `resource` file that the kernel assigned (all-zero lines are left out). */
export interface PciResource {
  /** The line number: 0-5 BARs, 6 the expansion ROM, then SR-IOV and bridge windows. */
  index: number;
  start: bigint;
  end: bigint;
  flags: bigint;
  space: 'mem' | 'io';
  is64: boolean;
  prefetchable: boolean;
  /** The line as the file has it. */
  line: string;
}

const UNASSIGNED = '0x0000000000000000 0x0000000000000000 0x0000000000000000';
const IORESOURCE_IO = 0x100n;
const IORESOURCE_MEM = 0x200n;
const IORESOURCE_PREFETCH = 0x2000n;
const IORESOURCE_MEM_64 = 0x100000n;

/** Pure: the assigned resources of a `resource` file (drivers/pci/pci-sysfs.c resource_show). */
export function parsePciResources(text: string): PciResource[] {
  return text.split('\n').flatMap((line, index) => {
    // Most lines of most files are unassigned: all zeros, skipped without parsing (a scan reads every function's).
    if (line === UNASSIGNED) return [];
    const f = line.trim().split(/\s+/);
    if (f.length !== 3 || !f.every((x) => /^0x[0-9a-f]+$/i.test(x))) return [];
    const [start, end, flags] = f.map((x) => BigInt(x)) as [bigint, bigint, bigint];
    if ((flags & (IORESOURCE_MEM | IORESOURCE_IO)) === 0n || end <= start) return [];
    const space = (flags & IORESOURCE_MEM) !== 0n ? 'mem' : 'io';
    return [
      { index, start, end, flags, space, is64: (flags & IORESOURCE_MEM_64) !== 0n, prefetchable: (flags & IORESOURCE_PREFETCH) !== 0n, line: line.trim() },
    ];
  });
}

/** How the kernel names a BAR in its messages: `BAR 1 [mem 0xe000000000-0xe00fffffff 64bit pref]`. */
export function describeResource(r: PciResource): string {
  const name = r.index <= 5 ? `BAR ${r.index}` : r.index === 6 ? 'ROM' : `resource ${r.index}`;
  const attrs = [...(r.is64 ? ['64bit'] : []), ...(r.prefetchable ? ['pref'] : [])];
  return `${name} [${r.space} 0x${r.start.toString(16)}-0x${r.end.toString(16)}${attrs.length ? ` ${attrs.join(' ')}` : ''}]`;
}

/**
 * A reservation inside one of a device's memory BARs. `framebuffer`: a firmware framebuffer;
 * `driver`: the device's own driver (released when it unbinds); `other`: anything else, which
 * keeps vfio-pci from reserving the BAR whoever the device's driver is.
 */
export interface BarClaim {
  bar: PciResource;
  holder: string;
  kind: 'framebuffer' | 'driver' | 'other';
  entry: IomemEntry;
}

const structural = (name: string) => name.startsWith('PCI Bus ') || PCI_ADDRESS_RE.test(name);

/** Pure: the reservations inside the memory BARs (0-5) of `device`, BAR by BAR in file order. */
export function claimsOnBars(iomem: Iomem, resources: readonly PciResource[], device: Pick<PciDevice, 'address' | 'driver'>): BarClaim[] {
  if (iomem.hidden) return [];
  const claims: BarClaim[] = [];
  for (const bar of resources.filter((r) => r.space === 'mem' && r.index <= 5)) {
    const own = iomem.entries.find((e) => e.name === device.address && e.start === bar.start && e.end === bar.end);
    for (const e of iomem.entries) {
      if (e === own || structural(e.name) || e.end < bar.start || e.start > bar.end) continue;
      // An entry spanning the whole BAR is an ancestor (a bus window, a firmware reservation),
      // unless it comes after the BAR's own entry and deeper: a claim of all of it.
      if (e.start <= bar.start && e.end >= bar.end && !(own && e.order > own.order && e.depth > own.depth)) continue;
      const kind = FIRMWARE_FRAMEBUFFERS.includes(e.name)
        ? 'framebuffer'
        : (device.driver !== null && device.driver !== 'vfio-pci') || /^vfio(-pci)?$/.test(e.name)
          ? 'driver'
          : 'other';
      claims.push({ bar, holder: e.name, kind, entry: e });
    }
  }
  return claims;
}

/** /proc/iomem as read once for many devices: absent (a fixture tree without it), unreadable, or parsed. */
export interface IomemRead {
  iomem?: Iomem;
  error?: string;
}

export function readIomem(host: HostFs): IomemRead {
  const r = tryReadText(host, IOMEM);
  if (r.error !== undefined) return { error: r.error };
  return r.value === undefined ? {} : { iomem: parseIomem(r.value) };
}

export interface BarClaimsRead {
  /** The device's assigned resources (every line that is not all zeros). */
  resources: PciResource[];
  claims: BarClaim[];
  /** Why the claims could not be read: no `resource` file, no /proc/iomem, or addresses hidden (not root). */
  missing?: { path: string; why: 'absent' | 'unreadable' | 'hidden'; detail?: string };
}

/**
 * A device's resources and the claims inside its memory BARs. `iomem` lets a caller read
 * /proc/iomem once for many devices; without it (a fixture tree) the resource file is not read.
 */
export function readBarClaims(host: HostFs, device: Pick<PciDevice, 'address' | 'driver'>, iomem: IomemRead = readIomem(host)): BarClaimsRead {
  if (iomem.iomem === undefined)
    return {
      resources: [],
      claims: [],
      missing: { path: IOMEM, why: iomem.error === undefined ? 'absent' : 'unreadable', ...(iomem.error ? { detail: iomem.error } : {}) },
    };
  if (iomem.iomem.hidden) return { resources: [], claims: [], missing: { path: IOMEM, why: 'hidden' } };
  const path = pciDevicePath(device.address, 'resource');
  const r = tryReadText(host, path);
  if (r.value === undefined)
    return { resources: [], claims: [], missing: { path, why: r.error === undefined ? 'absent' : 'unreadable', ...(r.error ? { detail: r.error } : {}) } };
  const resources = parsePciResources(r.value);
  return { resources, claims: claimsOnBars(iomem.iomem, resources, device) };
}

/** The evidence lines of a BAR and what sits in it: its `resource` line and its /proc/iomem lines. */
export function barEvidence(address: string, bar: PciResource, iomem: Iomem | undefined, claims: readonly BarClaim[]): string[] {
  const own = iomem?.entries.find((e) => e.name === address && e.start === bar.start && e.end === bar.end);
  return [
    `${pciDevicePath(address, 'resource')} line ${bar.index}: ${bar.line} (${describeResource(bar)})`,
    ...(own ? [`${IOMEM}: ${own.line.trimStart()}`] : []),
    ...claims.filter((c) => c.bar === bar).map((c) => `${IOMEM}: ${c.entry.line.trimStart()}`),
  ];
}
