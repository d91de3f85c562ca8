/**
 * Interrupt remapping as the running kernel shows it. With remapping on, the irq chips of
 * MSI/MSI-X and IO-APIC interrupts are the remapping domains, named with an `IR-` prefix:
 * IR-IO-APIC, IR-PCI-MSI, IR-PCI-MSIX (6.2+ per-device MSI domains append the device:
 * IR-PCI-MSIX-0000:00:1f.3). The parent domains are INTEL-IR / AMD-IR(-n). Without remapping
 * the same rows read IO-APIC and PCI-MSI. DMAR-MSI (VT-d fault reporting) and AMD-Vi rows
 * exist either way and prove nothing.
 */
import { IommuCheckError } from './IommuCheckError';

export interface InterruptRemappingState {
  /** At least one interrupt goes through a remapping chip. */
  remapped: boolean;
  /** Distinct remapping chip names, in order of first appearance. */
  chips: string[];
  /** Distinct chip names of all numbered interrupts. */
  allChips: string[];
}

const IR_CHIP = /^(IR-|INTEL-IR|AMD-IR)/;

/** Pure: /proc/interrupts -> which irq chips are remapping ones. */
export function parseInterruptRemapping(procInterrupts: string): InterruptRemappingState {
  const lines = procInterrupts.split('\n');
  const header = lines.find((l) => /^\s*CPU\d+/.test(l));
  const cpus = header ? (header.match(/CPU\d+/g) ?? []).length : 0;
  const allChips: string[] = [];
  for (const line of lines) {
    const m = /^\s*(\d+):(.*)$/.exec(line);
    if (!m) continue; // NMI:, LOC:, ERR: ... rows have no chip
    const fields = m[2]!.trim().split(/\s+/);
    // One count per CPU, then the chip; tolerate a header-less excerpt by skipping leading numbers.
    let k = cpus;
    if (cpus === 0) while (k < fields.length && /^\d+$/.test(fields[k]!)) k++;
    const chip = fields[k];
    if (chip !== undefined && !allChips.includes(chip)) allChips.push(chip);
  }
  const chips = allChips.filter((c) => IR_CHIP.test(c));
  return { remapped: chips.length > 0, chips, allChips };
}

export interface IntelEcap {
  raw: bigint;
  /** C: page-walk coherency. */
  coherency: boolean;
  /** QI: queued invalidation (required for interrupt remapping). */
  queuedInvalidation: boolean;
  /** DT: device-TLB (ATS). */
  deviceTlb: boolean;
  /** IR: interrupt remapping (bit 3). */
  interruptRemapping: boolean;
  /** EIM: extended interrupt mode, 32-bit APIC ids (x2APIC). */
  extendedInterruptMode: boolean;
  /** PT: pass-through translation (bit 6), what iommu=pt uses. */
  passThrough: boolean;
  /** SC: snoop control. */
  snoopControl: boolean;
  /** IRO: IOTLB register offset in bytes. */
  iotlbRegisterOffset: number;
  /** MHMV: maximum handle mask value. */
  maxHandleMaskValue: number;
  /** NEST: nested translation. */
  nestedTranslation: boolean;
  /** PRS: page requests (PRI). */
  pageRequest: boolean;
  /** PASID support. */
  pasid: boolean;
  /** SMTS: scalable-mode translation (VT-d 3.0). */
  scalableMode: boolean;
  /** SLTS: second-level translation. */
  secondLevelTranslation: boolean;
  /** FLTS: first-level translation. */
  firstLevelTranslation: boolean;
}

/**
 * Pure: the VT-d Extended Capability register as sysfs prints it
 * (/sys/class/iommu/dmar0/intel-iommu/ecap: hex without 0x). Bit positions follow the ecap_*()
 * macros of drivers/iommu/intel/iommu.h.
 */
export function decodeIntelEcap(hex: string, path = '/sys/class/iommu/dmar0/intel-iommu/ecap'): IntelEcap {
  const text = hex.trim().replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]{1,16}$/.test(text))
    throw new IommuCheckError('decoding', 'the VT-d ECAP register', path, `not a 64-bit hex value: ${JSON.stringify(hex)}`);
  const raw = BigInt(`0x${text}`);
  const bit = (n: number): boolean => ((raw >> BigInt(n)) & 1n) === 1n;
  const field = (shift: number, mask: number): number => Number((raw >> BigInt(shift)) & BigInt(mask));
  return {
    raw,
    coherency: bit(0),
    queuedInvalidation: bit(1),
    deviceTlb: bit(2),
    interruptRemapping: bit(3),
    extendedInterruptMode: bit(4),
    passThrough: bit(6),
    snoopControl: bit(7),
    iotlbRegisterOffset: field(8, 0x3ff) * 16,
    maxHandleMaskValue: field(20, 0xf),
    nestedTranslation: bit(26),
    pageRequest: bit(29),
    pasid: bit(40),
    scalableMode: bit(43),
    secondLevelTranslation: bit(46),
    firstLevelTranslation: bit(47),
  };
}
