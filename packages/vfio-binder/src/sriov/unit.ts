// `sriov --persist`: VFs vanish at reboot, so a systemd unit makes them again at boot, before the
// network and the VM managers start: sriov_drivers_autoprobe (when asked), then sriov_numvfs
// through 0, as `passthru sriov` writes them. One unit per PF, with a diff and a backup as
// `persist` writes its files. The unit is part of the sriov change's transaction (applySriov):
// planned and checked before the first write, written after the VFs, undone with them.
import type { HostFs } from '@passthru/hostfs';
import { unifiedPatch } from '@passthru/boot-config';
import type { PciDevice } from '@passthru/pci-discovery';
import type { FileChange } from '../persist/plan';
import { checkFileWrites } from '../persist/plannedFiles';
import { pciDevicePath } from '@passthru/pci-discovery';

export const SYSTEMD_DIR = '/etc/systemd/system';

export interface SriovPersistPlan {
  unit: string;
  changes: FileChange[];
  followUp: string[];
}

/** What a composite `sriov --persist` records in its journal entry, so a rollback or `restore` can put the unit back. */
export interface SriovUnitRecord {
  path: string;
  /** The unit's text before (null: there was none). */
  before: string | null;
  after: string;
}

/** The unit's name: the PF's address with ':' as '-' (systemd-analyze verify reads a ':' in a path as a separator). */
export const sriovUnitName = (pf: string) => `passthru-sriov-${pf.replace(/:/g, '-')}.service`;

/** Pure: the unit text that makes `numVfs` VFs on `pf` at boot. */
export function sriovUnitText(pf: string, identity: string, numVfs: number, autoprobe: boolean | undefined): string {
  const dev = pciDevicePath(pf);
  const steps = [
    ...(autoprobe === undefined ? [] : [`echo ${autoprobe ? 1 : 0} > ${dev}/sriov_drivers_autoprobe`]),
    `echo 0 > ${dev}/sriov_numvfs`,
    ...(numVfs > 0 ? [`echo ${numVfs} > ${dev}/sriov_numvfs`] : []),
  ];
  return [
    `# Written by passthru sriov --persist: ${numVfs} VFs on ${pf} (${identity}) at every boot.`,
    '[Unit]',
    `Description=passthru: ${numVfs} SR-IOV VFs on PCI ${pf}`,
    'After=systemd-modules-load.service systemd-udev-settle.service',
    'Before=network-pre.target libvirtd.service lxd.service snap.lxd.daemon.service incus.service',
    'Wants=network-pre.target',
    `ConditionPathExists=${dev}/sriov_numvfs`,
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    // The kernel changes a non-zero count only through 0 (EBUSY otherwise).
    `ExecStart=/bin/sh -c '${steps.join(' && ')}'`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/**
 * The unit `sriov --persist` writes for `pf`, planned before anything is written: the diff
 * against the unit there now, the backup's name, and the follow-up commands. Every file it will
 * write is checked first (resolvable inside the root, a folder above it, writable, a regular
 * file or nothing at its name): refused (usage, nothing written) otherwise, so the VFs are never
 * changed for a unit that cannot be written.
 */
export function planSriovUnit(host: HostFs, pf: PciDevice, numVfs: number, autoprobe: boolean | undefined, stamp: string): SriovPersistPlan {
  const unit = sriovUnitName(pf.address);
  const path = `${SYSTEMD_DIR}/${unit}`;
  const after = sriovUnitText(pf.address, `${pf.vendorId}:${pf.deviceId}`, numVfs, autoprobe);
  checkFileWrites(host, [], [path], 'sriov --persist');
  const before = host.readTextIfExists(path) ?? null;
  const changes: FileChange[] =
    before === after
      ? []
      : [
          {
            path,
            before,
            after,
            diff: unifiedPatch(path, before, after),
            backup: before === null ? null : `${path}.passthru-${stamp}.bak`,
            why: `make ${numVfs} VFs on ${pf.address} at boot`,
          },
        ];
  checkFileWrites(host, changes, [], 'sriov --persist');
  return { unit, changes, followUp: changes.length ? ['systemctl daemon-reload', `systemctl enable ${unit}`] : [] };
}

/**
 * Writes the planned unit: the backup of the old one first, then the unit (atomic). On a failure
 * the backup it made goes again, so the tree is as it was, and the error is thrown.
 */
export function writeSriovUnit(host: HostFs, plan: SriovPersistPlan): void {
  const c = plan.changes[0];
  if (!c) return;
  const backup = c.backup && c.before !== null ? c.backup : null;
  if (backup) host.writeFile(backup, c.before!);
  try {
    host.writeFile(c.path, c.after);
  } catch (error) {
    if (backup) host.removeFile(backup);
    throw error;
  }
}

/**
 * Puts a unit written by a composite change back as it was (removed when it did not exist),
 * unless it no longer holds what passthru wrote: then it is left, and the reason returned.
 */
export function undoSriovUnit(host: HostFs, unit: SriovUnitRecord): string | undefined {
  const now = host.readTextIfExists(unit.path) ?? null;
  if (now === unit.before) return undefined;
  if (now !== unit.after) return `${unit.path} was changed since passthru wrote it: left as it is`;
  if (unit.before === null) host.removeFile(unit.path);
  else host.writeFile(unit.path, unit.before);
  return undefined;
}
