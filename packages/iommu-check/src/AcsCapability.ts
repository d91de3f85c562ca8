/**
 * PCI config space decoding for isolation: the ACS extended capability, the PCIe port type and
 * multi-function, read from the bytes of /sys/bus/pci/devices/<bdf>/config.
 *
 * Config-space quirks handled here:
 * - unprivileged readers get only the first 64 bytes (no capability list at all);
 * - 256 bytes means conventional config space only (no extended capabilities);
 * - capability walks are bounded like the kernel's (48 standard entries, 480 extended) and stop
 *   on loops, out-of-range pointers and all-ones (the device is gone) headers.
 */

export const PCI_EXT_CAP_ID_ACS = 0x000d;
export const PCI_CAP_ID_EXP = 0x10;

export interface AcsFlags {
  /** SV: source validation. */
  sourceValidation: boolean;
  /** TB: translation blocking. */
  translationBlocking: boolean;
  /** RR: P2P request redirect. */
  p2pRequestRedirect: boolean;
  /** CR: P2P completion redirect. */
  p2pCompletionRedirect: boolean;
  /** UF: upstream forwarding. */
  upstreamForwarding: boolean;
  /** EC: P2P egress control. */
  p2pEgressControl: boolean;
  /** DT: direct translated P2P. */
  directTranslatedP2p: boolean;
}

export interface AcsCapability {
  present: boolean;
  /** Offset of the ACS extended capability header. */
  offset?: number;
  capability?: AcsFlags & { egressControlVectorSize: number; raw: number };
  control?: AcsFlags & { raw: number };
  /**
   * The kernel's pci_acs_flags_enabled(dev, REQ_ACS_FLAGS = SV|RR|CR|UF): every one of those the
   * device implements is enabled. Flags missing from the capability register count as
   * hard-wired on (the kernel's own rule). False without an ACS capability.
   */
  isolates: boolean;
}

export type PciePortType =
  | 'endpoint'
  | 'legacy-endpoint'
  | 'root-port'
  | 'upstream-switch-port'
  | 'downstream-switch-port'
  | 'pcie-to-pci-bridge'
  | 'pci-to-pcie-bridge'
  | 'rc-integrated-endpoint'
  | 'rc-event-collector'
  | 'unknown';

export interface PcieCapability {
  offset: number;
  version: number;
  /** Raw device/port type (PCIe capabilities register bits 7:4). */
  type: number;
  portType: PciePortType;
}

export interface PciConfigIsolation {
  /** Bytes available: 64 (unprivileged read), 256 (conventional), 4096 (extended). */
  configSize: number;
  /** False when only the 64-byte header could be read: capability results are unknown. */
  capabilitiesReadable: boolean;
  extendedConfig: boolean;
  headerType: number;
  /** Header type bit 7. */
  multiFunction: boolean;
  /** Standard capability ids in list order. */
  capabilities: Array<{ id: number; offset: number }>;
  /** Extended capability ids in list order. */
  extendedCapabilities: Array<{ id: number; version: number; offset: number }>;
  pcie?: PcieCapability;
  acs: AcsCapability;
  /**
   * pci_acs_enabled(dev, REQ_ACS_FLAGS) without the kernel's device-specific quirks: what the
   * IOMMU group code asks of this function. Root and downstream ports need ACS; endpoints,
   * upstream ports and RCiEPs only when multi-function; conventional PCI and PCI bridges never
   * isolate.
   */
  kernelAcsEnabled: boolean;
}

const PORT_TYPES: Record<number, PciePortType> = {
  0: 'endpoint',
  1: 'legacy-endpoint',
  4: 'root-port',
  5: 'upstream-switch-port',
  6: 'downstream-switch-port',
  7: 'pcie-to-pci-bridge',
  8: 'pci-to-pcie-bridge',
  9: 'rc-integrated-endpoint',
  10: 'rc-event-collector',
};

