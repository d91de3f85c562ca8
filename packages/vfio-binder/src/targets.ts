import type { IommuGroup, PciDevice } from '@passthru/pci-discovery';
import { VfioBinderError } from './VfioBinderError';

/** What a user may name on the command line (docs/architecture.md: TARGET). */
export type Target =
  | { kind: 'address'; address: string; text: string }
  | { kind: 'ids'; vendorId: string; deviceId: string; text: string }
  | { kind: 'group'; group: number; text: string }
  | { kind: 'interface'; name: string; text: string };

const FULL_ADDRESS = /^([0-9a-f]{4,8}):([0-9a-f]{2}):([01][0-9a-f])\.([0-7])$/;
const SHORT_ADDRESS = /^([0-9a-f]{2}):([01][0-9a-f])\.([0-7])$/;
const IDS = /^([0-9a-f]{4}):([0-9a-f]{4})$/;
const GROUP = /^group:(\d{1,9})$/;
/** Linux interface names: 1-15 bytes, no '/', no whitespace, not '.' or '..' (dev_valid_name). */
const INTERFACE = /^(?!\.{1,2}$)[A-Za-z0-9_.:@-]{1,15}$/;

function printable(text: string): string {
  const shown = text.length > 40 ? `${text.slice(0, 40)}... (${text.length} characters)` : text;
  return JSON.stringify(shown);
}

/**
 * Parses one TARGET. Strict: `0000:01:00.8` (function > 7), `01:20.0` (slot > 1f), `../../`,
 * empty strings, control characters and anything longer than 64 characters are refused.
 */
export function parseTarget(raw: string): Target {
  if (typeof raw !== 'string' || raw.length === 0) throw new VfioBinderError('usage', 'Failed parsing target "": empty; expected a PCI address, vendor:device, group:N or an interface name');
  if (raw.length > 64 || /[^\x21-\x7e]/.test(raw)) throw new VfioBinderError('usage', `Failed parsing target ${printable(raw)}: not a PCI address, vendor:device, group:N or an interface name`);
  const text = raw.toLowerCase();
  let m = FULL_ADDRESS.exec(text);
  if (m) return { kind: 'address', address: text, text: raw };
  m = SHORT_ADDRESS.exec(text);
  if (m) return { kind: 'address', address: `0000:${text}`, text: raw };
  m = IDS.exec(text);
  if (m) return { kind: 'ids', vendorId: m[1]!, deviceId: m[2]!, text: raw };
  m = GROUP.exec(text);
  if (m) return { kind: 'group', group: Number(m[1]), text: raw };
  if (/^[0-9a-f]{1,8}:[0-9a-f]{1,2}:[0-9a-f]{1,2}\.[0-9a-f]+$/.test(text) || /^[0-9a-f]{1,2}:[0-9a-f]{1,2}\.[0-9a-f]+$/.test(text)) {
    throw new VfioBinderError('usage', `Failed parsing target ${printable(raw)}: not a valid PCI address (bus 00-ff, slot 00-1f, function 0-7)`);
  }
  if (INTERFACE.test(raw) && !raw.includes(':')) return { kind: 'interface', name: raw, text: raw };
  throw new VfioBinderError('usage', `Failed parsing target ${printable(raw)}: not a PCI address, vendor:device, group:N or an interface name`);
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
          throw new VfioBinderError('usage', `Failed resolving target ${printable(target.text)}: IOMMU group ${group.id} holds only bridges (${group.bridges.join(', ')}), which are never bound`);
        }
        break;
      }
      case 'interface':
        found = devices.filter((d) => d.net.includes(target.name));
        break;
    }
    if (found.length === 0) {
      const what = { address: 'no PCI device has this address', ids: 'no PCI device has these ids', group: 'no IOMMU group has this number', interface: 'no PCI network interface has this name' }[target.kind];
      throw new VfioBinderError('usage', `Failed resolving target ${printable(target.text)}: ${what} (see passthru list / groups)`);
    }
    for (const d of found) chosen.add(d.address);
  }
  return devices.filter((d) => chosen.has(d.address));
}
