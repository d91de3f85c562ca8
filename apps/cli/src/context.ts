import { HostFs, HostFsError } from '@passthru/hostfs';
import { SimulatedKernel } from '@passthru/sysfs-sim';
import { CliError, EXIT } from './CliError';
import { wantsColor, type Output } from './output';

/** Options every command takes (docs/architecture.md: the CLI contract). */
export interface GlobalOptions {
  root: string;
  pciIds?: string;
  format?: string;
  color?: boolean;
  verbose?: boolean;
}

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
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
  /** Diagnostics to stderr (never stdout: stdout carries data). */
  note(message: string): void;
  verbose(message: string): void;
}

/**
 * The HostFs of `root`: the live host for `/`, else a fixture tree whose sysfs writes the
 * simulated kernel applies (its id tables and SR-IOV templates come from the tree's sidecar).
 */
export function openHost(root: string): HostFs {
  try {
    if (root === '/') return new HostFs('/');
    const probe = new HostFs(root);
    if (probe.isRealSysfs('/sys/bus/pci')) return probe;
    // The simulated kernel is made at the first write: reading a fixture never changes it
    // (the kernel fixes its id tables in the tree's sidecar when it starts).
    let kernel: SimulatedKernel | undefined;
    return new HostFs(root, { kernel: { write: (path, data) => (kernel ??= new SimulatedKernel(probe.root)).write(path, data) } });
  } catch (error) {
    if (error instanceof HostFsError) throw new CliError(error.message, EXIT.usage, { cause: error });
    throw error;
  }
}

export function createContext(options: GlobalOptions, io: CliIo, formats: ReadonlyArray<OutputFormat> = ['table', 'json']): CliContext {
  const format = (options.format ?? 'table') as OutputFormat;
  if (!formats.includes(format)) throw new CliError(`--format must be one of ${formats.join(', ')} (got '${options.format}')`);
  const out: Output = { stdout: io.stdout as never, stderr: io.stderr as never, color: wantsColor(io.stdout as never, options.color, io.env) };
  return {
    host: openHost(options.root),
    options,
    format,
    out,
    env: io.env,
    note: (message) => io.stderr.write(`${message}\n`),
    verbose: (message) => {
      if (options.verbose) io.stderr.write(`${message}\n`);
    },
  };
}
