/**
 * PCI config space decoding for isolation: the ACS extended capability, the PCIe port type and
 * multi-function, read from the bytes of /sys/bus/pci/devices/<bdf>/config.
 * The capability walks, and the config-space quirks they handle, are pci-discovery's
 * (configSpace.ts).
 */

import { PCI_CAP_ID_EXP, PCI_EXT_CAP_ID_ACS, u16, u32, walkCapabilities, walkExtendedCapabilities } from '@passthru/pci-discovery';

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
