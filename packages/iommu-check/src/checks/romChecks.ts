/**
 * Option ROM (issue 26): what an asked device's ROM gives the guest's firmware. LXD and Incus VMs
 * boot UEFI (OVMF on x86-64, AAVMF on arm64), which runs only an EFI driver image of its machine
 * type from the ROM QEMU reads from the card through vfio-pci: a GPU without one shows nothing
 * until the guest's own driver loads. Reading the ROM takes the kernel's enable write (`echo 1 >
 * rom`, then 0), so this check runs for the devices a user asks about (`doctor --device`), never
 * for those the report examines (see runChecks).
 */
import { tryReadText, type HostFsError } from '@passthru/hostfs';
import {
  formatRomImages,
  guestMachineOf,
  parseOptionRom,
  pciDevicePath,
  romFitFor,
  tryReadOptionRom,
  type GuestMachine,
  type OptionRom,
  type PciDevice,
  type RomFit,
} from '@passthru/pci-discovery';
import type { CheckResult } from '../DoctorReport';
import { check } from './check';
import type { Facts } from './Facts';

/** Where LXD (from a .deb) and Incus let QEMU read files: their AppArmor profiles allow /usr/share/qemu/** (and QEMU looks there). */
export const QEMU_ROM_DIR = '/usr/share/qemu/passthru';

/** The guest's EFI machine type: a VM runs the host's architecture. */
function guestMachine(f: Facts): { machine: GuestMachine; firmware: string } {
  const machine = guestMachineOf(tryReadText(f.host, f.cpuPath).value ?? '', f.release);
  return { machine, firmware: machine === 'aa64' ? 'AAVMF' : 'OVMF' };
}

const isGpu = (d: PciDevice) => d.class.startsWith('03');
const ids = (d: { vendorId: string; deviceId: string }) => `${d.vendorId}:${d.deviceId}`;

/** The device name the fix gives the VM's gpu device: no '-', which LXD 5.21.3+ and 6.2+ double in QEMU's section. */
export function romDeviceName(address: string): string {
  return `gpu_${address.replace(/^0000:/, '').replace(/[:.]/g, '_')}`;
}

/**
 * The fix for a GPU whose ROM gives a UEFI guest no display: get a ROM with an EFI image, check
 * it, put it where the VM's QEMU may read it, and name it in the QEMU section of the VM's gpu
 * device, in both servers' words. `source`: what step 1 can get it from.
 */
export function romfileFix(d: PciDevice, machine: GuestMachine, source: 'capture' | 'vendor' | 'no-bar'): string {
  const file = `${d.vendorId}-${d.deviceId}.rom`;
  const target = `${QEMU_ROM_DIR}/${file}`;
  const name = romDeviceName(d.address);
  const get = {
    capture: `capture this card's own ROM where it is not the boot GPU, in another slot or another machine (sudo passthru rom dump ADDRESS ${file}, with the card's address there), or take the card vendor's ROM image for this card`,
    vendor: `this card's own ROM has no EFI image, so a dump of it does not help: take the card vendor's ROM image for this card with UEFI (GOP) support, or dump one from a card of the same model whose ROM has it (sudo passthru rom dump ADDRESS ${file} on that machine)`,
    'no-bar': `the card shows no ROM here: take the card vendor's ROM image for it${d.parent === null ? ' (for an integrated GPU, its GOP driver as a ROM image from the board vendor)' : ''}, or capture it on a host where it has one (sudo passthru rom dump ADDRESS ${file})`,
  }[source];
  const section = (server: 'lxd' | 'incus') =>
    `${server === 'lxd' ? 'lxc' : 'incus'} config set VM raw.qemu.conf=$'[device "dev-${server}_${name}"]\\nromfile = "${target}"'`;
  return [
    `Give the VM a ROM with an EFI ${machine} image for ${ids(d)} (QEMU then shows it to the guest in place of the card's):`,
    `1. Get one: ${get}.`,
    `2. Check it: passthru rom show ${d.address} --file ${file} (it must say that a UEFI guest on ${machine} runs it).`,
    `3. Put it where the VM's QEMU may read it (AppArmor lets it read /usr/share/qemu; LXD from a .deb, Incus): sudo install -D -m 0644 ${file} ${target}`,
    `   (LXD's snap runs its own QEMU, which sees the VM's folder instead: copy the file into /var/snap/lxd/common/lxd/virtual-machines/VM/ while the VM runs (its volume is mounted then), and name that path below.)`,
    `4. Pass the card as a gpu device named without '-' (LXD 5.21.3+ and 6.2+ write a '-' of the name as '--' in QEMU's section): passthru attach VM ${d.address} --type gpu --name ${name}`,
    `5. Name the file in that device's section, then restart the VM (this sets raw.qemu.conf whole: merge it by hand with "lxc config edit VM" when the VM has one):`,
    `   ${section('lxd')}`,
    `   ${section('incus')}`,
  ].join('\n');
}

