// What a command reads of the host: its PCI devices (with names from pci.ids, on worker threads
// for large hosts) and their IOMMU groups.
import { accessSync, constants, existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import {
  PciIds,
  findPciIdsFile,
  isGpu,
  readGpuModes,
  readIommuGroups,
  readNvidiaSmi,
  scanPciDevicesParallel,
  type GpuModes,
  type NvidiaSmiOutput,
  type NvidiaSmiRunner,
  type PciDevice,
  type PciScan,
} from '@passthru/pci-discovery';
import type { HostState } from '@passthru/vfio-binder';
import { CliError } from './CliError';
import type { CliContext } from './context';

/**
 * The pci.ids of this machine (or --pci-ids FILE), as a loader: --pci-ids is checked now (a usage
 * error before anything is read), the file is read when the scan asks, once its worker threads
 * have started. Names are a convenience: when no database is found the numeric ids stay the
 * truth and the scan goes on without names. A named file that is not a regular file, or is too
 * large, is bad input (PciIds.fromFile says why).
 */
export function namesLoader(ctx: CliContext): () => PciIds | undefined {
  const explicit = ctx.options.pciIds;
  if (explicit === '') throw new CliError('--pci-ids must name a file (got an empty path)');
  if (explicit && !existsSync(explicit)) throw new CliError(`--pci-ids ${explicit}: no such file`);
  const file = findPciIdsFile(existsSync, explicit);
  if (!file)
    return () => {
      ctx.verbose('no pci.ids found (apt-get install pciutils, or --pci-ids FILE): showing numeric ids only');
      return undefined;
    };
  return () => {
    ctx.verbose(`device names from ${file}`);
    return PciIds.fromFile(file);
  };
}

/**
 * Hosts with fewer functions are scanned by one thread: the worker's start-up costs what it
 * saves. Measured on 2 cores (list, medians of 11, worker vs none): 520 functions 9% slower,
 * 1,048 even, 2,038 13% faster, 7,978 13-20% faster.
 */
const PARALLEL_FROM = 1200;

/**
 * Threads for a scan: PASSTHRU_SCAN_THREADS when set (any host size: tests and benchmarks use
 * it), else up to 2 on a machine with more than one core, for hosts of PARALLEL_FROM functions
 * or more. More threads gained nothing measurable over 2 (tools/bench/scale.ts).
 */
function scanThreads(ctx: CliContext): { threads: number; minEntries: number } {
  const asked = ctx.env.PASSTHRU_SCAN_THREADS;
  if (asked !== undefined && asked !== '') {
    const threads = Number(asked);
    if (!Number.isInteger(threads) || threads < 1 || threads > 64)
      throw new CliError(`PASSTHRU_SCAN_THREADS must be an integer from 1 to 64 (got ${JSON.stringify(asked)})`);
    return { threads, minEntries: 0 };
  }
  return { threads: Math.min(2, availableParallelism()), minEntries: PARALLEL_FROM };
}

/**
 * Scans the host's PCI devices, and says on stderr what could not be read. With `names: false`
 * pci.ids is not read (--pci-ids is still checked); with `detail: false` no device's link, reset
 * methods, BARs, override, NUMA node or SR-IOV links (ReadOptions.withoutDetail). doctor's host
 * checks need none of them.
 */
export async function scanHost(ctx: CliContext, { names = true, detail = true }: { names?: boolean; detail?: boolean } = {}): Promise<PciScan> {
  const loader = namesLoader(ctx);
  const scan = await scanPciDevicesParallel(ctx.host, names ? loader : undefined, {
    withoutDetail: !detail,
    workerUrl: ctx.scanWorker,
    ...scanThreads(ctx),
    onShared: ({ entries, workers, readByWorkers }) =>
      ctx.verbose(`scan: ${entries} entries, ${readByWorkers} read by ${workers} worker thread${workers === 1 ? '' : 's'}`),
  });
  for (const problem of scan.problems) ctx.note(`passthru: warning: ${problem.message}`);
  return scan;
}

/** What the binder's use cases plan from: one scan (with pci.ids names) and its IOMMU groups. */
export async function hostState(ctx: CliContext): Promise<HostState> {
  const { devices } = await scanHost(ctx);
  return { devices, groups: readIommuGroups(ctx.host, devices) };
}

/** nvidia-smi's folder on PATH, or undefined: passthru runs it only where it exists. */
function findOnPath(env: NodeJS.ProcessEnv, name: string): string | undefined {
  for (const dir of (env.PATH ?? '').split(':').filter(Boolean)) {
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {}
  }
  return undefined;
}

/** nvidia-smi on this machine: no shell, stdin closed, 15 s at most; null when it fails or is absent. */
export function nvidiaSmiRunner(ctx: CliContext): NvidiaSmiRunner | undefined {
  const file = ctx.host.isLive ? findOnPath(ctx.env, 'nvidia-smi') : undefined;
  if (!file) return undefined;
  return async (args) => {
    const { execa } = await import('execa');
    const r = await execa(file, [...args], { reject: false, stdin: 'ignore', timeout: 15_000 });
    if (r.exitCode !== 0) {
      ctx.verbose(`nvidia-smi ${args.join(' ')}: exit ${r.exitCode ?? r.signal}: ${r.stderr || r.stdout}`.trim());
      return null;
    }
    return r.stdout;
  };
}

/** What nvidia-smi says on this host (captured files for --root), for the GPUs' MIG state. */
export async function nvidiaSmiOf(ctx: CliContext, devices: readonly PciDevice[]): Promise<NvidiaSmiOutput | null> {
  return readNvidiaSmi(ctx.host, devices, nvidiaSmiRunner(ctx));
}

/** How each GPU of a scan (or of `shown`) can be shared (gputype physical, mdev, sriov, mig), by address. */
export async function gpuModesOf(ctx: CliContext, devices: readonly PciDevice[], shown: readonly PciDevice[] = devices): Promise<Map<string, GpuModes>> {
  if (!shown.some(isGpu)) return new Map();
  return readGpuModes(ctx.host, devices, await nvidiaSmiOf(ctx, devices), shown);
}
