import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parseLspciVmm, type LspciRecord } from './LspciParser';
import { PciDiscoveryError } from './PciDiscoveryError';

/**
 * Runs a program to completion. Contract: resolves for every process that ran, whatever its
 * exit code; rejects only when the program could not be started, with node's errno `code`
 * kept on the rejection (ENOENT: not installed).
 */
export type Runner = (file: string, args: string[]) => Promise<{ stdout: string; stderr: string; exitCode: number }>;

/**
 * The Runner on execa 9 (`reject: false`). A spawn failure (no exit code and no signal) is
 * rethrown as execa's error, which carries `code`; a process killed by a signal resolves with
 * the shell's convention, exit code 128 + signal number.
 */
export const execaRunner: Runner = async (file, args) => {
  const result = await execa(file, args, { reject: false });
  if (result.exitCode === undefined && result.signal === undefined) throw result;
  const exitCode = result.exitCode ?? 128 + (result.signal ? (constants.signals[result.signal] ?? 0) : 0);
  return { stdout: result.stdout, stderr: result.stderr, exitCode };
};

export interface LspciOptions {
  /** A fixture root DIR: lspci then reads DIR/sys/bus/pci through its linux-sysfs backend. */
  sysfsRoot?: string;
  /** The pci.ids file lspci names devices from (`-i FILE`). */
  pciIds?: string;
}

/** The lspci argument list for these options (exported so oracles can print the exact command). */
export function lspciArgs(options: LspciOptions = {}): string[] {
  const args = ['-Dvmmnnk'];
  if (options.sysfsRoot !== undefined) args.push('-A', 'linux-sysfs', '-O', `sysfs.path=${join(options.sysfsRoot, 'sys/bus/pci')}`);
  // hwdb (udev) names would override pci.ids and differ between machines.
  args.push('-O', 'hwdb.disable=1');
  if (options.pciIds !== undefined) args.push('-i', options.pciIds);
  return args;
}

/**
 * Runs `lspci -Dvmmnnk [-A linux-sysfs -O sysfs.path=ROOT/sys/bus/pci] -O hwdb.disable=1 [-i FILE]`
 * and parses its records. lspci is a test oracle, so nothing is swallowed: a non-zero exit or any
 * stderr line starting with `pcilib:` (libpci reports an unreadable sysfs tree there, sometimes
 * still exiting 0) throws a PciDiscoveryError naming the command and carrying stderr. Other
 * stderr lines are warnings (e.g. "lspci: Unable to load libkmod resources" when a host has no
 * modules.dep) and are ignored. lspci given a missing `-i FILE` silently prints placeholder
 * names with exit 0, so the file's existence is checked first (`exists` checks this machine).
 */
export async function runLspci(options: LspciOptions = {}, run: Runner = execaRunner, exists: (path: string) => boolean = existsSync): Promise<LspciRecord[]> {
  const args = lspciArgs(options);
  const command = ['lspci', ...args].join(' ');
  if (options.pciIds !== undefined && !exists(options.pciIds)) {
    throw new PciDiscoveryError('listing', 'PCI devices', command, {
      detail: `the pci.ids file ${options.pciIds} does not exist (lspci would silently print unnamed ids)`,
    });
  }
  let result: Awaited<ReturnType<Runner>>;
  try {
    result = await run('lspci', args);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    throw new PciDiscoveryError('listing', 'PCI devices', command, {
      cause: error,
      detail: code === 'ENOENT' ? 'lspci is not installed (apt-get install -y pciutils)' : undefined,
    });
  }
  const stderr = result.stderr.trim();
  const pcilibErrors = stderr.split('\n').filter((line) => line.startsWith('pcilib:'));
  if (result.exitCode !== 0 || pcilibErrors.length > 0) {
    throw new PciDiscoveryError('listing', 'PCI devices', command, {
      detail: `exit code ${result.exitCode}${stderr ? `; stderr: ${stderr}` : ''}`,
    });
  }
  return parseLspciVmm(result.stdout, command);
}
