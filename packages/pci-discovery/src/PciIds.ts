import { HostFsError, readInputFile } from '@passthru/hostfs';
import { gunzipSync } from 'node:zlib';
import { PciDiscoveryError } from './PciDiscoveryError';

/**
 * Where pciutils and hwdata install pci.ids, most common first: Debian/Ubuntu (pciutils),
 * Fedora/RHEL/Arch (hwdata), and the upstream pciutils default.
 */
export const PCI_IDS_PATHS: readonly string[] = ['/usr/share/misc/pci.ids', '/usr/share/hwdata/pci.ids', '/usr/share/pci.ids'];

/**
 * The largest pci.ids fromFile reads (and, for `.gz`, the largest it inflates to): 64 MiB, far
 * above the real file (about 1.3 MB in 2025), so `--pci-ids /dev/zero` or a runaway file is
 * refused instead of filling memory.
 */
export const PCI_IDS_MAX_BYTES = 64 * 1024 * 1024;

/**
 * The pci.ids file to use. An explicit path (`--pci-ids FILE`) is authoritative: when given, it
 * is returned if it exists and otherwise the answer is undefined, never a silent fallback to a
 * different database. Without one, the first existing well-known path wins.
 * `exists` is injected so callers decide whether a path means the tool machine or a fixture.
 */
export function findPciIdsFile(exists: (path: string) => boolean, explicit?: string): string | undefined {
  if (explicit !== undefined && explicit !== '') return exists(explicit) ? explicit : undefined;
  return PCI_IDS_PATHS.find((path) => exists(path));
}

/** What pci.ids says about a 6-hex class code; each level is absent when the file lacks it. */
export interface PciClassNames {
  className?: string;
  subclassName?: string;
  progIfName?: string;
}

interface VendorBlock {
  name: string;
  /** Byte offset of the newline that ends the vendor line (the file length when there is none). */
  start: number;
  /** Lines before this offset are known to belong to the block (none of them is top-level); one starts here. */
  scanned: number;
  /** Byte offset of the next top-level line (or the file length); -1 until a scan reaches it. */
  end: number;
  /** Whether a device line scanned so far has an uppercase letter in its id (if not, only the lowercase id is searched). */
  mixedCase: boolean;
  /** Devices looked up so far (null: not in the block). */
  devices: Map<string, DeviceEntry | null>;
}

interface DeviceEntry {
  name: string;
  /** Where each of the device's lines ends; its subsystem lines follow, up to the next one-tab or top-level line. */
  lineEnds: number[];
  /** Subsystems looked up so far, keyed "ssss:dddd" (null: absent). */
  subsystems: Map<string, string | null>;
}

interface ClassEntry {
  name: string;
  subclasses: Map<string, { name: string; progIfs: Map<string, string> }>;
}

