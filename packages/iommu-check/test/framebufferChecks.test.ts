// framebuffer.<address> on the gpu-boot-efifb fixture and its variants: which kernel's vfio-pci
// removes the firmware framebuffer (6.0+, VGA class), the boot parameter each framebuffer needs
// and the GRUB edit that adds it, and what the check cannot tell (no /proc/iomem, not root).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { scanPciDevices } from '@passthru/pci-discovery';
import { afterAll, describe, expect, it } from 'vitest';
import { firmwareFramebufferClaims, framebufferParam, vfioRemovesFramebuffer } from '../src/index';
import { runChecks } from '../src/runChecks';
import { cleanupFixtures, fixtureRoot, variantRoot } from './fixtureHosts';

afterAll(cleanupFixtures);

const GPU = '0000:01:00.0';
const EFIFB_LINE = '/proc/iomem: 6000000000-60007e8fff : efifb';

function framebuffer(root: string, address = GPU) {
  const c = runChecks(new HostFs(root), { devices: [address] }).checks.find((x) => x.id === `framebuffer.${address}`);
  if (!c) throw new Error(`no framebuffer.${address}`);
  return c;
}
/** The fixture with its /proc/iomem rewritten by `edit` and, where given, another kernel release. */
const variant = (name: string, edit: (iomem: string) => string, release?: string) =>
  variantRoot('gpu-boot-efifb', name, (spec) => {
    spec.files['/proc/iomem'] = edit(spec.files['/proc/iomem']);
    if (release) spec.kernelRelease = release;
  });

describe('the rules', () => {
  it.each([
    ['5.15.0-91-generic', '030000', false],
    ['5.19.17', '030000', false],
    ['6.0.0', '030000', true],
    ['6.1.0-28-amd64', '030000', true],
    ['6.8.0-45-generic', '030200', false],
    ['6.8.0-45-generic', '038000', false],
    [undefined, '030000', undefined],
  ])('vfio-pci of %s on class %s removes it: %s', (release, cls, removes) => {
    expect(vfioRemovesFramebuffer(release, cls)).toBe(removes);
  });

  it.each([
    ['efifb', 'video=efifb:off'],
    ['vesafb', 'initcall_blacklist=sysfb_init'],
    ['BOOTFB', 'initcall_blacklist=sysfb_init'],
    ['simpledrm', 'initcall_blacklist=sysfb_init'],
    ['simplefb', 'initcall_blacklist=sysfb_init'],
  ])('%s is kept off by %s', (holder, param) => {
    expect(framebufferParam(holder)).toBe(param);
  });
});