/** One sentence on what the images are, for a person: "x86 legacy and EFI x64 images for 8086:1533". */
function holds(rom: OptionRom): string {
  const kinds = [
    ...new Set(rom.images.map((i) => (i.codeType === 'efi' ? `EFI ${i.efi?.machine ?? ''}`.trim() : i.codeType === 'x86' ? 'x86 legacy' : i.codeType))),
  ];
  const owners = [...new Set(rom.images.map(ids))];
  return `${kinds.join(' and ')} image${rom.images.length === 1 ? '' : 's'} for ${owners.join(', ')}`;
}

/** What a guest needs a non-GPU device's ROM for. */
function neededFor(d: PciDevice): string {
  if (d.class.startsWith('02')) return 'a guest needs it only to network-boot from this NIC';
  if (d.class.startsWith('01')) return 'a guest needs it only to boot from disks behind this controller (OVMF drives NVMe, AHCI and virtio disks itself)';
  return 'a guest does not need it to boot';
}

type Read = { ok: true; rom: OptionRom; bytes: number } | { ok: false; why: string; code?: string; step: 'enable' | 'read' | 'empty' | 'no-image' };

/** Reads and parses the ROM; the evidence says each step (and, on a fixture, that its simulated kernel took the writes). */
function readRom(f: Facts, address: string, ev: string[]): Read | undefined {
  const path = pciDevicePath(address, 'rom');
  const read = tryReadOptionRom(f.host, address);
  const where = f.host.isRealSysfs(path) ? '' : ' (a fixture tree: its simulated kernel took the writes)';
  const failed = (e: HostFsError) => `${e.code}: ${e.message}`;
  switch (read.outcome) {
    case 'no-rom-bar':
      ev.push(`${path}: absent (no ROM BAR)`);
      return undefined;
    case 'not-enabled':
      ev.push(`${path}: the enable write (1) failed, nothing read (${failed(read.error)})`);
      return { ok: false, step: 'enable', code: read.error.code, why: `was not read: enabling it (echo 1 > rom) failed with ${read.error.code}` };
    case 'unreadable':
      ev.push(`${path}: enabled (1), the read failed (${failed(read.error)}), disabled (0)${where}`);
      return { ok: false, step: 'read', code: read.error.code, why: `cannot be read (${read.error.code})` };
  }
  ev.push(
    `${path}: enabled (1), read ${read.bytes.length} bytes, ${read.disableError ? `the disable write (0) failed (${failed(read.disableError)})` : 'disabled (0)'}${where}`,
  );
  if (read.bytes.length === 0) return { ok: false, step: 'empty', why: 'reads empty' };
  const rom = parseOptionRom(read.bytes);
  ev.push(...formatRomImages(rom), ...rom.problems.map((p) => `problem: ${p}`));
  if (rom.images.length === 0) return { ok: false, step: 'no-image', why: `reads as garbage (${rom.problems.join('; ') || 'no image parses'})` };
  return { ok: true, rom, bytes: read.bytes.length };
}

const ROOT_ONLY = new Set(['EACCES', 'EPERM']);

