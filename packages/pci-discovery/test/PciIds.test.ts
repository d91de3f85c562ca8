import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, it, expect } from 'vitest';
import { PciDiscoveryError, PciIds, findPciIdsFile } from '../src/index';
import { PCI_IDS_MAX_BYTES } from '../src/PciIds';

const SAMPLE = [
  '#',
  "#\tList of PCI ID's",
  '#',
  '# Syntax:',
  '# vendor  vendor_name',
  '#\tdevice  device_name\t\t\t\t<-- single tab',
  '#\t\tsubvendor subdevice  subsystem_name\t<-- two tabs',
  '',
  '10de  NVIDIA Corporation',
  '\t2204  GA102 [GeForce RTX 3090]',
  '\t\t10de 1454  GeForce RTX 3090 Founders Edition',
  '# a comment inside a vendor block',
  '\t\t1458 403b  RTX 3090 Gaming OC',
  '\t1aef  GA102 High Definition Audio Controller',
  '1AF4  Red Hat, Inc.',
  '\t1041  Virtio 1.0 network device',
  '\t1045\tVirtio 1.0 memory balloon',
  '\t1045  Duplicate entry is ignored',
  '8086  Intel Corporation',
  '\t0d57  Some Intel device   ',
  '',
  'ffff  Illegal Vendor ID',
  '',
  '# List of known device classes, subclasses and programming interfaces',
  'C 00  Unclassified device',
  '\t00  Non-VGA unclassified device',
  'C 03  Display controller',
  '\t00  VGA compatible controller',
  '\t\t00  VGA controller',
  '\t\t01  8514 controller',
  '\t02  3D controller',
  'C 0c  Serial bus controller',
  '\t03  USB controller',
  '\t\t30  XHCI',
  '',
].join('\n');

