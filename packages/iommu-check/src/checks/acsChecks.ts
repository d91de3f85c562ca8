/** ACS: which ports above an asked device lack Access Control Services, and who shares its group because of them. */
import { slotOf, type PciDevice, pciDevicePath } from '@passthru/pci-discovery';
import { inspectPciConfig, type PciConfigIsolation } from '../AcsCapability';
import type { CheckResult } from '../DoctorReport';
import { tryReadBytes } from '@passthru/hostfs';
import { check } from './check';
import { describeDevice } from './devices';
import { IOMMU_GROUPS, notInTree } from './evidence';
import type { Facts } from './Facts';

function portLabel(iso: PciConfigIsolation): string {
  return (iso.pcie?.portType ?? 'conventional PCI').replace(/-/g, ' ');
}

function acsDetail(iso: PciConfigIsolation): string {
  const a = iso.acs;
  if (!a.present) return 'no ACS capability';
  const need: Array<[keyof NonNullable<typeof a.control>, string]> = [
    ['sourceValidation', 'SV'],
    ['p2pRequestRedirect', 'RR'],
    ['p2pCompletionRedirect', 'CR'],
    ['upstreamForwarding', 'UF'],
  ];
  const missing = need.filter(([k]) => a.capability?.[k] && !a.control?.[k]).map(([, n]) => n);
  return a.isolates
    ? `ACS enabled (ctrl 0x${(a.control?.raw ?? 0).toString(16).padStart(4, '0')})`
    : `ACS capability present but ${missing.join(' ') || 'required flags'} not enabled (ctrl 0x${(a.control?.raw ?? 0).toString(16).padStart(4, '0')})`;
}

