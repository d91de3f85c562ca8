import { HostFsError, randomHex, sleepSync, type HostFs } from '@passthru/hostfs';
import { VfioBinderError } from './VfioBinderError';

export const LOCK_PATH = '/run/passthru/bind.lock';

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
  const content = `${pid} ${randomHex(16)}\n`;
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