describe('PciIds on an inline pci.ids', () => {
  const ids = PciIds.fromText(SAMPLE);

  it('names vendors, in any case and with a 0x prefix', () => {
    expect(ids.vendorName('10de')).toBe('NVIDIA Corporation');
    expect(ids.vendorName('10DE')).toBe('NVIDIA Corporation');
    expect(ids.vendorName('0x10de')).toBe('NVIDIA Corporation');
    expect(ids.vendorName('1af4')).toBe('Red Hat, Inc.');
    expect(ids.vendorName('ffff')).toBe('Illegal Vendor ID');
  });

  it('names devices, keeping brackets, tab separators and trimming trailing blanks', () => {
    expect(ids.deviceName('10de', '2204')).toBe('GA102 [GeForce RTX 3090]');
    expect(ids.deviceName('10de', '1AEF')).toBe('GA102 High Definition Audio Controller');
    expect(ids.deviceName('1af4', '1045')).toBe('Virtio 1.0 memory balloon');
    expect(ids.deviceName('8086', '0d57')).toBe('Some Intel device');
  });

  it('names subsystems across comments inside the block', () => {
    expect(ids.subsystemName('10de', '2204', '10de', '1454')).toBe('GeForce RTX 3090 Founders Edition');
    expect(ids.subsystemName('10de', '2204', '1458', '403B')).toBe('RTX 3090 Gaming OC');
  });

  it('falls back to the device name for a subsystem equal to the device (as libpci does)', () => {
    expect(ids.subsystemName('1af4', '1041', '1af4', '1041')).toBe('Virtio 1.0 network device');
    expect(ids.subsystemName('1af4', '1041', '1af4', '1045')).toBeUndefined();
  });

  it('names classes, subclasses and prog-ifs', () => {
    expect(ids.className('030000')).toEqual({ className: 'Display controller', subclassName: 'VGA compatible controller', progIfName: 'VGA controller' });
    expect(ids.className('0x0c0330')).toEqual({ className: 'Serial bus controller', subclassName: 'USB controller', progIfName: 'XHCI' });
    expect(ids.className('030200')).toEqual({ className: 'Display controller', subclassName: '3D controller' });
    expect(ids.className('0380')).toEqual({ className: 'Display controller' });
    expect(ids.className('03')).toEqual({ className: 'Display controller' });
  });

  it('answers undefined for absent or malformed ids', () => {
    expect(ids.vendorName('1234')).toBeUndefined();
    expect(ids.vendorName('10d')).toBeUndefined();
    expect(ids.vendorName('zzzz')).toBeUndefined();
    expect(ids.deviceName('10de', 'ffff')).toBeUndefined();
    expect(ids.deviceName('1234', '2204')).toBeUndefined();
    expect(ids.subsystemName('10de', '2204', '1043', '0000')).toBeUndefined();
    expect(ids.subsystemName('10de', '9999', '10de', '1454')).toBeUndefined();
    expect(ids.className('ff0000')).toEqual({});
    expect(ids.className('0301')).toEqual({ className: 'Display controller' });
    expect(ids.className('03000')).toEqual({});
    // Classes are not vendors, even though `C 03` starts at column 0.
    expect(ids.vendorName('C 03')).toBeUndefined();
  });

  it('tolerates CRLF files and an empty file', () => {
    const crlf = PciIds.fromText(SAMPLE.replace(/\n/g, '\r\n'));
    expect(crlf.vendorName('10de')).toBe('NVIDIA Corporation');
    expect(crlf.deviceName('10de', '2204')).toBe('GA102 [GeForce RTX 3090]');
    expect(crlf.className('0c0330').progIfName).toBe('XHCI');
    const empty = PciIds.fromText('');
    expect(empty.vendorName('10de')).toBeUndefined();
    expect(empty.className('030000')).toEqual({});
  });

  it('reads plain and gzip files, and names the path when it cannot', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pciids-'));
    writeFileSync(join(dir, 'pci.ids'), SAMPLE);
    writeFileSync(join(dir, 'pci.ids.gz'), gzipSync(SAMPLE));
    expect(PciIds.fromFile(join(dir, 'pci.ids')).vendorName('8086')).toBe('Intel Corporation');
    expect(PciIds.fromFile(join(dir, 'pci.ids.gz')).vendorName('8086')).toBe('Intel Corporation');
    // fromFile keeps the bytes and decodes only the lines that answer; names come back as UTF-8.
    writeFileSync(join(dir, 'utf8.ids'), '1234  Société Générale Électronique\n\t5678  Gerät für Übertragung\nC 03  Display controller\n');
    const utf8 = PciIds.fromFile(join(dir, 'utf8.ids'));
    expect(utf8.vendorName('1234')).toBe('Société Générale Électronique');
    expect(utf8.deviceName('1234', '5678')).toBe('Gerät für Übertragung');
    const missing = join(dir, 'nope.ids');
    expect(() => PciIds.fromFile(missing)).toThrow(PciDiscoveryError);
    expect(() => PciIds.fromFile(missing)).toThrow(`Failed reading the pci.ids database via ${missing}: ENOENT`);
  });

  it('refuses what is not a regular file, and files over the size cap (plain or inflated)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pciids-'));
    expect(() => PciIds.fromFile(dir)).toThrow(`Failed reading the pci.ids database via ${dir}: not a regular file (a folder)`);
    expect(() => PciIds.fromFile('/dev/zero')).toThrow('Failed reading the pci.ids database via /dev/zero: not a regular file (a device, FIFO or socket)');
    expect(PCI_IDS_MAX_BYTES).toBe(64 * 1024 * 1024);
    writeFileSync(join(dir, 'pci.ids'), SAMPLE);
    writeFileSync(join(dir, 'pci.ids.gz'), gzipSync(SAMPLE));
    const size = Buffer.byteLength(SAMPLE);
    expect(PciIds.fromFile(join(dir, 'pci.ids'), { maxBytes: size }).vendorName('8086')).toBe('Intel Corporation');
    expect(() => PciIds.fromFile(join(dir, 'pci.ids'), { maxBytes: size - 1 })).toThrow(`${size} bytes is more than the ${size - 1} a pci.ids may have`);
    expect(() => PciIds.fromFile(join(dir, 'pci.ids.gz'), { maxBytes: size - 1 })).toThrow(`inflates to more than ${size - 1} bytes`);
  });
});

