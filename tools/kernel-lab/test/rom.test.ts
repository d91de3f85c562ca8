// Issue 26: option ROMs read through a real kernel's sysfs (the `rom` attribute, enabled only
// while read) and parsed: QEMU's e1000e carries iPXE (a legacy and an EFI x64 image), its
// bochs-display SeaVGABIOS (legacy only), its NVMe no ROM BAR. The dump is byte for byte the
// ROM file QEMU loaded into the device.
import * as fs from 'node:fs';
import { parseOptionRom } from '@passthru/pci-discovery';
import { describe, expect, it } from 'vitest';
import { step, stepDir } from './records';

/** The ROM files QEMU 7.2 on Debian 12 loads into these devices (packages ipxe-qemu and seabios). */
const E1000E_ROM = '/usr/lib/ipxe/qemu/efi-e1000e.rom';
const BOCHS_ROM = '/usr/share/seabios/vgabios-bochs-display.bin';

describe.each(['vtd', 'amd'])('option ROMs on the %s guest', (run) => {
  it("the e1000e's ROM: legacy and EFI x64 images of 8086:10d3, dumped byte for byte as QEMU's efi-e1000e.rom", () => {
    const nic = step(run, 'rom-nic');
    expect(nic.rc, nic.stderr).toBe(0);
    const json = JSON.parse(nic.stdout);
    expect(json.rom.kind).toBe('both');
    expect(json.rom.images.map((i: { codeType: string; vendorId: string; deviceId: string }) => `${i.codeType} ${i.vendorId}:${i.deviceId}`)).toEqual([
      'x86 8086:10d3',
      'efi 8086:10d3',
    ]);
    expect(fs.readFileSync(`${stepDir(run, 'rom-nic')}/rom.bin`)).toEqual(fs.readFileSync(E1000E_ROM));
  });

  it("the bochs-display's ROM is legacy only (SeaVGABIOS, 1234:1111); the NVMe has no ROM BAR (exit 2)", () => {
    const card = step(run, 'rom-card');
    expect(card.rc, card.stderr).toBe(0);
    const json = JSON.parse(card.stdout);
    expect(json.rom).toMatchObject({ kind: 'legacy', problems: [] });
    expect(json.rom.images).toEqual([expect.objectContaining({ codeType: 'x86', vendorId: '1234', deviceId: '1111', checksumOk: true, last: true })]);
    expect(json.rom.images[0].length).toBe(parseOptionRom(fs.readFileSync(BOCHS_ROM)).images[0]!.length);
    const none = step(run, 'rom-none');
    expect(none.rc).toBe(2);
    expect(none.stderr).toMatch(/has no ROM BAR \(no rom attribute\)/);
  });
});
