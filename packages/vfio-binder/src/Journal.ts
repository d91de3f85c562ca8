import { HostFsError, type HostFs } from '@passthru/hostfs';
import { z } from 'zod';
import { VfioBinderError } from './VfioBinderError';

export const JOURNAL_PATH = '/var/lib/passthru/journal.jsonl';
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
  /** Who bound it: passthru, or another manager's device taken over with `bind --adopt` (absent in older journals: passthru). */
  owner: z.enum(['passthru', 'adopted']).default('passthru'),
  /** For an adopted device: who held it before (libvirt, driverctl, a foreign driver_override ...). */
  adoptedFrom: z.string().optional(),
  /** What restore cannot put back of the original state (an override the kernel refuses to take). */
  unrestorable: z.string().optional(),
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

/** One line of the journal file: entries are folded from these events, in order. */
const JournalEventSchema = z.discriminatedUnion('event', [
  z.object({ event: z.literal('begin'), entry: JournalEntrySchema }),
  z.object({ event: z.literal('device'), id: z.string(), address: z.string(), status: JournalDeviceSchema.shape.status, note: z.string().optional() }),
  z.object({ event: z.literal('finish'), id: z.string(), state: JournalEntrySchema.shape.state, finishedAt: z.string() }),
]);
type JournalEvent = z.infer<typeof JournalEventSchema>;

/**
 * The bind journal under the host root (/var/lib/passthru/journal.jsonl): an append-only log
 * of events, each line fsynced before the sysfs writes it announces. A device is marked as
 * touched before its first write, so a crash at any point leaves a record that
 * `passthru restore` can finish. Appending keeps the cost per device constant (hundreds of VFs).
 */
export class Journal {
  constructor(
    private readonly host: HostFs,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Every entry, folded from the event log. A torn last line (crash mid-append) is ignored. */
  read(): JournalFile {
    let text: string | undefined;
    try {
      text = this.host.readTextIfExists(JOURNAL_PATH);
    } catch (error) {
      throw new VfioBinderError('refused', `Failed reading the journal via ${JOURNAL_PATH}: ${(error as Error).message}`, { cause: error });
    }
    const entries: JournalEntry[] = [];
    const byId = new Map<string, JournalEntry>();
    const lines = (text ?? '').split('\n');
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        if (i === lines.length - 1) return;
        throw new VfioBinderError('refused', `Failed parsing the journal via ${JOURNAL_PATH}:${i + 1}: not JSON (${(error as Error).message}); move it aside to start afresh`, { cause: error });
      }
      const parsed = JournalEventSchema.safeParse(value);
      if (!parsed.success) throw new VfioBinderError('refused', `Failed parsing the journal via ${JOURNAL_PATH}:${i + 1}: ${parsed.error.issues[0]?.message ?? 'unexpected shape'}`);
      const event = parsed.data;
      if (event.event === 'begin') {
        entries.push(event.entry);
        byId.set(event.entry.id, event.entry);
        return;
      }
      const entry = byId.get(event.id);
      if (!entry) return;
      if (event.event === 'finish') {
        entry.state = event.state;
        entry.finishedAt = event.finishedAt;
      } else {
        const device = entry.devices.find((d) => d.address === event.address);
        if (device) {
          device.status = event.status;
          if (event.note) device.note = event.note;
        }
      }
    });
    return { schemaVersion: 1, entries };
  }

  private append(event: JournalEvent): void {
    this.host.appendFile(JOURNAL_PATH, `${JSON.stringify(event)}\n`);
  }

  /** Records a new entry (fsynced) and returns it. */
  begin(operation: JournalEntry['operation'], devices: JournalDevice[]): JournalEntry {
    const startedAt = this.now().toISOString();
    const entry: JournalEntry = { id: `${startedAt}-${process.pid}`, operation, startedAt, state: 'applying', devices };
    this.append({ event: 'begin', entry: JSON.parse(JSON.stringify(entry)) as JournalEntry });
    return entry;
  }

  /** Records a device's new status (fsynced); call before the writes it announces. */
  mark(entry: JournalEntry, device: JournalDevice): void {
    this.append({ event: 'device', id: entry.id, address: device.address, status: device.status, ...(device.note ? { note: device.note } : {}) });
  }

  finish(entry: JournalEntry, state: JournalEntry['state']): void {
    entry.state = state;
    entry.finishedAt = this.now().toISOString();
    this.append({ event: 'finish', id: entry.id, state, finishedAt: entry.finishedAt });
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