describe('PciIds format quirks', () => {
  it('matches ids in any case, in the file and in lookups', () => {
    const ids = PciIds.fromText(
      [
        '10dE  Mixed Vendor',
        '\t2A04  Mixed Device',
        '\t\t10De 14a4  Mixed Subsystem',
        'C 0C  Serial bus',
        '\t0A  Mixed subclass',
        '\t\tfE  Mixed prog-if',
      ].join('\n'),
    );
    expect(ids.vendorName('10de')).toBe('Mixed Vendor');
    expect(ids.vendorName('10DE')).toBe('Mixed Vendor');
    expect(ids.deviceName('10de', '2a04')).toBe('Mixed Device');
    expect(ids.deviceName('10DE', '0x2A04')).toBe('Mixed Device');
    expect(ids.subsystemName('10de', '2a04', '10DE', '14A4')).toBe('Mixed Subsystem');
    expect(ids.className('0c0afe')).toEqual({ className: 'Serial bus', subclassName: 'Mixed subclass', progIfName: 'Mixed prog-if' });
    // Ids that share a prefix with an uppercase letter are other ids.
    const near = PciIds.fromText(['10DF  Near Vendor', '10De  The Vendor', '\t2A05  Near Device', '\t2a04  The Device'].join('\n'));
    expect(near.vendorName('10de')).toBe('The Vendor');
    expect(near.deviceName('10de', '2a04')).toBe('The Device');
  });

  it('takes the first vendor line of an id whatever its case, and only that block', () => {
    const ids = PciIds.fromText(
      ['1234  Before', '10DE  Upper First', '\t0001  From the first block', '10de  Lower Second', '\t0002  From the second block'].join('\n'),
    );
    expect(ids.vendorName('10de')).toBe('Upper First');
    expect(ids.deviceName('10de', '0001')).toBe('From the first block');
    expect(ids.deviceName('10de', '0002')).toBeUndefined();
  });

  it('skips vendor-like lines that are not vendor lines', () => {
    const ids = PciIds.fromText(['10deadbeef  Not 10de', '10de', '\t0001  After an invalid line', '10de  NVIDIA', '\t0002  GPU'].join('\n'));
    expect(ids.vendorName('10de')).toBe('NVIDIA');
    expect(ids.deviceName('10de', '0001')).toBeUndefined();
    expect(ids.deviceName('10de', '0002')).toBe('GPU');
  });

  it('reads a vendor on the first line, and lines at the end without a newline', () => {
    const ids = PciIds.fromText('abcd  First Line Vendor\n\t0001  Dev\n\t\t1111 2222  Sub\nbcde  Last\n\tffff  Last Device');
    expect(ids.vendorName('ABCD')).toBe('First Line Vendor');
    expect(ids.deviceName('abcd', '0001')).toBe('Dev');
    expect(ids.subsystemName('abcd', '0001', '1111', '2222')).toBe('Sub');
    expect(ids.deviceName('bcde', 'ffff')).toBe('Last Device');
    expect(PciIds.fromText('abcd  Only').vendorName('abcd')).toBe('Only');
    expect(PciIds.fromText('abcd  Only').deviceName('abcd', '0000')).toBeUndefined();
  });

  it('reads CRLF files: ids, names, subsystems, classes', () => {
    const text = [
      '# comment',
      '',
      '10de  NVIDIA Corporation  ',
      '\t2204  GA102 [GeForce RTX 3090]\t',
      '',
      '\t\t10de 1454  Founders Edition',
      'C 03  Display controller',
      '\t00  VGA compatible controller',
      '\t\t00  VGA controller',
      '',
    ].join('\r\n');
    const ids = PciIds.fromText(text);
    expect(ids.vendorName('10de')).toBe('NVIDIA Corporation');
    expect(ids.deviceName('10de', '2204')).toBe('GA102 [GeForce RTX 3090]');
    expect(ids.subsystemName('10de', '2204', '10de', '1454')).toBe('Founders Edition');
    expect(ids.className('030000')).toEqual({ className: 'Display controller', subclassName: 'VGA compatible controller', progIfName: 'VGA controller' });
  });

  it('ends a vendor block at the next top-level line: a class, a stray line', () => {
    const ids = PciIds.fromText(
      ['ffff  Illegal Vendor ID', '\t0001  Real', 'C 00  Unclassified device', '\t0002  Not a device of ffff', '\t00  Non-VGA unclassified device'].join('\n'),
    );
    expect(ids.deviceName('ffff', '0001')).toBe('Real');
    expect(ids.deviceName('ffff', '0002')).toBeUndefined();
    expect(ids.className('0000')).toEqual({ className: 'Unclassified device', subclassName: 'Non-VGA unclassified device' });
    const stray = PciIds.fromText(['1111  One', '\t0001  Dev', 'stray line', '\t0003  After the stray', '\t00aa  Lettered after the stray'].join('\n'));
    expect(stray.deviceName('1111', '0001')).toBe('Dev');
    expect(stray.deviceName('1111', '0003')).toBeUndefined();
    expect(stray.deviceName('1111', '00aa')).toBeUndefined();
    // A subsystem run ends with its block, even when two-tab lines follow the next top-level line.
    const runs = PciIds.fromText(
      ['1111  One', '\t0001  Dev', '2222  Two', '\t\t3333 0001  Not of 1111:0001', 'C 00  Class', '\t\t3333 0002  Not either'].join('\n'),
    );
    expect(runs.deviceName('1111', '0001')).toBe('Dev');
    expect(runs.subsystemName('1111', '0001', '3333', '0001')).toBeUndefined();
    expect(runs.subsystemName('1111', '0001', '3333', '0002')).toBeUndefined();
  });

  it('finds block ends and uppercase ids at any offset in a large block, and past lines longer than 16 KiB', () => {
    // A line starts at each offset around the 16 KiB scan boundaries, after filler device lines.
    const vendor = '1111  Vendor\n';
    const at = (offset: number, line: string) => {
      const pad = offset - vendor.length;
      const fill = '\tffff  filler\n'.repeat(Math.floor(pad / 14) - 1);
      return `${vendor}${fill}#${'-'.repeat(pad - fill.length - 2)}\n${line}\n`;
    };
    for (let offset = 16384 - 4; offset <= 16384 + 16; offset++) {
      const stray = PciIds.fromText(`${at(offset, 'stray')}\t0002  After\n\t00ab  After too`);
      expect(stray.deviceName('1111', 'ffff'), `${offset}`).toBe('filler');
      expect(stray.deviceName('1111', '0002'), `${offset}`).toBeUndefined();
      expect(stray.deviceName('1111', '00ab'), `${offset}`).toBeUndefined();
      const upper = PciIds.fromText(at(offset, '\t00AB  Upper'));
      expect(upper.deviceName('1111', '00ab'), `${offset}`).toBe('Upper');
    }
    const long = `1111  Vendor\n#${'x'.repeat(40000)}\n\t0001  After a long comment\n\t0002  ${'y'.repeat(40000)}\nstray\n\t0003  Not 1111's`;
    const ids = PciIds.fromText(long);
    expect(ids.deviceName('1111', '0001')).toBe('After a long comment');
    expect(ids.deviceName('1111', '0002')).toBe('y'.repeat(40000));
    expect(ids.deviceName('1111', '0003')).toBeUndefined();
    expect(PciIds.fromText(long).deviceName('1111', '00ab')).toBeUndefined();
  });

  it("does not take a later vendor's device, with or without letters in its id", () => {
    const ids = PciIds.fromText(['1111  One', '\t0001  Dev', '2222  Two', '\t0011  Two 11', '\t00aa  Two aa'].join('\n'));
    for (const d of ['0011', '00aa', '00AA']) expect(ids.deviceName('1111', d)).toBeUndefined();
    expect(ids.deviceName('2222', '00aa')).toBe('Two aa');
    expect(ids.deviceName('2222', '0011')).toBe('Two 11');
  });

  it('keeps comments, blank and space-indented lines inside blocks and subsystem runs', () => {
    const ids = PciIds.fromText(
      ['1111  One', '# comment', '', ' space-indented', '\t0001  Dev', '#', '\t\t2222 0001  Sub A', '', '\t\t2222 0002  Sub B', '\t0002  Next'].join('\n'),
    );
    expect(ids.deviceName('1111', '0001')).toBe('Dev');
    expect(ids.subsystemName('1111', '0001', '2222', '0001')).toBe('Sub A');
    expect(ids.subsystemName('1111', '0001', '2222', '0002')).toBe('Sub B');
    expect(ids.deviceName('1111', '0002')).toBe('Next');
  });

  it('ends a subsystem run at any one-tab line, a tab-indented comment included', () => {
    const ids = PciIds.fromText(
      [
        '1111  One',
        '\t0001  Dev',
        '\t\t2222 0001  Sub A',
        '\t# a tab-indented comment',
        '\t\t2222 0002  Orphan',
        '\t0002  Next',
        '\t\t2222 0003  Of Next',
      ].join('\n'),
    );
    expect(ids.subsystemName('1111', '0001', '2222', '0001')).toBe('Sub A');
    expect(ids.subsystemName('1111', '0001', '2222', '0002')).toBeUndefined();
    expect(ids.subsystemName('1111', '0001', '2222', '0003')).toBeUndefined();
    expect(ids.subsystemName('1111', '0002', '2222', '0003')).toBe('Of Next');
  });

  it('merges duplicate device lines: the first names the device, each adds subsystems, first subsystem wins', () => {
    const ids = PciIds.fromText(
      [
        '1111  One',
        '\t00AB  First',
        '\t\t2222 0001  A1',
        '\t00cd  Other',
        '\t\t2222 0002  Of Other',
        '\t00ab  Second',
        '\t\t2222 0001  A1 again',
        '\t\t2222 0003  A3',
        '\t00ab',
      ].join('\n'),
    );
    expect(ids.deviceName('1111', '00ab')).toBe('First');
    expect(ids.subsystemName('1111', '00ab', '2222', '0001')).toBe('A1');
    expect(ids.subsystemName('1111', '00ab', '2222', '0003')).toBe('A3');
    expect(ids.subsystemName('1111', '00ab', '2222', '0002')).toBeUndefined();
    expect(ids.subsystemName('1111', '00cd', '2222', '0002')).toBe('Of Other');
  });

  it('separates ids and names by any run of spaces and tabs, and trims trailing blanks', () => {
    const ids = PciIds.fromText(['1111\t \tTabs  and  spaces \t', '\t0001 \t Dev\t \t', '\t\t2222\t0001 \tSub \r', 'C\t03 \tDisplay\t'].join('\n'));
    expect(ids.vendorName('1111')).toBe('Tabs  and  spaces');
    expect(ids.deviceName('1111', '0001')).toBe('Dev');
    expect(ids.subsystemName('1111', '0001', '2222', '0001')).toBe('Sub');
    expect(ids.className('03')).toEqual({ className: 'Display' });
  });

  it('parses classes with duplicates, classes before vendors, and ignores children of other blocks', () => {
    const ids = PciIds.fromText(
      [
        'C 03  Display',
        '\t00  VGA',
        '1111  Vendor between',
        '\t02  Not a subclass',
        '\t\t01  Not a prog-if',
        'C 03  Display again',
        '\t00  VGA again',
        '\t\t00  VGA controller',
        '\t02  3D',
        'C zz  Malformed',
        '\t05  Orphan',
      ].join('\n'),
    );
    expect(ids.className('030000')).toEqual({ className: 'Display', subclassName: 'VGA', progIfName: 'VGA controller' });
    expect(ids.className('0302')).toEqual({ className: 'Display', subclassName: '3D' });
    expect(ids.className('0301')).toEqual({ className: 'Display' });
    expect(ids.vendorName('1111')).toBe('Vendor between');
    expect(ids.deviceName('1111', '0002')).toBeUndefined();
    expect(PciIds.fromText('1111  Only a vendor\n\t0001  Dev').className('00')).toEqual({});
  });

  it('decodes UTF-8 names from text and from files', () => {
    const text = [
      '15cf  Hilscher Gesellschaft für Systemautomation mbH',
      '\t0001  Gerät à',
      '\t\t1787 201c  HD 7970 IceQ X²',
      'C 03  Contrôleur d’affichage',
      '\t00  Sous-classe é',
      '',
    ].join('\n');
    const dir = mkdtempSync(join(tmpdir(), 'pciids-'));
    writeFileSync(join(dir, 'utf8.ids'), text);
    for (const ids of [PciIds.fromText(text), PciIds.fromFile(join(dir, 'utf8.ids'))]) {
      expect(ids.vendorName('15cf')).toBe('Hilscher Gesellschaft für Systemautomation mbH');
      expect(ids.deviceName('15cf', '0001')).toBe('Gerät à');
      expect(ids.subsystemName('15cf', '0001', '1787', '201c')).toBe('HD 7970 IceQ X²');
      expect(ids.className('0300')).toEqual({ className: 'Contrôleur d’affichage', subclassName: 'Sous-classe é' });
    }
  });
});

