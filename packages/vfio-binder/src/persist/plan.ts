import type { HostFs } from '@passthru/hostfs';
import { parseDracutConf, parseInitramfsToolsModules, parseMkinitcpioConf, unifiedPatch, type BootConfigEditPlan } from '@passthru/boot-config';
import {
  DeviceIdentitySchema,
  PCI_ADDRESS_SOURCE,
  identityOf,
  type DeviceIdentity,
  type PciDevice,
  pciDevicePath,
  pciDriverPath,
} from '@passthru/pci-discovery';
import * as z from 'zod';
import { VFIO_DRIVER } from '../bind/plan';
import { evaluateGuards, refusing } from '../bind/guards';
import { Journal } from '../Journal';
import { checkFileWrites, missingFolders } from './plannedFiles';
import { PERSIST_RECORD, readPersistRecord, refuseRenumbered } from './record';
import { VfioBinderError } from '../VfioBinderError';

export const MODPROBE_FILE = '/etc/modprobe.d/passthru-vfio.conf';
export const DRACUT_FILE = '/etc/dracut.conf.d/passthru-vfio.conf';
/** vfio modules the initramfs must carry, in load order. */
export const INITRAMFS_VFIO_MODULES = ['vfio', 'vfio_iommu_type1', 'vfio_pci'];

/** One file a persist plan writes: whole new text, its unified patch (unifiedPatch, as doctor shows it), and where the backup goes. */
export interface FileChange {
  path: string;
  before: string | null;
  after: string;
  diff: string;
  backup: string | null;
  why: string;
}

export interface PersistPlan {
  devices: Array<{ address: string; identity: DeviceIdentity; module: string | null }>;
  /**
   * What the boot configuration claims for vfio-pci: `ids` (vendor:device, every device with
   * those ids: written only when each of them is persisted) and `addresses` (one device each,
   * through driver_override). Together: every persisted device, and nothing else.
   */
  boot: { ids: string[]; addresses: string[] };
  changes: FileChange[];
  /** Commands to run afterwards (initramfs and boot-loader rebuilds); run only with --yes. */
  followUp: string[];
  warnings: string[];
}

/** The kernel module behind a driver (`/sys/bus/pci/drivers/D/module` link), else its name. */
function moduleOfDriver(host: HostFs, driver: string): string {
  return host.linkName(pciDriverPath(driver, 'module')) ?? driver.replace(/-/g, '_');
}

function change(host: HostFs, path: string, after: string, why: string, stamp: string): FileChange | undefined {
  const before = host.readTextIfExists(path) ?? null;
  if (before === after) return undefined;
  return { path, before, after, diff: unifiedPatch(path, before, after), backup: before === null ? null : `${path}.passthru-${stamp}.bak`, why };
}

/** `vendor:device` of a device, as `options vfio-pci ids=` spells it. */
const idOf = (d: PciDevice) => `${d.vendorId}:${d.deviceId}`;

/** The addresses named in the driver_override writes of a modprobe.d install line of ours. */
const OVERRIDE_ADDRESS = new RegExp(`/sys/bus/pci/devices/(${PCI_ADDRESS_SOURCE})/driver_override`, 'g');

/**
 * The modprobe.d install command that binds `addresses` (and only those) to vfio-pci at boot.
 *
 * Why an install hook and not a udev rule (`ATTR{driver_override}="vfio-pci"` on add), the
 * other way the distributions document for identical host and guest GPUs:
 * - Race between twins: the add event of the first of two identical GPUs loads the native
 *   module (udev's kmod builtin), and that module probes every matching unbound device at
 *   once, the twin included, before the twin's own add event has set driver_override.
 *   The install hook runs inside the modprobe that loads the native module (`softdep NATIVE
 *   pre: vfio-pci` loads vfio-pci first, which runs this command), so the override is in
 *   place before any native probe, whichever device's event came first.
 * - The initramfs: initramfs-tools copies /etc/modprobe.d but not /etc/udev/rules.d, so a
 *   rule would miss a native driver that binds from the initramfs; dracut and mkinitcpio
 *   (modconf) carry modprobe.d too, and `sh` is in every initramfs.
 * - vfio-pci's explicit early load (initramfs modules list, force_drivers, MODULES=) runs
 *   the same hook, so devices without a native module are covered as well.
 * kmod runs the command with /bin/sh and replaces only `$CMDLINE_OPTS` (modprobe.d(5));
 * `modprobe -i` then loads vfio-pci itself without running this hook again, and vfio-pci
 * binds every unbound device whose driver_override names it when it registers.
 * A missing address (hardware change) is skipped silently: modprobe must still succeed.
 * Limits: a native driver built into the kernel probes before any module loads, and a
 * built-in vfio-pci never runs install hooks (planPersist warns when modules.builtin lists it).
 */
