import { describe, expect, it } from 'vitest';
import { decodeIntelEcap, parseInterruptRemapping } from '../src/InterruptRemapping';
import { IommuCheckError } from '../src/IommuCheckError';

/** Intel host, 5.15 (excerpt). */
const INTEL_515 = `            CPU0       CPU1       CPU2       CPU3
   0:         38          0          0          0   IR-IO-APIC    2-edge      timer
   8:          0          0          0          0   IR-IO-APIC    8-edge      rtc0
   9:          0          4          0          0   IR-IO-APIC    9-fasteoi   acpi
 120:          0          0          0          0  DMAR-MSI    0-edge      dmar0
 121:          0          0          0          0  DMAR-MSI    1-edge      dmar1
 124:          0          0       2156          0  IR-PCI-MSI 327680-edge      xhci_hcd
 125:          0      35221          0          0  IR-PCI-MSI 520192-edge      enp0s31f6
 NMI:          0          0          0          0   Non-maskable interrupts
 LOC:    1204410    1149563    1187425    1184356   Local timer interrupts
 ERR:          0
 MIS:          0
`;

/** Intel host, 6.8 with per-device MSI domains (excerpt). */
const INTEL_68 = `            CPU0       CPU1
   1:          0          9  IR-IO-APIC    1-edge      i8042
 122:          0          0  IR-PCI-MSIX-0000:00:1f.3    0-edge      snd_hda_intel:card0
 123:       3019          0  IR-PCI-MSI-0000:00:14.0    0-edge      xhci_hcd
 124:          0        412  IR-PCI-MSIX-0000:01:00.0    0-edge      nvme0q0
`;

/** AMD host (Ryzen), 6.1 (excerpt). */
const AMD_61 = `           CPU0       CPU1       CPU2       CPU3       CPU4       CPU5
  0:         44          0          0          0          0          0   IO-APIC    2-edge      timer
  9:          0          0          0          0          0          0  IR-IO-APIC    9-fasteoi   acpi
 25:          0          0          0          0          0          0   PCI-MSI 0-edge      AMD-Vi
 27:          0          0          0          0          0          0  IR-PCI-MSI 16384-edge      PCIe PME
 40:          0          0          0       1723          0          0  IR-PCI-MSI 1048576-edge      nvme0q0
`;

/** Intel host with intremap=off. */
const NO_IR = `            CPU0       CPU1
   0:         38          0   IO-APIC    2-edge      timer
 120:          0          0  DMAR-MSI    0-edge      dmar0
 124:          0       2156   PCI-MSI 327680-edge      xhci_hcd
`;

describe('parseInterruptRemapping', () => {
  it('detects IR chips on Intel (5.15 and 6.8 per-device names)', () => {
    expect(parseInterruptRemapping(INTEL_515)).toEqual({
      remapped: true,
      chips: ['IR-IO-APIC', 'IR-PCI-MSI'],
      allChips: ['IR-IO-APIC', 'DMAR-MSI', 'IR-PCI-MSI'],
    });
    expect(parseInterruptRemapping(INTEL_68).chips).toEqual(['IR-IO-APIC', 'IR-PCI-MSIX-0000:00:1f.3', 'IR-PCI-MSI-0000:00:14.0', 'IR-PCI-MSIX-0000:01:00.0']);
  });
  it('detects IR chips on AMD; the AMD-Vi and DMAR rows prove nothing', () => {
    const r = parseInterruptRemapping(AMD_61);
    expect(r.remapped).toBe(true);
    expect(r.chips).toEqual(['IR-IO-APIC', 'IR-PCI-MSI']);
    expect(parseInterruptRemapping(NO_IR)).toEqual({ remapped: false, chips: [], allChips: ['IO-APIC', 'DMAR-MSI', 'PCI-MSI'] });
    expect(parseInterruptRemapping('').remapped).toBe(false);
  });
});

describe('decodeIntelEcap', () => {
  it('decodes a Skylake client ECAP', () => {
    // /sys/class/iommu/dmar1/intel-iommu/ecap on an i7-6700: f050da
    const e = decodeIntelEcap('f050da\n');
    expect(e).toMatchObject({
      raw: 0xf050dan,
      coherency: false,
      queuedInvalidation: true,
      interruptRemapping: true,
      extendedInterruptMode: true,
      passThrough: true,
      snoopControl: true,
      iotlbRegisterOffset: 0x50 * 16,
      maxHandleMaskValue: 15,
    });
  });
  it('decodes single bits and 64-bit values', () => {
    expect(decodeIntelEcap('8')).toMatchObject({ interruptRemapping: true, passThrough: false });
    expect(decodeIntelEcap('0x40')).toMatchObject({ interruptRemapping: false, passThrough: true });
    const high = decodeIntelEcap('0000c80000000000');
    expect(high).toMatchObject({ scalableMode: true, secondLevelTranslation: true, firstLevelTranslation: true, pasid: false });
    expect(() => decodeIntelEcap('zz')).toThrow(IommuCheckError);
  });
});
