// The one lspci parser: `lspci -Dvmmnnk` (the differential tests, the kernel lab) and
// `lspci -PP -Dvmmnnk` (the e2e suite's parent bridges).
import * as path from 'node:path';
import { PciDiscoveryError } from '@passthru/pci-discovery';
import { describe, it, expect } from 'vitest';
import { execaRunner, LspciRecordSchema, lspciArgs, parseLspciVmm } from '../src/lspci';

const SAMPLE = `Slot:\t0000:00:00.0
Class:\tHost bridge [0600]
Vendor:\tIntel Corporation [8086]
Device:\tDevice [0d57]
ProgIf:\t00

Slot:\t0000:01:00.0
Class:\tVGA compatible controller [0300]
Vendor:\tNVIDIA Corporation [10de]
Device:\tGA102 [GeForce RTX 3090] [2204]
SVendor:\tNVIDIA Corporation [10de]
SDevice:\tDevice [1454]
Rev:\ta1
ProgIf:\t00
Driver:\tvfio-pci
Module:\tnvidiafb
Module:\tnouveau
NUMANode:\t0
IOMMUGroup:\t14
PhySlot:\t1

Slot:\t0000:01:00.1
Class:\tAudio device [0403]
Vendor:\tNVIDIA Corporation [10de]
Device:\tGA102 High Definition Audio Controller [1aef]
SVendor:\tUnknown vendor [1458]
SDevice:\tDevice [403b]
Rev:\ta1
Module:\tsnd_hda_intel
IOMMUGroup:\t14

Slot:\t10000:e1:00.0
Class:\tNon-Volatile memory controller [0108]
Vendor:\tSamsung Electronics Co Ltd [144d]
Device:\tNVMe SSD Controller PM9A1/PM9A3/980PRO [a80a]
ProgIf:\t02
Driver:\tnvme
DeviceName:\tOnboard NVMe
`;

describe('parseLspciVmm on inline samples', () => {
  const records = parseLspciVmm(SAMPLE);

  it('returns one record per blank-line separated block', () => {
    expect(records.map((r) => r.address)).toEqual(['0000:00:00.0', '0000:01:00.0', '0000:01:00.1', '10000:e1:00.0']);
    for (const record of records) expect(LspciRecordSchema.parse(record)).toEqual(record);
  });

  it('reads every field of a full record, taking the last [xxxx] as the id', () => {
    expect(records[1]).toEqual({
      address: '0000:01:00.0',
      vendorId: '10de',
      deviceId: '2204',
      classCode: '030000',
      className: 'VGA compatible controller',
      vendorName: 'NVIDIA Corporation',
      deviceName: 'GA102 [GeForce RTX 3090]',
      subsystemVendorId: '10de',
      subsystemDeviceId: '1454',
      subsystemVendorName: 'NVIDIA Corporation',
      revision: 'a1',
      progIf: '00',
      driver: 'vfio-pci',
      modules: ['nvidiafb', 'nouveau'],
      numaNode: 0,
      iommuGroup: 14,
      physSlot: '1',
      extra: {},
    });
  });

  it('leaves optional fields absent and turns lspci placeholders into absent names', () => {
    const host = records[0]!;
    expect(host).toEqual({
      address: '0000:00:00.0',
      vendorId: '8086',
      deviceId: '0d57',
      classCode: '060000',
      className: 'Host bridge',
      vendorName: 'Intel Corporation',
      progIf: '00',
      modules: [],
      extra: {},
    });
    expect(host.deviceName).toBeUndefined();
    const audio = records[2]!;
    expect(audio.classCode).toBe('040300'); // no ProgIf line: 00
    expect(audio.progIf).toBeUndefined();
    expect(audio.driver).toBeUndefined();
    expect(audio.subsystemVendorId).toBe('1458');
    expect(audio.subsystemVendorName).toBeUndefined();
    expect(audio.subsystemDeviceName).toBeUndefined();
    expect(audio.iommuGroup).toBe(14);
  });

  it('keeps 5-digit VMD domains, combines ProgIf into the class code, and keeps unknown keys', () => {
    const nvme = records[3]!;
    expect(nvme.address).toBe('10000:e1:00.0');
    expect(nvme.classCode).toBe('010802');
    expect(nvme.deviceName).toBe('NVMe SSD Controller PM9A1/PM9A3/980PRO');
    expect(nvme.extra).toEqual({ DeviceName: 'Onboard NVMe' });
    expect(nvme.revision).toBeUndefined();
  });

  it('accepts CRLF, extra blank lines, bare numeric ids (-n) and slots without a domain', () => {
    const text = '\r\n\r\nSlot:\t02:00.0\r\nClass:\t0200\r\nVendor:\t8086\r\nDevice:\t1533\r\nRev:\t03\r\n\r\n\r\n';
    expect(parseLspciVmm(text)).toEqual([
      { address: '0000:02:00.0', vendorId: '8086', deviceId: '1533', classCode: '020000', revision: '03', modules: [], extra: {} },
    ]);
    expect(parseLspciVmm('')).toEqual([]);
    expect(parseLspciVmm('\n\n')).toEqual([]);
  });

  it('normalizes upper-case hex', () => {
    const [r] = parseLspciVmm('Slot:\t0000:0A:1F.7\nClass:\tFoo [0C03]\nVendor:\tBar [10DE]\nDevice:\tBaz [1AEF]\nProgIf:\t30\n');
    expect(r).toMatchObject({ address: '0000:0a:1f.7', classCode: '0c0330', vendorId: '10de', deviceId: '1aef' });
  });
});

