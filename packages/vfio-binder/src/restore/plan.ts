import type { HostFs } from '@passthru/hostfs';
import { identityMismatch, type PciDevice } from '@passthru/pci-discovery';
import { restoreDevice, type ApplyOptions, type DeviceOutcome } from '../bind/apply';
import { currentDriver, inTransaction } from '../transaction';
import { VFIO_DRIVER } from '../bind/plan';
import { Journal, type JournalDevice } from '../Journal';
import { isForeign, readOwnershipWith, type DeviceOwner } from '../owners';
import { VfioBinderError } from '../VfioBinderError';

export interface RestorePlan {
  /** In bind order (applied in reverse). reason: named by a target, or restored with it because it shares its IOMMU group. */
  devices: Array<{ record: JournalDevice; current: string | null | undefined; reason: 'named' | 'same-group' }>;
  /** Endpoints of the restored groups that stay on vfio-pci (--split-group, or held by another manager). */
  leftOnVfio: Array<{ address: string; iommuGroup: number | null; why: string }>;
  /** Devices on vfio-pci that another manager holds: passthru never restores them. */
  foreign: Array<{ address: string; owner: DeviceOwner }>;
}

export interface RestoreOptions {
  /** Restore only the named devices, leaving the rest of their IOMMU groups on vfio-pci. */
  splitGroup?: boolean;
}

export interface RestoreResult {
  status: 'restored' | 'noop' | 'partial';
  devices: DeviceOutcome[];
  writes: number;
  leftOnVfio: RestorePlan['leftOnVfio'];
  foreign: RestorePlan['foreign'];
}

/**
 * What `restore` would put back, the mirror of bind: the IOMMU group is the unit. A target
 * stands for every device the journal lists as bound (or adopted) in its group, restored in
 * reverse bind order; `--all` for every outstanding device. A restore that would leave part of
 * a group on vfio-pci (another manager holds a member, or `splitGroup` names only some) is
 * refused (usage, nothing written) unless `splitGroup`; the plan lists what it leaves. Devices
 * another manager holds are never restored (`foreign`). Refuses when an address now names
 * another device. A target the journal lists as already restored is a no-op.
 */
export function planRestore(host: HostFs, devices: PciDevice[], chosen: string[] | 'all', options: RestoreOptions = {}): RestorePlan {
  const journal = new Journal(host);
  const outstanding = journal.outstanding();
  const byAddress = new Map(devices.map((d) => [d.address, d]));
  const { owners } = readOwnershipWith(host, devices, { outstanding });
  const groupOf = (address: string) => outstanding.get(address)?.device.identity.iommuGroup ?? byAddress.get(address)?.iommuGroup ?? null;
  const inGroups = (groups: Set<number | null>) => [...outstanding.keys()].filter((a) => groups.has(groupOf(a)) && groupOf(a) !== null);
  let addresses: string[];
  const reasons = new Map<string, 'named' | 'same-group'>();
  let groups: Set<number | null>;
  if (chosen === 'all') {
    addresses = [...outstanding.keys()];
    groups = new Set(addresses.map(groupOf));
  } else {
    const journaled = new Set(journal.read().entries.flatMap((e) => e.devices.map((d) => d.address)));
    const unknown = chosen.filter((a) => !outstanding.has(a) && !journaled.has(a));
    const held = unknown.filter((a) => isForeign(owners.get(a)));
    if (held.length) {
      throw new VfioBinderError(
        'bad-input',
        `Failed planning restore of ${held.join(', ')}: ${held.map((a) => `${a} is held by ${owners.get(a)!.summary}`).join('; ')}; passthru never restores another manager's device (\`bind --adopt\` takes one over)`,
      );
    }
    if (unknown.length) {
      throw new VfioBinderError(
        'bad-input',
        `Failed planning restore of ${unknown.join(', ')} via /var/lib/passthru/journal.jsonl: passthru has no record of binding it (nothing to restore; \`passthru bind\` journals what it changes)`,
      );
    }
    const named = chosen.filter((a) => outstanding.has(a));
    // A target already restored (--split-group) still names its group: the rest of it comes back.
    groups = new Set(chosen.map(groupOf));
    addresses = options.splitGroup ? named : [...new Set([...named, ...inGroups(groups)])];
    for (const a of named) reasons.set(a, 'named');
  }
  // Bind order: the journal's order of outstanding records.
  const order = new Map([...outstanding.keys()].map((a, i) => [a, i]));
  addresses.sort((a, b) => order.get(a)! - order.get(b)!);
  const planned = addresses.map(
    (address) =>
      ({
        record: outstanding.get(address)!.device,
        current: currentDriver(host, address),
        reason: reasons.get(address) ?? (chosen === 'all' ? 'named' : 'same-group'),
      }) as const,
  );
  for (const { record } of planned) {
    const device = byAddress.get(record.address);
    const changed = device ? identityMismatch(record.identity, device) : [];
    if (changed.length) {
      throw new VfioBinderError(
        'refused',
        `Failed planning restore of ${record.address}: the address now names another device (${changed.join('; ')}); refusing to touch it`,
      );
    }
  }
  const restoring = new Set(addresses);
  const foreign = devices
    .filter((d) => d.driver === VFIO_DRIVER && isForeign(owners.get(d.address)))
    .map((d) => ({ address: d.address, owner: owners.get(d.address)! }));
  // What of the restored groups stays on vfio-pci: passthru's devices not named (--split-group), and other managers' devices.
  const leftOnVfio = [
    ...new Set([
      ...inGroups(groups),
      ...devices.filter((d) => d.driver === VFIO_DRIVER && d.iommuGroup !== null && groups.has(d.iommuGroup)).map((d) => d.address),
    ]),
  ]
    .filter((a) => !restoring.has(a) && (outstanding.has(a) || byAddress.get(a)?.driver === VFIO_DRIVER))
    .sort()
    .map((address) => {
      const owner = owners.get(address);
      const ours = outstanding.get(address)?.device.owner === 'adopted' ? 'adopted by passthru' : 'bound by passthru';
      return {
        address,
        iommuGroup: groupOf(address),
        why: isForeign(owner) ? `held by ${owner.summary}: passthru never restores it` : `${ours}, not named (--split-group)`,
      };
    });
  // Leaving a group half on host drivers, half on vfio-pci is only done when asked for.
  const movesOff = planned.some(({ record, current }) => current === VFIO_DRIVER && record.originalDriver !== VFIO_DRIVER);
  if (chosen !== 'all' && !options.splitGroup && leftOnVfio.length && movesOff) {
    const byGroup = [...groups]
      .map(
        (g) =>
          `IOMMU group ${g}: ${leftOnVfio
            .filter((l) => l.iommuGroup === g)
            .map((l) => `${l.address} (${l.why})`)
            .join(', ')}`,
      )
      .filter((t) => !t.endsWith(': '));
    throw new VfioBinderError(
      'bad-input',
      `Failed planning restore of ${addresses.join(', ')}: it would split ${byGroup.join('; ')} would stay on vfio-pci while the rest goes back to host drivers (a group is used whole). Re-run with --split-group to restore only ${chosen.join(', ')} and leave those on vfio-pci`,
    );
  }
  return { devices: planned, leftOnVfio, foreign };
}

