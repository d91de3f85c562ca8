// BAR sizes from a real kernel's `resource` file, and the Resizable BAR capability from config
// space (what the root reader sees, what an unprivileged one cannot).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { barsOf, resizableBarsOf } from '../src/bars';

const repo = path.resolve(__dirname, '../../..');
const device = (tree: string, address: string, file: string) => path.join(repo, 'fixtures', tree, 'sys/bus/pci/devices', address, file);

describe('barsOf', () => {
  it("reads QEMU's bochs-display as Linux 6.1 showed it: BAR 0, BAR 2 and the ROM, unassigned lines left out", () => {
    const text = fs.readFileSync(device('kernel-lab/qemu-vtd', '0000:00:01.0', 'resource'), 'utf8');
    expect(barsOf(text)).toEqual([
      { index: 0, size: 16 * 1024 * 1024, space: 'mem', is64: false, prefetchable: true },
      { index: 2, size: 4096, space: 'mem', is64: false, prefetchable: false },
      { index: 6, size: 128 * 1024, space: 'mem', is64: false, prefetchable: false },
    ]);
  });

  it('takes only lines 0-6 (a bridge window or an SR-IOV BAR is not the function its own), I/O and sizes past 2^32', () => {
    const line = (start: bigint, end: bigint, flags: number) =>
      `0x${start.toString(16).padStart(16, '0')} 0x${end.toString(16).padStart(16, '0')} 0x${flags.toString(16).padStart(16, '0')}`;
    const zero = line(0n, 0n, 0);
    const lines = [
      line(0x7800000000n, 0x7fffffffffn, 0x14220c),
      zero,
      zero,
      zero,
      line(0xe000n, 0xe07fn, 0x40101),
      zero,
      zero,
      line(0xf0000000n, 0xf00fffffn, 0x200),
    ];
    expect(barsOf(lines.join('\n'))).toEqual([
      { index: 0, size: 32 * 1024 ** 3, space: 'mem', is64: true, prefetchable: true },
      { index: 4, size: 128, space: 'io', is64: false, prefetchable: false },
    ]);
    expect(barsOf('garbage\n')).toEqual([]);
  });
});

describe('resizableBarsOf', () => {
  const config = fs.readFileSync(device('hosts/gpu-rebar-32g', '0000:01:00.0', 'config'));
  it('reads the capability of the 32 GiB card: BAR 1 at 32 GiB, 64 MiB to 32 GiB supported', () => {
    const [bar, ...rest] = resizableBarsOf(config)!;
    expect(rest).toEqual([]);
    expect(bar!.index).toBe(1);
    expect(bar!.currentSize).toBe(32 * 1024 ** 3);
    expect(bar!.supportedSizes.map((s) => s / 1024 ** 2)).toEqual([64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768]);
  });
  it('an unprivileged read (64 bytes) cannot tell; conventional space (256) has none; a PCIe function without it has none', () => {
    expect(resizableBarsOf(config.subarray(0, 64))).toBeUndefined();
    expect(resizableBarsOf(config.subarray(0, 256))).toEqual([]);
    expect(resizableBarsOf(fs.readFileSync(device('hosts/gpu-rebar-32g', '0000:01:00.1', 'config')))).toEqual([]);
  });
});