export function checkRom(f: Facts, address: string): CheckResult {
  const id = `rom.${address}`;
  const d = f.byAddress.get(address);
  if (d === undefined) return check(id, 'SKIP', `No PCI device ${address} on this host.`, [`${pciDevicePath(address)}: absent`]);
  const ev: string[] = [];
  const gpu = isGpu(d);
  if (gpu) ev.push(`${pciDevicePath(address, 'boot_vga')}: ${d.bootVga === null ? 'absent' : d.bootVga ? '1 (the boot GPU)' : '0'}`);
  const read = readRom(f, address, ev);
  const { machine, firmware } = guestMachine(f);
  ev.push(`guest firmware: ${firmware} (EFI ${machine}), what LXD and Incus VMs boot on this host's architecture`);
  const asRoot = read !== undefined && !read.ok && read.step === 'enable' && ROOT_ONLY.has(read.code ?? '');
  const rootFix = `Run it as root, which reading a ROM needs (the enable write to its rom attribute): sudo passthru doctor --device ${address}`;

  if (!gpu) {
    if (read === undefined) return check(id, 'SKIP', `${address} has no option ROM (no ROM BAR): a guest boots without one.`, ev);
    if (!read.ok) return check(id, 'SKIP', `The option ROM of ${address} ${read.why}; ${neededFor(d)}.`, ev, asRoot ? rootFix : undefined);
    const fit = romFitFor(read.rom, d, machine);
    const uefi = fit.fit === 'uefi' ? `, which a UEFI guest can (its EFI ${machine} driver)` : `, which a UEFI guest cannot (it holds ${fitWhy(fit, machine)})`;
    return check(id, 'PASS', `The option ROM of ${address} holds ${holds(read.rom)}: ${neededFor(d)}${d.class.startsWith('02') ? uefi : ''}.`, ev);
  }

  const boot = d.bootVga === true;
  const shadowed = boot ? ': it is the boot GPU (boot_vga 1), whose ROM the firmware shadowed, and a VM given the card reads the same' : '';
  const black = `so the VM's display stays black under ${firmware} (what LXD and Incus VMs boot) until the guest's own driver loads`;
  if (read === undefined)
    return check(
      id,
      'WARN',
      `${address} has no ROM BAR (no rom attribute)${d.parent === null ? ": an integrated GPU's display firmware (GOP) is part of the system firmware" : ''}, ${black}.`,
      ev,
      romfileFix(d, machine, 'no-bar'),
    );
  if (!read.ok) {
    if (read.step === 'enable')
      return check(
        id,
        'WARN',
        `The option ROM of ${address} ${read.why}${asRoot ? " (the rom attribute is root's)" : ''}: whether a UEFI guest gets a display from it is not known.`,
        ev,
        asRoot ? rootFix : `Read it on the live host as root: sudo passthru doctor --device ${address}`,
      );
    return check(id, 'WARN', `The option ROM of ${address} ${read.why}${shadowed}, ${black}.`, ev, romfileFix(d, machine, 'capture'));
  }
  const fit = romFitFor(read.rom, d, machine);
  if (fit.fit === 'uefi') {
    const legacy = read.rom.images.some((i) => i.codeType === 'x86') ? ', beside its legacy VBIOS' : '';
    return check(
      id,
      'PASS',
      `The option ROM of ${address} holds an EFI ${fit.image.efi?.machine} driver image for ${ids(d)} (its GOP${legacy}): a UEFI guest (${firmware}: LXD and Incus VMs) shows its display from boot.`,
      ev,
    );
  }
  const copy = boot && fit.fit === 'legacy' ? " (it is the boot GPU: this may be the firmware's shadow copy, which keeps the legacy image alone)" : '';
  return check(
    id,
    'WARN',
    `The option ROM of ${address} holds ${fitWhy(fit, machine)}${copy}: a UEFI guest cannot use it, ${black}.`,
    ev,
    romfileFix(d, machine, fit.fit === 'legacy' && !boot ? 'vendor' : 'capture'),
  );
}

/** Why a UEFI guest cannot use a ROM, for a person. */
function fitWhy(fit: RomFit, machine: GuestMachine): string {
  switch (fit.fit) {
    case 'legacy':
      return 'x86 legacy code only, no EFI (GOP) image';
    case 'other-ids':
      return `an EFI ${machine} image for ${ids(fit.image)}, another device (a ROM made for another card, whose driver does not drive this one)`;
    case 'other-machine':
      return `EFI images, none an ${machine} UEFI guest runs (${fit.images.map((i) => (i.efi ? `${i.efi.machine} ${i.efi.subsystem}` : 'no EFI header')).join(', ')})`;
    case 'none':
      return 'no image a firmware can run';
    case 'uefi':
      return `an EFI ${machine} driver image`;
  }
}
