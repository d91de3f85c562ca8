// PCI expansion ROMs (PCI Local Bus / PCI Firmware Specification 3.0, and UEFI's "PCI Option
// ROM" section): a chain of images, each a 0x55AA header whose word at 0x18 points to its PCI
// Data Structure ("PCIR": vendor, device, class, image length in 512-byte units, code type,
// last-image flag). A UEFI guest (OVMF) can use only an EFI image (code type 3) for its machine
// type (x64, or EBC bytecode); a ROM with x86 legacy code only brings up no display there.
import { HostFsError, tryReadText, type HostFs } from '@passthru/hostfs';
import { pciDevicePath } from './sysfsPaths';
import { PciDiscoveryError } from './PciDiscoveryError';

export type RomCodeType = 'x86' | 'open-firmware' | 'hp-pa-risc' | 'efi' | 'other';

export interface RomImage {
  /** Where the image starts in the ROM. */
  offset: number;
  /** Bytes, from the PCIR image length (512-byte units). */
  length: number;
  codeType: RomCodeType;
  /** The PCIR code type byte, as read. */
  codeTypeByte: number;
  vendorId: string;
  deviceId: string;
  /** Class code of the PCIR (six hex digits). */
  class: string;
  last: boolean;
  /** x86 images: the bytes of the image sum to 0 mod 256 (the BIOS refuses the image otherwise); null for other types. */
  checksumOk: boolean | null;
  /** EFI images: the machine type (x64, ia32, aa64, ebc, ia64 or the hex word), subsystem and compression. */
  efi?: { machine: string; subsystem: 'application' | 'boot-service-driver' | 'runtime-driver' | string; compressed: boolean };
}

export interface OptionRom {
  size: number;
  images: RomImage[];
  /** What a UEFI guest can use: an EFI image for x64 or EBC; legacy: x86 code only. */
  kind: 'legacy' | 'efi' | 'both' | 'none';
  /** What is off: a header that is not 0x55AA, a PCIR that is not there, an image past the end, a bad checksum. */
  problems: string[];
}

const CODE_TYPES: Record<number, RomCodeType> = { 0: 'x86', 1: 'open-firmware', 2: 'hp-pa-risc', 3: 'efi' };
const EFI_MACHINES: Record<number, string> = { 332: 'ia32', 34404: 'x64', 512: 'ia64', 43620: 'aa64', 3772: 'ebc' };
const EFI_SUBSYSTEMS: Record<number, string> = { 10: 'application', 11: 'boot-service-driver', 12: 'runtime-driver' };
/** Images a ROM may chain (a guard against a loop of zero-length images). */
const MAX_IMAGES = 16;

const hex4 = (n: number) => n.toString(16).padStart(4, '0');

/** Parses the images of an option ROM (pure). Never throws: what does not parse is listed in `problems`. */
export function parseOptionRom(rom: Buffer): OptionRom {
  const images: RomImage[] = [];
  const problems: string[] = [];
  let offset = 0;
  for (let n = 0; n < MAX_IMAGES && offset < rom.length; n++) {
    if (offset + 0x1a > rom.length || rom[offset] !== 0x55 || rom[offset + 1] !== 0xaa) {
      problems.push(`image ${n} at 0x${offset.toString(16)}: no 0x55AA signature`);
      break;
    }
    const pcir = offset + rom.readUInt16LE(offset + 0x18);
    if (pcir + 0x18 > rom.length || rom.toString('latin1', pcir, pcir + 4) !== 'PCIR') {
      problems.push(`image ${n} at 0x${offset.toString(16)}: no PCIR data structure at 0x${pcir.toString(16)}`);
      break;
    }
    const length = rom.readUInt16LE(pcir + 0x10) * 512;
    const codeTypeByte = rom[pcir + 0x14]!;
    const codeType = CODE_TYPES[codeTypeByte] ?? 'other';
    const image: RomImage = {
      offset,
      length,
      codeType,
      codeTypeByte,
      vendorId: hex4(rom.readUInt16LE(pcir + 4)),
      deviceId: hex4(rom.readUInt16LE(pcir + 6)),
      // Little-endian on the ROM: programming interface, subclass, class; copied (reverse() works in place).
      class: Buffer.from(rom.subarray(pcir + 0x0d, pcir + 0x10))
        .reverse()
        .toString('hex'),
      last: (rom[pcir + 0x15]! & 0x80) !== 0,
      checksumOk: null,
    };
    if (length === 0 || offset + length > rom.length)
      problems.push(`image ${n} at 0x${offset.toString(16)}: its length ${length} runs past the ROM's ${rom.length} bytes`);
    else if (codeType === 'x86') {
      let sum = 0;
      for (let i = offset; i < offset + length; i++) sum = (sum + rom[i]!) & 0xff;
      image.checksumOk = sum === 0;
      if (!image.checksumOk) problems.push(`image ${n} (x86) at 0x${offset.toString(16)}: checksum ${sum}, not 0`);
    }
    if (codeType === 'efi' && rom.readUInt16LE(offset + 4) === 0x0ef1) {
      const machine = rom.readUInt16LE(offset + 0x0a);
      const subsystem = rom.readUInt16LE(offset + 0x08);
      image.efi = {
        machine: EFI_MACHINES[machine] ?? `0x${hex4(machine)}`,
        subsystem: EFI_SUBSYSTEMS[subsystem] ?? String(subsystem),
        compressed: rom.readUInt16LE(offset + 0x0c) === 1,
      };
    }
    images.push(image);
    if (image.last || length === 0) break;
    offset += length;
  }
  const uefi = images.some((i) => i.codeType === 'efi' && (i.efi?.machine === 'x64' || i.efi?.machine === 'ebc'));
  const legacy = images.some((i) => i.codeType === 'x86');
  return { size: rom.length, images, kind: uefi && legacy ? 'both' : uefi ? 'efi' : legacy ? 'legacy' : 'none', problems };
}

