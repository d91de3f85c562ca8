/**
 * Walking the capability lists of a function's config space, from the bytes of
 * /sys/bus/pci/devices/<bdf>/config.
 *
 * Config-space quirks handled here:
 * - unprivileged readers get only the first 64 bytes (no capability list at all);
 * - 256 bytes means conventional config space only (no extended capabilities);
 * - walks are bounded like the kernel's (48 standard entries, 480 extended) and stop on loops,
 *   out-of-range pointers and all-ones (the device is gone) headers.
 */

export const PCI_CAP_ID_EXP = 0x10;
export const PCI_EXT_CAP_ID_SRIOV = 0x0010;
export const PCI_EXT_CAP_ID_ACS = 0x000d;
export const PCI_EXT_CAP_ID_REBAR = 0x0015;

export const u16 = (b: Uint8Array, o: number): number => (b[o] ?? 0) | ((b[o + 1] ?? 0) << 8);
export const u32 = (b: Uint8Array, o: number): number => (u16(b, o) | (u16(b, o + 2) << 16)) >>> 0;

/** Standard capability list (status bit 4, pointer at 0x34, or 0x14 for CardBus), bounded like pci_find_cap_ttl(). */
export function walkCapabilities(config: Uint8Array): Array<{ id: number; offset: number }> {
  const out: Array<{ id: number; offset: number }> = [];
  if (config.length < 0x40) return out;
  if ((u16(config, 0x06) & 0x10) === 0) return out;
  const headerLayout = (config[0x0e] ?? 0) & 0x7f;
  let ptr = config[headerLayout === 2 ? 0x14 : 0x34] ?? 0;
  const seen = new Set<number>();
  for (let ttl = 48; ttl > 0; ttl--) {
    if (ptr < 0x40) break;
    ptr &= ~3;
    if (ptr + 1 >= config.length || seen.has(ptr)) break;
    seen.add(ptr);
    const id = config[ptr]!;
    if (id === 0xff) break;
    out.push({ id, offset: ptr });
    ptr = config[ptr + 1]!;
  }
  return out;
}

/** Extended capability list from 0x100, bounded like pci_find_next_ext_capability(). */
export function walkExtendedCapabilities(config: Uint8Array): Array<{ id: number; version: number; offset: number }> {
  const out: Array<{ id: number; version: number; offset: number }> = [];
  let pos = 0x100;
  const seen = new Set<number>();
  for (let ttl = (4096 - 256) / 8; ttl > 0; ttl--) {
    if (pos < 0x100 || pos + 4 > config.length || seen.has(pos)) break;
    seen.add(pos);
    const header = u32(config, pos);
    // 0: no extended capabilities; all ones: the device did not answer.
    if (header === 0 || header === 0xffffffff) break;
    out.push({ id: header & 0xffff, version: (header >>> 16) & 0xf, offset: pos });
    pos = (header >>> 20) & 0xffc;
  }
  return out;
}

/**
 * What a config read can tell about a capability: `true`/`false` when the bytes cover the list
 * (256 bytes for standard capabilities; extended ones live past 256, so a 256-byte read, which
 * is conventional space, has none), `undefined` when they do not (an unprivileged read of 64).
 * The walks are the kernel's: bounded by a count, no list is built (a scan asks per function).
 */
export function hasCapability(config: Uint8Array | undefined, id: number): boolean | undefined {
  if (config === undefined || config.length < 0x100) return undefined;
  if ((u16(config, 0x06) & 0x10) === 0) return false;
  let ptr = config[(config[0x0e]! & 0x7f) === 2 ? 0x14 : 0x34]!;
  for (let ttl = 48; ttl > 0 && ptr >= 0x40; ttl--) {
    ptr &= ~3;
    const found = config[ptr]!;
    if (found === 0xff) return false;
    if (found === id) return true;
    ptr = config[ptr + 1]!;
  }
  return false;
}

/** As hasCapability, for an extended capability (pci_find_ext_capability). */
export function hasExtendedCapability(config: Uint8Array | undefined, id: number): boolean | undefined {
  if (config === undefined || config.length < 0x100) return undefined;
  return extendedCapabilityOffset(config, id) !== undefined;
}

/** Where an extended capability starts in a config read, or undefined (absent, or the read stops before it). */
export function extendedCapabilityOffset(config: Uint8Array, id: number): number | undefined {
  for (let pos = 0x100, ttl = (4096 - 256) / 8; ttl > 0 && pos >= 0x100 && pos + 4 <= config.length; ttl--) {
    const header = u32(config, pos);
    if (header === 0 || header === 0xffffffff) return undefined;
    if ((header & 0xffff) === id) return pos;
    pos = (header >>> 20) & 0xffc;
  }
  return undefined;
}
