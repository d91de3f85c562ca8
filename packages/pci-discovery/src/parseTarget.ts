import { PciDiscoveryError } from './PciDiscoveryError';
import { looksLikePciAddress, normalizePciAddress } from './pciAddress';

/**
 * What a user may name on the command line (docs/architecture.md: TARGET). `text` is what was
 * typed. `usb` (`usb:046d:c52b`) names a USB device by vendor:product; only `attach` takes it.
 */
export type Target =
  | { kind: 'address'; address: string; text: string }
  | { kind: 'ids'; vendorId: string; deviceId: string; text: string }
  | { kind: 'group'; group: number; text: string }
  | { kind: 'interface'; name: string; text: string }
  | { kind: 'usb'; vendorId: string; productId: string; text: string };

const IDS = /^([0-9a-f]{4}):([0-9a-f]{4})$/;
const GROUP = /^group:(\d{1,9})$/;
/** Linux interface names (the kernel's dev_valid_name): 1-15 bytes, not '.' or '..', no '/', ':' or whitespace. */
const INTERFACE = /^(?!\.{1,2}$)[A-Za-z0-9_.@-]{1,15}$/;

/** What every refusal ends with: the four spellings of a TARGET. */
export const TARGET_SPELLINGS = 'expected a PCI address (0000:01:00.0 or 01:00.0), vendor:device (10de:2684), group:N or a network interface name';

/** A target as an error shows it: quoted, cut at 40 characters (a 100k-character argument stays one short line). */
export function quoteTarget(text: string): string {
  const shown = text.length > 40 ? `${text.slice(0, 40)}... (${text.length} characters)` : text;
  return JSON.stringify(shown);
}

/**
 * Parses one TARGET: a PCI address (`0000:01:00.0`, or `01:00.0` for domain 0000), vendor:device
 * (`10de:2684`), `group:N`, a network interface name, or `usb:vendor:product`. Hex is taken in
 * either case and returned lowercase; an interface name is kept as typed. Strict: `0000:01:00.8`
 * (function > 7), `01:20.0` (slot > 1f), `../../`, empty strings, white space, control
 * characters and anything longer than 64 characters are refused.
 *
 * Throws PciDiscoveryError "Failed parsing target "<text>": <detail>" (bad input: callers map
 * it to their usage error; `detail` alone is there for callers with their own prefix).
 */
export function parseTarget(raw: string): Target {
  const refuse = (detail: string) =>
    new PciDiscoveryError('parsing', `target ${quoteTarget(typeof raw === 'string' ? raw : String(raw))}`, undefined, { detail });
  if (typeof raw !== 'string' || raw.length === 0) throw refuse(`empty target; ${TARGET_SPELLINGS}`);
  if (raw.length > 64 || /[^\x21-\x7e]/.test(raw)) throw refuse(TARGET_SPELLINGS);
  const text = raw.toLowerCase();
  const address = normalizePciAddress(text);
  if (address !== undefined) return { kind: 'address', address, text: raw };
  let m = IDS.exec(text);
  if (m) return { kind: 'ids', vendorId: m[1]!, deviceId: m[2]!, text: raw };
  m = GROUP.exec(text);
  if (m) return { kind: 'group', group: Number(m[1]), text: raw };
  if (text.startsWith('usb:')) {
    m = IDS.exec(text.slice(4));
    if (m) return { kind: 'usb', vendorId: m[1]!, productId: m[2]!, text: raw };
    throw refuse('a USB target is vendor:product in hex, e.g. usb:046d:c52b');
  }
  if (looksLikePciAddress(text)) throw refuse('not a valid PCI address (bus 00-ff, slot 00-1f, function 0-7)');
  if (INTERFACE.test(raw)) return { kind: 'interface', name: raw, text: raw };
  throw refuse(TARGET_SPELLINGS);
}