const u16 = (b: Uint8Array, o: number): number => (b[o] ?? 0) | ((b[o + 1] ?? 0) << 8);
const u32 = (b: Uint8Array, o: number): number => (u16(b, o) | (u16(b, o + 2) << 16)) >>> 0;

function flags(reg: number): AcsFlags {
  return {
    sourceValidation: (reg & 0x01) !== 0,
    translationBlocking: (reg & 0x02) !== 0,
    p2pRequestRedirect: (reg & 0x04) !== 0,
    p2pCompletionRedirect: (reg & 0x08) !== 0,
    upstreamForwarding: (reg & 0x10) !== 0,
    p2pEgressControl: (reg & 0x20) !== 0,
    directTranslatedP2p: (reg & 0x40) !== 0,
  };
}

/** REQ_ACS_FLAGS in drivers/iommu/iommu.c. */
export const REQ_ACS_FLAGS = 0x01 | 0x04 | 0x08 | 0x10;
const PCI_ACS_EC = 0x20;

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

/** Pure: the ACS extended capability of one function, from its config space bytes. */
export function decodeAcsCapability(config: Uint8Array): AcsCapability {
  const acs = walkExtendedCapabilities(config).find((c) => c.id === PCI_EXT_CAP_ID_ACS);
  if (acs === undefined || acs.offset + 8 > config.length) return { present: false, isolates: false };
  const cap = u16(config, acs.offset + 4);
  const ctrl = u16(config, acs.offset + 6);
  // pci_acs_flags_enabled(): "Features missing from the capability field can therefore be
  // assumed as hard-wired enabled" (egress control excepted).
  const required = REQ_ACS_FLAGS & (cap | PCI_ACS_EC);
  return {
    present: true,
    offset: acs.offset,
    capability: { ...flags(cap), egressControlVectorSize: (cap >> 8) & 0xff, raw: cap },
    control: { ...flags(ctrl), raw: ctrl },
    isolates: (ctrl & required) === required,
  };
}

/** Pure: the PCI Express capability (id 0x10) and its device/port type, if any. */
export function findPcieCapability(config: Uint8Array): PcieCapability | undefined {
  const c = walkCapabilities(config).find((x) => x.id === PCI_CAP_ID_EXP);
  if (c === undefined || c.offset + 4 > config.length) return undefined;
  const reg = u16(config, c.offset + 2);
  const type = (reg >> 4) & 0xf;
  return { offset: c.offset, version: reg & 0xf, type, portType: PORT_TYPES[type] ?? 'unknown' };
}

/** Pure: everything isolation-related that one function's config space says. */
export function inspectPciConfig(config: Uint8Array): PciConfigIsolation {
  const headerType = config[0x0e] ?? 0;
  const multiFunction = (headerType & 0x80) !== 0;
  const pcie = findPcieCapability(config);
  const acs = decodeAcsCapability(config);
  let kernelAcsEnabled: boolean;
  switch (pcie?.portType) {
    case undefined: // conventional PCI / PCI-X: a shared bus
    case 'pci-to-pcie-bridge':
    case 'pcie-to-pci-bridge':
    case 'rc-event-collector':
      kernelAcsEnabled = false;
      break;
    case 'root-port':
    case 'downstream-switch-port':
      kernelAcsEnabled = acs.isolates;
      break;
    case 'endpoint':
    case 'upstream-switch-port':
    case 'legacy-endpoint':
    case 'rc-integrated-endpoint':
      kernelAcsEnabled = multiFunction ? acs.isolates : true;
      break;
    default:
      kernelAcsEnabled = true; // types the kernel's switch does not list fall through to true
  }
  const result: PciConfigIsolation = {
    configSize: config.length,
    capabilitiesReadable: config.length > 0x40,
    extendedConfig: config.length > 0x100,
    headerType: headerType & 0x7f,
    multiFunction,
    capabilities: walkCapabilities(config),
    extendedCapabilities: walkExtendedCapabilities(config),
    acs,
    kernelAcsEnabled,
  };
  if (pcie) result.pcie = pcie;
  return result;
}
