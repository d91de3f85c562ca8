// `restore` finishes an sriov change the journal shows unfinished: a kill -9 or a power loss
// between the writes of 0 and N ('applying'), or a rollback that did not finish ('partial',
// exit 3). Finishing means what restore means for a bind: the PF back as it was before the
// change (its VF count and sriov_drivers_autoprobe), and a boot unit written with it put back.
import type { HostFs } from '@passthru/hostfs';
import type { PciDevice } from '@passthru/pci-discovery';
import { acquireHostLock, type LockOptions } from '../HostLock';
import { Journal, type JournalEntry } from '../Journal';
import { evaluateSriovGuards, readVfCount, rollBackSriov, type SriovChange, type SriovGuardFinding } from './plan';

export interface SriovRestorePlan {
  /** The journal entry of the unfinished change. */
  entryId: string;
  pf: string;
  state: 'applying' | 'partial';
  /** The count the change went for, the count the kernel shows now, and the count restore puts back. */
  toNumVfs: number;
  nowNumVfs: number | null;
  fromNumVfs: number;
  /** The boot unit written with the change (`sriov --persist`), put back too. */
  unit?: string;
  /** What stands against removing the VFs there are now (the change is then left, said why). */
  guards: SriovGuardFinding[];
}

export interface SriovRestoreResult {
  pf: string;
  status: 'restored' | 'left';
  numVfs: number | null;
  note?: string;
}

/** The newest sriov entry of each PF, when it did not finish (state applying or partial). */
function unfinishedEntries(host: HostFs): Array<JournalEntry & { sriov: SriovChange & { toNumVfs: number } }> {
  const newest = new Map<string, JournalEntry>();
  for (const entry of new Journal(host).read().entries) if (entry.operation === 'sriov' && entry.sriov) newest.set(entry.sriov.pf, entry);
  return [...newest.values()].filter((e) => e.state === 'applying' || e.state === 'partial') as Array<
    JournalEntry & { sriov: SriovChange & { toNumVfs: number } }
  >;
}

/**
 * What restore would do for the unfinished sriov changes of `pfs` ('all': every PF): put each PF
 * back at the count before the change (through 0), unless a VF that would go away is in use.
 */
export function planSriovRestore(host: HostFs, devices: PciDevice[], pfs: string[] | 'all'): SriovRestorePlan[] {
  return unfinishedEntries(host)
    .filter((e) => pfs === 'all' || pfs.includes(e.sriov.pf))
    .map((entry) => {
      const { pf, fromNumVfs, toNumVfs } = entry.sriov;
      const nowNumVfs = readVfCount(host, pf);
      const removedVfs = nowNumVfs === fromNumVfs ? [] : devices.filter((d) => d.sriov?.role === 'vf' && d.sriov.physfn === pf).map((d) => d.address);
      return {
        entryId: entry.id,
        pf,
        state: entry.state as SriovRestorePlan['state'],
        toNumVfs,
        nowNumVfs,
        fromNumVfs,
        ...(entry.sriov.unit ? { unit: entry.sriov.unit.path } : {}),
        guards: evaluateSriovGuards(host, { removedVfs }, devices),
      };
    });
}

/**
 * Puts each planned PF back under the host lock and closes its journal entry ('restored'), or
 * leaves it ('partial' stays) with the reason: a guard, or the kernel refusing a write.
 */
export function applySriovRestore(host: HostFs, plans: SriovRestorePlan[], lock?: LockOptions): SriovRestoreResult[] {
  if (plans.length === 0) return [];
  const release = acquireHostLock(host, lock);
  try {
    const journal = new Journal(host);
    const entries = new Map(unfinishedEntries(host).map((e) => [e.id, e]));
    return plans.map((plan): SriovRestoreResult => {
      const entry = entries.get(plan.entryId);
      if (!entry) return { pf: plan.pf, status: 'restored', numVfs: readVfCount(host, plan.pf), note: 'finished by another run meanwhile' };
      if (plan.guards.length)
        return { pf: plan.pf, status: 'left', numVfs: plan.nowNumVfs, note: `not restored: ${plan.guards.map((g) => `${g.address} ${g.summary}`).join('; ')}` };
      const left = rollBackSriov(host, entry.sriov);
      if (left) return { pf: plan.pf, status: 'left', numVfs: readVfCount(host, plan.pf), note: `the rollback did not finish: ${left}` };
      journal.finish(entry, 'restored');
      return { pf: plan.pf, status: 'restored', numVfs: readVfCount(host, plan.pf) };
    });
  } finally {
    release();
  }
}

export function formatSriovRestorePlan(plans: SriovRestorePlan[]): string {
  return plans
    .map((p) => {
      const why = p.state === 'applying' ? `the change to ${p.toNumVfs} was interrupted` : `the rollback of the change to ${p.toNumVfs} did not finish`;
      const unit = p.unit ? `, and ${p.unit} put back` : '';
      const held = p.guards.length ? `\n    refused: ${p.guards.map((g) => `${g.address} [${g.id}] ${g.summary}`).join('; ')}` : '';
      return `  sriov ${p.pf}: ${p.nowNumVfs ?? '?'} -> ${p.fromNumVfs} VFs (${why}; journal entry ${p.entryId})${unit}${held}\n`;
    })
    .join('');
}
