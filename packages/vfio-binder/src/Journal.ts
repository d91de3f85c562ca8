import { randomBytes } from 'node:crypto';
import { HostFsError, sleepSync, type HostFs } from '@passthru/hostfs';
import { DeviceIdentitySchema } from '@passthru/pci-discovery';
import { z } from 'zod';
import { VfioBinderError } from './VfioBinderError';

export const JOURNAL_DIR = '/var/lib/passthru';
export const JOURNAL_PATH = `${JOURNAL_DIR}/journal.jsonl`;
export const LOCK_PATH = '/run/passthru/bind.lock';

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
    })
    .optional(),
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
  begin(operation: JournalEntry['operation'], devices: JournalDevice[], sriov?: JournalEntry['sriov']): JournalEntry {
    this.assertWhole(operation);
    const startedAt = this.now().toISOString();
    const entry: JournalEntry = { id: `${startedAt}-${process.pid}`, operation, startedAt, state: 'applying', devices, ...(sriov ? { sriov } : {}) };
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
  /** This process's pid, written into the lock. */
  pid?: number;
  /** Age after which an empty or garbage lock file counts as stale (see acquireHostLock). */
  staleUnknownAfterMs?: number;
  /** Told when a stale lock was taken over, and why it was judged stale. */
  onTakeover?: (message: string) => void;
}

/** An empty or garbage lock file older than this counts as stale. */
export const STALE_UNKNOWN_LOCK_MS = 30_000;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** What a lock file says: its owner (or why it names none) and a token naming this very file. */
interface LockSeen {
  owner: number | undefined;
  /** 'pid': a pid; 'empty': no bytes; 'garbage': bytes that are no pid; 'unreadable': read failed. */
  kind: 'pid' | 'empty' | 'garbage' | 'unreadable';
  text: string;
  /** The lock's nonce, or for a lock without one its inode, mtime and size. */
  token: string;
  ageMs: number;
}

/** Lock content: `<pid> <nonce>\n`. Older passthru wrote `<pid>\n`. */
const LOCK_CONTENT_RE = /^(\d{1,10})(?: ([0-9a-f]{16,64}))?\n?$/;

function readLock(host: HostFs, hostPath: string, now: number): LockSeen | undefined {
  let stat: ReturnType<HostFs['lstat']>;
  let text: string | undefined;
  try {
    stat = host.lstat(hostPath);
    if (!stat) return undefined;
    text = host.readTextIfExists(hostPath);
    if (text === undefined) return undefined;
  } catch (error) {
    if (!(error instanceof HostFsError)) throw error;
    return { owner: undefined, kind: 'unreadable', text: error.message, token: 'unreadable', ageMs: 0 };
  }
  const match = LOCK_CONTENT_RE.exec(text);
  const owner = match ? Number(match[1]) : undefined;
  return {
    owner: owner !== undefined && owner > 0 ? owner : undefined,
    kind: owner !== undefined && owner > 0 ? 'pid' : text.length === 0 ? 'empty' : 'garbage',
    text,
    token: match?.[2] ?? `i${stat.ino}-${Math.trunc(stat.mtimeMs * 1000)}-${stat.size}`,
    ageMs: Math.max(0, now - stat.mtimeMs),
  };
}

/** What the lock file shows, in words, for messages. */
function describeLock(seen: LockSeen): string {
  const age = `${Math.round(seen.ageMs / 1000)} s old`;
  if (seen.kind === 'empty') return `the lock file is empty (no owner pid; ${age})`;
  if (seen.kind === 'garbage') return `the lock file holds no pid (${JSON.stringify(seen.text.slice(0, 40))}; ${age})`;
  if (seen.kind === 'unreadable') return `the lock file cannot be read (${seen.text})`;
  return `pid ${seen.owner}`;
}

/**
 * Removes a stale lock so that exactly one contender does it, with no timing assumption. The
 * claim `bind.lock.takeover-<token>-<n>` is made like the lock (link(2) of a complete file
 * holding the claimant's pid), so exactly one contender owns it; the token names this very
 * lock file (its nonce), so a claim never applies to a lock taken since. Under the claim the
 * lock is read again and removed only if it is still that file. A claimant that died
 * mid-takeover leaves its claim: the next contender claims n+1. Returns 'removed' (this call
 * removed it), 'changed' (another did, or the lock is another file now: look again), or the pid
 * of the live contender taking it over (0: unknown).
 */
