/**
 * The read-only use cases as library users, the tests and the commands that change a host call
 * them: each reads the bind journal itself, synchronously, when it needs it (Journal validates
 * every line with zod). `list`, `groups` and `doctor` call the `...With` forms with records that
 * loadJournalRecords read, which loads the journal's reader (and zod) only when there is a journal.
 */
import type { HostFs } from '@passthru/hostfs';
import type { PciDevice } from '@passthru/pci-discovery';
import type { HostState } from './bind/bindDevices';
import { readJournalRecords, type JournalDevice } from './Journal';
import { readOwnershipWith, type Ownership } from './owners';
import { hostReadinessWith, type HostReadiness } from './readiness/hostReadiness';
import { readHostWith, type HostView, type ReadHostOptions } from './readiness/readHost';

/** Who holds each device (readOwnershipWith); a caller that has read the journal's outstanding records passes them (`journaled`) so it is read once. */
export function readOwnership(host: HostFs, devices: PciDevice[], journaled?: Map<string, { device: JournalDevice }>): Ownership {
  return readOwnershipWith(host, devices, journaled ? { outstanding: journaled } : readJournalRecords(host));
}

/** The readiness of every IOMMU group and device (hostReadinessWith). */
export function hostReadiness(host: HostFs, state: HostState): HostReadiness {
  return hostReadinessWith(host, state, readJournalRecords(host));
}

/** The host read once (readHostWith); the journal is read on the first read of `readiness`. */
export function readHost(host: HostFs, options: ReadHostOptions = {}): HostView {
  return readHostWith(host, options, () => readJournalRecords(host));
}
