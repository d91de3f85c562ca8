// Test helper: real lspci (Debian pciutils) as the oracle for trees on disk, read by the one
// lspci parser (tools/peers). Synchronous, and it hands back stderr rather than failing on it,
// for the tests that check lspci's complaints about a tree themselves.
import { spawnSync } from 'node:child_process';
import { lspciArgs, parseLspciVmm } from '../../../tools/peers/src/index';

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
  const args = lspciArgs(root === undefined ? {} : { sysfsRoot: root });
  const started = performance.now();
  const run = spawnSync('lspci', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const ms = performance.now() - started;
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`lspci ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  const devices = parseLspciVmm(run.stdout, `lspci ${args.join(' ')}`).map((r) => ({
    slot: r.address,
    vendor: r.vendorId,
    device: r.deviceId,
    class: r.classCode,
    revision: r.revision ?? '00',
    ...(r.driver !== undefined ? { driver: r.driver } : {}),
    ...(r.iommuGroup !== undefined ? { iommuGroup: r.iommuGroup } : {}),
  }));
  return { devices, stdout: run.stdout, stderr: run.stderr, ms };
}

/** lspci's complaints about a tree (pcilib warnings); the libkmod notice is about the host. */
export const pcilibLines = (stderr: string) => stderr.split('\n').filter((line) => /^pcilib:/.test(line));
