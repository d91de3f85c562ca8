import * as fs from 'node:fs';
import { HostFs, errnoOf, type SimulatedKernelWriter } from '@passthru/hostfs';
import { CliError, EXIT } from './CliError';
import { printableStream, wantsColor, type Output } from './render/output';

/** Options every command takes (docs/architecture.md: the CLI contract). */
export interface GlobalOptions {
  root: string;
  pciIds?: string;
  format?: string;
  color?: boolean;
  verbose?: boolean;
  /** lxd | incus: which daemon of the LXC family to talk to (PASSTHRU_SERVER). */
  server?: string;
}

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** The scan's worker module (dist/scanWorker.mjs beside the bundle); without it scans use one thread. */
  scanWorker?: URL;
}

/** Output formats; a command offers `table` and `json` unless its own --format lists more (audit: sarif). */
export type OutputFormat = 'table' | 'json' | 'sarif';

/** What a command runs with: the host, how to print, and the ambient state it may use. */
export interface CliContext {
  host: HostFs;
  options: GlobalOptions;
  format: OutputFormat;
  out: Output;
  env: NodeJS.ProcessEnv;
  /** See CliIo.scanWorker. */
  scanWorker: URL | undefined;
  /** Diagnostics to stderr (never stdout: stdout carries data). */
  note(message: string): void;
  verbose(message: string): void;
}

/**
 * `--root` must be a non-empty path to an existing folder: an empty string would silently mean
 * the current folder, and a file or a missing path is a usage error, not a failed read.
 */
export function checkRoot(root: string): void {
  if (root === '') throw new CliError('--root must name a folder (got an empty path; --root / is this machine)', EXIT.usage);
  if (root.includes('\0')) throw new CliError('--root must not contain a NUL character', EXIT.usage);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(root);
  } catch (error) {
    throw new CliError(`Failed opening host root ${root}: the --root folder must exist (${errnoOf(error)})`, EXIT.usage, { cause: error });
  }
  if (!stat.isDirectory()) throw new CliError(`Failed opening host root ${root}: the --root path must be a folder, not a file`, EXIT.usage);
}

/**
 * The HostFs of `root`: the live host for `/`, else a fixture tree whose sysfs writes the
 * simulated kernel applies (its id tables and SR-IOV templates come from the tree's sidecar).
 */
/** Makes the simulated kernel of a fixture tree (sysfs-sim's SimulatedKernel), for commands that write. */
export type KernelFactory = (root: string) => SimulatedKernelWriter;

export function openHost(root: string, makeKernel?: KernelFactory): HostFs {
  checkRoot(root);
  if (root === '/') return new HostFs('/');
  const probe = new HostFs(root);
  if (probe.isRealSysfs('/sys/bus/pci')) return probe;
  // The simulated kernel is made at the first write: reading a fixture never changes it
  // (the kernel fixes its id tables in the tree's sidecar when it starts). Commands that only
  // read get none (nor load sysfs-sim): a write of theirs fails with ENOTSUP.
  if (!makeKernel) return probe;
  let kernel: SimulatedKernelWriter | undefined;
  return new HostFs(root, {
    kernel: {
      write: (path, data) => {
        kernel ??= makeKernel(probe.root);
        return kernel.write(path, data);
      },
      loadModule: (module) => {
        kernel ??= makeKernel(probe.root);
        if (!kernel.loadModule) throw Object.assign(new Error('this simulated kernel cannot load modules'), { code: 'ENOTSUP' });
        return kernel.loadModule(module);
      },
    },
  });
}

export function createContext(
  options: GlobalOptions,
  io: CliIo,
  formats: ReadonlyArray<OutputFormat> = ['table', 'json'],
  makeKernel?: KernelFactory,
): CliContext {
  const format = (options.format ?? 'table') as OutputFormat;
  if (!formats.includes(format)) throw new CliError(`--format must be one of ${formats.join(', ')} (got '${options.format}')`);
  const stdout = io.stdout as Output['stdout'];
  const stderr = io.stderr as Output['stderr'];
  const color = wantsColor(stdout, options.color, io.env);
  const out: Output = {
    stdout: printableStream(stdout, color),
    stderr: printableStream(stderr, color),
    color,
    raw: { stdout, stderr },
  };
  return {
    host: openHost(options.root, makeKernel),
    options,
    format,
    out,
    env: io.env,
    scanWorker: io.scanWorker,
    note: (message) => out.stderr.write(`${message}\n`),
    verbose: (message) => {
      if (options.verbose) out.stderr.write(`${message}\n`);
    },
  };
}

/** Live changes need --yes: this machine's drivers are about to move (a use case's consent callback). */
export const consent = (ctx: CliContext, yes: boolean | undefined) => () => !ctx.host.isLive || Boolean(yes);
export const consentRefused = (what: string) =>
  new CliError(`${what} changes drivers on this machine: re-run with --yes to proceed, or --dry-run to see the plan`, EXIT.usage);
