// lspci (pciutils), the peer tool every PCI oracle of the tests asks: the one parser of its
// `-vmm` output and the one runner. Test tooling, not product code: passthru itself never runs lspci.
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { normalizePciAddress, PCI_ADDRESS_RE, PciDiscoveryError } from '@passthru/pci-discovery';
import { execa } from 'execa';
import * as z from 'zod';

const hex = (digits: number) => z.string().regex(new RegExp(`^[0-9a-f]{${digits}}$`));

/**
 * One device as `lspci [-PP] -Dvmmnnk` prints it. Ids are lowercase hex; names are absent when
 * lspci printed its placeholder for an id missing from pci.ids (see parseLspciVmm).
 */
export const LspciRecordSchema = z.object({
  /** Domain:bus:device.function; the domain can exceed 4 hex digits (Intel VMD: `10000:e1:00.0`). */
  address: z.string().regex(PCI_ADDRESS_RE),
  /** With `-PP`: the bridge the device sits behind; absent on a root bus (and always without -PP). */
  parent: z.string().regex(PCI_ADDRESS_RE).optional(),
  vendorId: hex(4),
  deviceId: hex(4),
  /** Base class, subclass and programming interface: `030000`. */
  classCode: hex(6),
  /** The subclass name, or the base class name when pci.ids lacks the subclass (libpci's choice). */
  className: z.string().optional(),
  vendorName: z.string().optional(),
  deviceName: z.string().optional(),
  subsystemVendorId: hex(4).optional(),
  subsystemDeviceId: hex(4).optional(),
  subsystemVendorName: z.string().optional(),
  subsystemDeviceName: z.string().optional(),
  revision: hex(2).optional(),
  progIf: hex(2).optional(),
  driver: z.string().optional(),
  modules: z.array(z.string()),
  numaNode: z.number().int().optional(),
  iommuGroup: z.number().int().nonnegative().optional(),
  physSlot: z.string().optional(),
  /** Keys this parser does not model (e.g. `DeviceName:` from ACPI/SMBIOS labels), verbatim. */
  extra: z.record(z.string(), z.string()),
});
export type LspciRecord = z.infer<typeof LspciRecordSchema>;

/** Keys that may appear once per record; `Module:` is the only repeatable key lspci prints. */
const KNOWN_KEYS = new Set([
  'Slot',
  'Class',
  'Vendor',
  'Device',
  'SVendor',
  'SDevice',
  'Rev',
  'ProgIf',
  'Driver',
  'Module',
  'NUMANode',
  'IOMMUGroup',
  'PhySlot',
]);

/**
 * libpci's format_name prints `<placeholder> [id]` when pci.ids has no name for an id; those
 * placeholders become an absent name rather than a fake one.
 */
const PLACEHOLDERS: Record<string, string> = {
  Class: 'Class',
  Vendor: 'Vendor',
  Device: 'Device',
  SVendor: 'Unknown vendor',
  SDevice: 'Device',
};

const FIELD_LINE = /^([A-Za-z][A-Za-z0-9_]*):[ \t]*(.*?)\s*$/;

/**
 * Parses `lspci [-PP] -Dvmmnnk` output: records separated by blank lines, one `Key:\tValue` per line.
 * Contract and quirks:
 * - With -nn, named values are `Name [hhhh]`; names may themselves contain brackets
 *   (`GA102 [GeForce RTX 3090] [2204]`), so the id is the LAST bracket at the end of the value.
 *   Bare ids (`-n` without names) are accepted too.
 * - `Class:` carries 4 hex digits (class + subclass); ProgIf supplies the last two digits of
 *   classCode (`00` when lspci omits it).
 * - lspci prints the domain in -mm mode only with -D or for a non-zero domain; a missing domain
 *   is taken as 0000.
 * - With -PP the slot is the path from the root bus, `0000:00:01.0/01:00.0`: the domain is printed
 *   once, at the head, and holds for every element that does not print its own; the last element
 *   is the address, the one before it `parent`.
 * - Slot, Class, Vendor and Device are required; a record without them, a line that is not
 *   `Key: value`, or a repeated non-repeatable key throws a PciDiscoveryError (`via` names the
 *   source, e.g. the command line).
 * - Unknown keys are kept verbatim in `extra` (repeats joined with a newline).
 */
export function parseLspciVmm(text: string, via?: string): LspciRecord[] {
  const records: LspciRecord[] = [];
  let fields: Array<[string, string]> = [];
  let firstLine = 0;
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') {
      if (fields.length) records.push(buildRecord(fields, records.length + 1, firstLine, via));
      fields = [];
      return;
    }
    if (!fields.length) firstLine = i + 1;
    const m = FIELD_LINE.exec(line);
    if (!m) {
      throw new PciDiscoveryError('parsing', `lspci -vmm line ${i + 1}`, via, { detail: `not a "Key:\\tValue" line: ${JSON.stringify(line)}` });
    }
    fields.push([m[1]!, m[2]!]);
  });
  if (fields.length) records.push(buildRecord(fields, records.length + 1, firstLine, via));
  return records;
}

