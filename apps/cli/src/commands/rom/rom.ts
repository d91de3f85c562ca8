import * as fs from 'node:fs';
import * as path from 'node:path';
import { Option } from 'commander';
import { writeOutputFile } from '@passthru/hostfs';
import { dumpOptionRom, formatRomImages, normalizePciAddress } from '@passthru/pci-discovery';
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
      .addOption(new Option('--format <format>', 'table or json').choices(['table', 'json']))
      .action(
        run((ctx, _options, args) => {
          printRom(ctx, dumpOptionRom(ctx.host, addressArg(args[0]!)));
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