export function vfioInstallLine(addresses: string[]): string {
  const writes = addresses.map((a) => `echo vfio-pci > ${pciDevicePath(a, 'driver_override')} 2>/dev/null;`);
  return `install vfio-pci ${writes.join(' ')} exec modprobe -i vfio-pci $CMDLINE_OPTS`;
}

/**
 * What makes the binding of `chosen` survive a reboot: modprobe.d (`options vfio-pci ids=`
 * for ids whose every device is persisted, an install hook that sets driver_override for
 * the others, and `softdep <native> pre: vfio-pci` so vfio-pci wins the race against
 * nouveau/amdgpu), the initramfs module list of the tool the host uses, and the kernel
 * command line (plans made by iommu-check, passed in). The boot configuration claims the
 * chosen devices plus those persisted before, nothing else; the bind guards run on every
 * device it claims and refuse (kind `refused`) unless `force`. Reads only; `applyPersist` writes.
 */
export function planPersist(
  host: HostFs,
  chosen: PciDevice[],
  all: PciDevice[],
  cmdlinePlans: BootConfigEditPlan[],
  stamp: string,
  options: { force?: boolean } = {},
): PersistPlan {
  // The file persist always writes is checked before it is read (a folder or FIFO there is refused, not read).
  checkFileWrites(host, [], [MODPROBE_FILE], 'persist');
  const record = readPersistRecord(host);
  const previous = host.readTextIfExists(MODPROBE_FILE) ?? '';
  const keptIds = /^options vfio[-_]pci ids=(\S+)/m.exec(previous)?.[1]?.split(',') ?? [];
  const keptAddresses = [...previous.matchAll(OVERRIDE_ADDRESS)].map((m) => m[1]!);
  // Claimed at boot: the chosen devices, those recorded by earlier runs, and those an earlier
  // install line names; an ids= entry no recorded device explains (a record removed after a
  // renumbering) keeps every device it matches. ids= entries are then derived again.
  const recordedIds = new Set(record.devices.map((r) => `${r.identity.vendorId}:${r.identity.deviceId}`));
  const claimed = new Set([...chosen.map((d) => d.address), ...record.devices.map((r) => r.address), ...keptAddresses]);
  for (const d of all) if (keptIds.includes(idOf(d)) && !recordedIds.has(idOf(d))) claimed.add(d.address);

  refuseRenumbered(host, all, claimed, 'persist');
  const warnings: string[] = [];
  // A device passthru already bound is on vfio-pci now: its native driver is in the journal.
  const journaled = new Journal(host).outstanding();
  const devices = chosen.map((d) => {
    const native = d.driver && d.driver !== VFIO_DRIVER ? d.driver : (journaled.get(d.address)?.device.originalDriver ?? null);
    return { address: d.address, identity: identityOf(d), module: native ? moduleOfDriver(host, native) : null };
  });

  // ids= binds every device with those ids at boot: only when each of them is claimed.
  // The others bind by address (driver_override), so a twin of a persisted device, such as the
  // console GPU of a host with two identical cards, stays with its driver.
  const present = all.filter((d) => claimed.has(d.address));
  const ids = [...new Set(present.map(idOf))].filter((id) => all.every((d) => idOf(d) !== id || claimed.has(d.address))).sort();
  const addresses = present
    .filter((d) => !ids.includes(idOf(d)))
    .map((d) => d.address)
    .sort();
  const gone = [...claimed].filter((a) => !all.some((d) => d.address === a)).sort();
  if (gone.length) warnings.push(`persisted before but absent now, not claimed at boot: ${gone.join(', ')}`);
  const release = host.readTextIfExists('/proc/sys/kernel/osrelease')?.trim();
  const builtin = release ? (host.readTextIfExists(`/lib/modules/${release}/modules.builtin`) ?? '') : '';
  if (addresses.length && /(^|\/)vfio-pci\.ko$/m.test(builtin)) {
    warnings.push(
      `vfio-pci is built into this kernel (/lib/modules/${release}/modules.builtin): its modprobe.d install command never runs, so ${addresses.join(', ')} will not be bound at boot`,
    );
  }
  for (const a of addresses) {
    const twins = all.filter((d) => idOf(d) === idOf(present.find((p) => p.address === a)!) && !claimed.has(d.address)).map((d) => d.address);
    warnings.push(`${a} binds at boot by address (driver_override): its ids are shared with ${twins.join(', ')}, which stay with their drivers`);
  }

  // The guards of bind, on every device the boot configuration would match.
  const matched = all.filter((d) => ids.includes(idOf(d)) || addresses.includes(d.address));
  const guards = evaluateGuards(
    host,
    { devices: matched.map((d) => ({ address: d.address, alreadyBound: d.driver === VFIO_DRIVER, reason: 'named' as const })) },
    all,
  );
  // A firmware framebuffer vfio-pci leaves in place is for the kernel command line to keep off
  // (persistDevices adds its parameter to the plans): said, not refused.
  const refused = refusing(guards).filter((g) => g.id !== 'boot-framebuffer');
  if (refused.length && !options.force) {
    throw new VfioBinderError(
      'refused',
      `Failed planning persist: the boot configuration would claim guarded devices: ${refused.map((g) => `${g.address} [${g.id}] ${g.summary}`).join('; ')}; nothing was written (--force overrides)`,
    );
  }
  for (const g of guards) warnings.push(`${refused.includes(g) ? 'overridden (--force): ' : ''}${g.address} [${g.id}] ${g.summary}`);

  const keptSoftdeps = [...previous.matchAll(/^softdep (\S+) pre: vfio[-_]pci$/gm)].map((m) => m[1]!);
  const softdeps = [...new Set([...keptSoftdeps, ...devices.map((d) => d.module).filter((m): m is string => m !== null)])].sort();
  const modprobe = [
    '# Written by passthru persist: vfio-pci claims these devices at boot, before their native drivers.',
    ...(ids.length ? [`options vfio-pci ids=${ids.join(',')}`] : []),
    ...(addresses.length ? ['# By address: ids shared with devices that stay on the host (see passthru persist).', vfioInstallLine(addresses)] : []),
    ...softdeps.map((m) => `softdep ${m} pre: vfio-pci`),
    '',
  ].join('\n');

  const changes: FileChange[] = [];
  const followUp: string[] = [];
  const add = (c: FileChange | undefined) => c && changes.push(c);
  add(change(host, MODPROBE_FILE, modprobe, addresses.length ? 'vfio-pci ids, driver_override by address, and softdeps' : 'vfio-pci ids and softdeps', stamp));

  const initramfsTools = host.readTextIfExists('/etc/initramfs-tools/modules');
  const mkinitcpio = host.readTextIfExists('/etc/mkinitcpio.conf');
  if (initramfsTools !== undefined || host.exists('/etc/initramfs-tools')) {
    const text = initramfsTools ?? '';
    const present = new Set(parseInitramfsToolsModules(text, '/etc/initramfs-tools/modules').modules.map((m) => m.module.replace(/-/g, '_')));
    const missing = INITRAMFS_VFIO_MODULES.filter((m) => !present.has(m));
    if (missing.length) {
      add(
        change(
          host,
          '/etc/initramfs-tools/modules',
          `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}# passthru: vfio in the initramfs\n${missing.join('\n')}\n`,
          'vfio modules in the initramfs (initramfs-tools)',
          stamp,
        ),
      );
    }
    followUp.push('update-initramfs -u -k all');
  } else if (host.exists('/etc/dracut.conf.d') || host.exists('/etc/dracut.conf')) {
    const files = host
      .list('/etc/dracut.conf.d')
      .filter((f) => f.endsWith('.conf'))
      .map((f) => ({ path: `/etc/dracut.conf.d/${f}`, text: host.readText(`/etc/dracut.conf.d/${f}`) }));
    if (!parseDracutConf(files).loadedBeforeUdev)
      add(
        change(
          host,
          DRACUT_FILE,
          `# Written by passthru persist\nforce_drivers+=" ${INITRAMFS_VFIO_MODULES.join(' ')} "\n`,
          'vfio modules forced into the initramfs (dracut)',
          stamp,
        ),
      );
    followUp.push('dracut -f --regenerate-all');
  } else if (mkinitcpio !== undefined) {
    const parsed = parseMkinitcpioConf([{ path: '/etc/mkinitcpio.conf', text: mkinitcpio }]);
    if (!parsed.vfioBeforeGpu || !parsed.includesVfioPci) {
      const others = parsed.modules.map((m) => m.module).filter((m) => !INITRAMFS_VFIO_MODULES.includes(m.replace(/-/g, '_')));
      const edited = mkinitcpio.replace(/^MODULES=\((.*)\)\s*$/m, () => `MODULES=(${[...['vfio_pci', 'vfio', 'vfio_iommu_type1'], ...others].join(' ')})`);
      if (edited === mkinitcpio) warnings.push('no MODULES=(...) line in /etc/mkinitcpio.conf: add vfio_pci vfio vfio_iommu_type1 there by hand');
      else add(change(host, '/etc/mkinitcpio.conf', edited, 'vfio modules first in MODULES (mkinitcpio)', stamp));
    }
    followUp.push('mkinitcpio -P');
  } else {
    warnings.push('no initramfs tool found (initramfs-tools, dracut, mkinitcpio): vfio-pci loads from modprobe.d only, after the initramfs');
  }

  for (const plan of cmdlinePlans) {
    if (!plan.changed) continue;
    add(change(host, plan.path, plan.newText, 'kernel command line for the IOMMU', stamp));
    followUp.push(...plan.followUp);
  }
  checkFileWrites(host, changes, changes.length ? [PERSIST_RECORD] : [], 'persist');
  return { devices, boot: { ids, addresses }, changes, followUp: [...new Set(followUp)], warnings };
}