/** The ROM's size cap: PCI ROM BARs are at most 16 MiB. */
export const MAX_ROM_BYTES = 16 * 1024 * 1024;

/**
 * How reading a device's ROM went, step by step, for callers that must say which step failed
 * (doctor's rom check): `not-enabled` when the enable write failed (EACCES: the attribute is
 * root's; ENOTSUP: a tree with no simulated kernel), `unreadable` when the read failed (EIO: a
 * shadowed boot GPU's ROM the kernel cannot map). `disableError`: the read worked, the write of 0
 * after it did not.
 */
export type RomRead =
  | { outcome: 'no-rom-bar' }
  | { outcome: 'read'; bytes: Buffer; disableError?: HostFsError }
  | { outcome: 'not-enabled'; error: HostFsError }
  | { outcome: 'unreadable'; error: HostFsError };

/**
 * Reads a device's option ROM through sysfs the way the kernel allows it (drivers/pci/pci-sysfs.c
 * pci_read_rom: the `rom` attribute reads only after a write enables it): write 1, read, write 0.
 * Never throws a HostFsError: each step's failure is its outcome.
 */
export function tryReadOptionRom(host: HostFs, address: string): RomRead {
  const rom = pciDevicePath(address, 'rom');
  if (!host.exists(rom)) return { outcome: 'no-rom-bar' };
  const failure = (error: unknown): HostFsError => {
    if (error instanceof HostFsError) return error;
    throw error;
  };
  try {
    host.writeAttribute(rom, '1');
  } catch (error) {
    return { outcome: 'not-enabled', error: failure(error) };
  }
  let result: RomRead;
  try {
    result = { outcome: 'read', bytes: host.readBytes(rom, MAX_ROM_BYTES) };
  } catch (error) {
    result = { outcome: 'unreadable', error: failure(error) };
  }
  try {
    host.writeAttribute(rom, '0');
  } catch (error) {
    if (result.outcome === 'read') result.disableError = failure(error);
  }
  return result;
}

/**
 * `tryReadOptionRom` for callers that stop at the first failure: undefined when the device has
 * no ROM BAR (no `rom` attribute); a failed step throws its HostFsError (a shadowed boot GPU's ROM
 * the kernel cannot map: EIO).
 */
export function readOptionRom(host: HostFs, address: string): Buffer | undefined {
  const read = tryReadOptionRom(host, address);
  if (read.outcome === 'no-rom-bar') return undefined;
  if (read.outcome !== 'read') throw read.error;
  if (read.disableError) throw read.disableError;
  return read.bytes;
}

/** The EFI machine type of a UEFI guest: LXD and Incus VMs run the host's architecture (OVMF on x86-64, AAVMF on arm64). */
export type GuestMachine = 'x64' | 'aa64';

/** The EFI machine type of this host's VMs, from its /proc/cpuinfo and kernel release: aa64 on arm64, else x64. */
export function guestMachineOf(cpuinfo: string, release = ''): GuestMachine {
  if (/^vendor_id\s*:\s*(GenuineIntel|AuthenticAMD|HygonGenuine)/m.test(cpuinfo)) return 'x64';
  return /^CPU architecture\s*:\s*8/m.test(cpuinfo) || /\basimd\b/.test(cpuinfo) || /arm64|aarch64/.test(release) ? 'aa64' : 'x64';
}

/**
 * What a UEFI guest's firmware makes of a ROM for one device (EDK2's PciBus loads each EFI image
 * whose machine type it runs, its own or EBC byte code, as a boot-service or runtime driver):
 * - `uefi`: such an image, whole, for this device's vendor:device (PCIR): the firmware runs it;
 * - `other-ids`: such an image, but the PCIR names another device (a ROM made for another card);
 * - `other-machine`: EFI images, none it runs (another machine type, an application, cut short);
 * - `legacy`: x86 legacy code only, which a UEFI guest never runs;
 * - `none`: no image a firmware can run.
 * The PCI 3.0 Device List (PCIR revision 3) is not read: a ROM made for several devices that
 * names this one only there counts as `other-ids`.
 */