describe('parseLspciVmm on -PP slot paths', () => {
  it('lspci -PP -Dvmmnnk: path slots, ids in brackets, a 5-digit VMD domain', () => {
    const text = [
      'Slot:\t0000:00:01.0\nClass:\tPCI bridge [0604]\nVendor:\tIntel Corporation [8086]\nDevice:\tRaptor Lake PCI Express 5.0 Graphics Port (PEG010) [a70d]\nRev:\t01\nProgIf:\t00\nDriver:\tpcieport\nIOMMUGroup:\t1',
      'Slot:\t0000:00:01.0/01:00.0\nClass:\tVGA compatible controller [0300]\nVendor:\tNVIDIA Corporation [10de]\nDevice:\tAD102 [GeForce RTX 4090] [2684]\nSVendor:\tASUSTeK Computer Inc. [1043]\nSDevice:\tDevice [889d]\nRev:\ta1\nDriver:\tnvidia\nModule:\tnouveau\nIOMMUGroup:\t12\nNUMANode:\t0',
      'Slot:\t0000:00:0e.0/10000:e0:06.0/10000:e1:00.0\nClass:\tNon-Volatile memory controller [0108]\nVendor:\tSamsung Electronics Co Ltd [144d]\nDevice:\tNVMe SSD Controller [a80a]\nProgIf:\t02\nDriver:\tnvme\nIOMMUGroup:\t42',
    ].join('\n\n');
    const [bridge, gpu, nvme] = parseLspciVmm(`${text}\n`);
    expect(bridge).toMatchObject({ address: '0000:00:01.0', classCode: '060400', driver: 'pcieport', iommuGroup: 1 });
    expect(bridge!.parent).toBeUndefined();
    expect(bridge!.numaNode).toBeUndefined();
    expect(gpu).toMatchObject({
      address: '0000:01:00.0',
      parent: '0000:00:01.0',
      vendorId: '10de',
      deviceId: '2684',
      subsystemVendorId: '1043',
      subsystemDeviceId: '889d',
      revision: 'a1',
      driver: 'nvidia',
      iommuGroup: 12,
      numaNode: 0,
    });
    expect(gpu!.progIf).toBeUndefined();
    expect(nvme).toMatchObject({ address: '10000:e1:00.0', parent: '10000:e0:06.0', progIf: '02', iommuGroup: 42 });
  });

  it('takes the domain printed at the head for every element that prints none, with or without -D', () => {
    const record = (slot: string) => `Slot:\t${slot}\nClass:\tPCI bridge [0604]\nVendor:\tIntel Corporation [8086]\nDevice:\tX [a70d]\n`;
    const parsed = parseLspciVmm([record('10000:e0:06.0/e1:00.0'), record('00:1c.2/03:00.0/04:00.0'), record('0000:00:1c.2/03:00.0')].join('\n'));
    expect(parsed.map((r) => [r.address, r.parent])).toEqual([
      ['10000:e1:00.0', '10000:e0:06.0'],
      ['0000:04:00.0', '0000:03:00.0'],
      ['0000:03:00.0', '0000:00:1c.2'],
    ]);
    expect(() => parseLspciVmm(record('0000:00:1c.2/00.0'))).toThrow(/bad Slot "0000:00:1c.2\/00.0"/); // -P (one P) prints no bus
  });

  it('reads the parents real lspci -PP prints on a fixture tree with a VMD domain', async () => {
    const root = path.resolve(__dirname, '../../../fixtures/hosts/vmd-gaps');
    const { stdout, exitCode } = await execaRunner('lspci', ['-PP', ...lspciArgs({ sysfsRoot: root })]);
    expect(exitCode).toBe(0);
    const parents = Object.fromEntries(parseLspciVmm(stdout).map((r) => [r.address, r.parent ?? null]));
    expect(parents).toMatchObject({
      '0000:00:1c.2': null,
      '0000:03:00.0': '0000:00:1c.2',
      '10000:e0:06.0': null,
      '10000:e1:00.0': '10000:e0:06.0',
      '10000:e2:00.0': '10000:e0:1b.0',
    });
  });
});

