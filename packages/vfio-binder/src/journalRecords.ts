// The bind journal as the owner rules read it: the outstanding record of each device passthru
// left on vfio-pci. Reading the journal validates every line with zod (./Journal); a caller that
// can wait loads that reader with loadJournalRecords, only when there is a journal to read, so
// `list`, `groups` and `doctor` do not load zod on a host where passthru never bound a device.
import type { HostFs } from '@passthru/hostfs';
import type { JournalDevice } from './Journal';

export const JOURNAL_DIR = '/var/lib/passthru';
export const JOURNAL_PATH = `${JOURNAL_DIR}/journal.jsonl`;

/**
 * What the journal says of who holds each device: the newest outstanding bind record per address
 * (Journal.outstanding), and, when the journal could not be read, why (its devices may then show
 * as foreign).
 */
export interface JournalRecords {
  outstanding: Map<string, { device: JournalDevice }>;
  error?: string;
}

/** The journal's records (readJournalRecords); its reader, and zod with it, loaded only when the journal file exists. */
export async function loadJournalRecords(host: HostFs): Promise<JournalRecords> {
  if (journalAbsent(host)) return { outstanding: new Map() };
  const { readJournalRecords } = await import('./Journal');
  return readJournalRecords(host);
}

/**
 * True only when the journal file is certainly not there (ENOENT), which Journal reads as an empty
 * journal; anything else (a file, or a path that cannot be looked at) is Journal's to read or to report.
 */
function journalAbsent(host: HostFs): boolean {
  try {
    return host.lstat(JOURNAL_PATH) === undefined;
  } catch {
    return false;
  }
}
