import { HostFsError, type HostFs } from '@passthru/hostfs';
import { z } from 'zod';
import { VfioBinderError } from './VfioBinderError';

export const JOURNAL_PATH = '/var/lib/passthru/journal.json';
export const LOCK_PATH = '/run/passthru/bind.lock';

const IdentitySchema = z.object({
  vendorId: z.string(),
  deviceId: z.string(),
  subsystemVendorId: z.string().nullable(),
  subsystemDeviceId: z.string().nullable(),
  class: z.string(),
  iommuGroup: z.number().nullable(),
});

export const JournalDeviceSchema = z.object({
  address: z.string(),
  identity: IdentitySchema,
  originalDriver: z.string().nullable(),
  originalOverride: z.string().nullable(),
  /** pending: not touched yet; bound: on vfio-pci by us; restored: back as it was; left: not restored (see note). */
  status: z.enum(['pending', 'bound', 'restored', 'left']),
  note: z.string().optional(),
});
export type JournalDevice = z.infer<typeof JournalDeviceSchema>;

export const JournalEntrySchema = z.object({
  id: z.string(),
  operation: z.enum(['bind', 'restore']),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  /** applying: a crash left it mid-way; partial: rollback did not finish (exit 3). */
  state: z.enum(['applying', 'applied', 'rolled-back', 'partial', 'restored']),
  devices: z.array(JournalDeviceSchema),
});
export type JournalEntry = z.infer<typeof JournalEntrySchema>;

export const JournalSchema = z.object({ schemaVersion: z.literal(1), entries: z.array(JournalEntrySchema) });
export type JournalFile = z.infer<typeof JournalSchema>;

/**
 * The bind journal under the host root (/var/lib/passthru/journal.json): written atomically
 * and fsynced before the first sysfs write and after every device, so a crash at any point
 * leaves a record that `passthru restore` can finish.
 */
export class Journal {
  constructor(
    private readonly host: HostFs,
    private readonly now: () => Date = () => new Date(),
  ) {}

  read(): JournalFile {
    let text: string | undefined;
    try {
      text = this.host.readTextIfExists(JOURNAL_PATH);
    } catch (error) {
      throw new VfioBinderError('refused', `Failed reading the journal via ${JOURNAL_PATH}: ${(error as Error).message}`, { cause: error });
    }
    if (text === undefined) return { schemaVersion: 1, entries: [] };
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new VfioBinderError('refused', `Failed parsing the journal via ${JOURNAL_PATH}: not JSON (${(error as Error).message}); move it aside to start afresh`, { cause: error });
    }
    const parsed = JournalSchema.safeParse(value);
    if (!parsed.success) throw new VfioBinderError('refused', `Failed parsing the journal via ${JOURNAL_PATH}: ${parsed.error.issues[0]?.message ?? 'unexpected shape'}`);
    return parsed.data;
  }

  private write(file: JournalFile): void {
    this.host.writeFile(JOURNAL_PATH, `${JSON.stringify(file, null, 2)}\n`);
  }

  /** Records a new entry (fsynced) and returns its id. */
  begin(operation: JournalEntry['operation'], devices: JournalDevice[]): JournalEntry {
    const file = this.read();
    const startedAt = this.now().toISOString();
    const entry: JournalEntry = { id: `${startedAt}-${process.pid}`, operation, startedAt, state: 'applying', devices };
    file.entries.push(entry);
    this.write(file);
    return entry;
  }

  /** Rewrites an entry in place (fsynced). */
  update(entry: JournalEntry): void {
    const file = this.read();
    const i = file.entries.findIndex((e) => e.id === entry.id);
    if (i < 0) file.entries.push(entry);
    else file.entries[i] = entry;
    this.write(file);
  }

  finish(entry: JournalEntry, state: JournalEntry['state']): void {
    entry.state = state;
    entry.finishedAt = this.now().toISOString();
    this.update(entry);
  }

  /**
   * What our binds left on vfio-pci, per address: the newest bind record of each device that
   * is bound or left (not restored), with the original driver to go back to.
   */
  outstanding(): Map<string, { entry: JournalEntry; device: JournalDevice }> {
    const result = new Map<string, { entry: JournalEntry; device: JournalDevice }>();
    for (const entry of this.read().entries) {
      for (const device of entry.devices) {
        if (entry.operation === 'bind' && (device.status === 'bound' || device.status === 'left')) result.set(device.address, { entry, device });
        else if (device.status === 'restored') result.delete(device.address);
      }
    }
    return result;
  }
}

export interface LockOptions {
  /** How long to wait for another run's lock before refusing. */
  waitMs?: number;
  sleep?: (ms: number) => void;
  now?: () => number;
  isAlive?: (pid: number) => boolean;
}

export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A host-wide lock (O_EXCL file holding the owner's pid under the host root): one bind or
 * restore at a time per host. A lock whose owner is dead is taken over. Returns the release.
 */
export function acquireHostLock(host: HostFs, options: LockOptions = {}): () => void {
  const { waitMs = 0, sleep = sleepSync, now = Date.now, isAlive = pidAlive } = options;
  const deadline = now() + waitMs;
  for (;;) {
    if (host.createExclusive(LOCK_PATH, `${process.pid}\n`)) {
      return () => {
        try {
          if (host.readTextIfExists(LOCK_PATH)?.trim() === String(process.pid)) host.removeFile(LOCK_PATH);
        } catch (error) {
          if (!(error instanceof HostFsError)) throw error;
        }
      };
    }
    let owner = NaN;
    try {
      owner = Number(host.readTextIfExists(LOCK_PATH)?.trim());
    } catch {
      // unreadable lock: treat as held
    }
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && !isAlive(owner)) {
      host.removeFile(LOCK_PATH);
      continue;
    }
    if (now() >= deadline) {
      throw new VfioBinderError('refused', `Failed taking the host lock via ${LOCK_PATH}: another passthru run (pid ${Number.isNaN(owner) ? '?' : owner}) is binding or restoring on this host; try again when it ends`);
    }
    sleep(Math.min(100, Math.max(1, deadline - now())));
  }
}
