import type * as z from 'zod';
import type { IommuGroup, PciDevice } from './PciDevice';
import type { PlatformFunctionSchema } from './schemas';

/**
 * A function the host platform itself runs on (chipset, firmware flash, memory controller):
 * never given to vfio-pci, and a group that holds one cannot be passed through. The ACS story
 * behind it: a PCH's functions share one slot without ACS, so the kernel puts the onboard
 * audio of many Intel desktops in one IOMMU group with the LPC bridge, SMBus and SPI flash.
 */
export type PlatformFunction = z.infer<typeof PlatformFunctionSchema>;

interface Rule {
  /** Class code prefix: base class + subclass (4 hex digits). */
  classPrefix: string;
  kind: string;
  reason: string;
  /**
   * `anywhere`: the class is a platform function wherever it sits. `root-bus`: only when
   * integrated in the root complex or chipset (no bridge above it); an add-in card with this
   * class code (an FPGA's default 0x0580, a DSP card's 0x1180) is an ordinary endpoint.
   */
  scope: 'anywhere' | 'root-bus';
}

/** The class-code rules, most specific first. Each says why the host needs the function. */
const RULES: readonly Rule[] = [
  {
    classPrefix: '0600',
    kind: 'host bridge',
    reason: "the CPU's host bridge (DRAM registers, root complex): the host cannot run without it",
    scope: 'anywhere',
  },
  {
    classPrefix: '0601',
    kind: 'ISA bridge',
    reason: "the LPC/eSPI bridge to the firmware's legacy devices (TPM, super-I/O, embedded controller, timers)",
    scope: 'anywhere',
  },
  {
    classPrefix: '0500',
    kind: 'RAM memory',
    reason: 'platform memory (chipset shared SRAM used by its firmware, or memory controller registers)',
    scope: 'root-bus',
  },
  { classPrefix: '0580', kind: 'memory controller', reason: 'memory controller registers of the platform', scope: 'root-bus' },
  { classPrefix: '0c05', kind: 'SMBus controller', reason: 'the chipset SMBus (memory SPD, sensors, clock generator)', scope: 'root-bus' },
  { classPrefix: '0806', kind: 'IOMMU', reason: 'the IOMMU itself, which isolates every passed-through device', scope: 'anywhere' },
  { classPrefix: '0880', kind: 'system peripheral', reason: 'a platform function of the CPU or chipset (uncore, power management, GMM)', scope: 'root-bus' },
  {
    classPrefix: '1180',
    kind: 'signal processing controller',
    reason: 'the platform thermal / power management function of the CPU or chipset',
    scope: 'root-bus',
  },
];

/**
 * Intel PCH/PCU SPI flash controllers: class 0x0c80 ("serial bus controller, other"), which
 * the GPU UCSI and Serial IO I2C functions share, so the device id decides. The ids of the
 * kernel's spi-intel-pci driver (drivers/spi/spi-intel-pci.c, intel_spi_pci_ids, Linux 6.x).
 */
const INTEL_SPI_IDS: ReadonlySet<string> = new Set([
  '02a4',
  '06a4',
  '18e0',
  '19e0',
  '1bca',
  '34a4',
  '38a4',
  '43a4',
  '4b24',
  '4d23',
  '4da4',
  '51a4',
  '54a4',
  '5794',
  '5825',
  '6e24',
  '7723',
  '7a24',
  '7aa4',
  '7e23',
  '7f24',
  '9d24',
  '9da4',
  'a0a4',
  'a1a4',
  'a224',
  'a2a4',
  'a324',
  'a3a4',
  'a823',
  'd323',
  'e323',
  'e423',
]);

/** The platform function a device is, or undefined for a device that may be passed through. */
export function platformFunction(device: Pick<PciDevice, 'address' | 'class' | 'vendorId' | 'deviceId' | 'parent'>): PlatformFunction | undefined {
  const sub = device.class.slice(0, 4);
  if (sub === '0c80' && device.vendorId === '8086' && INTEL_SPI_IDS.has(device.deviceId)) {
    return { address: device.address, kind: 'SPI flash controller', reason: 'the controller of the firmware (BIOS/UEFI) flash' };
  }
  const rule = RULES.find((r) => r.classPrefix === sub);
  if (rule === undefined || (rule.scope === 'root-bus' && device.parent !== null)) return undefined;
  return { address: device.address, kind: rule.kind, reason: rule.reason };
}

/** The platform functions among a group's members (endpoints and bridges alike), in group order. */
export function platformFunctionsOf(group: Pick<IommuGroup, 'devices'>, devices: ReadonlyMap<string, PciDevice>): PlatformFunction[] {
  return group.devices.map((a) => devices.get(a)).flatMap((d) => (d ? [platformFunction(d)].filter((p): p is PlatformFunction => p !== undefined) : []));
}

/** "0000:00:1f.0 (ISA bridge)" for one, "0000:00:1f.0 (ISA bridge), 0000:00:1f.4 (SMBus controller)" for more. */
export function describePlatformFunctions(found: readonly PlatformFunction[]): string {
  return found.map((p) => `${p.address} (${p.kind})`).join(', ');
}

/**
 * The sentence every command uses for a group that holds platform functions, and the way out.
 * "not passable: holds platform function 0000:00:1f.0 (ISA bridge)".
 */
export function notPassable(found: readonly PlatformFunction[]): { summary: string; why: string; fix: string } {
  return {
    summary: `not passable: holds platform function ${describePlatformFunctions(found)}`,
    why: found.map((p) => `${p.address} is ${p.reason}`).join('; '),
    fix: 'This group cannot be passed through without ACS separating it from the platform: use a device in a slot whose root port has ACS (a CPU-attached slot gets a group of its own), pass another device that does the same job (a USB or PCIe card), or run the VM without it.',
  };
}
