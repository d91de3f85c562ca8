import type { HostFs } from '@passthru/hostfs';
import { acquireHostLock, type LockOptions } from '../HostLock';
import { JOURNAL_PATH, Journal, type DamagedLine } from '../Journal';

/** Where the unreadable lines went: a dated file next to the journal. */
export interface SetAside {
  path: string;
  lines: number[];
}

/** Moves the journal's unreadable lines aside under the host lock; undefined when it is whole. */
export function setAsideDamaged(host: HostFs, lock: LockOptions = {}): SetAside | undefined {
  const release = acquireHostLock(host, lock);
  try {
    return new Journal(host).setAsideDamaged();
  } finally {
    release();
  }
}

/** The operator's line for lines moved aside (also printed by restore when it salvages). */
export const setAsideNote = (moved: SetAside) =>
  `moved unreadable journal line(s) ${moved.lines.join(', ')} verbatim into ${moved.path}; every readable record stays in ${JOURNAL_PATH}.`;

export interface RepairOutcome {
  /** The unreadable lines found (empty: the journal is whole, nothing done). */
  damaged: DamagedLine[];
  /** Where they went; absent on a dry run or a whole journal. */
  moved?: SetAside;
}

/**
 * The journal-repair use case: find the lines a crash or a full disk tore and move them
 * verbatim into a dated file next to the journal; every readable record stays. Nothing is
 * restored.
 */
export function repairJournal(host: HostFs, request: { dryRun?: boolean } = {}, lock: LockOptions = {}): RepairOutcome {
  const { damaged } = new Journal(host).inspect();
  if (damaged.length === 0 || request.dryRun) return { damaged };
  const moved = setAsideDamaged(host, lock);
  return moved ? { damaged, moved } : { damaged };
}
