import * as fs from 'node:fs';
import * as path from 'node:path';
import { Option } from 'commander';
import { readInputFile, writeOutputFile } from '@passthru/hostfs';
import {
  dumpOptionRom,
  formatRomImages,
  guestMachineOf,
  MAX_ROM_BYTES,
  normalizePciAddress,
  parseOptionRom,
  readPciDevice,
  romFitFor,
  type RomFit,
} from '@passthru/pci-discovery';
import type { CommandSpec } from '../../command';
import { CliError, EXIT } from '../../CliError';
import type { CliContext } from '../../context';
import { printJson } from '../../render/output';

const addressArg = (raw: string) => {
  const address = normalizePciAddress(raw);
  if (address === undefined) throw new CliError(`${raw}: not a PCI address (expected 0000:01:00.0 or 01:00.0)`, EXIT.usage);
  return address;
};

/** What a UEFI guest makes of the ROM, in one sentence. */
const VERDICT = {
  both: 'legacy and EFI images: a UEFI guest (OVMF, LXD and Incus VMs) can use it',
  efi: 'an EFI image: a UEFI guest (OVMF, LXD and Incus VMs) can use it',
  legacy: 'x86 legacy code only: a UEFI guest gets no display or boot option from it (give the VM a romfile with an EFI image)',
  none: 'no image a guest firmware can run',
} as const;

function printRom(ctx: CliContext, dump: ReturnType<typeof dumpOptionRom>, file?: string) {
  if (ctx.format === 'json') {
    printJson(ctx.out, { address: dump.address, ...(file ? { file, bytes: dump.bytes.length } : {}), rom: dump.rom });
    return;
  }
  const lines = [`${dump.address}: option ROM of ${dump.rom.size} bytes, ${VERDICT[dump.rom.kind]}`, ...formatRomImages(dump.rom).map((l) => `  ${l}`)];
  for (const p of dump.rom.problems) lines.push(`  problem: ${p}`);
  if (file) lines.push(`Wrote the ${dump.rom.images.length} image(s), ${dump.bytes.length} bytes, to ${file}.`);
  ctx.out.stdout.write(`${lines.join('\n')}\n`);
}

/** Why a UEFI guest does or does not run a ROM for a device, in one clause. */
function fitWords(fit: RomFit, machine: string): string {
  switch (fit.fit) {
    case 'uefi':
      return `runs it: its EFI ${machine} driver image at 0x${fit.image.offset.toString(16)}`;
    case 'other-ids':
      return `does not run it for this device: its EFI ${machine} image is for ${fit.image.vendorId}:${fit.image.deviceId} (a ROM made for another card)`;
    case 'other-machine':
      return `does not run it: none of its EFI images is an ${machine} driver (${fit.images.map((i) => (i.efi ? `${i.efi.machine} ${i.efi.subsystem}` : 'no EFI header')).join(', ')})`;
    case 'legacy':
      return 'does not run it: x86 legacy code only, no EFI (GOP) image';
    case 'none':
      return 'does not run it: no image a firmware can run';
  }
}

/**
 * `rom show ADDRESS --file FILE`: a ROM file (a dump, the card vendor's image) parsed, and what a
 * UEFI guest on this host (its architecture's OVMF) makes of it for the device at ADDRESS: the
 * check before giving a VM the file as its romfile. Nothing is read from the device's ROM.
 */
