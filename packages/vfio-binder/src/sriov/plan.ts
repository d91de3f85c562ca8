// SR-IOV VF lifecycle (drivers/pci/iov.c): plan, guards and apply of a change of a PF's
// sriov_numvfs. Kernel quirks the plan follows: a change from a non-zero count to another
// non-zero count is EBUSY (pass through 0 first); a count above sriov_totalvfs is ERANGE; a PF
// without a driver (or whose driver has no sriov_configure) is ENOENT; writing 0 removes every
// VF, and with them whatever used them. sriov_drivers_autoprobe 0 keeps new VFs unbound, so they
// can go straight to vfio-pci.
import { HostFsError, type HostFs } from '@passthru/hostfs';
import type { PlannedWrite } from '../bind/plan';
import { VFIO_DRIVER } from '../bind/plan';
import { defaultRouteInterfaces, libvirtHostdevs, processesHolding } from '../bind/guards';
import type { LockOptions } from '../HostLock';
import { isForeign, readOwnershipWith } from '../owners';
import { JOURNAL_PATH, Journal } from '../Journal';
import { inTransaction } from '../transaction';
import { type SriovPersistPlan, type SriovUnitRecord, undoSriovUnit, writeSriovUnit } from './unit';
import { VfioBinderError } from '../VfioBinderError';
import { pciDevicePath, type PciDevice } from '@passthru/pci-discovery';

export interface SriovPlan {
  pf: string;
  pfDriver: string | null;
  totalVfs: number;
  fromNumVfs: number;
  toNumVfs: number;
  /** sriov_drivers_autoprobe now (null: the file is absent) and as it will be (null: left as it is). */
  fromAutoprobe: boolean | null;
  toAutoprobe: boolean | null;
  /** The VFs that exist now and go away (a count change removes every VF, then makes the new ones). */
  removedVfs: string[];
  /** The PF's interfaces that carry the default route: VFs do not take it away (said, not refused). */
  pfRoutes: string[];
  writes: PlannedWrite[];
  noop: boolean;
}

/** A reason not to remove a VF: something uses it. */
export interface SriovGuardFinding {
  id: 'vf-held' | 'vf-in-libvirt' | 'vf-managed' | 'vf-bound-by-passthru' | 'vf-interface-up' | 'vf-default-route';
  address: string;
  summary: string;
  evidence: string[];
}

export interface SriovResult {
  status: 'applied' | 'noop' | 'rolled-back' | 'partial';
  journalId: string | null;
  writes: number;
  numVfs: number;
  vfs: string[];
  /** The boot unit written with the VFs (`--persist`). */
  unit?: string;
  error?: string;
}

function readNumber(host: HostFs, path: string): number | null {
  const text = host.readAttributeIfExists(path);
  return text === undefined || !/^\d+$/.test(text) ? null : Number(text);
}

/** The PF's sriov_numvfs now (null: absent or unreadable). */
export const readVfCount = (host: HostFs, pf: string) => readNumber(host, pciDevicePath(pf, 'sriov_numvfs'));

/**
 * The plan: reads the PF's SR-IOV attributes (refusing what the kernel would refuse, before any
 * write: no SR-IOV, a count above sriov_totalvfs, no PF driver) and lists every write in order.
 */
