import type { HostFs } from '@passthru/hostfs';
import { parseDracutConf, parseInitramfsToolsModules, parseMkinitcpioConf, type BootConfigEditPlan } from '@passthru/iommu-check';
import type { PciDevice } from '@passthru/pci-discovery';
import { z } from 'zod';
import { identityOf, VFIO_DRIVER, type DeviceIdentity } from './BindPlan';
import { Journal } from './Journal';
import { identityMismatch } from './restore';
import { VfioBinderError } from './VfioBinderError';

export const MODPROBE_FILE = '/etc/modprobe.d/passthru-vfio.conf';
export const DRACUT_FILE = '/etc/dracut.conf.d/passthru-vfio.conf';
export const PERSIST_RECORD = '/var/lib/passthru/persist.json';
/** vfio modules the initramfs must carry, in load order. */
export const INITRAMFS_VFIO_MODULES = ['vfio', 'vfio_iommu_type1', 'vfio_pci'];

/** One file a persist plan writes: whole new text, a minimal diff, and where the backup goes. */
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
  changes: FileChange[];
  /** Commands to run afterwards (initramfs and boot-loader rebuilds); run only with --yes. */
  followUp: string[];
  warnings: string[];
}

const PersistRecordSchema = z.object({
  schemaVersion: z.literal(1),
  devices: z.array(z.object({ address: z.string(), identity: z.object({ vendorId: z.string(), deviceId: z.string(), subsystemVendorId: z.string().nullable(), subsystemDeviceId: z.string().nullable(), class: z.string(), iommuGroup: z.number().nullable() }) })),
});

/** A unified-style diff of two texts: the changed lines with a line of context. */
export function lineDiff(path: string, before: string | null, after: string): string {
  const a = before === null ? [] : before.split('\n');
  const b = after.split('\n');
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  if (start === endA && start === endB) return '';
  const lines = [`--- ${before === null ? '/dev/null' : path}`, `+++ ${path}`, `@@ -${start + 1},${endA - start} +${start + 1},${endB - start} @@`];
  for (const l of a.slice(start, endA)) lines.push(`-${l}`);
  for (const l of b.slice(start, endB)) lines.push(`+${l}`);
  return `${lines.join('\n')}\n`;
}

/** The kernel module behind a driver (`/sys/bus/pci/drivers/D/module` link), else its name. */
function moduleOfDriver(host: HostFs, driver: string): string {
  return host.linkName(`/sys/bus/pci/drivers/${driver}/module`) ?? driver.replace(/-/g, '_');
}

function change(host: HostFs, path: string, after: string, why: string, stamp: string): FileChange | undefined {
  const before = host.readTextIfExists(path) ?? null;
  if (before === after) return undefined;
  return { path, before, after, diff: lineDiff(path, before, after), backup: before === null ? null : `${path}.passthru-${stamp}.bak`, why };
}

/** The recorded identity of persisted devices: a later run refuses an address that now names another device. */
export function readPersistRecord(host: HostFs): z.infer<typeof PersistRecordSchema> {
  const text = host.readTextIfExists(PERSIST_RECORD);
  if (text === undefined) return { schemaVersion: 1, devices: [] };
  const parsed = PersistRecordSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new VfioBinderError('refused', `Failed reading ${PERSIST_RECORD}: unexpected content; move it aside`);
  return parsed.data;
}

/** Addresses recorded by `persist` whose device changed since (renumbering after hardware changes). */
export function renumberedDevices(host: HostFs, devices: PciDevice[]): string[] {
  const byAddress = new Map(devices.map((d) => [d.address, d]));
  return readPersistRecord(host).devices.flatMap((r) => {
    const now = byAddress.get(r.address);
    const diff = now ? identityMismatch(r.identity, now) : [];
    return diff.length ? [`${r.address}: ${diff.join('; ')}`] : [];
  });
}

/**
 * What makes the binding of `chosen` survive a reboot: modprobe.d (`options vfio-pci ids=` and
 * `softdep <native> pre: vfio-pci` so vfio-pci wins the race against nouveau/amdgpu), the
 * initramfs module list of the tool the host uses, and the kernel command line (plans made
 * by iommu-check, passed in). Reads only; `applyPersist` writes.
 */