describe('findPciIdsFile', () => {
  const only =
    (...present: string[]) =>
    (p: string) =>
      present.includes(p);

  it('prefers the Debian path, then hwdata, then /usr/share/pci.ids', () => {
    expect(findPciIdsFile(only('/usr/share/misc/pci.ids', '/usr/share/hwdata/pci.ids'))).toBe('/usr/share/misc/pci.ids');
    expect(findPciIdsFile(only('/usr/share/hwdata/pci.ids', '/usr/share/pci.ids'))).toBe('/usr/share/hwdata/pci.ids');
    expect(findPciIdsFile(only('/usr/share/pci.ids'))).toBe('/usr/share/pci.ids');
    expect(findPciIdsFile(only())).toBeUndefined();
  });

  it('takes an explicit path first, and never silently replaces a missing explicit path', () => {
    expect(findPciIdsFile(only('/opt/pci.ids', '/usr/share/misc/pci.ids'), '/opt/pci.ids')).toBe('/opt/pci.ids');
    expect(findPciIdsFile(only('/usr/share/misc/pci.ids'), '/opt/pci.ids')).toBeUndefined();
  });
});

describe('PciIds on the system pci.ids', () => {
  const path = findPciIdsFile(existsSync);

  it('is installed (pciutils)', () => {
    expect(path).toBe('/usr/share/misc/pci.ids');
  });

  // Its speed is measured by tools/bench/pci-ids.ts, not here.
  it('loads and answers vendor, device and class lookups', () => {
    const ids = PciIds.fromFile(path!);
    const vendor = ids.vendorName('10de');
    const device = ids.deviceName('10de', '2204'); // one of the largest vendor blocks
    const cls = ids.className('030000');
    expect(vendor).toBe('NVIDIA Corporation');
    expect(device).toBe('GA102 [GeForce RTX 3090]');
    expect(cls.subclassName).toBe('VGA compatible controller');
  });

  it('names well-known vendors, devices, subsystems and classes', () => {
    const ids = PciIds.fromFile(path!);
    expect(ids.vendorName('10de')).toBe('NVIDIA Corporation');
    expect(ids.vendorName('8086')).toBe('Intel Corporation');
    expect(ids.vendorName('1af4')).toBe('Red Hat, Inc.');
    expect(ids.deviceName('1af4', '1041')).toBe('Virtio 1.0 network device');
    expect(ids.deviceName('10de', '2204')).toBe('GA102 [GeForce RTX 3090]');
    expect(ids.subsystemName('1af4', '1000', '01de', 'fffb')).toBe('Propolis Virtio network device');
    expect(ids.className('030000')).toEqual({ className: 'Display controller', subclassName: 'VGA compatible controller', progIfName: 'VGA controller' });
    expect(ids.className('0c0330')).toEqual({ className: 'Serial bus controller', subclassName: 'USB controller', progIfName: 'XHCI' });
    expect(ids.className('ffff00')).toEqual({ className: 'Unassigned class' });
    // The last vendor block ends where the class section begins.
    expect(ids.vendorName('ffff')).toBe('Illegal Vendor ID');
    expect(ids.deviceName('ffff', '0000')).toBeUndefined();
  });

  it('answers undefined for absent ids', () => {
    const ids = PciIds.fromFile(path!);
    expect(ids.vendorName('0000')).toBeUndefined();
    expect(ids.deviceName('10de', 'fffe')).toBeUndefined();
    expect(ids.subsystemName('10de', '2204', 'fffe', 'fffe')).toBeUndefined();
    expect(ids.className('fe0000')).toEqual({});
  });
});