describe('framebuffer.<address> on a boot GPU with efifb in BAR 1', () => {
  it('Linux 5.15: FAIL naming efifb and BAR 1, with the GRUB edit that adds video=efifb:off; evidence is the resource and iomem lines', () => {
    const c = framebuffer(fixtureRoot('gpu-boot-efifb'));
    expect(c.status).toBe('FAIL');
    expect(c.summary).toContain('The firmware framebuffer efifb holds BAR 1 [mem 0x6000000000-0x600fffffff 64bit pref] of 0000:01:00.0: ');
    expect(c.summary).toContain('vfio-pci on Linux 5.15.0-91-generic does not remove it');
    expect(c.evidence).toEqual([
      '/sys/bus/pci/devices/0000:01:00.0/resource line 1: 0x0000006000000000 0x000000600fffffff 0x000000000014220c (BAR 1 [mem 0x6000000000-0x600fffffff 64bit pref])',
      '/proc/iomem: 6000000000-600fffffff : 0000:01:00.0',
      EFIFB_LINE,
      "nvidia is nvidia's own (released when it unbinds)",
      '/proc/sys/kernel/osrelease: 5.15.0-91-generic',
    ]);
    expect(c.remediation).toContain('+GRUB_CMDLINE_LINUX_DEFAULT="quiet splash intel_iommu=on video=efifb:off"');
    expect(c.remediation).toContain('`passthru persist` applies this edit');
  });

  it('Linux 6.1: WARN that bind removes it and the host console on that GPU goes dark; no boot parameter asked', () => {
    const c = framebuffer(variant('efifb-6-1', (t) => t, '6.1.0-28-amd64'));
    expect(c.status).toBe('WARN');
    expect(c.summary).toContain('vfio-pci on Linux 6.1.0-28-amd64 removes it when it binds this VGA device');
    expect(c.summary).toContain('the host console on this GPU goes dark until the next boot');
    expect(c.remediation).not.toContain('efifb:off');
  });

  it('a 3D controller (class 0302) on 6.1: FAIL, vfio-pci removes framebuffers only from VGA-class devices', () => {
    const root = variantRoot('gpu-boot-efifb', 'efifb-3d', (spec) => {
      spec.kernelRelease = '6.1.0-28-amd64';
      spec.devices[5].class = '030200';
    });
    const c = framebuffer(root);
    expect(c.status).toBe('FAIL');
    expect(c.summary).toContain('only from VGA-class devices (0300xx), and 0000:01:00.0 is class 030200');
  });

  it('sysfb: BOOTFB with simpledrm under it (a 5.15 simple-framebuffer kernel) asks for initcall_blacklist=sysfb_init, not video=efifb:off', () => {
    const c = framebuffer(
      variant('efifb-bootfb', (t) =>
        t.replace('      6000000000-60007e8fff : efifb\n', '      6000000000-60007e8fff : BOOTFB\n        6000000000-60007e8fff : simpledrm\n'),
      ),
    );
    expect(c.status).toBe('FAIL');
    expect(c.summary).toContain('BOOTFB, simpledrm hold BAR 1');
    expect(c.remediation).toContain('initcall_blacklist=sysfb_init"');
    expect(c.remediation).not.toContain('efifb:off');
  });

  it("another's claim in a BAR: the bound driver's own, else WARN naming it; an unknown release: WARN with the boot parameter", () => {
    const other = framebuffer(
      variant('efifb-other', (t) =>
        t
          .replace('      6000000000-60007e8fff : efifb\n', '')
          .replace('    6010000000-6011ffffff : 0000:01:00.0\n', '    6010000000-6011ffffff : 0000:01:00.0\n      6010000000-6010ffffff : mystery\n'),
      ),
      GPU,
    );
    // The GPU is on nvidia: anything but a framebuffer in its BARs is taken for nvidia's own.
    expect(other.status).toBe('PASS');
    expect(other.evidence).toContain("mystery is nvidia's own (released when it unbinds)");
    const unbound = variantRoot('gpu-boot-efifb', 'efifb-other-unbound', (spec) => {
      delete spec.devices[5].driver;
      spec.files['/proc/iomem'] = spec.files['/proc/iomem']
        .replace('      6000000000-60007e8fff : efifb\n', '')
        .replace('      fb000000-fbffffff : nvidia\n', '      fb000000-fb0fffff : mystery\n');
    });
    const held = framebuffer(unbound);
    expect(held.status).toBe('WARN');
    expect(held.summary).toContain('mystery holds BAR 0 [mem 0xfb000000-0xfbffffff] of 0000:01:00.0');
    expect(held.remediation).toContain('"mystery"');
    const unknown = variantRoot('gpu-boot-efifb', 'efifb-no-release', () => {});
    fs.rmSync(path.join(unknown, 'proc/sys/kernel/osrelease'));
    const c = framebuffer(unknown);
    expect(c.status).toBe('WARN');
    expect(c.summary).toContain('the kernel release is unknown');
    expect(c.remediation).toContain('video=efifb:off');
  });

  it('SKIP, not a guess: /proc/iomem absent from the tree, or read without root (addresses 0)', () => {
    const absent = variantRoot('gpu-boot-efifb', 'efifb-no-iomem', (spec) => {
      delete spec.files['/proc/iomem'];
    });
    expect(framebuffer(absent)).toMatchObject({ status: 'SKIP', summary: expect.stringContaining('/proc/iomem is not in this tree') });
    const zeroed = framebuffer(variant('efifb-zeroed', (t) => t.replace(/[0-9a-f]+-[0-9a-f]+ :/g, '00000000-00000000 :')));
    expect(zeroed).toMatchObject({ status: 'SKIP', remediation: 'Run passthru doctor as root.' });
    expect(zeroed.summary).toContain('CAP_SYS_ADMIN');
  });

  it("the audio function: its BAR holds only its own driver's region: PASS", () => {
    const c = framebuffer(fixtureRoot('gpu-boot-efifb'), '0000:01:00.1');
    expect(c.status).toBe('PASS');
    expect(c.evidence).toContain("ICH HD audio is snd_hda_intel's own (released when it unbinds)");
  });

  it('firmwareFramebufferClaims (what bind and persist ask): the GPU only, with its parameter; none without /proc/iomem', () => {
    const host = new HostFs(fixtureRoot('gpu-boot-efifb'));
    expect(firmwareFramebufferClaims(host, scan(host))).toEqual([
      expect.objectContaining({ address: GPU, holders: ['efifb'], removedByVfio: false, params: ['video=efifb:off'], release: '5.15.0-91-generic' }),
    ]);
    const bare = new HostFs(variantRoot('gpu-boot-efifb', 'efifb-bare', (spec) => delete spec.files['/proc/iomem']));
    expect(firmwareFramebufferClaims(bare, scan(bare))).toEqual([]);
  });
});

function scan(host: HostFs) {
  return scanPciDevices(host).devices;
}
