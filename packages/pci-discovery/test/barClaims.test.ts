// Who holds a device's BARs: /proc/iomem read against its resource file. The texts are the
// kernel's own: the std VGA and its efifb claim are what the kernel lab's UEFI guest (Debian's
// 6.1 under OVMF) printed; the sysfb layout is the one a simple-framebuffer kernel prints.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { afterAll, describe, expect, it } from 'vitest';
import { claimsOnBars, describeResource, parseIomem, parsePciResources, readBarClaims, readIomem } from '../src/index';

/** From the lab's UEFI guest: the boot display 00:01.0 with efifb in BAR 0, and the card behind a root port. */
const GUEST_IOMEM = `00000000-00000fff : Reserved
b0000000-bfffffff : PCI MMCONFIG 0000 [bus 00-ff]
  b0000000-bfffffff : Reserved
    b0000000-bfffffff : pnp 00:04
c0000000-febfffff : PCI Bus 0000:00
  c0000000-c0ffffff : 0000:00:01.0
    c0000000-c03e7fff : efifb
  c1000000-c20fffff : PCI Bus 0000:04
    c1000000-c1ffffff : 0000:04:00.0
    c2000000-c2003fff : 0000:04:00.1
      c2000000-c2003fff : ICH HD audio
  c2c49000-c2c49fff : 0000:00:01.0
`;
/** The std VGA's resource file in that guest: BAR 0 32-bit prefetchable, BAR 2 the MMIO registers, the rest unassigned. */
const VGA_RESOURCE = [
  '0x00000000c0000000 0x00000000c0ffffff 0x0000000000042208',
  '0x0000000000000000 0x0000000000000000 0x0000000000000000',
  '0x00000000c2c49000 0x00000000c2c49fff 0x0000000000040200',
  ...Array.from({ length: 10 }, () => '0x0000000000000000 0x0000000000000000 0x0000000000000000'),
].join('\n');
const VGA = { address: '0000:00:01.0', driver: null };

describe('parseIomem', () => {
  it('reads ranges, names (with spaces) and nesting levels, in file order', () => {
    const { entries, hidden } = parseIomem(GUEST_IOMEM);
    expect(hidden).toBe(false);
    expect(entries.find((e) => e.name === 'efifb')).toMatchObject({ start: 0xc0000000n, end: 0xc03e7fffn, depth: 2 });
    expect(entries.find((e) => e.name === 'PCI MMCONFIG 0000 [bus 00-ff]')).toMatchObject({ depth: 0, start: 0xb0000000n });
    expect(entries.map((e) => e.order)).toEqual(entries.map((_, i) => i));
  });

  it('says when every address is 0 (read without CAP_SYS_ADMIN), names kept', () => {
    const zeroed = GUEST_IOMEM.replace(/[0-9a-f]+-[0-9a-f]+ :/g, '00000000-00000000 :');
    const parsed = parseIomem(zeroed);
    expect(parsed.hidden).toBe(true);
    expect(parsed.entries.some((e) => e.name === 'efifb')).toBe(true);
    expect(claimsOnBars(parsed, parsePciResources(VGA_RESOURCE), VGA)).toEqual([]);
  });
});

describe('parsePciResources and describeResource', () => {
  it("keeps assigned lines with their index, decodes the kernel's flags, names them as the kernel does", () => {
    const resources = parsePciResources(
      [
        '0x00000000fb000000 0x00000000fbffffff 0x0000000000040200',
        '0x0000006000000000 0x000000600fffffff 0x000000000014220c',
        '0x0000000000000000 0x0000000000000000 0x0000000000000000',
        '0x0000000000000000 0x0000000000000000 0x0000000000000000',
        '0x0000000000000000 0x0000000000000000 0x0000000000000000',
        '0x000000000000f000 0x000000000000f07f 0x0000000000040101',
        '0x00000000fc000000 0x00000000fc07ffff 0x0000000000046200',
      ].join('\n'),
    );
    expect(resources.map((r) => [r.index, r.space, r.is64, r.prefetchable])).toEqual([
      [0, 'mem', false, false],
      [1, 'mem', true, true],
      [5, 'io', false, false],
      [6, 'mem', false, true],
    ]);
    expect(resources.map(describeResource)).toEqual([
      'BAR 0 [mem 0xfb000000-0xfbffffff]',
      'BAR 1 [mem 0x6000000000-0x600fffffff 64bit pref]',
      'BAR 5 [io 0xf000-0xf07f]',
      'ROM [mem 0xfc000000-0xfc07ffff pref]',
    ]);
  });
});