function showFile(ctx: CliContext, address: string, file: string): void {
  const rom = parseOptionRom(readInputFile(file, MAX_ROM_BYTES));
  if (rom.images.length === 0)
    throw new CliError(`Failed reading the ROM via ${file}: no image parses (${rom.problems.join('; ') || 'the file is empty'})`, EXIT.usage);
  let device: { vendorId: string; deviceId: string } | undefined;
  try {
    device = readPciDevice(ctx.host, address);
  } catch {
    device = undefined;
  }
  const machine = guestMachineOf(ctx.host.readTextIfExists('/proc/cpuinfo') ?? '', ctx.host.readTextIfExists('/proc/sys/kernel/osrelease')?.trim());
  // Not a device of this host (checking a file on another machine): the ROM's own ids stand in.
  const fit = romFitFor(rom, device ?? rom.images[0]!, machine);
  const ids = device ? `${device.vendorId}:${device.deviceId}` : null;
  if (ctx.format === 'json') {
    const image = fit.fit === 'uefi' || fit.fit === 'other-ids' ? rom.images.indexOf(fit.image) : undefined;
    printJson(ctx.out, {
      address,
      file,
      rom,
      fit: { machine, device: ids, fit: fit.fit, runs: fit.fit === 'uefi', ...(image !== undefined ? { image } : {}) },
    });
    return;
  }
  const lines = [`${file}: option ROM of ${rom.size} bytes, ${VERDICT[rom.kind]}`, ...formatRomImages(rom).map((l) => `  ${l}`)];
  for (const p of rom.problems) lines.push(`  problem: ${p}`);
  const who = ids ? `${address} (${ids})` : `${address} (not a device of this host: the ROM's own ids, ${rom.images[0]!.vendorId}:${rom.images[0]!.deviceId})`;
  lines.push(`For ${who}, a UEFI guest on ${machine} ${fitWords(fit, machine)}.`);
  ctx.out.stdout.write(`${lines.join('\n')}\n`);
}

export const romCommand: CommandSpec = {
  register(program, run) {
    const rom = program
      .command('rom')
      .description("Parse a device's option ROM (legacy x86, EFI images) and dump it for a VM's romfile")
      .addHelpText('after', '\nExamples:\n  passthru rom show 01:00.0\n  sudo passthru rom dump 01:00.0 ./gpu.rom');
    rom
      .command('show')
      .description('Parse the option ROM of ADDRESS: each image (code type, EFI machine, vendor:device, checksum) and what a UEFI guest can use')
      .argument('<address>', 'PCI address (0000:01:00.0 or 01:00.0)')
      .option('--file <file>', "parse FILE (a dump, the card vendor's image) instead of the device's ROM, and say whether a UEFI guest runs it for ADDRESS")
      .addOption(new Option('--format <format>', 'table or json').choices(['table', 'json']))
      .addHelpText('after', '\nExamples:\n  passthru rom show 01:00.0\n  passthru rom show 01:00.0 --file ./gpu.rom')
      .action(
        run<{ file?: string }>((ctx, options, args) => {
          const address = addressArg(args[0]!);
          if (options.file !== undefined) showFile(ctx, address, options.file);
          else printRom(ctx, dumpOptionRom(ctx.host, address));
          return EXIT.ok;
        }),
      );
    rom
      .command('dump')
      .description('Write the verified images of the option ROM of ADDRESS to FILE (on this machine), for a VM romfile')
      .argument('<address>', 'PCI address (0000:01:00.0 or 01:00.0)')
      .argument('<file>', 'where to write the ROM (refused when it exists, unless --force)')
      .option('--force', 'replace FILE when it exists (a regular file only)')
      .addOption(new Option('--format <format>', 'table or json').choices(['table', 'json']))
      .addHelpText(
        'after',
        '\nExamples:\n  passthru rom show 01:00.0\n  sudo passthru rom dump 01:00.0 ./gpu.rom\n\nExit codes: 0 written, 2 no ROM, an unreadable ROM, no image that parses, or FILE exists without --force (nothing written).',
      )
      .action(
        run<{ force?: boolean }>((ctx, options, args) => {
          const address = addressArg(args[0]!);
          const file = path.resolve(args[1]!);
          if (!options.force && fs.existsSync(file))
            throw new CliError(`Failed writing the ROM via ${args[1]}: the file exists (--force replaces it); nothing was written`, EXIT.usage);
          const dump = dumpOptionRom(ctx.host, address);
          writeOutputFile(file, dump.bytes);
          printRom(ctx, dump, args[1]);
          return EXIT.ok;
        }),
      );
  },
};
