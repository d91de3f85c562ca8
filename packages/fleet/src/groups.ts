/**
 * The cluster groups passthru keeps, so LXD's own scheduler can place on ready members
 * (`lxc launch --target @passthru-gpu`): `passthru-gpu` for members with a VM-ready GPU, and
 * `passthru-<vendor>-<device>` per VM-ready vendor:device (kinds gpu, net, storage, usb,
 * accel; functions of kind `other`, such as a GPU's audio, get none). A group is passthru's
 * only when its description starts with GROUP_MARK: passthru never adds to, removes from or
 * deletes a group it did not create, even one with a passthru-like name.
 */
import type { ClusterGroup } from '@passthru/lxd-device-attach';
import type { ReadinessSummary } from './readiness';

export const GROUP_PREFIX = 'passthru-';
export const GROUP_MARK = 'passthru:';

export const isPassthruGroup = (g: Pick<ClusterGroup, 'name' | 'description'>): boolean =>
  g.name.startsWith(GROUP_PREFIX) && g.description.startsWith(GROUP_MARK);

/** Group name -> description, for the groups a member with this summary belongs in. */
export function wantedGroups(summary: ReadinessSummary): Map<string, string> {
  const wanted = new Map<string, string>();
  const kinds = summary.viable.filter((v) => v.kind !== 'other');
  if (kinds.some((v) => v.kind === 'gpu')) wanted.set(`${GROUP_PREFIX}gpu`, `${GROUP_MARK} members with a VM-ready GPU (kept by passthru fleet publish)`);
  for (const v of kinds)
    wanted.set(
      `${GROUP_PREFIX}${v.vendorId}-${v.deviceId}`,
      `${GROUP_MARK} members with a VM-ready ${v.vendorId}:${v.deviceId} ${v.kind} (kept by passthru fleet publish)`,
    );
  return wanted;
}
