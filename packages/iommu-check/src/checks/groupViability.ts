/** Group viability: whether the IOMMU group of an asked device can go to VFIO as a whole. */
import { canonicalParamKey, formatParam, splitOptions } from '@passthru/boot-config';
import { blockingEndpoints, keepsGroupViable, notPassable, platformFunctionsOf, slotOf, type PciDevice, pciDevicePath } from '@passthru/pci-discovery';
import type { CheckResult } from '../DoctorReport';
import { capitalise, check, planRemediation } from './check';
import { describeDevice } from './devices';
import { IOMMU_GROUPS, kernelAbsent, missingKernelLayer, notInTree } from './evidence';
import type { Facts } from './Facts';

/** Host-critical members: storage with a driver (disks), the boot GPU, a NIC with an interface. */
function hostCritical(d: PciDevice): string | undefined {
  if (d.class.startsWith('01') && !keepsGroupViable(d.driver)) return 'the host loses its disks on it';
  if (d.bootVga) return 'the host console runs on it';
  if (d.class.startsWith('02') && d.net.length > 0 && !keepsGroupViable(d.driver)) return `the host loses network interface ${d.net.join(', ')}`;
  return undefined;
}

export function checkGroupViable(f: Facts, address: string): CheckResult {
  const id = `group.viable.${address}`;
  const d = f.byAddress.get(address);
  if (d === undefined)
    return check(id, 'FAIL', `No PCI device ${address} on this host.`, [`${pciDevicePath(address)}: absent`], 'Use an address from `passthru list`.');
  const ev = [
    `${pciDevicePath(address, 'iommu_group')}: ${d.iommuGroup === null ? 'absent' : `-> ${d.iommuGroup}`}`,
    `${pciDevicePath(address, 'driver')}: ${d.driver ?? 'none'}`,
  ];
  if (d.iommuGroup === null) {
    const link = f.linkedGroups().get(address);
    if (link !== undefined || kernelAbsent(f)) {
      if (link !== undefined) ev.push(`${pciDevicePath(address, 'iommu_group')}: -> group ${link}, ${notInTree(`${IOMMU_GROUPS}/${link}`)}`);
      return check(
        id,
        'SKIP',
        `${address}'s IOMMU group cannot be read: ${link !== undefined ? `its iommu_group link names group ${link}, but ${notInTree(`${IOMMU_GROUPS}/${link}`)}` : notInTree(missingKernelLayer(f)!)}.`,
        ev,
      );
    }
    let why = 'the IOMMU is not enabled (see iommu.kernel)';
    let fix = 'Enable the IOMMU first (see iommu.kernel).';
    if (f.groupIds.length > 0) {
      const igfxOff = f.params.some((p) => canonicalParamKey(p.key) === 'intel_iommu' && splitOptions(p.value).includes('igfx_off'));
      if (igfxOff && d.class.startsWith('03') && /^[0-9a-f]+:00:02\.0$/.test(address)) {
        why = 'intel_iommu=...,igfx_off on the command line leaves the integrated GPU out of DMA remapping';
        const spelled = f.params.filter((p) => canonicalParamKey(p.key) === 'intel_iommu' && splitOptions(p.value).includes('igfx_off')).map(formatParam);
        fix = planRemediation(
          f,
          'Drop igfx_off so the integrated GPU gets an IOMMU group (intel_iommu=on stays). ',
          'Replace it by intel_iommu=on on the kernel command line and reboot.',
          { add: ['intel_iommu=on'], remove: spelled },
        );
        ev.push(
          `/proc/cmdline: ${f.params
            .filter((p) => canonicalParamKey(p.key) === 'intel_iommu')
            .map(formatParam)
            .join(' ')}`,
        );
      } else {
        why = 'no IOMMU unit translates it (the firmware DMAR/IVRS table does not list it, or its unit was ignored)';
        fix = 'Check the firmware settings for this device and `dmesg | grep -i -e DMAR -e AMD-Vi`; a device without an IOMMU group cannot be assigned.';
      }
    }
    return check(id, 'FAIL', `${address} has no IOMMU group: ${why}. VFIO can only assign grouped devices.`, ev, fix);
  }
  const group = f.groups.find((g) => g.id === d.iommuGroup);
  const members = group?.endpoints ?? [address];
  ev.push(
    `${IOMMU_GROUPS}/${d.iommuGroup}/devices: ${group?.devices.join(' ') ?? address}${group && group.bridges.length > 0 ? ` (bridges ${group.bridges.join(' ')} excluded)` : ''}`,
  );
  const notReady = blockingEndpoints({ endpoints: members }, f.byAddress);
  for (const a of members) if (a !== address) ev.push(`${a}: ${describeDevice(f.byAddress.get(a), a)}`);
  const platform = platformFunctionsOf(group ?? { devices: [address] }, f.byAddress);
  if (platform.length > 0) {
    const np = notPassable(platform);
    for (const p of platform) ev.push(`${p.address}: platform function (${p.kind}): ${p.reason}`);
    return check(
      id,
      'FAIL',
      `Group ${d.iommuGroup} is ${np.summary}: ${np.why}. The host cannot give it away, so ${address} cannot be passed through (passthru bind refuses it; --force does not override this).`,
      ev,
      np.fix,
    );
  }
  if (notReady.length === 0) {
    return check(id, 'PASS', `Group ${d.iommuGroup} is viable: every endpoint (${members.join(' ')}) is on vfio-pci, pci-stub or no driver.`, ev);
  }
  const others = members.filter((a) => a !== address);
  const foreign = others.filter((a) => slotOf(a) !== slotOf(address));
  const foreignInUse = foreign.filter((a) => notReady.includes(a));
  const mustMove =
    others.length > 0 ? `must move with it: ${others.map((a) => describeDevice(f.byAddress.get(a), a)).join('; ')}` : 'no other endpoint shares the group';
  if (foreignInUse.length > 0) {
    const critical = foreignInUse
      .map((a) => ({ a, why: f.byAddress.get(a) ? hostCritical(f.byAddress.get(a)!) : undefined }))
      .filter((x) => x.why !== undefined);
    const named = foreignInUse.map((a) => describeDevice(f.byAddress.get(a), a)).join('; ');
    return check(
      id,
      'FAIL',
      `Group ${d.iommuGroup} is shared with other devices the host uses: ${named}. Passing ${address} means taking all of them from the host${critical.length > 0 ? ` (${critical.map((x) => `${x.a}: ${x.why}`).join('; ')})` : ''}. ${capitalise(mustMove)}.`,
      ev,
      `Move the card to a slot whose path to the CPU has ACS (a CPU-attached slot; see acs.${address}), or pass the whole group ${d.iommuGroup} only if the host can do without ${foreignInUse.join(', ')}. pcie_acs_override is out of tree and fakes isolation.`,
    );
  }
  return check(
    id,
    'WARN',
    `Group ${d.iommuGroup} is not viable yet: ${notReady.length === 1 ? `${notReady[0]} is` : `${notReady.length} endpoints are`} still on host drivers (${[...new Set(notReady.map((a) => f.byAddress.get(a)?.driver ?? '?'))].join(', ')}); all belong to this card, so the group can move as a whole. ${capitalise(mustMove)}.`,
    ev,
    `passthru bind group:${d.iommuGroup} (moves ${members.join(' ')} to vfio-pci together; add --persist to keep it across reboots).`,
  );
}
