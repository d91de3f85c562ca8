import { existsSync } from 'node:fs';
import { mkdtempSync, writeFileSync } from 'node:fs';
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
    // fromFile scans a latin1 view of the bytes; names come back as UTF-8.
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
