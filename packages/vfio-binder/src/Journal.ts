import type { HostFs } from '@passthru/hostfs';
import { DeviceIdentitySchema } from '@passthru/pci-discovery';
import * as z from 'zod';
import { JOURNAL_DIR, JOURNAL_PATH, type JournalRecords } from './journalRecords';
import { VfioBinderError } from './VfioBinderError';

export { JOURNAL_DIR, JOURNAL_PATH } from './journalRecords';

export const JournalDeviceSchema = z.object({
  address: z.string(),
  identity: DeviceIdentitySchema,
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
  operation: z.enum(['bind', 'restore', 'sriov']),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  /** applying: a crash left it mid-way; partial: rollback did not finish (exit 3). */
  state: z.enum(['applying', 'applied', 'rolled-back', 'partial', 'restored']),
  devices: z.array(JournalDeviceSchema),
  /** An `sriov` entry: the PF and its VF count (and sriov_drivers_autoprobe) before and after; no devices. */
  sriov: z
    .object({
      pf: z.string(),
      fromNumVfs: z.number().int(),
      toNumVfs: z.number().int(),
      fromAutoprobe: z.boolean().nullable(),
      toAutoprobe: z.boolean().nullable(),
      /** `sriov --persist`: the boot unit written with the change (its text before, null: none, and after). */
      unit: z.object({ path: z.string(), before: z.string().nullable(), after: z.string() }).optional(),
    })
    .optional(),
  /** A `bind` that loaded modules first (vfio-pci was not registered); they stay loaded after a restore. */
  modulesLoaded: z.array(z.string()).optional(),
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

/** A line of the journal that cannot be read: 1-based line number, why, and its text verbatim. */
export interface DamagedLine {
  line: number;
  reason: string;
  text: string;
}

export interface JournalInspection {
  file: JournalFile;
  damaged: DamagedLine[];
}

function parseEvent(text: string): { event: JournalEvent } | { reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { reason: `not JSON: ${(error as Error).message}` };
  }
  const parsed = JournalEventSchema.safeParse(value);
  return parsed.success ? { event: parsed.data } : { reason: parsed.error.issues[0]?.message ?? 'unexpected shape' };
}

/**
 * The journal's lines as readable events (each with the text it was read from) and unreadable
 * lines. A line that does not parse may still end with a whole event: an older writer appended
 * right after a torn record, without a newline between them.
 */
function splitJournal(text: string): { events: Array<{ event: JournalEvent; text: string }>; damaged: DamagedLine[] } {
  const events: Array<{ event: JournalEvent; text: string }> = [];
  const damaged: DamagedLine[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const whole = parseEvent(line);
    if ('event' in whole) {
      events.push({ event: whole.event, text: line });
      return;
    }
    const torn = i === lines.length - 1 ? 'a torn last record (no newline: the append did not finish)' : whole.reason;
    for (let at = line.indexOf('{"event":', 1); at > 0; at = line.indexOf('{"event":', at + 1)) {
      const tail = parseEvent(line.slice(at));
      if ('event' in tail) {
        damaged.push({ line: i + 1, reason: `${torn}; the record after its first ${at} bytes was salvaged`, text: line.slice(0, at) });
        events.push({ event: tail.event, text: line.slice(at) });
        return;
      }
    }
    damaged.push({ line: i + 1, reason: torn, text: line });
  });
  return { events, damaged };
}

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

  /** Every entry, folded from the readable lines of the event log (see `inspect`). */
  read(): JournalFile {
    return this.inspect().file;
  }

  /**
   * The journal salvaged: every readable line folded into entries, and the lines that cannot
   * be read (a record torn by a crash or by an older passthru on a full disk, or garbage) listed
   * instead of refused. When a writer appended after a torn record, the torn bytes and its
   * record share a line: the record is salvaged from the line and only the torn prefix is lost.
   */
  inspect(): JournalInspection {
    let text: string | undefined;
    try {
      text = this.host.readTextIfExists(JOURNAL_PATH);
    } catch (error) {
      throw new VfioBinderError('refused', `Failed reading the journal via ${JOURNAL_PATH}: ${(error as Error).message}`, { cause: error });
    }
    const { events, damaged } = splitJournal(text ?? '');
    const entries: JournalEntry[] = [];
    const byId = new Map<string, JournalEntry>();
    for (const { event } of events) {
      if (event.event === 'begin') {
        entries.push(event.entry);
        byId.set(event.entry.id, event.entry);
        continue;
      }
      const entry = byId.get(event.id);
      if (!entry) continue;
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
    }
    return { file: { schemaVersion: 1, entries }, damaged };
  }

  /**
   * Refuses (nothing written) to append after lines it cannot read: a record appended after a
   * torn one would share its line, and the journal must stay a whole account of every run.
   */
  private assertWhole(operation: JournalEntry['operation']): void {
    const { damaged } = this.inspect();
    if (damaged.length === 0) return;
    const where = damaged.map((d) => d.line).join(', ');
    throw new VfioBinderError(
      'refused',
      `Failed journalling the ${operation} via ${JOURNAL_PATH}: line ${where} cannot be read (${damaged[0]!.reason}); refusing to append after it, nothing was changed. ` +
        `Every readable record is kept: \`passthru restore --all\` gives back every device the journal and the tree show passthru left on vfio-pci, ` +
        `or \`passthru restore --repair-journal\` only moves the unreadable line(s) aside into a dated file next to the journal (nothing is restored); then run the ${operation} again`,
    );
  }

  /**
   * Moves the unreadable lines, verbatim, into `journal.damaged-<time>.jsonl` next to the
   * journal and rewrites the journal with every readable line (each file replaced atomically).
   * Returns what it moved, or undefined when the journal is whole. Call under the host lock.
   */
  setAsideDamaged(): { path: string; lines: number[] } | undefined {
    let text: string | undefined;
    try {
      text = this.host.readTextIfExists(JOURNAL_PATH);
    } catch (error) {
      throw new VfioBinderError('refused', `Failed reading the journal via ${JOURNAL_PATH}: ${(error as Error).message}`, { cause: error });
    }
    const { events, damaged } = splitJournal(text ?? '');
    if (damaged.length === 0) return undefined;
    const stamp = this.now().toISOString().replace(/[:.]/g, '-');
    let aside = `${JOURNAL_DIR}/journal.damaged-${stamp}.jsonl`;
    for (let n = 2; this.host.exists(aside); n++) aside = `${JOURNAL_DIR}/journal.damaged-${stamp}-${n}.jsonl`;
    try {
      this.host.writeFile(aside, damaged.map((d) => `${d.text}\n`).join(''));
      this.host.writeFile(JOURNAL_PATH, events.map((e) => `${e.text}\n`).join(''));
    } catch (error) {
      throw new VfioBinderError('refused', `Failed setting the unreadable journal lines aside via ${aside}: ${(error as Error).message}`, { cause: error });
    }
    return { path: aside, lines: damaged.map((d) => d.line) };
  }

  /** Appends one event whole (or throws, the journal as it was): see HostFs.appendFile. */
  private append(event: JournalEvent): void {
    this.host.appendFile(JOURNAL_PATH, `${JSON.stringify(event)}\n`);
  }

  /** Records a new entry (fsynced) and returns it; refuses when the journal has unreadable lines. */
  begin(operation: JournalEntry['operation'], devices: JournalDevice[], extra: Pick<JournalEntry, 'sriov' | 'modulesLoaded'> = {}): JournalEntry {
    this.assertWhole(operation);
    const startedAt = this.now().toISOString();
    const entry: JournalEntry = { id: `${startedAt}-${process.pid}`, operation, startedAt, state: 'applying', devices, ...extra };
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

/**
 * The journal's outstanding records, as the owner rules take them (readOwnershipWith); a journal
 * that cannot be read gives none, and says why.
 */
export function readJournalRecords(host: HostFs): JournalRecords {
  try {
    return { outstanding: new Journal(host).outstanding() };
  } catch (error) {
    if (!(error instanceof VfioBinderError)) throw error;
    return { outstanding: new Map(), error: error.message };
  }
}