describe('claimsOnBars', () => {
  const resources = parsePciResources(VGA_RESOURCE);

  it("the lab guest's efifb: a framebuffer claim in BAR 0; BAR 2 and the neighbours' entries hold nothing of it", () => {
    const claims = claimsOnBars(parseIomem(GUEST_IOMEM), resources, VGA);
    expect(claims.map((c) => [c.holder, c.kind, c.bar.index, c.entry.line.trim()])).toEqual([['efifb', 'framebuffer', 0, 'c0000000-c03e7fff : efifb']]);
  });

  it("sysfb's simple-framebuffer: BOOTFB and simpledrm under it are both the firmware framebuffer", () => {
    const iomem = GUEST_IOMEM.replace('    c0000000-c03e7fff : efifb\n', '    c0000000-c03e7fff : BOOTFB\n      c0000000-c03e7fff : simpledrm\n');
    expect(claimsOnBars(parseIomem(iomem), resources, VGA).map((c) => `${c.holder} ${c.kind}`)).toEqual(['BOOTFB framebuffer', 'simpledrm framebuffer']);
  });

  it('a claim of the whole BAR nested under it counts; an ancestor spanning it (bus window, firmware reservation) does not', () => {
    const whole = GUEST_IOMEM.replace('    c0000000-c03e7fff : efifb', '    c0000000-c0ffffff : vesafb');
    expect(claimsOnBars(parseIomem(whole), resources, VGA).map((c) => c.holder)).toEqual(['vesafb']);
    const reserved = `c0000000-c0ffffff : Reserved\n${GUEST_IOMEM.replace('    c0000000-c03e7fff : efifb\n', '')}`;
    expect(claimsOnBars(parseIomem(reserved), resources, VGA)).toEqual([]);
  });

  it("whose a claim is: the bound driver's (released on unbind), vfio-pci's own, or another's", () => {
    const iomem = parseIomem(GUEST_IOMEM.replace('    c0000000-c03e7fff : efifb', '    c0000000-c03e7fff : bochs-drm'));
    const kinds = (driver: string | null) => claimsOnBars(iomem, resources, { address: VGA.address, driver }).map((c) => c.kind);
    expect(kinds('bochs-drm')).toEqual(['driver']);
    expect(kinds(null)).toEqual(['other']);
    expect(kinds('vfio-pci')).toEqual(['other']);
    const vfio = parseIomem(GUEST_IOMEM.replace('    c0000000-c03e7fff : efifb', '    c0000000-c0ffffff : vfio'));
    expect(claimsOnBars(vfio, resources, { address: VGA.address, driver: 'vfio-pci' }).map((c) => c.kind)).toEqual(['driver']);
  });

  it('nesting past level 5 prints at level 5: a claim is still found by its range', () => {
    const deep = ['c0000000-febfffff : PCI Bus 0000:00', ...[1, 2, 3, 4].map((n) => `${'  '.repeat(n)}c0000000-c1ffffff : PCI Bus 0000:0${n}`)];
    const text = [...deep, '          c0000000-c0ffffff : 0000:05:00.0', '          c0000000-c03e7fff : efifb', ''].join('\n');
    const claims = claimsOnBars(parseIomem(text), resources, { address: '0000:05:00.0', driver: null });
    expect(claims.map((c) => c.holder)).toEqual(['efifb']);
  });
});

describe('readBarClaims through HostFs', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bar-claims-'));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  const write = (p: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), text);
  };
  write(`sys/bus/pci/devices/${VGA.address}/resource`, VGA_RESOURCE);
  const host = new HostFs(root);

  it('says which file it lacks: /proc/iomem, its addresses (not root), or the resource file', () => {
    expect(readBarClaims(host, VGA).missing).toEqual({ path: '/proc/iomem', why: 'absent' });
    write('proc/iomem', GUEST_IOMEM.replace(/[0-9a-f]+-[0-9a-f]+ :/g, '00000000-00000000 :'));
    expect(readBarClaims(host, VGA).missing).toEqual({ path: '/proc/iomem', why: 'hidden' });
    write('proc/iomem', GUEST_IOMEM);
    expect(readBarClaims(host, { address: '0000:00:02.0', driver: null }).missing).toMatchObject({
      path: '/sys/bus/pci/devices/0000:00:02.0/resource',
      why: 'absent',
    });
  });

  it('reads the claims with /proc/iomem read once for many devices', () => {
    write('proc/iomem', GUEST_IOMEM);
    const once = readIomem(host);
    fs.rmSync(path.join(root, 'proc/iomem'));
    const read = readBarClaims(host, VGA, once);
    expect(read.missing).toBeUndefined();
    expect(read.claims.map((c) => c.holder)).toEqual(['efifb']);
    expect(read.resources.map((r) => r.index)).toEqual([0, 2]);
  });
});