describe('parseLspciVmm on malformed text', () => {
  const expectFailure = (text: string, message: RegExp) => {
    let caught: unknown;
    try {
      parseLspciVmm(text, 'lspci -Dvmmnnk');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PciDiscoveryError);
    expect((caught as Error).message).toMatch(message);
  };

  it('throws for a record without Slot, naming the record and the source', () => {
    expectFailure(
      `${SAMPLE}\nClass:\tHost bridge [0600]\nVendor:\tIntel Corporation [8086]\nDevice:\tDevice [0d57]\n`,
      /^Failed parsing lspci -vmm record 5 \(line \d+\) via lspci -Dvmmnnk: no Slot field$/,
    );
  });

  it('throws for missing required fields, bad ids, non-field lines and repeated keys', () => {
    expectFailure('Slot:\t0000:00:00.0\nClass:\tHost bridge [0600]\nDevice:\tX [0001]\n', /record 0000:00:00\.0 .*no Vendor field/);
    expectFailure('Slot:\t0000:00:00.0\nClass:\tHost bridge\nVendor:\tV [8086]\nDevice:\tX [0001]\n', /bad Class "Host bridge"/);
    expectFailure('Slot:\t0000:00:00.0\nClass:\tH [0600]\nVendor:\tV [8086]\nDevice:\tX [0001]\nRev:\tzz\n', /bad Rev "zz"/);
    expectFailure('Slot:\tnot-a-slot\nClass:\tH [0600]\nVendor:\tV [8086]\nDevice:\tX [0001]\n', /bad Slot "not-a-slot"/);
    expectFailure('Slot:\t0000:00:00.0\nthis is not a field\n', /lspci -vmm line 2 via lspci -Dvmmnnk: not a/);
    expectFailure('Slot:\t0000:00:00.0\nClass:\tH [0600]\nVendor:\tV [8086]\nVendor:\tW [8087]\nDevice:\tX [0001]\n', /repeated Vendor field/);
    expectFailure('Slot:\t0000:00:00.0\nClass:\tH [0600]\nVendor:\tV [8086]\nDevice:\tX [0001]\nIOMMUGroup:\tabc\n', /bad IOMMUGroup "abc"/);
  });
});
