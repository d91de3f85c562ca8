import { describe, expect, it } from 'vitest';
import { notPassable, platformFunction, platformFunctionsOf, type PciDevice } from '../src/index';
import { describePlatformFunctions } from '../src/platformFunction';

const dev = (address: string, cls: string, vendorId = '8086', deviceId = '0000', parent: string | null = null) => ({
  address,
  class: cls,
  vendorId,
  deviceId,
  parent,
});

describe('platformFunction', () => {
  it('names the chipset and root-complex functions by class code', () => {
    const kinds = [
      dev('0000:00:00.0', '060000'),
      dev('0000:00:1f.0', '060100'),
      dev('0000:00:14.2', '050000'),
      dev('0000:00:1f.4', '0c0500'),
      dev('0000:00:00.2', '080600', '1022'),
      dev('0000:00:08.0', '088000'),
      dev('0000:00:04.0', '118000'),
      dev('0000:ff:0a.0', '058000'),
    ].map((d) => platformFunction(d)?.kind);
    expect(kinds).toEqual([
      'host bridge',
      'ISA bridge',
      'RAM memory',
      'SMBus controller',
      'IOMMU',
      'system peripheral',
      'signal processing controller',
      'memory controller',
    ]);
  });

  it('takes class 0c80 for the SPI flash controller only with an Intel SPI id (a GPU UCSI function is 0c80 too)', () => {
    expect(platformFunction(dev('0000:00:1f.5', '0c8000', '8086', '7aa4'))?.kind).toBe('SPI flash controller');
    expect(platformFunction(dev('0000:00:1f.5', '0c8000', '8086', 'a324'))?.kind).toBe('SPI flash controller');
    expect(platformFunction(dev('0000:01:00.3', '0c8000', '10de', '1ad9', '0000:00:01.0'))).toBeUndefined();
    expect(platformFunction(dev('0000:00:15.0', '0c8000', '8086', '7acc'))).toBeUndefined(); // Serial IO I2C
  });

  it('leaves add-in cards with a root-bus-only class alone (an FPGA at 0580, a DSP card at 1180), and ordinary endpoints', () => {
    expect(platformFunction(dev('0000:03:00.0', '058000', '10ee', '7024', '0000:00:1c.0'))).toBeUndefined();
    expect(platformFunction(dev('0000:04:00.0', '118000', '1234', '0001', '0000:00:1c.4'))).toBeUndefined();
    for (const cls of ['030000', '040300', '0c0330', '020000', '010802', '060400']) expect(platformFunction(dev('0000:00:1f.3', cls)), cls).toBeUndefined();
  });

  it('finds them in a group and says the one sentence every command uses', () => {
    const members = [
      dev('0000:00:1f.0', '060100'),
      dev('0000:00:1f.3', '040300'),
      dev('0000:00:1f.4', '0c0500'),
      dev('0000:00:1f.5', '0c8000', '8086', '7aa4'),
    ];
    const byAddress = new Map(members.map((d) => [d.address, d as unknown as PciDevice]));
    const found = platformFunctionsOf({ devices: members.map((d) => d.address) }, byAddress);
    expect(describePlatformFunctions(found)).toBe('0000:00:1f.0 (ISA bridge), 0000:00:1f.4 (SMBus controller), 0000:00:1f.5 (SPI flash controller)');
    expect(notPassable(found.slice(0, 1)).summary).toBe('not passable: holds platform function 0000:00:1f.0 (ISA bridge)');
    expect(notPassable(found).fix).toMatch(/slot whose root port has ACS.*another device.*VM without it/);
  });
});
