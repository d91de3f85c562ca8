// TARGETs for bind/restore/persist: the grammar is pci-discovery's; here its refusals become
// usage errors, and what the grammar reads but bind cannot take is refused at resolution.
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { PciDiscoveryError, readIommuGroups, scanPciDevices } from '@passthru/pci-discovery';
import { describe, expect, it } from 'vitest';
import { parseTarget, resolveTargets } from '../src/bind/targets';
import { VfioBinderError } from '../src/VfioBinderError';

const host = new HostFs(path.resolve(__dirname, '../../../fixtures/hosts/intel-workstation'));

const thrown = (f: () => unknown): VfioBinderError => {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(VfioBinderError);
    return error as VfioBinderError;
  }
  throw new Error('nothing was thrown');
};

describe('bind targets', () => {
  it("a grammar refusal is a usage error with the grammar's own message, the parse error kept as cause", () => {
    const error = thrown(() => parseTarget('0000:01:00.8'));
    expect(error.kind).toBe('bad-input');
    expect(error.message).toBe('Failed parsing target "0000:01:00.8": not a valid PCI address (bus 00-ff, slot 00-1f, function 0-7)');
    expect(error.cause).toBeInstanceOf(PciDiscoveryError);
  });

  it('a USB target parses, but bind refuses it as a usage error', () => {
    const { devices } = scanPciDevices(host);
    const error = thrown(() => resolveTargets([parseTarget('usb:046d:c52b')], devices, readIommuGroups(host, devices)));
    expect(error.kind).toBe('bad-input');
    expect(error.message).toMatch(/^Failed resolving target "usb:046d:c52b": a USB device, not a PCI function/);
  });
});
