// Test helper: real lspci (Debian pciutils) as the oracle for trees on disk.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

export interface LspciDevice {
  slot: string;
  vendor: string;
  device: string;
  /** Class + subclass + prog-if, 6 hex digits like the spec's `class`. */
  class: string;
  /** Two hex digits; lspci omits `Rev` for 00. */
  revision: string;
  driver?: string;
  iommuGroup?: number;
}

export interface LspciRun {
  devices: LspciDevice[];
  stdout: string;
  stderr: string;
  ms: number;
}

/** `lspci -Dvmmnnk` on `root`'s /sys/bus/pci, or on the live host when root is undefined. */
export function lspci(root?: string): LspciRun {
  const args =
    root === undefined ? ['-Dvmmnnk'] : ['-A', 'linux-sysfs', '-O', `sysfs.path=${path.join(root, 'sys/bus/pci')}`, '-O', 'hwdb.disable=1', '-Dvmmnnk'];
  const started = performance.now();
  const run = spawnSync('lspci', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const ms = performance.now() - started;
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`lspci ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return { devices: parseVmm(run.stdout), stdout: run.stdout, stderr: run.stderr, ms };
}

const bracketId = (value: string | undefined) => /\[([0-9a-f]{4})\]$/.exec(value ?? '')?.[1];

export function parseVmm(text: string): LspciDevice[] {
  return text
    .split(/\n\s*\n/)
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const fields = new Map<string, string>();
      for (const line of block.split('\n')) {
        const tab = line.indexOf(':\t');
        if (tab > 0) fields.set(line.slice(0, tab), line.slice(tab + 2));
      }
      const group = fields.get('IOMMUGroup');
      return {
        slot: fields.get('Slot')!,
        vendor: bracketId(fields.get('Vendor'))!,
        device: bracketId(fields.get('Device'))!,
        class: `${bracketId(fields.get('Class'))}${fields.get('ProgIf') ?? '00'}`,
        revision: fields.get('Rev') ?? '00',
        ...(fields.has('Driver') ? { driver: fields.get('Driver') } : {}),
        ...(group !== undefined ? { iommuGroup: Number(group) } : {}),
      };
    });
}

/** lspci's complaints about a tree (pcilib warnings); the libkmod notice is about the host. */
export const pcilibLines = (stderr: string) => stderr.split('\n').filter((line) => /^pcilib:/.test(line));