interface RefDevice {
  name: string;
  subsystems: Map<string, string>;
}
interface RefClass {
  name: string;
  subclasses: Map<string, { name: string; progIfs: Map<string, string> }>;
}

/**
 * The reference: the whole file parsed line by line into maps, first entry winning. A
 * top-level line (column 0, not a comment or blank) ends any vendor, device and class block;
 * a one-tab line ends a device's subsystem run; only the first block of a vendor id counts.
 */
function parseReference(text: string) {
  const vendors = new Map<string, { name: string; devices: Map<string, RefDevice> }>();
  const classes = new Map<string, RefClass>();
  let vendor: { name: string; devices: Map<string, RefDevice> } | undefined;
  let device: RefDevice | undefined;
  let cls: RefClass | undefined;
  let sub: { name: string; progIfs: Map<string, string> } | undefined;
  const lowered = (m: RegExpExecArray) => m[1]!.toLowerCase();
  for (const line of text.split('\n')) {
    if (line === '' || '# \r'.includes(line[0]!)) continue;
    if (line[0] !== '\t') {
      vendor = device = cls = sub = undefined;
      const c = /^C[ \t]+([0-9a-fA-F]{2})[ \t]+(\S.*?)\s*$/.exec(line);
      const v = /^([0-9a-fA-F]{4})[ \t]+(\S.*?)\s*$/.exec(line);
      if (c) {
        cls = classes.get(lowered(c)) ?? { name: c[2]!, subclasses: new Map() };
        classes.set(lowered(c), cls);
      } else if (v && !vendors.has(lowered(v))) {
        vendor = { name: v[2]!, devices: new Map() };
        vendors.set(lowered(v), vendor);
      }
    } else if (line[1] !== '\t') {
      device = undefined;
      const d = vendor && /^\t([0-9a-fA-F]{4})[ \t]+(\S.*?)[ \t\r]*$/.exec(line);
      if (vendor && d) {
        device = vendor.devices.get(lowered(d)) ?? { name: d[2]!, subsystems: new Map() };
        vendor.devices.set(lowered(d), device);
      }
      const s = cls && /^\t([0-9a-fA-F]{2})[ \t]+(\S.*?)\s*$/.exec(line);
      if (cls && s) {
        sub = cls.subclasses.get(lowered(s)) ?? { name: s[2]!, progIfs: new Map() };
        cls.subclasses.set(lowered(s), sub);
      }
    } else {
      const ss = device && /^\t\t([0-9a-fA-F]{4})[ \t]+([0-9a-fA-F]{4})[ \t]+(\S.*?)[ \t\r]*$/.exec(line);
      const key = ss && `${lowered(ss)}:${ss[2]!.toLowerCase()}`;
      if (device && ss && key && !device.subsystems.has(key)) device.subsystems.set(key, ss[3]!);
      const p = sub && /^\t\t([0-9a-fA-F]{2})[ \t]+(\S.*?)\s*$/.exec(line);
      if (sub && p && !sub.progIfs.has(lowered(p))) sub.progIfs.set(lowered(p), p[2]!);
    }
  }
  return { vendors, classes };
}