export function planSriov(host: HostFs, pf: PciDevice, numVfs: number, autoprobe?: boolean): SriovPlan {
  const total = readNumber(host, pciDevicePath(pf.address, 'sriov_totalvfs'));
  const current = readNumber(host, pciDevicePath(pf.address, 'sriov_numvfs'));
  if (total === null || current === null || pf.sriov?.role !== 'pf') {
    throw new VfioBinderError(
      'bad-input',
      `Failed planning sriov for ${pf.address} via ${pciDevicePath(pf.address, 'sriov_totalvfs')}: the device is not an SR-IOV physical function`,
    );
  }
  if (!Number.isInteger(numVfs) || numVfs < 0)
    throw new VfioBinderError('bad-input', `Failed planning sriov for ${pf.address}: --numvfs must be a whole number from 0 to ${total}, not ${numVfs}`);
  if (numVfs > total)
    throw new VfioBinderError(
      'bad-input',
      `Failed planning sriov for ${pf.address} via ${pciDevicePath(pf.address, 'sriov_totalvfs')}: ${numVfs} VFs exceeds sriov_totalvfs ${total} (the kernel answers ERANGE); nothing was written`,
    );
  const autoText = host.readAttributeIfExists(pciDevicePath(pf.address, 'sriov_drivers_autoprobe'));
  const fromAutoprobe = autoText === undefined ? null : autoText === '1';
  const toAutoprobe = autoprobe === undefined || autoprobe === fromAutoprobe ? null : autoprobe;
  const writes: PlannedWrite[] = [];
  if (toAutoprobe !== null)
    writes.push({
      path: pciDevicePath(pf.address, 'sriov_drivers_autoprobe'),
      data: toAutoprobe ? '1' : '0',
      purpose: toAutoprobe ? 'let new VFs probe their driver' : 'keep new VFs unbound (free for vfio-pci)',
    });
  if (numVfs !== current && current > 0)
    writes.push({
      path: pciDevicePath(pf.address, 'sriov_numvfs'),
      data: '0',
      purpose: `remove the ${current} VFs (the kernel changes a non-zero count only through 0)`,
    });
  if (numVfs !== current && numVfs > 0) writes.push({ path: pciDevicePath(pf.address, 'sriov_numvfs'), data: String(numVfs), purpose: `create ${numVfs} VFs` });
  if (numVfs !== current && pf.driver === null) {
    throw new VfioBinderError(
      'refused',
      `Failed planning sriov for ${pf.address} via ${pciDevicePath(pf.address, 'driver')}: no driver is bound to the PF, and the kernel configures SR-IOV only through the PF's driver (ENOENT); nothing was written`,
    );
  }
  const routes = defaultRouteInterfaces(host);
  return {
    pf: pf.address,
    pfDriver: pf.driver,
    totalVfs: total,
    fromNumVfs: current,
    toNumVfs: numVfs,
    fromAutoprobe,
    toAutoprobe,
    removedVfs: numVfs !== current ? pf.sriov.vfs : [],
    pfRoutes: pf.net.filter((n) => routes.includes(n)),
    writes,
    noop: writes.length === 0,
  };
}

/**
 * What stands against removing the plan's VFs (a count change resets every VF): a process
 * holding a VF's /dev/vfio group (a VM, LXD's or libvirt's qemu), a libvirt domain naming it,
 * another manager holding it (driverctl, a driver_override passthru did not write: the one
 * ownership rule of bind and restore), a passthru bind of it not restored, or its interface up
 * or carrying the default route.
 */
export function evaluateSriovGuards(host: HostFs, plan: Pick<SriovPlan, 'removedVfs'>, devices: PciDevice[]): SriovGuardFinding[] {
  if (plan.removedVfs.length === 0) return [];
  const byAddress = new Map(devices.map((d) => [d.address, d]));
  const findings: SriovGuardFinding[] = [];
  const vfs = plan.removedVfs.map((a) => byAddress.get(a)).filter((d): d is PciDevice => d !== undefined);
  const holders = processesHolding(
    host,
    vfs.flatMap((d) => (d.iommuGroup === null ? [] : [`/dev/vfio/${d.iommuGroup}`])),
  );
  const libvirt = libvirtHostdevs(host);
  const outstanding = new Journal(host).outstanding();
  const { owners } = readOwnershipWith(host, vfs, { outstanding });
  const routes = defaultRouteInterfaces(host);
  for (const d of vfs) {
    const add = (id: SriovGuardFinding['id'], summary: string, evidence: string[]) => findings.push({ id, address: d.address, summary, evidence });
    const held = holders.filter((h) => h.node === `/dev/vfio/${d.iommuGroup}`);
    if (held.length)
      add(
        'vf-held',
        `processes hold its VFIO group open: ${held.map((h) => `${h.comm} (pid ${h.pid})`).join(', ')} (a VM or an LXD instance uses it)`,
        held.map((h) => `/proc/${h.pid}/fd -> ${h.node}`),
      );
    const domains = libvirt.filter((h) => h.address === d.address);
    if (domains.length)
      add(
        'vf-in-libvirt',
        `libvirt domains use it: ${domains.map((m) => m.file).join(', ')}`,
        domains.map((m) => m.file),
      );
    const owner = owners.get(d.address);
    // libvirt's domains are the guard above; driverctl and other overrides hold the VF on purpose.
    if (isForeign(owner) && owner.kind !== 'libvirt' && owner.kind !== 'other') add('vf-managed', `${owner.summary} holds it`, owner.evidence);
    const bound = outstanding.get(d.address);
    if (bound && d.driver === VFIO_DRIVER)
      add('vf-bound-by-passthru', `passthru bound it to vfio-pci (journal entry ${bound.entry.id}) for passthrough`, [JOURNAL_PATH]);
    const routed = d.net.filter((n) => routes.includes(n));
    if (routed.length) add('vf-default-route', `its interface ${routed.join(', ')} carries the default route`, ['/proc/net/route', '/proc/net/ipv6_route']);
    const up = d.net.filter((n) => !routed.includes(n) && (host.readAttributeIfExists(`/sys/class/net/${n}/operstate`) ?? '') === 'up');
    if (up.length)
      add(
        'vf-interface-up',
        `its interface ${up.join(', ')} is up (in use on the host)`,
        up.map((n) => `/sys/class/net/${n}/operstate = up`),
      );
  }
  return findings;
}