/** A newline and a top-level line's first byte; a device line with an uppercase letter in its id. */
const TOP_LEVEL_START = /\n[^\t#\n\r ]/g;
const UPPERCASE_DEVICE = /\n\t(?!\t)[^\n]{0,3}[A-F]/;
/** Lines as libpci reads them, each matched against one whole line decoded as UTF-8 (`\r` included). */
const VENDOR_LINE = /^([0-9a-fA-F]{4})[ \t]+(\S.*?)\s*$/;
const DEVICE_LINE = /^\t([0-9a-fA-F]{4})[ \t]+(\S[^\n]*?)[ \t\r]*$/;
const SUBSYSTEM_LINE = /^\t\t([0-9a-fA-F]{4})[ \t]+([0-9a-fA-F]{4})[ \t]+(\S[^\n]*?)[ \t\r]*$/;
/** A class (`C cc`), subclass (one tab) or prog-if (two tabs) line: one regex, as one compiles faster than three. */
const CLASS_SECTION_LINE = /^(?:C[ \t]+([0-9a-fA-F]{2})|(\t\t?)([0-9a-fA-F]{2}))[ \t]+(\S.*?)\s*$/;

/**
 * The pci.ids database (https://pci-ids.ucw.cz), read lazily: the bytes are kept as they are and
 * only the lines that answer a lookup are decoded (as UTF-8), so that loading the 1.3 MB system
 * file and answering a few lookups costs a few milliseconds.
 * - A vendor is the first top-level line `id  name` with its id (in any case), found by native
 *   searches for a newline and the id. Its block runs up to the next top-level line: any line at
 *   column 0 that is not a `#` comment, blank or indented (`C cc` and stray lines end it too).
 * - A device is every one-tab line of its vendor's block with its id, found by native searches:
 *   the first names it, and each adds the subsystem lines (two tabs) that follow it up to the
 *   next one-tab line (another device, a tab-indented comment); `#` comments and blank lines at
 *   column 0 change nothing.
 * - Classes are parsed once, from the first top-level `C cc` line on: each `C` line and its
 *   indented lines up to the next top-level line.
 * Ids and names are separated by any run of spaces/tabs (the file uses two spaces), trailing
 * blanks and CRs are trimmed, and on a duplicate id the first entry wins, as in libpci.
 * Lookups take lowercase 4-hex ids (2-hex/4-hex/6-hex class codes), accept any case and an
 * optional `0x` prefix (as sysfs spells them), and return undefined for absent or malformed ids.
 */
export class PciIds {
  readonly #bytes: Buffer;
  /** The same bytes as a plain Uint8Array: its indexOf is a V8 builtin, far cheaper per call than Buffer's. */
  readonly #u8: Uint8Array;
  readonly #vendors = new Map<string, VendorBlock | null>();
  #classes: Map<string, ClassEntry> | undefined;

  private constructor(bytes: Buffer) {
    this.#bytes = bytes;
    this.#u8 = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  }

  static fromText(text: string): PciIds {
    return new PciIds(Buffer.from(text, 'utf8'));
  }

  /**
   * Reads a pci.ids file (plain, or gzip-compressed when the name ends in `.gz`) from this
   * machine and keeps its bytes; names are decoded as UTF-8 as they are looked up. Only a
   * regular file of at most `maxBytes` (inflated, for `.gz`) is read: a folder, a device such as
   * /dev/zero, a FIFO or an oversized file is refused. The file is opened non-blocking (a FIFO
   * with no writer cannot stall the open) and checked by fstat on the opened descriptor.
   */
  static fromFile(path: string, { maxBytes = PCI_IDS_MAX_BYTES }: { maxBytes?: number } = {}): PciIds {
    let bytes: Buffer;
    try {
      bytes = readInputFile(path, maxBytes);
    } catch (error) {
      if (!(error instanceof HostFsError)) throw error;
      const said = REFUSED[error.code];
      const size = /(\d+) bytes, more than/.exec(error.message)?.[1] ?? '?';
      // Otherwise the errno and its words (ENOENT no such file or directory), without hostfs's own prefix.
      const detail = said ? said(size, maxBytes) : error.message.slice(error.message.lastIndexOf(`: ${error.code}`) + 2);
      throw new PciDiscoveryError('reading', 'the pci.ids database', path, { cause: error, detail });
    }
    if (path.endsWith('.gz')) {
      try {
        bytes = gunzipSync(bytes, { maxOutputLength: maxBytes });
      } catch (error) {
        const tooLarge = (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
        throw new PciDiscoveryError('reading', 'the pci.ids database', path, {
          cause: error,
          ...(tooLarge ? { detail: `inflates to more than ${maxBytes} bytes` } : {}),
        });
      }
    }
    return new PciIds(bytes);
  }

  vendorName(vendorId: string): string | undefined {
    const v = normalizeId(vendorId, 4);
    return v === undefined ? undefined : this.#vendor(v)?.name;
  }

  deviceName(vendorId: string, deviceId: string): string | undefined {
    const v = normalizeId(vendorId, 4);
    const d = normalizeId(deviceId, 4);
    return v === undefined || d === undefined ? undefined : this.#device(v, d)?.name;
  }

  /**
   * The name of subsystem subVendor:subDevice of device vendorId:deviceId. Like libpci's
   * id_lookup_subsys (and so like lspci's SDevice), a subsystem id equal to the device's own id
   * falls back to the device name when pci.ids has no subsystem line for it.
   */
  subsystemName(vendorId: string, deviceId: string, subVendorId: string, subDeviceId: string): string | undefined {
    const v = normalizeId(vendorId, 4);
    const d = normalizeId(deviceId, 4);
    const sv = normalizeId(subVendorId, 4);
    const sd = normalizeId(subDeviceId, 4);
    if (v === undefined || d === undefined || sv === undefined || sd === undefined) return undefined;
    const device = this.#device(v, d);
    if (!device) return undefined;
    const name = this.#subsystem(device, sv, sd);
    if (name !== undefined) return name;
    return v === sv && d === sd ? device.name : undefined;
  }

  /**
   * Names for a class code: `cc`, `ccss` or `ccsspp` hex (sysfs `class` is `0xccsspp`).
   * Levels not given or not in the file are absent.
   */
  className(classCode: string): PciClassNames {
    const code = normalizeHex(classCode);
    if (code === undefined || (code.length !== 2 && code.length !== 4 && code.length !== 6)) return {};
    const cls = this.#classMap().get(code.slice(0, 2));
    if (!cls) return {};
    const out: PciClassNames = { className: cls.name };
    if (code.length < 4) return out;
    const sub = cls.subclasses.get(code.slice(2, 4));
    if (!sub) return out;
    out.subclassName = sub.name;
    if (code.length < 6) return out;
    const progIf = sub.progIfs.get(code.slice(4, 6));
    if (progIf !== undefined) out.progIfName = progIf;
    return out;
  }

  #vendor(id: string): VendorBlock | undefined {
    if (!this.#vendors.has(id)) this.#vendors.set(id, this.#findVendor(id));
    return this.#vendors.get(id) ?? undefined;
  }

  /**
   * The earliest valid vendor line for `id`: the first line, else the first valid hit of each
   * case needle's search, each search bounded by the best hit so far.
   */
  #findVendor(id: string): VendorBlock | null {
    let found = this.#vendorLine(0, id);
    for (const needle of found ? [] : caseNeedles(id)) {
      const hay = found ? this.#bytes.subarray(0, found.at) : this.#bytes;
      for (let hit = hay.indexOf(`\n${needle}`); hit >= 0; hit = hay.indexOf(`\n${needle}`, hit + 1)) {
        const line = this.#vendorLine(hit + 1, id);
        if (line) {
          found = line;
          break;
        }
      }
    }
    return found ? { name: found.name, start: found.eol, scanned: found.eol + 1, end: -1, mixedCase: false, devices: new Map() } : null;
  }

  /** The vendor line starting at `at`, when it is a valid one for `id`. */
  #vendorLine(at: number, id: string): { at: number; eol: number; name: string } | undefined {
    const blank = this.#u8[at + 4];
    if (blank !== 0x20 && blank !== 0x09) return undefined;
    const eol = lineEnd(this.#u8, at);
    const m = VENDOR_LINE.exec(this.#bytes.toString('utf8', at, eol));
    return m && m[1]!.toLowerCase() === id ? { at, eol, name: m[2]! } : undefined;
  }

  #device(vendorId: string, deviceId: string): DeviceEntry | undefined {
    const block = this.#vendor(vendorId);
    if (block && !block.devices.has(deviceId)) block.devices.set(deviceId, this.#findDevice(block, deviceId));
    return block?.devices.get(deviceId) ?? undefined;
  }

  /**
   * Whether the line starting at `to` is in the block, scanning the block from where the last
   * scan stopped up to that line (or to the block's end), 16 KiB at a time as latin1 text for
   * two native regexes rather than a JS loop per line (Intel's block has 8,500 lines: such a
   * loop gets JIT-compiled midway, at a cost). Notes whether a device id has an uppercase letter.
   */
  #reach(block: VendorBlock, to: number): boolean {
    const n = this.#u8.length;
    while (block.end < 0 && block.scanned < to) {
      const from = block.scanned - 1; // the newline before the first line not scanned yet
      const text = this.#bytes.toString('latin1', from, Math.min(to, n, from + 16384));
      TOP_LEVEL_START.lastIndex = 0;
      const top = TOP_LEVEL_START.exec(text);
      block.mixedCase ||= UPPERCASE_DEVICE.test(top ? text.slice(0, top.index) : text);
      const last = text.lastIndexOf('\n');
      if (top) block.end = from + top.index + 1;
      else if (from + text.length >= n) block.end = n;
      else block.scanned = last > 0 ? from + last + 1 : lineEnd(this.#u8, block.scanned) + 1; // (a line longer than 16 KiB)
    }
    return block.end < 0 || to < block.end;
  }

  /**
   * Every one-tab line of the block with this id, in file order; those that parse make the
   * device. An id with letters needs the whole block scanned first: only then is it known
   * whether its uppercase variants can occur.
   */
  #findDevice(block: VendorBlock, id: string): DeviceEntry | null {
    const lettered = /[a-f]/.test(id);
    if (lettered) this.#reach(block, Infinity);
    const hay = block.end >= 0 ? this.#bytes.subarray(0, block.end) : this.#bytes;
    const starts: number[] = [];
    for (const needle of lettered && block.mixedCase ? caseNeedles(id) : [id]) {
      for (let hit = hay.indexOf(`\n\t${needle}`, block.start); hit >= 0 && this.#reach(block, hit + 1); hit = hay.indexOf(`\n\t${needle}`, hit + 1)) {
        if (sameId(this.#u8, hit + 2, id)) starts.push(hit + 1);
      }
    }
    starts.sort((a, b) => a - b);
    let device: DeviceEntry | null = null;
    for (const at of starts) {
      const eol = lineEnd(this.#u8, at);
      const m = DEVICE_LINE.exec(this.#bytes.toString('utf8', at, eol));
      if (!m) continue;
      device ??= { name: m[2]!, lineEnds: [], subsystems: new Map() };
      device.lineEnds.push(eol);
    }
    return device;
  }

  /** The first subsystem line sv:sd under any of the device's lines. */
  #subsystem(device: DeviceEntry, sv: string, sd: string): string | undefined {
    const key = `${sv}:${sd}`;
    let name = device.subsystems.get(key);
    if (name !== undefined) return name ?? undefined;
    const u = this.#u8;
    name = null;
    runs: for (const eol of device.lineEnds) {
      for (let at = eol + 1; at < u.length; at = lineEnd(u, at) + 1) {
        if (u[at] !== 0x09 && isTopLevel(u[at]!)) break;
        if (u[at] !== 0x09) continue; // comments, blank and space-indented lines
        if (u[at + 1] !== 0x09) break; // a one-tab line (a device, a tab-indented comment) ends the run
        if (!sameId(u, at + 2, sv)) continue; // (only to skip decoding lines of other subsystem vendors)
        const m = SUBSYSTEM_LINE.exec(this.#bytes.toString('utf8', at, lineEnd(u, at)));
        if (m && m[1]!.toLowerCase() === sv && m[2]!.toLowerCase() === sd) {
          name = m[3]!;
          break runs;
        }
      }
    }
    device.subsystems.set(key, name);
    return name ?? undefined;
  }

  /** The first top-level `C cc` line, or -1. */
  #firstClassLine(): number {
    if (isClassLine(this.#u8, 0)) return 0;
    for (let hit = this.#bytes.indexOf('\nC'); hit >= 0; hit = this.#bytes.indexOf('\nC', hit + 1)) {
      if (isClassLine(this.#u8, hit + 1)) return hit + 1;
    }
    return -1;
  }

  /** Class blocks: a top-level `C cc` line and the lines after it, up to the next top-level line. */
  #classMap(): Map<string, ClassEntry> {
    if (this.#classes) return this.#classes;
    const classes = new Map<string, ClassEntry>();
    this.#classes = classes;
    const first = this.#firstClassLine();
    if (first < 0) return classes;
    let cls: ClassEntry | undefined;
    let sub: { name: string; progIfs: Map<string, string> } | undefined;
    for (const line of this.#bytes.toString('utf8', first, this.#u8.length).split('\n')) {
      // Any top-level line ends a class block; the indented lines of other blocks then match nothing.
      if (line !== '' && isTopLevel(line.charCodeAt(0))) cls = sub = undefined;
      const m = CLASS_SECTION_LINE.exec(line);
      if (!m) continue;
      const id = (m[1] ?? m[3]!).toLowerCase();
      if (m[1] !== undefined) {
        cls = classes.get(id) ?? { name: m[4]!, subclasses: new Map() };
        classes.set(id, cls);
        sub = undefined;
      } else if (m[2] === '\t') {
        if (!cls) continue;
        sub = cls.subclasses.get(id) ?? { name: m[4]!, progIfs: new Map() };
        cls.subclasses.set(id, sub);
      } else if (sub && !sub.progIfs.has(id)) {
        sub.progIfs.set(id, m[4]!);
      }
    }
    return classes;
  }
}

/** Where the line at `at` ends: its newline, or the end of the bytes. */
function lineEnd(bytes: Uint8Array, at: number): number {
  const eol = bytes.indexOf(0x0a, at);
  return eol < 0 ? bytes.length : eol;
}

/** A line starting with this byte is top-level: not indented, not a `#` comment, not blank (LF or CRLF). */
function isTopLevel(first: number): boolean {
  return first !== 0x09 && first !== 0x20 && first !== 0x23 && first !== 0x0a && first !== 0x0d;
}

function isClassLine(bytes: Uint8Array, at: number): boolean {
  return bytes[at] === 0x43 && (bytes[at + 1] === 0x20 || bytes[at + 1] === 0x09);
}

/** Whether the bytes at `at` spell `id` (lowercase hex) in any case; callers confirm with a line regex. */
function sameId(bytes: Uint8Array, at: number, id: string): boolean {
  // ASCII letters differ from their lowercase by 0x20; digits already have it set.
  for (let i = 0; i < id.length; i++) if ((bytes[at + i]! | 0x20) !== id.charCodeAt(i)) return false;
  return true;
}

/**
 * Needles that together find `id` (lowercase hex) in any case, at most 5: the id itself, then
 * for each letter the id up to it with that letter uppercased (so each case variant is found by
 * exactly one needle: the one of its first uppercase letter). Hits are confirmed with sameId.
 */
function caseNeedles(id: string): string[] {
  const needles = [id];
  for (let i = 0; i < id.length; i++) if (id[i]! >= 'a') needles.push(id.slice(0, i) + id[i]!.toUpperCase());
  return needles;
}

/** Lowercase hex without a `0x` prefix, or undefined when not hex. */
function normalizeHex(id: string): string | undefined {
  const s = id.trim().toLowerCase().replace(/^0x/, '');
  return /^[0-9a-f]+$/.test(s) ? s : undefined;
}

function normalizeId(id: string, length: number): string | undefined {
  const s = normalizeHex(id);
  return s !== undefined && s.length === length ? s : undefined;
}

/** What a refusal of hostfs's readInputFile means for a pci.ids, by its errno. */
const REFUSED: Record<string, (size: string, max: number) => string> = {
  EISDIR: () => 'not a regular file (a folder)',
  EINVAL: () => 'not a regular file (a device, FIFO or socket)',
  EFBIG: (size, max) => `${size} bytes is more than the ${max} a pci.ids may have`,
};
