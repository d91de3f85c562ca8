// What a command reads of the host: its PCI devices (with names from pci.ids, on worker threads
// for large hosts) and their IOMMU groups.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { PciIds, findPciIdsFile, readIommuGroups, scanPciDevicesParallel, type PciScan } from '@passthru/pci-discovery';
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
  if (!file) {
    ctx.verbose('no pci.ids found (apt-get install pciutils, or --pci-ids FILE): showing numeric ids only');
    return () => undefined;
  }
  ctx.verbose(`device names from ${file}`);
  return () => PciIds.fromFile(file);
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

/** Scans the host's PCI devices with names, and says on stderr what could not be read. */
export async function scanHost(ctx: CliContext): Promise<PciScan> {
  const scan = await scanPciDevicesParallel(ctx.host, namesLoader(ctx), {
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