export function planPersist(host: HostFs, chosen: PciDevice[], all: PciDevice[], cmdlinePlans: BootConfigEditPlan[], stamp: string): PersistPlan {
  const renumbered = renumberedDevices(host, all).filter((r) => chosen.some((d) => r.startsWith(`${d.address}:`)));
  if (renumbered.length) throw new VfioBinderError('refused', `Failed planning persist: the address now names another device (${renumbered.join(', ')}); check the hardware, then remove ${PERSIST_RECORD}`);
  const warnings: string[] = [];
  // A device passthru already bound is on vfio-pci now: its native driver is in the journal.
  const journaled = new Journal(host).outstanding();
  const devices = chosen.map((d) => {
    const native = d.driver && d.driver !== VFIO_DRIVER ? d.driver : (journaled.get(d.address)?.device.originalDriver ?? null);
    return { address: d.address, identity: identityOf(d), module: native ? moduleOfDriver(host, native) : null };
  });
  const ids = [...new Set(chosen.map((d) => `${d.vendorId}:${d.deviceId}`))].sort();
  for (const id of ids) {
    const others = all.filter((d) => `${d.vendorId}:${d.deviceId}` === id && !chosen.includes(d)).map((d) => d.address);
    if (others.length) warnings.push(`vfio-pci ids=${id} also claims ${others.join(', ')} at boot (ids= binds every device with these ids)`);
  }
  const previous = host.readTextIfExists(MODPROBE_FILE) ?? '';
  const keptIds = /options vfio[-_]pci ids=(\S+)/.exec(previous)?.[1]?.split(',') ?? [];
  const keptSoftdeps = [...previous.matchAll(/^softdep (\S+) pre: vfio[-_]pci$/gm)].map((m) => m[1]!);
  const allIds = [...new Set([...keptIds, ...ids])].sort();
  const softdeps = [...new Set([...keptSoftdeps, ...devices.map((d) => d.module).filter((m): m is string => m !== null)])].sort();
  const modprobe = ['# Written by passthru persist: vfio-pci claims these devices at boot, before their native drivers.', `options vfio-pci ids=${allIds.join(',')}`, ...softdeps.map((m) => `softdep ${m} pre: vfio-pci`), ''].join('\n');

  const changes: FileChange[] = [];
  const followUp: string[] = [];
  const add = (c: FileChange | undefined) => c && changes.push(c);
  add(change(host, MODPROBE_FILE, modprobe, 'vfio-pci ids and softdeps', stamp));

  const initramfsTools = host.readTextIfExists('/etc/initramfs-tools/modules');
  const mkinitcpio = host.readTextIfExists('/etc/mkinitcpio.conf');
  if (initramfsTools !== undefined || host.exists('/etc/initramfs-tools')) {
    const text = initramfsTools ?? '';
    const present = new Set(parseInitramfsToolsModules(text, '/etc/initramfs-tools/modules').modules.map((m) => m.module.replace(/-/g, '_')));
    const missing = INITRAMFS_VFIO_MODULES.filter((m) => !present.has(m));
    if (missing.length) {
      add(change(host, '/etc/initramfs-tools/modules', `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}# passthru: vfio in the initramfs\n${missing.join('\n')}\n`, 'vfio modules in the initramfs (initramfs-tools)', stamp));
    }
    followUp.push('update-initramfs -u -k all');
  } else if (host.exists('/etc/dracut.conf.d') || host.exists('/etc/dracut.conf')) {
    const files = host.list('/etc/dracut.conf.d').filter((f) => f.endsWith('.conf')).map((f) => ({ path: `/etc/dracut.conf.d/${f}`, text: host.readText(`/etc/dracut.conf.d/${f}`) }));
    if (!parseDracutConf(files).loadedBeforeUdev) add(change(host, DRACUT_FILE, `# Written by passthru persist\nforce_drivers+=" ${INITRAMFS_VFIO_MODULES.join(' ')} "\n`, 'vfio modules forced into the initramfs (dracut)', stamp));
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
  return { devices, changes, followUp: [...new Set(followUp)], warnings };
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
 * On a write failure the files already written are put back from their backups.
 */
export async function applyPersist(host: HostFs, plan: PersistPlan, runner?: CommandRunner): Promise<{ written: string[]; ran: Array<{ command: string; exitCode: number; output: string }> }> {
  const written: FileChange[] = [];
  try {
    for (const c of plan.changes) if (c.backup && c.before !== null) host.writeFile(c.backup, c.before);
    for (const c of plan.changes) {
      host.writeFile(c.path, c.after);
      written.push(c);
    }
  } catch (error) {
    for (const c of written.reverse()) {
      if (c.before === null) host.removeFile(c.path);
      else host.writeFile(c.path, c.before);
    }
    throw new VfioBinderError('failed', `Failed persisting via ${written.at(-1)?.path ?? plan.changes[0]?.path}: ${(error as Error).message}; the files written so far were put back`, { cause: error });
  }
  const record = readPersistRecord(host);
  const kept = record.devices.filter((r) => !plan.devices.some((d) => d.address === r.address));
  host.writeFile(PERSIST_RECORD, `${JSON.stringify({ schemaVersion: 1, devices: [...kept, ...plan.devices.map((d) => ({ address: d.address, identity: d.identity }))] }, null, 2)}\n`);
  const ran: Array<{ command: string; exitCode: number; output: string }> = [];
  if (runner) for (const command of plan.followUp) ran.push({ command, ...(await runner(command)) });
  return { written: plan.changes.map((c) => c.path), ran };
}
