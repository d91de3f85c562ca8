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

/** A batch of entries a worker read; null: it read its last. */
type WorkerOutput = Array<[index: number, read: ScannedEntry]> | null;

/**
 * Entries a worker reads between two posts. The caller takes each batch in between its own
 * chunks, instead of taking all of them (thousands of structured clones) after its last.
 */
const POST_EVERY = 8 * CHUNK;

/** Workers reading beside the caller, each waiting for its ScanInput; `results` say how many entries each sent. */
interface ScanWorkers {
  workers: Worker[];
  results: Array<Promise<number>>;
}

/** Starts `count` workers on `start`, each batch they send going to `take`; a worker that cannot start sends nothing. */
function startWorkers(workerUrl: URL, start: WorkerStart, count: number, take: (index: number, entry: ScannedEntry) => void): ScanWorkers {
  const workers: Worker[] = [];
  const results = Array.from({ length: count }, () => {
    return new Promise<number>((resolve) => {
      let worker: Worker;
      try {
        worker = new Worker(workerUrl, { workerData: start });
      } catch {
        resolve(0);
        return;
      }
      workers.push(worker);
      let sent = 0;
      worker.on('message', (batch: WorkerOutput) => {
        if (batch === null) return resolve(sent);
        for (const [i, entry] of batch) take(i, entry);
        sent += batch.length;
      });
      // What a failed worker claimed and did not send is read by the scan's own thread.
      worker.once('error', () => resolve(sent));
      worker.once('exit', () => resolve(sent));
    });
  });
  return { workers, results };
}

/**
 * Claims chunks until none is left, or until `limit` entries are read, reading each entry of a
 * chunk into `read`; true when entries may be left.
 */
function claimAndRead(host: HostFs, input: ScanInput, counter: Int32Array, read: (index: number, entry: ScannedEntry) => void, limit = Infinity): boolean {
  const { entries } = input;
  for (let done = 0; done < limit; ) {
    const start = Atomics.add(counter, 0, CHUNK);
    if (start >= entries.length) return false;
    const end = Math.min(start + CHUNK, entries.length);
    for (let i = start; i < end; i++) read(i, readEntry(host, entries[i]!, input));
    done += end - start;
  }
  return true;
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
  const read = new Array<ScannedEntry | undefined>(entries.length);
  const take = (i: number, entry: ScannedEntry) => {
    read[i] = entry;
  };
  // Workers start before the group and class folders are read: that reading fills their start-up.
  const { workers, results } = wanted > 0 ? startWorkers(workerUrl!, { root: host.root, counter }, wanted, take) : { workers: [], results: [] };
  let scan: ScanInput;
  try {
    scan = { entries, ...scanContext(host, options.withoutDetail) };
  } catch (error) {
    // A worker waiting for its input would keep the process alive.
    for (const worker of workers) void worker.terminate();
    throw error;
  }
  for (const worker of workers) worker.postMessage(scan);
  const workerCount = results.length;
  // pci.ids is read here while the workers start (a loader), before this thread reads entries too.
  const named = typeof names === 'function' ? names() : names;
  // Beside workers, their batches are taken in every POST_EVERY entries read here.
  while (claimAndRead(host, scan, counter, take, workerCount > 0 ? POST_EVERY : Infinity)) await new Promise(setImmediate);
  let readByWorkers = 0;
  for (const sent of await Promise.all(results)) readByWorkers += sent;
  options.onShared?.({ entries: entries.length, workers: workerCount, readByWorkers });
  for (let i = 0; i < entries.length; i++) read[i] ??= readEntry(host, entries[i]!, scan);
  return assembleScan(read as ScannedEntry[], named);
}

/** The worker side: reads the entries it claims and posts them back in batches, then null. */
export function serveScanWorker(): void {
  if (!parentPort) throw new Error('serveScanWorker runs in a worker thread');
  const port = parentPort;
  const { root, counter } = workerData as WorkerStart;
  const host = new HostFs(root);
  port.once('message', (input: ScanInput) => {
    let batch: Array<[number, ScannedEntry]> = [];
    claimAndRead(host, input, counter, (i, entry) => {
      batch.push([i, entry]);
      if (batch.length < POST_EVERY) return;
      port.postMessage(batch satisfies WorkerOutput);
      batch = [];
    });
    port.postMessage(batch satisfies WorkerOutput);
    port.postMessage(null satisfies WorkerOutput);
  });
}