export interface SriovApplyOptions {
  clock?: () => Date;
  lock?: LockOptions;
  /** `--persist`: the boot unit to write after the VFs, in the same transaction (planSriovUnit). */
  unit?: SriovPersistPlan;
}

function vfsOf(host: HostFs, pf: string): string[] {
  return host
    .list(pciDevicePath(pf))
    .filter((n): n is `virtfn${number}` => /^virtfn\d+$/.test(n))
    .sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)))
    .map((n) => host.linkName(pciDevicePath(pf, n)))
    .filter((a): a is string => a !== undefined);
}

/**
 * Applies the plan under the host lock: the journal records the change (fsynced) before the
 * first write; each write is verified by what the kernel shows after it (sriov_numvfs and the
 * virtfnN links). On a failure the change is undone in reverse: the count back through 0, the
 * autoprobe setting back. 'partial' (exit 3) when that did not finish either.
 */
export function applySriov(host: HostFs, plan: SriovPlan, options: SriovApplyOptions = {}): SriovResult {
  const unitChange = options.unit?.changes[0];
  if (plan.noop && !unitChange) return { status: 'noop', journalId: null, writes: 0, numVfs: plan.fromNumVfs, vfs: vfsOf(host, plan.pf) };
  const unit: SriovUnitRecord | undefined = unitChange && { path: unitChange.path, before: unitChange.before, after: unitChange.after };
  const sriov = {
    pf: plan.pf,
    fromNumVfs: plan.fromNumVfs,
    toNumVfs: plan.toNumVfs,
    fromAutoprobe: plan.fromAutoprobe,
    toAutoprobe: plan.toAutoprobe,
    ...(unit ? { unit } : {}),
  };
  return inTransaction(host, options, 'sriov change', { operation: 'sriov', devices: [], extra: { sriov } }, (tx) => {
    // One undo step for the whole change: the count back through 0, autoprobe and the unit back.
    let left: string | undefined;
    tx.onUndo(() => {
      left = rollBackSriov(host, { ...plan, unit });
    });
    let failure: string | undefined;
    for (const w of plan.writes) {
      try {
        tx.write(w.path, w.data);
      } catch (error) {
        // A write fails with an errno; anything else is not the kernel's answer: the journal
        // entry stays 'applying' (as after a kill -9) and `restore` finishes it.
        const code = (error as { code?: string }).code;
        if (code === undefined) throw error;
        const why =
          code === 'EBUSY'
            ? 'the kernel answered EBUSY (VFs are still enabled, or the PF driver is busy)'
            : code === 'ERANGE'
              ? 'the kernel answered ERANGE (above sriov_totalvfs)'
              : (error as Error).message;
        failure = `Failed writing ${w.data} via ${w.path}: ${why}`;
        break;
      }
      if (w.path.endsWith('/sriov_numvfs')) {
        const shown = readNumber(host, w.path);
        const vfs = vfsOf(host, plan.pf).length;
        if (shown !== Number(w.data) || vfs !== Number(w.data)) {
          failure = `Failed verifying ${w.data} VFs via ${w.path}: the kernel shows sriov_numvfs ${shown ?? '?'} and ${vfs} virtfn links`;
          break;
        }
      }
    }
    if (failure === undefined && options.unit) {
      try {
        writeSriovUnit(host, options.unit);
      } catch (error) {
        if ((error as { code?: string }).code === undefined) throw error;
        failure = `Failed writing the boot unit via ${unit!.path}: ${(error as Error).message}`;
      }
    }
    if (failure === undefined) {
      tx.finish('applied');
      return {
        status: 'applied',
        journalId: tx.entry.id,
        writes: tx.writes,
        numVfs: plan.toNumVfs,
        vfs: vfsOf(host, plan.pf),
        ...(unit ? { unit: unit.path } : {}),
      };
    }
    tx.undo();
    const state = left ? 'partial' : 'rolled-back';
    try {
      tx.finish(state);
    } catch {
      // The PF matters more than the record: the result still says what happened.
    }
    return {
      status: state,
      journalId: tx.entry.id,
      writes: tx.writes,
      numVfs: readNumber(host, pciDevicePath(plan.pf, 'sriov_numvfs')) ?? 0,
      vfs: vfsOf(host, plan.pf),
      error: left ? `${failure}; the rollback did not finish: ${left}` : `${failure}; the PF is back at ${plan.fromNumVfs} VFs`,
    };
  });
}

