import { PciDiscoveryError, parseTarget as parseTargetText, quoteTarget, type IommuGroup, type PciDevice, type Target } from '@passthru/pci-discovery';
import { VfioBinderError } from '../VfioBinderError';

/** Parses one TARGET (the grammar and its messages: pci-discovery's parseTarget); bad input is a usage error (exit 2). */
export function parseTarget(raw: string): Target {
  try {
    return parseTargetText(raw);
  } catch (error) {
    if (error instanceof PciDiscoveryError) throw new VfioBinderError('bad-input', error.message, { cause: error });
    throw error;
  }
}

/**
 * The devices named by the targets, each once, in lspci order. A target that matches nothing
 * is an error (exit 2), never silently ignored.
 */
export function resolveTargets(targets: Target[], devices: PciDevice[], groups: IommuGroup[]): PciDevice[] {
  const byAddress = new Map(devices.map((d) => [d.address, d]));
  const chosen = new Set<string>();
  for (const target of targets) {
    let found: PciDevice[] = [];
    switch (target.kind) {
      case 'address':
        found = byAddress.has(target.address) ? [byAddress.get(target.address)!] : [];
        break;
      case 'ids':
        found = devices.filter((d) => d.vendorId === target.vendorId && d.deviceId === target.deviceId);
        break;
      case 'group': {
        // A group names its endpoints: its bridges stay on their driver.
        const group = groups.find((g) => g.id === target.group);
        found = group ? group.endpoints.map((a) => byAddress.get(a)).filter((d): d is PciDevice => d !== undefined) : [];
        if (group && found.length === 0) {
          throw new VfioBinderError(
            'bad-input',
            `Failed resolving target ${quoteTarget(target.text)}: IOMMU group ${group.id} holds only bridges (${group.bridges.join(', ')}), which are never bound`,
          );
        }
        break;
      }
      case 'interface':
        found = devices.filter((d) => d.net.includes(target.name));
        break;
      case 'usb':
        throw new VfioBinderError(
          'bad-input',
          `Failed resolving target ${quoteTarget(target.text)}: a USB device, not a PCI function (passthru attach --type usb passes USB devices to LXD)`,
        );
    }
    if (found.length === 0) {
      const what = {
        address: 'no PCI device has this address',
        ids: 'no PCI device has these ids',
        group: 'no IOMMU group has this number',
        interface: 'no PCI network interface has this name',
      }[target.kind];
      throw new VfioBinderError('bad-input', `Failed resolving target ${quoteTarget(target.text)}: ${what} (see passthru list / groups)`);
    }
    for (const d of found) chosen.add(d.address);
  }
  return devices.filter((d) => chosen.has(d.address));
}