export function checkAcs(f: Facts, address: string): CheckResult {
  const id = `acs.${address}`;
  const d = f.byAddress.get(address);
  if (d === undefined) return check(id, 'SKIP', `No PCI device ${address} on this host.`, [`${pciDevicePath(address)}: absent`]);
  // The bridges above the device, nearest first, then the device itself when multi-function.
  const chain: PciDevice[] = [];
  const seen = new Set<string>();
  for (let p = d.parent; p !== null && !seen.has(p); ) {
    seen.add(p);
    const up = f.byAddress.get(p);
    if (up === undefined) break;
    chain.push(up);
    p = up.parent;
  }
  const ev: string[] = [];
  const decoded = new Map<string, PciConfigIsolation>();
  for (const dev of [d, ...chain]) {
    const path = pciDevicePath(dev.address, 'config');
    const bytes = tryReadBytes(f.host, path, 4096);
    if (bytes.value === undefined) {
      ev.push(`${path}: ${bytes.error ?? 'absent'}`);
      if (dev === d) continue;
      return check(
        id,
        'SKIP',
        `Cannot decode ACS: ${path} is ${bytes.error ? 'unreadable' : 'absent'} (${bytes.error ?? 'no config file'}).`,
        ev,
        bytes.error ? 'Run as root: config space past 64 bytes is readable by root only.' : undefined,
      );
    }
    if (bytes.value.length <= 64) {
      ev.push(`${path}: ${bytes.value.length} bytes`);
      if (dev === d) continue;
      return check(
        id,
        'SKIP',
        `Cannot decode ACS: only the first ${bytes.value.length} bytes of ${path} are readable (the capability lists lie beyond; unprivileged readers get 64 bytes).`,
        ev,
        'Run passthru doctor as root.',
      );
    }
    const iso = inspectPciConfig(new Uint8Array(bytes.value));
    decoded.set(dev.address, iso);
    if (dev !== d) ev.push(`${path}: ${portLabel(iso)}, ${acsDetail(iso)}${iso.kernelAcsEnabled ? '' : ' -> does not isolate'}`);
    else ev.push(`${path}: ${portLabel(iso)}${iso.multiFunction ? ', multi-function' : ''}${iso.multiFunction ? `, ${acsDetail(iso)}` : ''}`);
  }
  const lacking = chain.filter((b) => decoded.get(b.address)?.kernelAcsEnabled === false);
  const selfIso = decoded.get(d.address);
  const selfLacks = selfIso !== undefined && selfIso.multiFunction && !selfIso.kernelAcsEnabled;
  const group = d.iommuGroup === null ? undefined : f.groups.find((g) => g.id === d.iommuGroup);
  const sharers = (group?.endpoints ?? []).filter((a) => slotOf(a) !== slotOf(address));
  if (chain.length === 0 && !selfLacks) {
    return check(
      id,
      'PASS',
      `${address} sits on a root bus (no bridge above it)${selfIso?.multiFunction ? ' and its functions isolate with ACS' : ''}: nothing upstream can join it to other devices.`,
      ev,
    );
  }
  // The topmost non-isolating port decides the group: everything below it shares one group.
  const top = lacking.at(-1);
  if (d.iommuGroup === null) {
    const text =
      lacking.length > 0
        ? `Ports without ACS above ${address}: ${lacking.map((b) => `${b.address} (${portLabel(decoded.get(b.address)!)}, ${acsDetail(decoded.get(b.address)!)})`).join('; ')}.`
        : `Every port above ${address} has ACS (${chain.map((b) => b.address).join(' ')}).`;
    const link = f.linkedGroups().get(address);
    const tail =
      link !== undefined
        ? `Its IOMMU group (${link}) ${notInTree(`${IOMMU_GROUPS}/${link}`).replace(/^\S+ /, '')}, so what shares it cannot be told.`
        : `${address} has no IOMMU group, so its isolation is moot until the IOMMU covers it.`;
    return check(id, lacking.length > 0 ? 'WARN' : 'PASS', `${text} ${tail}`, ev);
  }
  if (sharers.length > 0) {
    // The sharers' own paths: which of their ports lack ACS too (peers below a common switch).
    const chainOf = (dev: PciDevice): PciDevice[] => {
      const out: PciDevice[] = [];
      for (let p = dev.parent; p !== null && !out.some((x) => x.address === p); ) {
        const up = f.byAddress.get(p);
        if (up === undefined) break;
        out.push(up);
        p = up.parent;
      }
      return out;
    };
    const sharerPorts: string[] = [];
    for (const a of sharers) {
      const s = f.byAddress.get(a);
      if (s === undefined) continue;
      for (const b of chainOf(s)) {
        if (chain.some((c) => c.address === b.address)) break; // reached the common part of the paths
        let iso = decoded.get(b.address);
        if (iso === undefined) {
          const bytes = tryReadBytes(f.host, pciDevicePath(b.address, 'config'), 4096).value;
          if (bytes === undefined || bytes.length <= 64) continue;
          iso = inspectPciConfig(new Uint8Array(bytes));
          decoded.set(b.address, iso);
          ev.push(`${pciDevicePath(b.address, 'config')}: ${portLabel(iso)}, ${acsDetail(iso)}${iso.kernelAcsEnabled ? '' : ' -> does not isolate'}`);
        }
        if (!iso.kernelAcsEnabled && !sharerPorts.some((x) => x.startsWith(b.address))) sharerPorts.push(`${b.address} above ${a} (${acsDetail(iso)})`);
      }
    }
    const why =
      top !== undefined
        ? `${top.address} (${portLabel(decoded.get(top.address)!)}) lacks ACS isolation (${acsDetail(decoded.get(top.address)!)}), so the devices below it and its peer ports can reach each other by peer-to-peer DMA and the kernel puts them in one group` +
          `${sharerPorts.length > 0 ? `; their ports lack ACS too: ${sharerPorts.join(', ')}` : ''}` +
          `${
            lacking.length > 1
              ? `; also without ACS on ${address}'s path: ${lacking
                  .slice(0, -1)
                  .map((b) => `${b.address} (${acsDetail(decoded.get(b.address)!)})`)
                  .join(', ')}`
              : ''
          }`
        : `every port above it has ACS; a kernel quirk or a multi-function device joins them`;
    return check(
      id,
      'FAIL',
      `Group ${d.iommuGroup} is shared: ${sharers.map((a) => describeDevice(f.byAddress.get(a), a)).join('; ')} share${sharers.length === 1 ? 's' : ''} it with ${address} because ${why}.`,
      ev,
      `Use a slot whose ports all have ACS (usually a CPU-attached slot), or a board/BIOS that enables ACS on ${top?.address ?? 'the ports'} (some firmware has an "ACS Enable" option). pcie_acs_override is an out-of-tree patch that fakes isolation: devices can still reach each other.`,
    );
  }
  if (selfLacks && lacking.length === 0) {
    return check(
      id,
      'PASS',
      `Isolated: every port above ${address} has ACS enabled (${chain.map((b) => b.address).join(' <- ')}); its own functions share group ${d.iommuGroup} (a multi-function device without ACS), which is how a card is passed: whole.`,
      ev,
    );
  }
  if (lacking.length > 0 || selfLacks) {
    const list = [
      ...lacking.map((b) => `${b.address} (${acsDetail(decoded.get(b.address)!)})`),
      ...(selfLacks ? [`${address}'s own functions (multi-function, ${acsDetail(selfIso!)})`] : []),
    ];
    return check(
      id,
      'PASS',
      `Group ${d.iommuGroup} holds only ${address}'s own card: ports without ACS (${list.join('; ')}) join only functions of the same device.`,
      ev,
    );
  }
  return check(id, 'PASS', `Isolated: every port above ${address} has ACS enabled (${chain.map((b) => b.address).join(' <- ')}).`, ev);
}
