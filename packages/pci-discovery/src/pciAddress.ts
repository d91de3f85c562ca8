/**
 * PCI addresses as the kernel names them under /sys/bus/pci/devices: `domain:bus:slot.function`,
 * lowercase hex. The domain has 4 digits, more when a device starts a domain of its own (Intel
 * VMD: `10000`); the slot ("device") is 00-1f, the function 0-7. The one place that spells the
 * pattern: everything else parses, normalises, orders and splits addresses through here.
 */

const DOMAIN = '[0-9a-f]{4,8}';
const BUS = '[0-9a-f]{2}';
const SLOT = '[01][0-9a-f]';
const FUNCTION = '[0-7]';

/** An address inside a longer text (no anchors, no groups): for callers that build a pattern around it. */
export const PCI_ADDRESS_SOURCE = `${DOMAIN}:${BUS}:${SLOT}\\.${FUNCTION}`;

/** A whole address; groups: domain, bus, slot, function. */
export const PCI_ADDRESS_RE = new RegExp(`^(${DOMAIN}):(${BUS}):(${SLOT})\\.(${FUNCTION})$`);

/** `bus:slot.function`, as lspci prints without -D and users type (domain 0000 implied). */
const SHORT_ADDRESS_RE = new RegExp(`^${BUS}:${SLOT}\\.${FUNCTION}$`);

/** A root bus folder under /sys/devices: `pci0000:00`, `pci10000:e0` (a VMD domain). */
export const ROOT_BUS_RE = new RegExp(`^pci${DOMAIN}:${BUS}$`);

const ENDS_WITH_ADDRESS = new RegExp(`(${PCI_ADDRESS_SOURCE})$`);

export interface PciAddressParts {
  domain: number;
  bus: number;
  slot: number;
  function: number;
}

/** The numbers of a full, lowercase address; undefined for anything else. */
export function parsePciAddress(address: string): PciAddressParts | undefined {
  const m = PCI_ADDRESS_RE.exec(address);
  return m ? { domain: parseInt(m[1]!, 16), bus: parseInt(m[2]!, 16), slot: parseInt(m[3]!, 16), function: parseInt(m[4]!, 16) } : undefined;
}

/**
 * `01:00.0` -> `0000:01:00.0`, `0000:01:00.0` as it is; trimmed and lowercased first. Undefined
 * for anything that is not a PCI address (slot over 1f, function over 7, ...).
 */
export function normalizePciAddress(text: string): string | undefined {
  const s = text.trim().toLowerCase();
  return PCI_ADDRESS_RE.test(s) ? s : SHORT_ADDRESS_RE.test(s) ? `0000:${s}` : undefined;
}

/** Does `text` look like a PCI address someone mistyped (`0000:01:00.8`, `01:20.0`), rather than another kind of name? */
export function looksLikePciAddress(text: string): boolean {
  return /^[0-9a-f]{1,8}:[0-9a-f]{1,2}:[0-9a-f]{1,2}\.[0-9a-f]+$/.test(text) || /^[0-9a-f]{1,2}:[0-9a-f]{1,2}\.[0-9a-f]+$/.test(text);
}

/** The address at the end of a text (a check id such as `group.viable.0000:01:00.0`), or undefined. */
export function trailingPciAddress(text: string): string | undefined {
  return ENDS_WITH_ADDRESS.exec(text)?.[1];
}

/** `0000:01:00` from `0000:01:00.1`: the slot, i.e. one physical device whose functions these are. */
export function slotOf(address: string): string {
  return address.slice(0, address.lastIndexOf('.'));
}

/** Orders addresses as lspci does: domain, bus, slot, function numerically; anything else last. */
export function compareAddresses(a: string, b: string): number {
  // Two addresses of one length have domains of one width: as text they sort in numeric order
  // (lowercase hex, digits before a-f), without parsing either (a scan sorts thousands).
  if (a.length === b.length && PCI_ADDRESS_RE.test(a) && PCI_ADDRESS_RE.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  const key = (s: string) => {
    const p = parsePciAddress(s);
    return p ? [p.domain, p.bus, p.slot, p.function] : [Infinity, 0, 0, 0];
  };
  const [ka, kb] = [key(a), key(b)];
  for (let i = 0; i < 4; i++) if (ka[i] !== kb[i]) return ka[i]! - kb[i]!;
  return a.localeCompare(b);
}
