// rom.<address> (issue 26): what an asked device's option ROM gives a UEFI guest, on the fixture
// hosts gpu-efi-rom and gpu-legacy-rom and variants of them: each verdict, its evidence (the
// enable write, the read, the disable write) and its fix; the ROM read only for asked devices.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HostFs, HostFsError } from '@passthru/hostfs';
import { SimulatedKernel } from '@passthru/sysfs-sim';
import { afterAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../src/DoctorReport';
import { runChecks } from '../src/runChecks';
import { cleanupFixtures, fixtureRoot, variantRoot } from './fixtureHosts';

afterAll(cleanupFixtures);

/** The tree's HostFs with its simulated kernel (the write log kept in memory) for the enable writes. */
function host(root: string): { host: HostFs; kernel: SimulatedKernel } {
  const kernel = new SimulatedKernel(root, { logWrites: false });
  return { host: new HostFs(root, { kernel }), kernel };
}

function romCheck(h: HostFs, address: string): CheckResult {
  const report = runChecks(h, { devices: [address] });
  const c = report.checks.find((x) => x.id === `rom.${address}`);
  if (c === undefined) throw new Error(`no rom.${address}`);
  return c;
}

const rom = (address: string) => `/sys/bus/pci/devices/${address}/rom`;

describe('rom.<address> on a GPU', () => {
  it('gpu-efi-rom: the RTX A4000 with legacy and EFI x64 images for its own ids PASSes; the ROM was enabled, read, disabled', () => {
    const { host: h, kernel } = host(fixtureRoot('gpu-efi-rom'));
    const c = romCheck(h, '0000:01:00.0');
    expect(c.status).toBe('PASS');
    expect(c.summary).toBe(
      'The option ROM of 0000:01:00.0 holds an EFI x64 driver image for 10de:24b0 (its GOP, beside its legacy VBIOS): a UEFI guest (OVMF: LXD and Incus VMs) shows its display from boot.',
    );
    expect(c.evidence).toEqual([
      '/sys/bus/pci/devices/0000:01:00.0/boot_vga: 0',
      '/sys/bus/pci/devices/0000:01:00.0/rom: enabled (1), read 123392 bytes, disabled (0) (a fixture tree: its simulated kernel took the writes)',
      'image 0: x86 legacy (PC-AT), 10de:24b0, class 030000, 63488 bytes at 0x0',
      'image 1: EFI x64 boot-service-driver, 10de:24b0, class 030000, 59904 bytes at 0xf800 (last)',
      "guest firmware: OVMF (EFI x64), what LXD and Incus VMs boot on this host's architecture",
    ]);
    expect(c.remediation).toBeUndefined();
    expect(kernel.writes.map((w) => [w.path, w.data, w.result])).toEqual([
      [rom('0000:01:00.0'), '1', 'ok'],
      [rom('0000:01:00.0'), '0', 'ok'],
    ]);
  });

  it("gpu-legacy-rom: the Radeon HD 7970 with legacy code only WARNs, and the fix is the vendor image given as a romfile in both servers' words", () => {
    const { host: h } = host(fixtureRoot('gpu-legacy-rom'));
    const c = romCheck(h, '0000:0b:00.0');
    expect(c.status).toBe('WARN');
    expect(c.summary).toBe(
      "The option ROM of 0000:0b:00.0 holds x86 legacy code only, no EFI (GOP) image: a UEFI guest cannot use it, so the VM's display stays black under OVMF (what LXD and Incus VMs boot) until the guest's own driver loads.",
    );
    expect(c.evidence).toContain('image 0: x86 legacy (PC-AT), 1002:6798, class 030000, 59392 bytes at 0x0 (last)');
    expect(c.remediation).toBe(
      [
        "Give the VM a ROM with an EFI x64 image for 1002:6798 (QEMU then shows it to the guest in place of the card's):",
        "1. Get one: this card's own ROM has no EFI image, so a dump of it does not help: take the card vendor's ROM image for this card with UEFI (GOP) support, or dump one from a card of the same model whose ROM has it (sudo passthru rom dump ADDRESS 1002-6798.rom on that machine).",
        '2. Check it: passthru rom show 0000:0b:00.0 --file 1002-6798.rom (it must say that a UEFI guest on x64 runs it).',
        "3. Put it where the VM's QEMU may read it (AppArmor lets it read /usr/share/qemu; LXD from a .deb, Incus): sudo install -D -m 0644 1002-6798.rom /usr/share/qemu/passthru/1002-6798.rom",
        "   (LXD's snap runs its own QEMU, which sees the VM's folder instead: copy the file into /var/snap/lxd/common/lxd/virtual-machines/VM/ while the VM runs (its volume is mounted then), and name that path below.)",
        "4. Pass the card as a gpu device named without '-' (LXD 5.21.3+ and 6.2+ write a '-' of the name as '--' in QEMU's section): passthru attach VM 0000:0b:00.0 --type gpu --name gpu_0b_00_0",
        '5. Name the file in that device\'s section, then restart the VM (this sets raw.qemu.conf whole: merge it by hand with "lxc config edit VM" when the VM has one):',
        `   lxc config set VM raw.qemu.conf=$'[device "dev-lxd_gpu_0b_00_0"]\\nromfile = "/usr/share/qemu/passthru/1002-6798.rom"'`,
        `   incus config set VM raw.qemu.conf=$'[device "dev-incus_gpu_0b_00_0"]\\nromfile = "/usr/share/qemu/passthru/1002-6798.rom"'`,
      ].join('\n'),
    );
  });

  it('gpu-legacy-rom: the boot GPU whose shadowed ROM reads as garbage WARNs, says why, and the fix captures it where it is not the boot GPU', () => {
    const { host: h } = host(fixtureRoot('gpu-legacy-rom'));
    const c = romCheck(h, '0000:0a:00.0');
    expect(c.status).toBe('WARN');
    expect(c.summary).toBe(
      "The option ROM of 0000:0a:00.0 reads as garbage (image 0 at 0x0: no 0x55AA signature): it is the boot GPU (boot_vga 1), whose ROM the firmware shadowed, and a VM given the card reads the same, so the VM's display stays black under OVMF (what LXD and Incus VMs boot) until the guest's own driver loads.",
    );
    expect(c.evidence.slice(0, 3)).toEqual([
      '/sys/bus/pci/devices/0000:0a:00.0/boot_vga: 1 (the boot GPU)',
      '/sys/bus/pci/devices/0000:0a:00.0/rom: enabled (1), read 131072 bytes, disabled (0) (a fixture tree: its simulated kernel took the writes)',
      'problem: image 0 at 0x0: no 0x55AA signature',
    ]);
    expect(c.remediation).toContain(
      "1. Get one: capture this card's own ROM where it is not the boot GPU, in another slot or another machine (sudo passthru rom dump ADDRESS 10de-1d01.rom, with the card's address there), or take the card vendor's ROM image for this card.",
    );
    expect(c.remediation).toContain(`lxc config set VM raw.qemu.conf=$'[device "dev-lxd_gpu_0a_00_0"]\\nromfile = "/usr/share/qemu/passthru/10de-1d01.rom"'`);
  });

  it('a boot GPU whose shadowed ROM reads empty WARNs the same way', () => {
    const root = variantRoot('gpu-legacy-rom', 'rom-empty', (spec) => {
      spec.devices.find((d: { address: string }) => d.address === '0000:0a:00.0').rom = { reads: 'empty' };
    });
    const c = romCheck(host(root).host, '0000:0a:00.0');
    expect(c.status).toBe('WARN');
    expect(c.summary).toMatch(/^The option ROM of 0000:0a:00\.0 reads empty: it is the boot GPU \(boot_vga 1\), whose ROM the firmware shadowed/);
    expect(c.evidence).toContain(
      '/sys/bus/pci/devices/0000:0a:00.0/rom: enabled (1), read 0 bytes, disabled (0) (a fixture tree: its simulated kernel took the writes)',
    );
    expect(c.remediation).toMatch(/capture this card's own ROM where it is not the boot GPU/);
  });

  it('a ROM the kernel cannot map (EIO on a real kernel: the boot GPU after a UEFI boot) WARNs, naming the errno; the ROM is disabled again', () => {
    const root = fixtureRoot('gpu-legacy-rom');
    const kernel = new SimulatedKernel(root, { logWrites: false });
    class EioRom extends HostFs {
      override readBytes(hostPath: string, maxBytes?: number): Buffer {
        if (hostPath.endsWith('/rom')) throw new HostFsError('reading', hostPath, 'EIO', 'Input/output error');
        return super.readBytes(hostPath, maxBytes);
      }
    }
    const c = romCheck(new EioRom(root, { kernel }), '0000:0a:00.0');
    expect(c.status).toBe('WARN');
    expect(c.summary).toMatch(/^The option ROM of 0000:0a:00\.0 cannot be read \(EIO\): it is the boot GPU \(boot_vga 1\)/);
    expect(c.evidence[1]).toMatch(/rom: enabled \(1\), the read failed \(EIO: Failed reading .*\), disabled \(0\)/);
    expect(kernel.writes.map((w) => w.data)).toEqual(['1', '0']);
  });

  it('not root (the enable write refused, EACCES): WARN, the fix is to run doctor as root, nothing read', () => {
    const root = variantRoot('gpu-efi-rom', 'rom-eacces', () => {});
    const { host: h, kernel } = host(root);
    kernel.injectFault({ path: '/sys/bus/pci/devices/*/rom', data: '1', fail: 'EACCES' });
    const c = romCheck(h, '0000:01:00.0');
    expect(c.status).toBe('WARN');
    expect(c.summary).toBe(
      "The option ROM of 0000:01:00.0 was not read: enabling it (echo 1 > rom) failed with EACCES (the rom attribute is root's): whether a UEFI guest gets a display from it is not known.",
    );
    expect(c.remediation).toBe('Run it as root, which reading a ROM needs (the enable write to its rom attribute): sudo passthru doctor --device 0000:01:00.0');
    expect(kernel.writes.map((w) => [w.data, w.result])).toEqual([['1', 'EACCES']]);
  });

  it('a tree with no simulated kernel cannot take the enable write: WARN with ENOTSUP, the fix is the live host as root', () => {
    const c = romCheck(new HostFs(fixtureRoot('gpu-efi-rom')), '0000:01:00.0');
    expect(c.status).toBe('WARN');
    expect(c.summary).toMatch(/was not read: enabling it \(echo 1 > rom\) failed with ENOTSUP: /);
    expect(c.remediation).toBe('Read it on the live host as root: sudo passthru doctor --device 0000:01:00.0');
  });

  it('an integrated GPU has no ROM BAR: WARN, nothing written, the fix names the vendor image', () => {
    const { host: h, kernel } = host(fixtureRoot('gpu-efi-rom'));
    const c = romCheck(h, '0000:00:02.0');
    expect(c.status).toBe('WARN');
    expect(c.summary).toMatch(
      /^0000:00:02\.0 has no ROM BAR \(no rom attribute\): an integrated GPU's display firmware \(GOP\) is part of the system firmware, so/,
    );
    expect(c.evidence).toContain('/sys/bus/pci/devices/0000:00:02.0/rom: absent (no ROM BAR)');
    expect(c.remediation).toMatch(/take the card vendor's ROM image for it \(for an integrated GPU, its GOP driver as a ROM image from the board vendor\)/);
    expect(kernel.writes).toEqual([]);
  });

  it("a ROM made for another card (the EFI image's PCIR names other ids) WARNs: its driver does not drive this card", () => {
    const root = variantRoot('gpu-efi-rom', 'rom-other-ids', (spec) => {
      spec.devices.find((d: { address: string }) => d.address === '0000:01:00.0').rom = {
        images: [
          { type: 'legacy', kib: 62, vendor: '10de', device: '2484' },
          { type: 'efi', kib: 58.5, vendor: '10de', device: '2484' },
        ],
      };
    });
    const c = romCheck(host(root).host, '0000:01:00.0');
    expect(c.status).toBe('WARN');
    expect(c.summary).toMatch(/holds an EFI x64 image for 10de:2484, another device \(a ROM made for another card, whose driver does not drive this one\)/);
    expect(c.remediation).toMatch(/capture this card's own ROM/);
  });

  it('an EFI image for arm64 only: WARN on an x86-64 host; on an arm64 host (AAVMF) it PASSes', () => {
    const arm = (spec: Parameters<Parameters<typeof variantRoot>[2]>[0]) => {
      spec.devices.find((d: { address: string }) => d.address === '0000:01:00.0').rom = { images: [{ type: 'efi', kib: 58.5, machine: 'aa64' }] };
    };
    const x86 = romCheck(host(variantRoot('gpu-efi-rom', 'rom-aa64', arm)).host, '0000:01:00.0');
    expect(x86.status).toBe('WARN');
    expect(x86.summary).toMatch(/holds EFI images, none an x64 UEFI guest runs \(aa64 boot-service-driver\)/);
    const onArm = variantRoot('gpu-efi-rom', 'rom-aa64-host', (spec) => {
      arm(spec);
      spec.cpu = { vendor: 'other', model: 'Neoverse-N1', flags: ['fp', 'asimd'], count: 4 };
      spec.kernelRelease = '6.1.0-28-arm64';
    });
    const c = romCheck(host(onArm).host, '0000:01:00.0');
    expect(c.status).toBe('PASS');
    expect(c.summary).toMatch(/holds an EFI aa64 driver image for 10de:24b0/);
    expect(c.evidence).toContain("guest firmware: AAVMF (EFI aa64), what LXD and Incus VMs boot on this host's architecture");
  });
});

describe('rom.<address> on a hostile tree never throws', () => {
  it('a FIFO in place of rom reads as empty; a symlink out of the root is never followed (no ROM there, nothing written)', () => {
    const fifo = variantRoot('gpu-efi-rom', 'rom-fifo', () => {});
    const file = path.join(fifo, 'sys/bus/pci/devices/0000:01:00.0/rom');
    fs.rmSync(file);
    execFileSync('mkfifo', [file]);
    expect(romCheck(host(fifo).host, '0000:01:00.0')).toMatchObject({
      status: 'WARN',
      summary: expect.stringMatching(/^The option ROM of 0000:01:00\.0 reads empty, so/),
    });
    const out = variantRoot('gpu-efi-rom', 'rom-escape', () => {});
    const rom = `${fs.realpathSync(path.join(out, 'sys/bus/pci/devices/0000:01:00.0'))}/rom`;
    fs.rmSync(rom);
    fs.symlinkSync('/etc/passwd', rom);
    const escaped = host(out);
    const c = romCheck(escaped.host, '0000:01:00.0');
    expect(c.status).toBe('WARN');
    expect(c.evidence).toContain('/sys/bus/pci/devices/0000:01:00.0/rom: absent (no ROM BAR)');
    expect(escaped.kernel.writes).toEqual([]);
  });
});

describe('rom.<address> on other devices: information', () => {
  it('the I210 with a network-boot ROM PASSes and says a guest needs it only to network-boot', () => {
    const c = romCheck(host(fixtureRoot('gpu-efi-rom')).host, '0000:03:00.0');
    expect(c.status).toBe('PASS');
    expect(c.summary).toBe(
      'The option ROM of 0000:03:00.0 holds x86 legacy and EFI x64 images for 8086:1533: a guest needs it only to network-boot from this NIC, which a UEFI guest can (its EFI x64 driver).',
    );
    expect(c.remediation).toBeUndefined();
  });

  it('a function without a ROM BAR (the HDMI audio) is SKIP; a NIC whose ROM cannot be read as non-root is SKIP with the root fix', () => {
    const root = variantRoot('gpu-efi-rom', 'rom-nic-eacces', () => {});
    const { host: h, kernel } = host(root);
    expect(romCheck(h, '0000:01:00.1')).toMatchObject({ status: 'SKIP', summary: '0000:01:00.1 has no option ROM (no ROM BAR): a guest boots without one.' });
    kernel.injectFault({ path: '/sys/bus/pci/devices/*/rom', data: '1', fail: 'EPERM' });
    const c = romCheck(h, '0000:03:00.0');
    expect(c.status).toBe('SKIP');
    expect(c.summary).toBe(
      'The option ROM of 0000:03:00.0 was not read: enabling it (echo 1 > rom) failed with EPERM; a guest needs it only to network-boot from this NIC.',
    );
    expect(c.remediation).toMatch(/^Run it as root/);
  });

  it('a device that is not there is SKIP', () => {
    expect(romCheck(host(fixtureRoot('gpu-efi-rom')).host, '0000:05:00.0')).toMatchObject({
      status: 'SKIP',
      summary: 'No PCI device 0000:05:00.0 on this host.',
    });
  });
});

describe('the ROM is read only for asked devices', () => {
  it("the report's examined endpoints get no rom check and no write; the asked one gets both", () => {
    const { host: h, kernel } = host(fixtureRoot('gpu-efi-rom'));
    const report = runChecks(h, { devices: ['0000:03:00.0'], examine: ['0000:01:00.0', '0000:01:00.1', '0000:03:00.0'] });
    expect((report.examined ?? []).map((c) => c.id).filter((id) => id.startsWith('rom.'))).toEqual([]);
    expect((report.examined ?? []).map((c) => c.id)).toContain('group.viable.0000:01:00.0');
    expect(report.checks.map((c) => c.id)).toContain('rom.0000:03:00.0');
    expect(kernel.writes.map((w) => w.path)).toEqual([rom('0000:03:00.0'), rom('0000:03:00.0')]);
  });

  it('a legacy-only GPU makes the verdict ready-with-warnings, not not-ready', () => {
    const report = runChecks(host(fixtureRoot('gpu-legacy-rom')).host, { devices: ['0b:00.0'] });
    expect(report.verdict).toBe('ready-with-warnings');
  });
});
