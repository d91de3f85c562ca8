// attach reads TARGET with pci-discovery's grammar (the one bind uses), then resolves it here.
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { describe, expect, it } from 'vitest';
import { LxdError, resolveTarget } from '../src/index';

const workstation = new HostFs(path.resolve(__dirname, '../../../fixtures/hosts/intel-workstation'));

const refusal = (target: string, type?: 'usb'): LxdError => {
  try {
    resolveTarget(workstation, target, type);
  } catch (error) {
    expect(error).toBeInstanceOf(LxdError);
    return error as LxdError;
  }
  throw new Error(`${target} was accepted`);
};

describe('resolveTarget: the shared TARGET grammar', () => {
  it('a mistyped PCI address is bad input, said as bind says it (not looked up as an interface)', () => {
    const error = refusal('0000:01:00.8');
    expect(error.kind).toBe('bad-input');
    expect(error.message).toBe('Failed resolving target "0000:01:00.8": not a valid PCI address (bus 00-ff, slot 00-1f, function 0-7)');
  });

  it('an interface name the kernel cannot have is bad input; USB ids keep their own spellings', () => {
    expect(refusal('eth0:1').kind).toBe('bad-input');
    expect(refusal('01:00.0', 'usb').message).toMatch(/a USB target is vendor:product in hex/);
    expect(resolveTarget(workstation, 'USB:046D:C52B', 'auto', { hostCheck: false })).toEqual({
      kind: 'usb',
      vendorId: '046d',
      productId: 'c52b',
      sysfsName: null,
    });
  });
});
