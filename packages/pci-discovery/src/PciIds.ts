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
  /** Text offsets of the vendor's child lines: just after the vendor line, up to the next top-level line. */
  start: number;
  end: number;
  /** Devices looked up so far (null: not in the block). */
  devices: Map<string, DeviceEntry | null>;
}

interface DeviceEntry {
  name: string;
  /** Keyed "ssss:dddd" (subsystem vendor, subsystem device). */
  subsystems: Map<string, string>;
}

interface ClassEntry {
  name: string;
  subclasses: Map<string, { name: string; progIfs: Map<string, string> }>;
}

/** A top-level line: anything at column 0 that is not a comment, an indent or blank. */
const TOP_LEVEL_LINE = /(?:^|\n)([^\t#\n\r ][^\n]*)/g;
/** A device line of a vendor block (one tab) and a subsystem line (two tabs), as libpci reads them. */
const DEVICE_LINE = /^\t([0-9a-fA-F]{4})[ \t]+(\S[^\n]*?)[ \t\r]*$/;
const SUBSYSTEM_LINE = /^\t\t([0-9a-fA-F]{4})[ \t]+([0-9a-fA-F]{4})[ \t]+(\S[^\n]*?)[ \t\r]*$/;
const VENDOR_LINE = /^([0-9a-fA-F]{4})[ \t]+(\S.*?)\s*$/;
const CLASS_LINE = /^C[ \t]+([0-9a-fA-F]{2})[ \t]+(\S.*?)\s*$/;
const SUBCLASS_LINE = /^\t([0-9a-fA-F]{2})[ \t]+(\S.*?)\s*$/;
const PROGIF_LINE = /^\t\t([0-9a-fA-F]{2})[ \t]+(\S.*?)\s*$/;
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * The pci.ids database (https://pci-ids.ucw.cz), parsed lazily so that loading the 1.3 MB
 * system file and answering one lookup costs a few milliseconds:
 * - the text is kept as one string (fromFile: latin1, see there);
 * - the first lookup indexes top-level lines (vendor blocks and `C cc` class blocks) by text
 *   offset with one regex pass that skips the indented lines;
 * - a device is found by one pass over its vendor's lines that compares the id in place and
 *   parses only that device's lines (Intel's block alone has thousands), then cached;
 * - the class section is parsed once, on the first className().
 * Format quirks honoured: ids and names are separated by any run of spaces/tabs (the file uses
 * two spaces), `#` comments and blank lines may appear anywhere, CRLF line ends are tolerated,
 * ids are hex in any case. On a duplicate id the first entry wins, as in libpci.
 * Lookups take lowercase 4-hex ids (2-hex/4-hex/6-hex class codes), accept any case and an
 * optional `0x` prefix (as sysfs spells them), and return undefined for absent or malformed ids.
 */
export class PciIds {
  /** The file text; when #latin1, one char per byte, so UTF-8 names are decoded on demand. */
  readonly #text: string;
  readonly #latin1: boolean;
  #vendors: Map<string, VendorBlock> | undefined;
  #classBlocks: Array<[number, number]> = [];
  #classes: Map<string, ClassEntry> | undefined;

  private constructor(text: string, latin1: boolean) {
    this.#text = text;
    this.#latin1 = latin1;
  }

  static fromText(text: string): PciIds {
    return new PciIds(text, false);
  }

  /**
   * Reads a pci.ids file (plain, or gzip-compressed when the name ends in `.gz`) from this
   * machine. The bytes are kept as a latin1 string (a third of the cost of UTF-8 decoding the
   * whole file); the structure characters are ASCII, and names are UTF-8 decoded as they are
   * looked up. Only a regular file of at most `maxBytes` (inflated, for `.gz`) is read: a
   * folder, a device such as /dev/zero, a FIFO or an oversized file is refused. The file is
   * opened non-blocking (a FIFO with no writer cannot stall the open) and checked by fstat on
   * the opened descriptor.
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
    let text: Buffer = bytes;
    if (path.endsWith('.gz')) {
      try {
        text = gunzipSync(bytes, { maxOutputLength: maxBytes });
      } catch (error) {
        const tooLarge = (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
        throw new PciDiscoveryError('reading', 'the pci.ids database', path, {
          cause: error,
          ...(tooLarge ? { detail: `inflates to more than ${maxBytes} bytes` } : {}),
        });
      }
    }
    return new PciIds(text.toString('latin1'), true);
  }

  vendorName(vendorId: string): string | undefined {
    const v = normalizeId(vendorId, 4);
    return v === undefined ? undefined : this.#index().get(v)?.name;
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
    const name = device?.subsystems.get(`${sv}:${sd}`);
    if (name !== undefined) return name;
    return v === sv && d === sd ? device?.name : undefined;
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

  #device(vendorId: string, deviceId: string): DeviceEntry | undefined {
    const block = this.#index().get(vendorId);
    if (!block) return undefined;
    let device = block.devices.get(deviceId);
    if (device === undefined) {
      device = this.#findDevice(block, deviceId);
      block.devices.set(deviceId, device);
    }
    return device ?? undefined;
  }

  /** A name as it appears in the file. */
  #name(raw: string): string {
    return this.#latin1 && NON_ASCII.test(raw) ? Buffer.from(raw, 'latin1').toString('utf8') : raw;
  }

  /** One regex pass that visits only top-level lines (vendors, `C cc` classes, strays). */
  #index(): Map<string, VendorBlock> {
    if (this.#vendors) return this.#vendors;
    const text = this.#text;
    const vendors = new Map<string, VendorBlock>();
    let open: VendorBlock | undefined;
    let classStart = -1;
    const closeAt = (pos: number): void => {
      if (open) open.end = pos;
      open = undefined;
      if (classStart >= 0) this.#classBlocks.push([classStart, pos]);
      classStart = -1;
    };
    const re = new RegExp(TOP_LEVEL_LINE.source, TOP_LEVEL_LINE.flags);
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const line = m[1]!;
      const lineStart = m.index + m[0].length - line.length;
      const lineEnd = m.index + m[0].length;
      // Any top-level line ends the previous block, whatever it is.
      closeAt(lineStart);
      if (line.startsWith('C ') || line.startsWith('C\t')) {
        classStart = lineStart;
        continue;
      }
      const v = VENDOR_LINE.exec(line);
      if (!v) continue;
      const id = v[1]!.toLowerCase();
      if (vendors.has(id)) continue;
      open = { name: this.#name(v[2]!), start: lineEnd, end: text.length, devices: new Map() };
      vendors.set(id, open);
    }
    closeAt(text.length);
    this.#vendors = vendors;
    return vendors;
  }

  /**
   * One device of a vendor block: its first device line names it (a duplicate line later adds
   * its subsystems, first entry winning, as libpci does); subsystem lines belong to the device
   * line above them until the next one-tab line; comments and blank lines change nothing. Only
   * lines whose id matches (case-insensitive, compared in place) are parsed.
   */
  #findDevice(block: VendorBlock, deviceId: string): DeviceEntry | null {
    const text = this.#text;
    let device: DeviceEntry | null = null;
    let inDevice = false;
    for (let pos = block.start; pos < block.end; ) {
      let eol = text.indexOf('\n', pos);
      if (eol < 0 || eol > block.end) eol = block.end;
      if (text.charCodeAt(pos) === 0x09) {
        if (text.charCodeAt(pos + 1) !== 0x09) {
          const m = sameId(text, pos + 1, deviceId) ? DEVICE_LINE.exec(text.slice(pos, eol)) : null;
          inDevice = m !== null;
          if (m && !device) device = { name: this.#name(m[2]!), subsystems: new Map() };
        } else if (inDevice) {
          const m = SUBSYSTEM_LINE.exec(text.slice(pos, eol));
          const key = m ? `${m[1]!.toLowerCase()}:${m[2]!.toLowerCase()}` : undefined;
          if (key !== undefined && !device!.subsystems.has(key)) device!.subsystems.set(key, this.#name(m![3]!));
        }
      }
      pos = eol + 1;
    }
    return device;
  }

  #classMap(): Map<string, ClassEntry> {
    if (this.#classes) return this.#classes;
    this.#index();
    const classes = new Map<string, ClassEntry>();
    for (const [start, end] of this.#classBlocks) {
      let cls: ClassEntry | undefined;
      let sub: { name: string; progIfs: Map<string, string> } | undefined;
      for (const line of this.#text.slice(start, end).split('\n')) {
        let m = CLASS_LINE.exec(line);
        if (m) {
          const id = m[1]!.toLowerCase();
          cls = classes.get(id) ?? { name: this.#name(m[2]!), subclasses: new Map() };
          classes.set(id, cls);
          sub = undefined;
          continue;
        }
        m = PROGIF_LINE.exec(line);
        if (m) {
          const id = m[1]!.toLowerCase();
          if (sub && !sub.progIfs.has(id)) sub.progIfs.set(id, this.#name(m[2]!));
          continue;
        }
        m = SUBCLASS_LINE.exec(line);
        if (m) {
          const id = m[1]!.toLowerCase();
          if (!cls) continue;
          sub = cls.subclasses.get(id) ?? { name: this.#name(m[2]!), progIfs: new Map() };
          cls.subclasses.set(id, sub);
        }
      }
    }
    this.#classes = classes;
    return classes;
  }
}

/** Whether the 4 characters at `at` spell `id` (lowercase hex) in any case. */
function sameId(text: string, at: number, id: string): boolean {
  for (let i = 0; i < 4; i++) {
    const c = text.charCodeAt(at + i);
    // ASCII letters differ from their lowercase by 0x20; digits already have it set.
    if ((c | 0x20) !== id.charCodeAt(i)) return false;
  }
  return true;
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
