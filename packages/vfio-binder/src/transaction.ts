/**
 * The one transaction every apply path runs in (bind, restore, recovery, sriov), the way Incus's
 * device code uses one revert helper: the host lock, a journal entry written (fsynced) before the
 * first kernel write, writes counted, the driver link polled, and undo steps run newest first.
 */
import { HostFsError, sleepSync, type HostFs } from '@passthru/hostfs';
import { acquireHostLock, type LockOptions } from './HostLock';
import { JOURNAL_PATH, Journal, type JournalDevice, type JournalEntry } from './Journal';
import { VfioBinderError } from './VfioBinderError';
import { pciDevicePath } from '@passthru/pci-discovery';

export interface TransactionOptions {
  clock?: () => Date;
  lock?: LockOptions;
}

/** How the driver link is polled after a probe (the kernel may bind asynchronously). */
export interface PollOptions {
  /** Upper bound on waiting for the `driver` link after a probe. */
  verifyTimeoutMs?: number;
  verifyIntervalMs?: number;
  sleep?: (ms: number) => void;
  now?: () => number;
}

export interface Transaction {
  readonly host: HostFs;
  readonly journal: Journal;
  readonly entry: JournalEntry;
  /** Kernel writes made so far (results report them). */
  readonly writes: number;
  /** One kernel attribute write, counted. */
  write(path: string, data: string): void;
  /** Records a device's new status (fsynced) in the entry. */
  mark(device: JournalDevice): void;
  finish(state: JournalEntry['state']): void;
  /** Remembers how to undo a step; `undo` runs them newest first. */
  onUndo(step: () => void): void;
  /** Runs the remembered undo steps in reverse order, each once. */
  undo(): void;
}

type Begin = Parameters<Journal['begin']>;

/**
 * Runs `body` under the host lock, in a journal entry begun before it. A journal that cannot be
 * written refuses the change before any kernel write (`failed`, "nothing was written"); the lock
 * is released however `body` ends.
 */
export function inTransaction<T>(
  host: HostFs,
  options: TransactionOptions,
  what: string,
  begin: {
    operation: Begin[0];
    devices: Begin[1];
    extra?: Begin[2];
    /** Runs under the lock before the journal entry (bind loads vfio-pci there: nothing is changed while another run holds the host). */
    prepare?: () => void;
  },
  body: (tx: Transaction) => T,
): T {
  const release = acquireHostLock(host, options.lock);
  try {
    begin.prepare?.();
    const journal = new Journal(host, options.clock);
    let entry: JournalEntry;
    try {
      entry = journal.begin(begin.operation, begin.devices, begin.extra);
    } catch (error) {
      if (!(error instanceof HostFsError)) throw error;
      throw new VfioBinderError('failed', `Failed journalling the ${what} via ${JOURNAL_PATH}: ${error.message}; nothing was written`, { cause: error });
    }
    let writes = 0;
    const undoSteps: Array<() => void> = [];
    const tx: Transaction = {
      host,
      journal,
      entry,
      get writes() {
        return writes;
      },
      write(path, data) {
        writes++;
        host.writeAttribute(path, data);
      },
      mark: (device) => journal.mark(entry, device),
      finish: (state) => journal.finish(entry, state),
      onUndo: (step) => undoSteps.push(step),
      undo() {
        for (let step = undoSteps.pop(); step; step = undoSteps.pop()) step();
      },
    };
    return body(tx);
  } finally {
    release();
  }
}

/** The driver bound to a device now (null: none), or undefined when the device is gone. */
export function currentDriver(host: HostFs, address: string): string | null | undefined {
  if (!host.exists(pciDevicePath(address))) return undefined;
  return host.linkName(pciDevicePath(address, 'driver')) ?? null;
}

/**
 * Polls the `driver` link until `settled` accepts it or the bound runs out; returns the last
 * driver seen (undefined: the device is gone). The write's return code is never trusted:
 * drivers_probe says success when nothing bound.
 */
export function pollDriver(host: HostFs, address: string, settled: (driver: string | null) => boolean, options: PollOptions = {}): string | null | undefined {
  const { verifyTimeoutMs = 2000, verifyIntervalMs = 25, sleep = sleepSync, now = Date.now } = options;
  const deadline = now() + verifyTimeoutMs;
  for (;;) {
    const driver = currentDriver(host, address);
    if (driver === undefined || settled(driver) || now() >= deadline) return driver;
    sleep(verifyIntervalMs);
  }
}

/** Polls the `driver` link until it names `expected` (null: unbound); whether it did. */
export function waitForDriver(host: HostFs, address: string, expected: string | null, options: PollOptions = {}): boolean {
  return pollDriver(host, address, (d) => d === expected, options) === expected;
}
