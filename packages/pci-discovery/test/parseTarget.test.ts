import { describe, expect, it } from 'vitest';
import { PciDiscoveryError, parseTarget } from '../src/index';

const refusal = (raw: string): PciDiscoveryError => {
  try {
    parseTarget(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(PciDiscoveryError);
    return error as PciDiscoveryError;
  }
  throw new Error(`${JSON.stringify(raw)} was accepted`);
};

describe('the TARGET grammar', () => {
  it('reads every spelling, hex in either case', () => {
    expect(parseTarget('01:00.1')).toEqual({ kind: 'address', address: '0000:01:00.1', text: '01:00.1' });
    expect(parseTarget('10000:E1:00.0')).toMatchObject({ kind: 'address', address: '10000:e1:00.0' });
    expect(parseTarget('10DE:2684')).toEqual({ kind: 'ids', vendorId: '10de', deviceId: '2684', text: '10DE:2684' });
    expect(parseTarget('group:12')).toMatchObject({ kind: 'group', group: 12 });
    expect(parseTarget('enp3s0f0')).toEqual({ kind: 'interface', name: 'enp3s0f0', text: 'enp3s0f0' });
    expect(parseTarget('usb:046D:C52B')).toMatchObject({ kind: 'usb', vendorId: '046d', productId: 'c52b' });
  });

  it('says why a target is refused, in one short line that starts "Failed parsing target"', () => {
    expect(refusal('').message).toBe(
      'Failed parsing target "": empty target; expected a PCI address (0000:01:00.0 or 01:00.0), vendor:device (10de:2684), group:N or a network interface name',
    );
    expect(refusal('0000:01:00.8').detail).toBe('not a valid PCI address (bus 00-ff, slot 00-1f, function 0-7)');
    expect(refusal('01:20.0').detail).toMatch(/^not a valid PCI address/);
    expect(refusal('usb:zz').detail).toMatch(/^a USB target is vendor:product/);
    for (const raw of ['no such thing!', 'group:-1', 'group:1e3', 'eth0:1', '..', '../../etc', 'gpu\u00e9', '01:00.0\0'])
      expect(refusal(raw).detail, raw).toMatch(/^expected a PCI address/);
    const long = refusal('a'.repeat(100_000));
    expect(long.message.length).toBeLessThan(300);
    expect(long.what).toBe(`target "${'a'.repeat(40)}... (100000 characters)"`);
  });
});
