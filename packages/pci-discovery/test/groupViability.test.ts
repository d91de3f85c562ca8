import { describe, expect, it } from 'vitest';
import { blockingEndpoints, keepsGroupViable } from '../src/index';

describe('group viability (the kernel rule)', () => {
  it('vfio-pci, pci-stub and no driver keep a group viable; any host driver does not', () => {
    expect([null, 'vfio-pci', 'pci-stub', 'nvidia', 'snd_hda_intel', 'pcieport'].map(keepsGroupViable)).toEqual([true, true, true, false, false, false]);
  });

  it('names the endpoints still on a host driver, in group order, an unknown one included', () => {
    const devices = new Map([
      ['0000:01:00.0', { driver: 'vfio-pci' }],
      ['0000:01:00.1', { driver: 'snd_hda_intel' }],
      ['0000:02:00.0', { driver: null }],
      ['0000:03:00.0', { driver: 'nvme' }],
    ]);
    const group = { endpoints: ['0000:01:00.0', '0000:01:00.1', '0000:02:00.0', '0000:03:00.0', '0000:04:00.0'] };
    expect(blockingEndpoints(group, devices)).toEqual(['0000:01:00.1', '0000:03:00.0', '0000:04:00.0']);
    expect(blockingEndpoints(group, devices, '0000:03:00.0')).toEqual(['0000:01:00.1', '0000:04:00.0']);
    expect(blockingEndpoints({ endpoints: ['0000:01:00.0', '0000:02:00.0'] }, devices)).toEqual([]);
  });
});