export type RomFit =
  | { fit: 'uefi'; image: RomImage }
  | { fit: 'other-ids'; image: RomImage }
  | { fit: 'other-machine'; images: RomImage[] }
  | { fit: 'legacy' }
  | { fit: 'none' };

export function romFitFor(rom: OptionRom, device: { vendorId: string; deviceId: string }, machine: GuestMachine = 'x64'): RomFit {
  const efi = rom.images.filter((i) => i.codeType === 'efi');
  const runs = efi.filter(
    (i) =>
      i.efi !== undefined &&
      (i.efi.machine === machine || i.efi.machine === 'ebc') &&
      (i.efi.subsystem === 'boot-service-driver' || i.efi.subsystem === 'runtime-driver') &&
      i.length > 0 &&
      i.offset + i.length <= rom.size,
  );
  const own = runs.find((i) => i.vendorId === device.vendorId && i.deviceId === device.deviceId);
  if (own) return { fit: 'uefi', image: own };
  if (runs.length > 0) return { fit: 'other-ids', image: runs[0]! };
  if (efi.length > 0) return { fit: 'other-machine', images: efi };
  return rom.images.some((i) => i.codeType === 'x86') ? { fit: 'legacy' } : { fit: 'none' };
}

/** One line per image, for a person. */
export function formatRomImages(rom: OptionRom): string[] {
  return rom.images.map((i, n) => {
    const what =
      i.codeType === 'efi'
        ? `EFI ${i.efi ? `${i.efi.machine} ${i.efi.subsystem}${i.efi.compressed ? ', compressed' : ''}` : '(no EFI header)'}`
        : i.codeType === 'x86'
          ? `x86 legacy (PC-AT)${i.checksumOk === false ? ', bad checksum' : ''}`
          : i.codeType === 'other'
            ? `code type ${i.codeTypeByte}`
            : i.codeType;
    return `image ${n}: ${what}, ${i.vendorId}:${i.deviceId}, class ${i.class}, ${i.length} bytes at 0x${i.offset.toString(16)}${i.last ? ' (last)' : ''}`;
  });
}

export interface RomDump {
  address: string;
  rom: OptionRom;
  /** The verified images, from the first byte to the end of the last one (a ROM BAR is padded past them). */
  bytes: Buffer;
}

/**
 * The ROM-dump use case: read the device's option ROM (enable, read, disable) and keep its
 * parsed images. Refused (a PciDiscoveryError, bad input: nothing to write) when the device has
 * no ROM BAR, the ROM cannot be read (a shadowed boot GPU answers EIO or nothing), or it holds no
 * image that parses.
 */
export function dumpOptionRom(host: HostFs, address: string): RomDump {
  const where = pciDevicePath(address, 'rom');
  if (!host.exists(pciDevicePath(address))) throw new PciDiscoveryError('reading', `the option ROM of ${address}`, where, { detail: 'no such PCI device' });
  let bytes: Buffer | undefined;
  try {
    bytes = readOptionRom(host, address);
  } catch (error) {
    if (!(error instanceof HostFsError)) throw error;
    throw new PciDiscoveryError('reading', `the option ROM of ${address}`, where, {
      cause: error,
      detail: `the kernel cannot read it (${error.code}: a boot GPU whose ROM the firmware shadowed often reads so); capture it on a host where the card is not the boot display`,
    });
  }
  if (bytes === undefined)
    throw new PciDiscoveryError('reading', `the option ROM of ${address}`, where, { detail: 'the device has no ROM BAR (no rom attribute)' });
  // A boot GPU's ROM BAR is the copy the firmware shadowed (0xC0000): empty or garbage after a UEFI boot.
  const boot = tryReadText(host, pciDevicePath(address, 'boot_vga')).value?.trim() === '1';
  const shadowed = boot
    ? `; ${address} is the boot GPU, whose ROM the firmware shadowed: capture it where the card is not the boot GPU (another slot or machine)`
    : '';
  if (bytes.length === 0)
    throw new PciDiscoveryError('reading', `the option ROM of ${address}`, where, {
      detail: `the ROM reads empty (a shadowed boot GPU, or a ROM the kernel cannot map)${shadowed}`,
    });
  const rom = parseOptionRom(bytes);
  const whole = rom.images.filter((i) => i.length > 0 && i.offset + i.length <= bytes.length);
  if (whole.length === 0)
    throw new PciDiscoveryError('reading', `the option ROM of ${address}`, where, {
      detail: `no image parses (${rom.problems.join('; ') || 'no images'})${shadowed}`,
    });
  const end = Math.max(...whole.map((i) => i.offset + i.length));
  return { address, rom, bytes: bytes.subarray(0, end) };
}
