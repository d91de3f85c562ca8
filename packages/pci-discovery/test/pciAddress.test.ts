import { describe, expect, it } from 'vitest';
import { PCI_ADDRESS_SOURCE, compareAddresses, normalizePciAddress, parsePciAddress, slotOf, trailingPciAddress } from '../src/index';

describe('PCI addresses', () => {
  it('normalises the short spelling, trims, lowercases, and refuses what is not an address', () => {
    expect(normalizePciAddress('01:00.0')).toBe('0000:01:00.0');
    expect(normalizePciAddress(' 0000:0A:1F.7 ')).toBe('0000:0a:1f.7');
    expect(normalizePciAddress('10000:e1:00.0')).toBe('10000:e1:00.0');
    for (const bad of ['0000:01:00.8', '01:20.0', '000:01:00.0', '123456789:01:00.0', 'gpu', '', '0000:01:00'])
      expect(normalizePciAddress(bad), bad).toBeUndefined();
  });

  it('parses the numbers, and orders as lspci does (numerically, VMD domains after 0000)', () => {
    expect(parsePciAddress('10000:e1:1f.7')).toEqual({ domain: 0x10000, bus: 0xe1, slot: 0x1f, function: 7 });
    expect(parsePciAddress('01:00.0')).toBeUndefined();
    expect(['10000:e0:06.0', '0000:0a:00.0', '0000:00:1f.6', 'junk', '0000:00:02.0'].sort(compareAddresses)).toEqual([
      '0000:00:02.0',
      '0000:00:1f.6',
      '0000:0a:00.0',
      '10000:e0:06.0',
      'junk',
    ]);
  });

  it('gives the slot of a function, and finds an address at the end of a check id', () => {
    expect(slotOf('0000:01:00.1')).toBe('0000:01:00');
    expect(trailingPciAddress('group.viable.0000:01:00.0')).toBe('0000:01:00.0');
    expect(trailingPciAddress('acs.10000:e0:06.0')).toBe('10000:e0:06.0');
    expect(trailingPciAddress('vfio.modules')).toBeUndefined();
    expect(new RegExp(`^x/(${PCI_ADDRESS_SOURCE})/y$`).exec('x/0000:00:1f.6/y')?.[1]).toBe('0000:00:1f.6');
  });
});