/** A -PP slot path as full addresses, root first; undefined when an element is not an address. */
function slotPath(slot: string): string[] | undefined {
  const [head, ...rest] = slot.split('/');
  const first = normalizePciAddress(head!);
  if (first === undefined) return undefined;
  const domain = first.slice(0, first.indexOf(':'));
  const path = [first];
  for (const element of rest) {
    const full = normalizePciAddress(element);
    if (full === undefined) return undefined;
    // An element that prints no domain (normalised to 0000) lies in the head's domain.
    path.push(PCI_ADDRESS_RE.test(element.trim().toLowerCase()) ? full : `${domain}${full.slice(full.indexOf(':'))}`);
  }
  return path;
}

function buildRecord(fields: Array<[string, string]>, index: number, line: number, via: string | undefined): LspciRecord {
  const single = new Map<string, string>();
  const modules: string[] = [];
  const extra: Record<string, string> = {};
  let what = `lspci -vmm record ${index} (line ${line})`;
  const fail = (detail: string, cause?: unknown): never => {
    throw new PciDiscoveryError('parsing', what, via, { detail, cause });
  };
  for (const [key, value] of fields) {
    if (key === 'Module') modules.push(value);
    else if (KNOWN_KEYS.has(key)) {
      if (single.has(key)) fail(`repeated ${key} field`);
      single.set(key, value);
    } else extra[key] = key in extra ? `${extra[key]}\n${value}` : value;
  }

  const slot = single.get('Slot');
  if (slot === undefined) return fail('no Slot field');
  const path = slotPath(slot) ?? fail(`bad Slot ${JSON.stringify(slot)}`);
  const address = path[path.length - 1]!;
  what = `lspci -vmm record ${address} (line ${line})`;

  const named = (key: string, digits: number, required: boolean): { id: string; name?: string } | undefined => {
    const value = single.get(key);
    if (value === undefined) return required ? fail(`no ${key} field`) : undefined;
    return parseNamedId(value, digits, PLACEHOLDERS[key]) ?? fail(`bad ${key} ${JSON.stringify(value)}: expected "Name [${'h'.repeat(digits)}]"`);
  };
  const hexField = (key: string): string | undefined => {
    const value = single.get(key);
    if (value === undefined) return undefined;
    return /^[0-9a-fA-F]{2}$/.test(value) ? value.toLowerCase() : fail(`bad ${key} ${JSON.stringify(value)}: expected 2 hex digits`);
  };
  const intField = (key: string): number | undefined => {
    const value = single.get(key);
    if (value === undefined) return undefined;
    return /^-?\d+$/.test(value) ? Number(value) : fail(`bad ${key} ${JSON.stringify(value)}: expected an integer`);
  };

  const cls = named('Class', 4, true)!;
  const vendor = named('Vendor', 4, true)!;
  const device = named('Device', 4, true)!;
  const sVendor = named('SVendor', 4, false);
  const sDevice = named('SDevice', 4, false);
  const revision = hexField('Rev');
  const progIf = hexField('ProgIf');

  const record: LspciRecord = {
    address,
    vendorId: vendor.id,
    deviceId: device.id,
    classCode: cls.id + (progIf ?? '00'),
    modules,
    extra,
  };
  if (path.length > 1) record.parent = path[path.length - 2]!;
  if (cls.name !== undefined) record.className = cls.name;
  if (vendor.name !== undefined) record.vendorName = vendor.name;
  if (device.name !== undefined) record.deviceName = device.name;
  if (sVendor) {
    record.subsystemVendorId = sVendor.id;
    if (sVendor.name !== undefined) record.subsystemVendorName = sVendor.name;
  }
  if (sDevice) {
    record.subsystemDeviceId = sDevice.id;
    if (sDevice.name !== undefined) record.subsystemDeviceName = sDevice.name;
  }
  if (revision !== undefined) record.revision = revision;
  if (progIf !== undefined) record.progIf = progIf;
  const driver = single.get('Driver');
  if (driver !== undefined) record.driver = driver;
  const numaNode = intField('NUMANode');
  if (numaNode !== undefined) record.numaNode = numaNode;
  const iommuGroup = intField('IOMMUGroup');
  if (iommuGroup !== undefined) record.iommuGroup = iommuGroup;
  const physSlot = single.get('PhySlot');
  if (physSlot !== undefined) record.physSlot = physSlot;

  const checked = LspciRecordSchema.safeParse(record);
  return checked.success ? checked.data : fail('record does not match LspciRecordSchema', checked.error);
}