export function formatPersistPlan(plan: PersistPlan): string {
  const out: string[] = [];
  if (plan.changes.length === 0) out.push('Nothing to change: the binding already persists.');
  for (const c of plan.changes) {
    out.push(`# ${c.why}${c.backup ? ` (backup: ${c.backup})` : ' (new file)'}`);
    out.push(c.diff.trimEnd());
  }
  if (plan.followUp.length) out.push('', 'Then run (passthru runs them with --yes):', ...plan.followUp.map((f) => `  ${f}`));
  for (const w of plan.warnings) out.push(`warning: ${w}`);
  return `${out.join('\n')}\n`;
}

export type CommandRunner = (command: string) => Promise<{ exitCode: number; output: string }>;

/**
 * Writes the plan: a backup of every file first, then each new text (atomic, fsynced), then
 * the identity record; the rebuild commands run only when `runner` is given (--yes).
 * On a write failure the files already written (and the record) are put back from the texts
 * read at plan time, last written first: kind `failed`, naming the file whose write failed.
 * When putting back fails too, kind `partial`: the message lists what is left and the cause
 * is an AggregateError of the first error and every rollback error.
 */
export async function applyPersist(
  host: HostFs,
  plan: PersistPlan,
  runner?: CommandRunner,
): Promise<{ written: string[]; ran: Array<{ command: string; exitCode: number; output: string }> }> {
  const record = readPersistRecord(host);
  const kept = record.devices.filter((r) => !plan.devices.some((d) => d.address === r.address));
  const recordText = `${JSON.stringify({ schemaVersion: 1, devices: [...kept, ...plan.devices.map((d) => ({ address: d.address, identity: d.identity }))] }, null, 2)}\n`;
  // The record goes last and is put back like the files.
  const writes = [
    ...plan.changes.map((c) => ({ path: c.path, before: c.before, after: c.after })),
    { path: PERSIST_RECORD, before: host.readTextIfExists(PERSIST_RECORD) ?? null, after: recordText },
  ];
  const backups: string[] = [];
  const written: typeof writes = [];
  // The folders the writes will make (modprobe.d on a bare system), taken back on a rollback.
  const made = [...new Set(writes.flatMap((w) => missingFolders(host, w.path)))];
  let doing = '';
  try {
    for (const c of plan.changes) {
      if (!c.backup || c.before === null) continue;
      doing = c.backup;
      host.writeFile(c.backup, c.before);
      backups.push(c.backup);
    }
    for (const w of writes) {
      doing = w.path;
      host.writeFile(w.path, w.after);
      written.push(w);
    }
  } catch (error) {
    const detail = (error as Error).message;
    const left: string[] = [];
    const rollbackErrors: unknown[] = [];
    for (const w of [...written].reverse()) {
      try {
        if (w.before === null) host.removeFile(w.path);
        else host.writeFile(w.path, w.before);
      } catch (rollbackError) {
        rollbackErrors.push(rollbackError);
        left.push(`${w.path} has the new text${w.before === null ? ' (it did not exist before)' : ''}: ${(rollbackError as Error).message}`);
      }
    }
    const kept = backups.length ? `; backups kept: ${backups.join(', ')}` : '';
    if (rollbackErrors.length) {
      throw new VfioBinderError(
        'partial',
        `Failed persisting via ${doing}: ${detail}; then failed putting back ${left.length} of ${written.length} file(s) written: ${left.join('; ')}${kept}`,
        {
          cause: new AggregateError([error, ...rollbackErrors], `Failed persisting via ${doing}, and failed putting files back`),
        },
      );
    }
    // Every file is as it was: the backups made for this run go too (they copy what is there now).
    const stuck = backups.filter((b) => {
      try {
        host.removeFile(b);
        return false;
      } catch {
        return true;
      }
    });
    for (const folder of made.sort((a, b) => b.length - a.length)) {
      try {
        host.removeEmptyFolder(folder);
      } catch {
        // A folder that cannot go is harmless and empty: the files are what mattered.
      }
    }
    const stayed = stuck.length ? `; backups kept: ${stuck.join(', ')}` : '';
    throw new VfioBinderError('failed', `Failed persisting via ${doing}: ${detail}; the ${written.length} file(s) written so far were put back${stayed}`, {
      cause: error,
    });
  }
  const ran: Array<{ command: string; exitCode: number; output: string }> = [];
  if (runner) for (const command of plan.followUp) ran.push({ command, ...(await runner(command)) });
  return { written: plan.changes.map((c) => c.path), ran };
}
