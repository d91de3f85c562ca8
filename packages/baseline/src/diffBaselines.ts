// What changed between a saved baseline and the host now, and whether it breaks passthrough.
// Breaking (exit 1): an endpoint's address is gone or names another device (renumbered: the
// same identity now at another address), its IOMMU group gained or lost members, a device on
// vfio-pci changed driver, group number (its /dev/vfio/N) or lost reset methods. Harmless
// (named, exit 0): new devices, link speed or width, drivers and groups of devices not on
// vfio-pci renumbered alone, the kernel release, command line and firmware versions.
import { identityKey } from '@passthru/pci-discovery';
import type { Baseline, BaselineChange, BaselineDevice, BaselineDiff } from './Baseline';

const VFIO = 'vfio-pci';
const label = (d: BaselineDevice) => `${d.address} (${d.vendorId}:${d.deviceId}${d.driver ? `, ${d.driver}` : ''})`;
const linkText = (l: BaselineDevice['link']) => (l ? `${l.speed ?? '?'} x${l.width ?? '?'}` : 'none');

export function diffBaselines(saved: Baseline, now: Baseline): BaselineDiff {
  const changes: BaselineChange[] = [];
  const add = (kind: BaselineChange['kind'], address: string | null, breaking: boolean, summary: string) => changes.push({ kind, address, breaking, summary });
  const nowBy = new Map(now.devices.map((d) => [d.address, d]));
  const savedBy = new Map(saved.devices.map((d) => [d.address, d]));

  // Pair each saved device with its device now: same address and identity, else the same
  // identity at an address the baseline did not have (renumbered), in address order.
  const pair = new Map<string, BaselineDevice>();
  const unpaired: BaselineDevice[] = [];
  for (const d of saved.devices) {
    const n = nowBy.get(d.address);
    if (n && identityKey(n) === identityKey(d)) pair.set(d.address, n);
    else unpaired.push(d);
  }
  const taken = new Set([...pair.values()].map((n) => n.address));
  const fresh = now.devices.filter((n) => !taken.has(n.address) && (!savedBy.has(n.address) || identityKey(savedBy.get(n.address)!) !== identityKey(n)));
  for (const d of unpaired) {
    const i = fresh.findIndex((n) => identityKey(n) === identityKey(d) && !savedBy.has(n.address));
    const at = nowBy.get(d.address);
    if (i >= 0) {
      const n = fresh.splice(i, 1)[0]!;
      pair.set(d.address, n);
      add(
        'device-renumbered',
        d.address,
        !d.isBridge,
        `${label(d)} is now at ${n.address}${d.isBridge ? '' : `: configurations naming ${d.address} (VMs, bind, persist) now miss it`}`,
      );
    } else if (at)
      add(
        'identity-changed',
        d.address,
        !d.isBridge,
        `${d.address} was ${d.vendorId}:${d.deviceId} (${d.driver ?? 'no driver'}) and is now ${at.vendorId}:${at.deviceId}: configurations naming it would pass another device`,
      );
    else add('device-gone', d.address, !d.isBridge, `${label(d)} is gone`);
  }
  for (const n of fresh) if (!savedBy.has(n.address)) add('device-new', n.address, false, `${n.address} (${n.vendorId}:${n.deviceId}) is new`);

  // Group members are compared as baseline addresses (renumbered members map back).
  const back = new Map([...pair.entries()].map(([a, n]) => [n.address, a]));
  const membersSaved = (d: BaselineDevice) =>
    saved.groups.find((g) => g.id === d.iommuGroup)?.devices.filter((a) => a !== d.address && !savedBy.get(a)?.isBridge) ?? [];
  const membersNow = (n: BaselineDevice) =>
    now.groups
      .find((g) => g.id === n.iommuGroup)
      ?.devices.filter((a) => a !== n.address && !nowBy.get(a)?.isBridge)
      .map((a) => back.get(a) ?? a) ?? [];
  for (const d of saved.devices) {
    const n = pair.get(d.address);
    if (!n) continue;
    const bound = d.driver === VFIO;
    if (!d.isBridge) {
      const before = membersSaved(d).sort();
      const after = membersNow(n).sort();
      const joined = after.filter((a) => !before.includes(a));
      const left = before.filter((a) => !after.includes(a));
      if (d.iommuGroup === null || n.iommuGroup === null) {
        if (d.iommuGroup !== n.iommuGroup)
          add('group-members-changed', d.address, true, `${label(d)}: IOMMU group ${d.iommuGroup ?? 'none'} -> ${n.iommuGroup ?? 'none'}`);
      } else if (joined.length || left.length) {
        add(
          'group-members-changed',
          d.address,
          true,
          `${label(d)}: IOMMU group ${d.iommuGroup} -> ${n.iommuGroup}${joined.length ? `, now shared with ${joined.join(', ')}` : ''}${left.length ? `, no longer with ${left.join(', ')}` : ''}`,
        );
      } else if (d.iommuGroup !== n.iommuGroup) {
        add(
          'group-renumbered',
          d.address,
          bound,
          `${label(d)}: IOMMU group ${d.iommuGroup} -> ${n.iommuGroup}, same members${bound ? `: /dev/vfio/${d.iommuGroup} is now /dev/vfio/${n.iommuGroup}` : ''}`,
        );
      }
    }
    if (d.driver !== n.driver)
      add('driver-changed', d.address, bound, `${label(d)}: driver ${d.driver ?? 'none'} -> ${n.driver ?? 'none'}${bound ? ': no longer on vfio-pci' : ''}`);
    const lost = (d.resetMethods ?? []).filter((m) => !(n.resetMethods ?? []).includes(m));
    if (JSON.stringify(d.resetMethods) !== JSON.stringify(n.resetMethods))
      add(
        'reset-changed',
        d.address,
        bound && lost.length > 0,
        `${label(d)}: reset_method ${d.resetMethods?.join(' ') ?? 'absent'} -> ${n.resetMethods?.join(' ') ?? 'absent'}`,
      );
    if (linkText(d.link) !== linkText(n.link)) add('link-changed', d.address, false, `${label(d)}: link ${linkText(d.link)} -> ${linkText(n.link)}`);
  }
  if (saved.kernel.release !== now.kernel.release) add('kernel-changed', null, false, `kernel ${saved.kernel.release ?? '?'} -> ${now.kernel.release ?? '?'}`);
  if (saved.kernel.cmdline !== now.kernel.cmdline)
    add('cmdline-changed', null, false, `kernel command line: ${saved.kernel.cmdline ?? '?'} -> ${now.kernel.cmdline ?? '?'}`);
  if (saved.firmware.bios !== now.firmware.bios || saved.firmware.board !== now.firmware.board)
    add(
      'firmware-changed',
      null,
      false,
      `firmware: ${saved.firmware.board ?? '?'} BIOS ${saved.firmware.bios ?? '?'} -> ${now.firmware.board ?? '?'} BIOS ${now.firmware.bios ?? '?'}`,
    );
  return { breaking: changes.some((c) => c.breaking), changes };
}