/** `Name [hhhh]` (last bracket wins), or a bare id; undefined when neither. */
function parseNamedId(value: string, digits: number, placeholder: string | undefined): { id: string; name?: string } | undefined {
  const bare = new RegExp(`^[0-9a-fA-F]{${digits}}$`);
  if (bare.test(value)) return { id: value.toLowerCase() };
  const m = new RegExp(`^(.*?)\\s*\\[([0-9a-fA-F]{${digits}})\\]$`).exec(value);
  if (!m) return undefined;
  const name = m[1]!;
  const id = m[2]!.toLowerCase();
  return name === '' || name === placeholder ? { id } : { id, name };
}

/**
 * Runs a program to completion. Contract: resolves for every process that ran, whatever its
 * exit code; rejects only when the program could not be started, with node's errno `code`
 * kept on the rejection (ENOENT: not installed).
 */
export type Runner = (file: string, args: string[]) => Promise<{ stdout: string; stderr: string; exitCode: number }>;

/**
 * The Runner on execa 9 (`reject: false`). A spawn failure (no exit code and no signal) is
 * rethrown as execa's error, which carries `code`; a process killed by a signal resolves with
 * the shell's convention, exit code 128 + signal number.
 */
export const execaRunner: Runner = async (file, args) => {
  const result = await execa(file, args, { reject: false });
  if (result.exitCode === undefined && result.signal === undefined) throw result;
  const exitCode = result.exitCode ?? 128 + (result.signal ? (constants.signals[result.signal] ?? 0) : 0);
  return { stdout: result.stdout, stderr: result.stderr, exitCode };
};

export interface LspciOptions {
  /** A fixture root DIR: lspci then reads DIR/sys/bus/pci through its linux-sysfs backend. */
  sysfsRoot?: string;
  /** The pci.ids file lspci names devices from (`-i FILE`). */
  pciIds?: string;
}

/** The lspci argument list for these options (exported so oracles can print the exact command). */
export function lspciArgs(options: LspciOptions = {}): string[] {
  const args = ['-Dvmmnnk'];
  if (options.sysfsRoot !== undefined) args.push('-A', 'linux-sysfs', '-O', `sysfs.path=${join(options.sysfsRoot, 'sys/bus/pci')}`);
  // hwdb (udev) names would override pci.ids and differ between machines.
  args.push('-O', 'hwdb.disable=1');
  if (options.pciIds !== undefined) args.push('-i', options.pciIds);
  return args;
}

/**
 * Runs `lspci -Dvmmnnk [-A linux-sysfs -O sysfs.path=ROOT/sys/bus/pci] -O hwdb.disable=1 [-i FILE]`
 * and parses its records. lspci is a test oracle, so nothing is swallowed: a non-zero exit or any
 * stderr line starting with `pcilib:` (libpci reports an unreadable sysfs tree there, sometimes
 * still exiting 0) throws a PciDiscoveryError naming the command and carrying stderr. Other
 * stderr lines are warnings (e.g. "lspci: Unable to load libkmod resources" when a host has no
 * modules.dep) and are ignored. lspci given a missing `-i FILE` silently prints placeholder
 * names with exit 0, so the file's existence is checked first (`exists` checks this machine).
 */
export async function runLspci(options: LspciOptions = {}, run: Runner = execaRunner, exists: (path: string) => boolean = existsSync): Promise<LspciRecord[]> {
  const args = lspciArgs(options);
  const command = ['lspci', ...args].join(' ');
  if (options.pciIds !== undefined && !exists(options.pciIds)) {
    throw new PciDiscoveryError('listing', 'PCI devices', command, {
      detail: `the pci.ids file ${options.pciIds} does not exist (lspci would silently print unnamed ids)`,
    });
  }
  let result: Awaited<ReturnType<Runner>>;
  try {
    result = await run('lspci', args);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    throw new PciDiscoveryError('listing', 'PCI devices', command, {
      cause: error,
      detail: code === 'ENOENT' ? 'lspci is not installed (apt-get install -y pciutils)' : undefined,
    });
  }
  const stderr = result.stderr.trim();
  const pcilibErrors = stderr.split('\n').filter((line) => line.startsWith('pcilib:'));
  if (result.exitCode !== 0 || pcilibErrors.length > 0) {
    throw new PciDiscoveryError('listing', 'PCI devices', command, {
      detail: `exit code ${result.exitCode}${stderr ? `; stderr: ${stderr}` : ''}`,
    });
  }
  return parseLspciVmm(result.stdout, command);
}
