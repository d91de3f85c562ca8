// `sriov --persist`: VFs vanish at reboot, so a systemd unit makes them again at boot, before the
// network and the VM managers start: sriov_drivers_autoprobe (when asked), then sriov_numvfs
// through 0, as `passthru sriov` writes them. One unit per PF, with a diff and a backup as
// `persist` writes its files; `systemctl daemon-reload` and `enable` run only with a runner (--yes).
import type { HostFs } from '@passthru/hostfs';
import { unifiedPatch } from '@passthru/iommu-check';
import type { Target } from '@passthru/pci-discovery';
import type { HostState } from './bindDevices';
import type { CommandRunner, FileChange } from './persist';
import { resolveTargets } from './targets';
import { VfioBinderError } from './VfioBinderError';

export const SYSTEMD_DIR = '/etc/systemd/system';

export interface SriovPersistRequest {
  target: Target;
  numVfs: number;
  autoprobe?: boolean;
  dryRun?: boolean;
  /** Names the backup (`<file>.passthru-<stamp>.bak`). */
  stamp: string;
  runner?: CommandRunner;
  onPlanned?: (plan: SriovPersistPlan) => void;
}

export interface SriovPersistPlan {
  unit: string;
  changes: FileChange[];
  followUp: string[];
}

export interface SriovPersistOutcome {
  status: 'planned' | 'unchanged' | 'written';
  plan: SriovPersistPlan;
  written: string[];
  ran: Array<{ command: string; exitCode: number; output: string }>;
}

/** The unit's name: the PF's address with ':' as '-' (systemd-analyze verify reads a ':' in a path as a separator). */
export const sriovUnitName = (pf: string) => `passthru-sriov-${pf.replace(/:/g, '-')}.service`;

/** Pure: the unit text that makes `numVfs` VFs on `pf` at boot. */
export function sriovUnitText(pf: string, identity: string, numVfs: number, autoprobe: boolean | undefined): string {
  const dev = `/sys/bus/pci/devices/${pf}`;
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

/** The persist use case of `sriov`: plan the unit (diff, backup), write it, enable it with a runner. */
export async function persistSriov(host: HostFs, state: HostState, request: SriovPersistRequest): Promise<SriovPersistOutcome> {
  const pf = resolveTargets([request.target], state.devices, state.groups).find((d) => d.sriov?.role === 'pf');
  if (!pf)
    throw new VfioBinderError('usage', `Failed planning sriov --persist via /sys/bus/pci/devices: ${request.target.text} names no SR-IOV physical function`);
  const unit = sriovUnitName(pf.address);
  const path = `${SYSTEMD_DIR}/${unit}`;
  const after = sriovUnitText(pf.address, `${pf.vendorId}:${pf.deviceId}`, request.numVfs, request.autoprobe);
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
            backup: before === null ? null : `${path}.passthru-${request.stamp}.bak`,
            why: `make ${request.numVfs} VFs on ${pf.address} at boot`,
          },
        ];
  const plan: SriovPersistPlan = { unit, changes, followUp: changes.length ? ['systemctl daemon-reload', `systemctl enable ${unit}`] : [] };
  request.onPlanned?.(plan);
  if (request.dryRun) return { status: 'planned', plan, written: [], ran: [] };
  if (changes.length === 0) return { status: 'unchanged', plan, written: [], ran: [] };
  const c = changes[0]!;
  try {
    if (c.backup && c.before !== null) host.writeFile(c.backup, c.before);
    host.writeFile(c.path, c.after);
  } catch (error) {
    throw new VfioBinderError(
      'failed',
      `Failed persisting sriov via ${c.path}: ${(error as Error).message}${c.backup && c.before !== null ? `; the old unit is kept as ${c.backup}` : ''}`,
      { cause: error },
    );
  }
  const ran: SriovPersistOutcome['ran'] = [];
  if (request.runner) for (const command of plan.followUp) ran.push({ command, ...(await request.runner(command)) });
  return { status: 'written', plan, written: [c.path], ran };
}