/** What a rollback needs: a plan, or the journal's record of an interrupted change. */
export type SriovChange = Pick<SriovPlan, 'pf' | 'fromNumVfs' | 'fromAutoprobe' | 'toAutoprobe'> & { unit?: SriovUnitRecord };

/**
 * Puts the count and autoprobe back as they were, and a unit written with them; returns what
 * could not be, or undefined. The unit first: it is a file (it cannot fail the way the device can).
 */
export function rollBackSriov(host: HostFs, plan: SriovChange): string | undefined {
  if (plan.unit) {
    try {
      const kept = undoSriovUnit(host, plan.unit);
      if (kept) return kept;
    } catch (error) {
      return `putting back ${plan.unit.path}: ${(error as Error).message}`;
    }
  }
  // autoprobe first: VFs re-created while it is still 0 would come back without their driver.
  const undo: Array<[string, string]> = [];
  if (plan.toAutoprobe !== null && plan.fromAutoprobe !== null) undo.push([pciDevicePath(plan.pf, 'sriov_drivers_autoprobe'), plan.fromAutoprobe ? '1' : '0']);
  const now = readNumber(host, pciDevicePath(plan.pf, 'sriov_numvfs'));
  if (now !== plan.fromNumVfs) {
    if (now !== 0) undo.push([pciDevicePath(plan.pf, 'sriov_numvfs'), '0']);
    if (plan.fromNumVfs > 0) undo.push([pciDevicePath(plan.pf, 'sriov_numvfs'), String(plan.fromNumVfs)]);
  }
  for (const [path, data] of undo) {
    try {
      host.writeAttribute(path, data);
    } catch (error) {
      return `writing ${data} via ${path}: ${(error as Error).message}`;
    }
  }
  return readNumber(host, pciDevicePath(plan.pf, 'sriov_numvfs')) === plan.fromNumVfs ? undefined : `sriov_numvfs of ${plan.pf} is not ${plan.fromNumVfs}`;
}

/** The plan in words: the count change and every write, in order. */
export function formatSriovPlan(plan: SriovPlan): string {
  const lines = [`SR-IOV ${plan.pf} (${plan.pfDriver ?? 'no driver'}): ${plan.fromNumVfs} -> ${plan.toNumVfs} VFs (sriov_totalvfs ${plan.totalVfs})`];
  if (plan.noop) lines.push('  nothing to do');
  for (const w of plan.writes) lines.push(`  write ${w.data} > ${w.path}  # ${w.purpose}`);
  if (plan.removedVfs.length) lines.push(`  removes: ${plan.removedVfs.join(', ')}`);
  if (plan.pfRoutes.length) lines.push(`  note: the PF carries the default route (${plan.pfRoutes.join(', ')}); changing VFs does not take it away`);
  return `${lines.join('\n')}\n`;
}
