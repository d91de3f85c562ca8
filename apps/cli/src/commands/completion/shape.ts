import type { Argument, Command, Option } from 'commander';

/**
 * Shell completion scripts, generated from the program itself (its commands, options and their
 * choices), so a new option completes without touching this file. PCI targets complete from
 * the host's /sys/bus/pci/devices (or --root's) and group:N from /sys/kernel/iommu_groups.
 */
export interface Shape {
  name: string;
  description: string;
  options: Array<{ flags: string[]; description: string; value: 'none' | 'file' | 'dir' | 'words' | 'any'; choices: string[] }>;
  /** The command takes PCI targets (bind, restore, persist, attach, doctor --device). */
  targets: boolean;
  /** Choices of its positional arguments (completion: bash, zsh). */
  words: string[];
}

const FILE_OPTIONS = new Set(['--pci-ids', '--html', '--cert', '--key']);
const DIR_OPTIONS = new Set(['--root']);

function optionShape(o: Option): Shape['options'][number] {
  const flags = [o.short, o.long].filter((f): f is string => Boolean(f));
  const takesValue = o.required || o.optional;
  const choices = o.argChoices ?? [];
  const value = !takesValue ? 'none' : choices.length ? 'words' : FILE_OPTIONS.has(o.long ?? '') ? 'file' : DIR_OPTIONS.has(o.long ?? '') ? 'dir' : 'any';
  return { flags, description: o.description, value, choices };
}

export function shapeOf(cmd: Command): Shape {
  const args = (cmd as Command & { registeredArguments: readonly Argument[] }).registeredArguments ?? [];
  return {
    name: cmd.name(),
    description: cmd.description(),
    options: [...cmd.options.map(optionShape), { flags: ['-h', '--help'], description: 'show help', value: 'none', choices: [] }],
    targets: args.some((a) => /target|device|bdf/i.test(a.name())) || cmd.options.some((o) => o.long === '--device'),
    words: args.flatMap((a) => a.argChoices ?? []),
  };
}

export const sq = (s: string) => s.replace(/'/g, `'\\''`);