export function formatRestorePlan(plan: RestorePlan): string {
  const lines: string[] = [];
  if (plan.devices.length === 0) lines.push('Nothing to restore: the journal lists no device left on vfio-pci.');
  for (const { record, current, reason } of plan.devices) {
    const why = reason === 'same-group' ? ` (bound with it: IOMMU group ${record.identity.iommuGroup})` : '';
    const adopted = record.owner === 'adopted' ? ` [back to ${record.adoptedFrom ?? 'its previous owner'}]` : '';
    lines.push(
      current === undefined
        ? `  ${record.address}: gone (hot-unplugged), nothing to do`
        : `  ${record.address}: ${current ?? '(no driver)'} -> ${record.originalDriver ?? '(no driver)'}${record.originalOverride ? ` (override ${record.originalOverride.length > 40 ? `${record.originalOverride.slice(0, 40)}...` : record.originalOverride})` : ', clear driver_override'}${why}${adopted}`,
    );
    if (record.unrestorable) lines.push(`    cannot put back: ${record.unrestorable}`);
  }
  lines.push(...leftLines(plan));
  return `${lines.join('\n')}\n`;
}

/** The lines that say what a restore leaves on vfio-pci and which devices it leaves alone. */
export function leftLines(plan: Pick<RestorePlan, 'leftOnVfio' | 'foreign'>): string[] {
  const lines: string[] = [];
  if (plan.leftOnVfio.length)
    lines.push(`Left on vfio-pci (the group is split): ${plan.leftOnVfio.map((l) => `${l.address} (IOMMU group ${l.iommuGroup}, ${l.why})`).join(', ')}`);
  const alone = plan.foreign.filter((f) => !plan.leftOnVfio.some((l) => l.address === f.address));
  if (alone.length)
    lines.push(`Left alone (another manager holds them; passthru never restores them): ${alone.map((f) => `${f.address} (${f.owner.summary})`).join(', ')}`);
  return lines;
}

/** Restores the planned devices in reverse bind order, in one transaction. */
export function applyRestore(host: HostFs, plan: RestorePlan, options: ApplyOptions = {}): RestoreResult {
  const left = { leftOnVfio: plan.leftOnVfio, foreign: plan.foreign };
  if (plan.devices.length === 0) return { status: 'noop', devices: [], writes: 0, ...left };
  const devices = plan.devices.map(({ record }) => ({ ...record, status: 'pending' as const }));
  return inTransaction(host, options, 'restore', { operation: 'restore', devices }, (tx) => {
    const outcomes: DeviceOutcome[] = [];
    for (const record of [...tx.entry.devices].reverse()) {
      const outcome = restoreDevice(host, record, tx, options);
      record.status = outcome.status === 'left' ? 'left' : 'restored';
      if (outcome.note) record.note = outcome.note;
      outcomes.push(outcome);
      tx.mark(record);
    }
    const partial = outcomes.some((o) => o.status === 'left');
    tx.finish(partial ? 'partial' : 'restored');
    return { status: partial ? 'partial' : 'restored', devices: outcomes.reverse(), writes: tx.writes, ...left };
  });
}