/** Every `step`th element, from a fixed start: a deterministic sample. */
const every = <T>(items: T[], step: number): T[] => items.filter((_, i) => i % step === 3 % step);

describe('PciIds against a reference parse of the system pci.ids', () => {
  const path = '/usr/share/misc/pci.ids';
  it('answers every vendor, and samples of devices, subsystems and classes, as the reference does', () => {
    // The test command installs pciutils; a bare `vitest run` without it fails here, saying why.
    if (!existsSync(path)) throw new Error(`${path} is absent: apt-get install -y pciutils`);
    const ref = parseReference(readFileSync(path, 'utf8'));
    const ids = PciIds.fromFile(path);
    const vendorIds = [...ref.vendors.keys()];
    const devices = vendorIds.flatMap((v) => [...ref.vendors.get(v)!.devices.keys()].map((d) => [v, d] as const));
    const subsystems = devices.flatMap(([v, d]) => [...ref.vendors.get(v)!.devices.get(d)!.subsystems.keys()].map((s) => [v, d, ...s.split(':')] as const));
    expect(vendorIds.length).toBeGreaterThan(2000);
    expect(devices.length).toBeGreaterThan(15000);
    expect(subsystems.length).toBeGreaterThan(10000);

    // One assertion per kind (thousands of expect() calls would dominate the time): the mismatches.
    const differ = <T>(items: readonly T[], got: (item: T) => unknown, want: (item: T) => unknown): string[] =>
      items.flatMap((item) => {
        const [g, w] = [got(item), want(item)];
        return JSON.stringify(g) === JSON.stringify(w) ? [] : [`${String(item)}: got ${JSON.stringify(g)}, want ${JSON.stringify(w)}`];
      });
    const refDevice = (v: string, d: string) => ref.vendors.get(v)?.devices.get(d);
    expect(
      differ(
        vendorIds,
        (v) => ids.vendorName(v),
        (v) => ref.vendors.get(v)!.name,
      ),
    ).toEqual([]);
    expect(
      differ(
        every(devices, 4),
        ([v, d]) => ids.deviceName(v, d),
        ([v, d]) => refDevice(v, d)!.name,
      ),
    ).toEqual([]);
    expect(
      differ(
        every(subsystems, 3),
        ([v, d, sv, sd]) => ids.subsystemName(v, d, sv!, sd!),
        ([v, d, sv, sd]) => refDevice(v, d)!.subsystems.get(`${sv}:${sd}`),
      ),
    ).toEqual([]);
    const codes = [...ref.classes].flatMap(([c, cls]) => [
      [c, { className: cls.name }] as const,
      ...[...cls.subclasses].flatMap(([s, sub]) => [
        [`${c}${s}`, { className: cls.name, subclassName: sub.name }] as const,
        ...[...sub.progIfs].map(([p, progIf]) => [`${c}${s}${p}`, { className: cls.name, subclassName: sub.name, progIfName: progIf }] as const),
      ]),
    ]);
    expect(codes.length).toBeGreaterThan(200);
    expect(
      differ(
        codes,
        ([code]) => ids.className(code),
        ([, want]) => want,
      ),
    ).toEqual([]);

    // Absent ids: vendors, devices of present vendors (some only in other vendors' blocks), subsystems.
    const absentVendors = ['0000', '0002', '0abc', 'dead', 'fffe'].filter((v) => !ref.vendors.has(v));
    expect(absentVendors.length).toBeGreaterThan(2);
    expect(absentVendors.map((v) => ids.vendorName(v))).toEqual(absentVendors.map(() => undefined));
    const crossed = every(vendorIds, 50).flatMap((v) => every(devices, 400).map(([, d]) => [v, d] as const));
    expect(
      differ(
        crossed,
        ([v, d]) => ids.deviceName(v, d),
        ([v, d]) => refDevice(v, d)?.name,
      ),
    ).toEqual([]);
    expect(
      differ(
        every(devices, 200),
        ([v, d]) => ids.subsystemName(v, d, 'fffe', 'fffe'),
        () => undefined,
      ),
    ).toEqual([]);
    expect(ids.className('fe')).toEqual({});
  });
});
