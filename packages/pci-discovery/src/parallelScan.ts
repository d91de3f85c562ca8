import { Worker, parentPort, workerData } from 'node:worker_threads';
import { HostFs } from '@passthru/hostfs';
import type { PciIds } from './PciIds';
import { type PciScan, type ScanInput, type ScannedEntry, assembleScan, readEntry, scanContext, scanEntries } from './scanPciDevices';

// A scan shared between this thread and worker threads. Reading sysfs from Node costs about
// 5 us per attribute, mostly the binding around each open/read/close, not the kernel: on a host
// with thousands of functions the scan is CPU-bound in one thread, and a second core halves it.
// Threads claim chunks of entries from one shared counter (Atomics), so a worker that starts
// late, or a busy core, only means this thread reads more. The output is the sequential scan's,
// entry for entry: every thread reads with the same function and the results are put back in
// order before names and relatives are filled in.

/** Entries claimed at a time: small enough to balance, large enough that the counter is cold. */
const CHUNK = 16;

export interface ParallelScanOptions {
  /** A module that calls serveScanWorker() (the CLI bundle's scanWorker.mjs); without it no worker starts. */
  workerUrl?: URL | undefined;
  /** Threads in all, this one included; 1 scans here alone. */
  threads: number;
  /** Below this many entries a worker's start-up (about 25 ms) costs more than it saves. */
  minEntries?: number;
  /** See ReadOptions.withoutDetail: every thread reads without it. */
  withoutDetail?: boolean | undefined;
  /** Told how the entries were shared out: how many the workers read (0: this thread read all). */
  onShared?: (share: { entries: number; workers: number; readByWorkers: number }) => void;
}

/** What a worker starts with; its ScanInput follows in its first message. */
interface WorkerStart {
  root: string;
  counter: Int32Array;
}

type WorkerOutput = Array<[index: number, read: ScannedEntry]>;

/** Workers reading beside the caller, each waiting for its ScanInput; `results` say what each read ([] for one that failed). */
interface ScanWorkers {
  workers: Worker[];
  results: Array<Promise<WorkerOutput>>;
}

/** Starts `count` workers on `start`; a worker that cannot start adds an empty result. */
function startWorkers(workerUrl: URL, start: WorkerStart, count: number): ScanWorkers {
  const workers: Worker[] = [];
  const results = Array.from({ length: count }, () => {
    return new Promise<WorkerOutput>((resolve) => {
      let worker: Worker;
      try {
        worker = new Worker(workerUrl, { workerData: start });
      } catch {
        resolve([]);
        return;
      }
      workers.push(worker);
      worker.once('message', (output: WorkerOutput) => resolve(output));
      // What a failed worker claimed and did not send is read by the scan's own thread.
      worker.once('error', () => resolve([]));
      worker.once('exit', () => resolve([]));
    });
  });
  return { workers, results };
}

/** Claims chunks until none is left, reading each entry of a chunk into `read`. */
function claimAndRead(host: HostFs, input: ScanInput, counter: Int32Array, read: (index: number, entry: ScannedEntry) => void): void {
  const { entries } = input;
  for (let start = Atomics.add(counter, 0, CHUNK); start < entries.length; start = Atomics.add(counter, 0, CHUNK)) {
    const end = Math.min(start + CHUNK, entries.length);
    for (let i = start; i < end; i++) read(i, readEntry(host, entries[i]!, input));
  }
}

/**
 * scanPciDevices with `threads - 1` worker threads reading beside this one (none without a
 * worker module or below `minEntries`). Same result as the sequential scan. A worker that fails (its module absent, an exception) leaves its unread
 * entries to this thread, which reads them after the others are done.
 */
export async function scanPciDevicesParallel(
  host: HostFs,
  names: PciIds | undefined | (() => PciIds | undefined),
  options: ParallelScanOptions,
): Promise<PciScan> {
  const entries = scanEntries(host);
  const { workerUrl } = options;
  const wanted = workerUrl && entries.length >= (options.minEntries ?? 0) ? Math.max(0, Math.floor(options.threads) - 1) : 0;
  const counter = new Int32Array(new SharedArrayBuffer(4));
  // Workers start before the group and class folders are read: that reading fills their start-up.
  const { workers, results } = wanted > 0 ? startWorkers(workerUrl!, { root: host.root, counter }, wanted) : { workers: [], results: [] };
  let scan: ScanInput;
  try {
    scan = { entries, ...scanContext(host), withoutDetail: options.withoutDetail };
  } catch (error) {
    // A worker waiting for its input would keep the process alive.
    for (const worker of workers) void worker.terminate();
    throw error;
  }
  for (const worker of workers) worker.postMessage(scan);
  const workerCount = results.length;
  // pci.ids is read here while the workers start (a loader), before this thread reads entries too.
  const named = typeof names === 'function' ? names() : names;
  const read = new Array<ScannedEntry | undefined>(entries.length);
  claimAndRead(host, scan, counter, (i, entry) => {
    read[i] = entry;
  });
  let readByWorkers = 0;
  for (const output of await Promise.all(results)) {
    for (const [i, entry] of output) read[i] = entry;
    readByWorkers += output.length;
  }
  options.onShared?.({ entries: entries.length, workers: workerCount, readByWorkers });
  for (let i = 0; i < entries.length; i++) read[i] ??= readEntry(host, entries[i]!, scan);
  return assembleScan(read as ScannedEntry[], named);
}

/** The worker side: reads the entries it claims and posts them back, once. */
export function serveScanWorker(): void {
  if (!parentPort) throw new Error('serveScanWorker runs in a worker thread');
  const port = parentPort;
  const { root, counter } = workerData as WorkerStart;
  const host = new HostFs(root);
  port.once('message', (input: ScanInput) => {
    const output: WorkerOutput = [];
    claimAndRead(host, input, counter, (i, entry) => output.push([i, entry]));
    port.postMessage(output);
  });
}