function takeOver(host: HostFs, seen: LockSeen, pid: number, isAlive: (pid: number) => boolean, now: () => number): 'removed' | 'changed' | number {
  const claim = (n: number) => `${LOCK_PATH}.takeover-${seen.token}-${n}`;
  for (let n = 1; n <= 64; n++) {
    if (host.createExclusive(claim(n), `${pid}\n`)) {
      try {
        if (readLock(host, LOCK_PATH, now())?.token !== seen.token) return 'changed';
        host.removeFile(LOCK_PATH);
        return 'removed';
      } finally {
        for (let k = n; k >= 1; k--) host.removeFile(claim(k));
      }
    }
    const claimant = host.readTextIfExists(claim(n));
    // Gone meanwhile: that takeover finished; look at the lock again.
    if (claimant === undefined) return 'changed';
    const owner = Number(LOCK_CONTENT_RE.exec(claimant)?.[1]);
    if (owner > 0 && (owner === pid || isAlive(owner))) return owner;
  }
  return 0;
}

/**
 * A host-wide lock under the host root: one bind or restore at a time per host. Returns the
 * release.
 *
 * Taking it: the owner's pid (and a nonce naming this lock) is written to a unique temp file,
 * which link(2) names `bind.lock` (HostFs.createExclusive): the lock never exists empty or
 * half-written, and EEXIST means held. Stale: a lock whose pid is not running (not this
 * process); an empty or garbage lock (only a crash or a full disk under an older passthru, or
 * another writer, leaves one) once its mtime is `staleUnknownAfterMs` (30 s) old; younger, it
 * is reported as held by an unknown owner. A stale lock is taken over atomically (`takeOver`):
 * however many contenders judge it dead at once, exactly one removes it, then all race for the
 * lock by link(2) again and exactly one wins.
 */
export function acquireHostLock(host: HostFs, options: LockOptions = {}): () => void {
  const {
    waitMs = 0,
    sleep = sleepSync,
    now = Date.now,
    isAlive = pidAlive,
    pid = process.pid,
    staleUnknownAfterMs = STALE_UNKNOWN_LOCK_MS,
    onTakeover,
  } = options;
  const deadline = now() + waitMs;
  const content = `${pid} ${randomBytes(16).toString('hex')}\n`;
  for (;;) {
    if (host.createExclusive(LOCK_PATH, content)) {
      return () => {
        try {
          if (host.readTextIfExists(LOCK_PATH) === content) host.removeFile(LOCK_PATH);
        } catch (error) {
          if (!(error instanceof HostFsError)) throw error;
        }
      };
    }
    const seen = readLock(host, LOCK_PATH, now());
    if (!seen) continue;
    let stale: string | undefined;
    if (seen.kind === 'pid') stale = seen.owner !== pid && !isAlive(seen.owner!) ? `pid ${seen.owner} is not running` : undefined;
    else if (seen.kind !== 'unreadable' && seen.ageMs >= staleUnknownAfterMs)
      stale = `${describeLock(seen)}, older than ${Math.round(staleUnknownAfterMs / 1000)} s`;
    const taken = stale ? takeOver(host, seen, pid, isAlive, now) : undefined;
    if (taken === 'removed') onTakeover?.(`removed the stale host lock ${LOCK_PATH}: ${stale}`);
    if (taken === 'removed' || taken === 'changed') continue;
    if (now() >= deadline) {
      let why: string;
      if (taken !== undefined) why = `${stale}, and another passthru run (pid ${taken || '?'}) is taking over that stale lock; try again when it ends`;
      else if (seen.kind === 'pid') why = `another passthru run (pid ${seen.owner}) is binding or restoring on this host; try again when it ends`;
      else if (seen.kind === 'unreadable') why = `${describeLock(seen)}; passthru treats it as held: remove it if no passthru runs`;
      else
        why = `${describeLock(seen)}. passthru writes its pid before the lock appears, so only a crash or a full disk under an older passthru, or another writer, leaves such a lock: it counts as stale once ${Math.round(staleUnknownAfterMs / 1000)} s old and is then taken over; remove it sooner if no passthru runs`;
      throw new VfioBinderError('refused', `Failed taking the host lock via ${LOCK_PATH}: ${why}`);
    }
    sleep(Math.min(100, Math.max(1, deadline - now())));
  }
}
