// bars.<address> on the gpu-rebar-32g fixture and its variants: a 32 GiB Resizable BAR does not
// fit OVMF's default 64-bit MMIO window (the fix: a larger window, or the BAR shrunk to a size it
// supports), a card with 256 MiB of BARs fits, a device without assigned BARs is skipped.
import { HostFs } from '@passthru/hostfs';
import { afterAll, describe, expect, it } from 'vitest';
import { formatSize } from '../src/checks/barChecks';
import { runChecks } from '../src/runChecks';
import { cleanupFixtures, fixtureRoot, variantRoot } from './fixtureHosts';

afterAll(cleanupFixtures);

const GPU = '0000:01:00.0';

function bars(root: string, address = GPU) {
  const c = runChecks(new HostFs(root), { devices: [address] }).checks.find((x) => x.id === `bars.${address}`);
  if (!c) throw new Error(`no bars.${address}`);
  return c;
}

describe('bars.<address>', () => {
  it('a 32 GiB BAR with its group needs more than 32 GiB: WARN with the fw_cfg window and the resize that fits', () => {
    const c = bars(fixtureRoot('gpu-rebar-32g'));
    expect(c.status).toBe('WARN');
    expect(c.summary).toContain('needs 32.03 GiB of 64-bit MMIO');
    expect(c.summary).toContain('0000:01:00.0 BAR 1: 32 GiB (64-bit, prefetchable)');
    expect(c.evidence).toContain('0000:01:00.1 BAR 0: 16 KiB (32-bit)');
    const [window, shrink] = c.remediation!.split('\n');
    // Twice the next power of two of 32.03 GiB: 128 GiB, in MiB.
    expect(window).toContain('lxc config set VM raw.qemu="-fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=131072"');
    expect(window).toContain('incus config set VM raw.qemu=');
    // 16 GiB + 32 MiB would round up to the whole 32 GiB window again: 8 GiB is the largest that fits.
    expect(shrink).toContain('to 8 GiB');
    expect(shrink).toContain('echo 13 > /sys/bus/pci/devices/0000:01:00.0/resource1_resize');
  });

  it('without the Resizable BAR capability the window is the only fix', () => {
    const root = variantRoot('gpu-rebar-32g', 'gpu-rebar-32g-no-rebar', (spec) => {
      delete spec.devices.find((d: { address: string }) => d.address === GPU).resizableBars;
    });
    const c = bars(root);
    expect(c.status).toBe('WARN');
    expect(c.remediation).not.toContain('resource1_resize');
  });

  it('the card shrunk to 256 MiB fits: PASS naming what it needs', () => {
    const root = variantRoot('gpu-rebar-32g', 'gpu-rebar-256m', (spec) => {
      const gpu = spec.devices.find((d: { address: string }) => d.address === GPU);
      gpu.bars.find((b: { index: number }) => b.index === 1).size = 0x10000000;
      gpu.resizableBars[0].current = 0x10000000;
    });
    const c = bars(root);
    expect(c.status).toBe('PASS');
    expect(c.summary).toBe("0000:01:00.0 with 1 other function of its group needs 288 MiB of 64-bit MMIO, within OVMF's default 32 GiB window.");
  });

  it('a device with no assigned BAR is skipped, an absent one too', () => {
    expect(bars(fixtureRoot('gpu-rebar-32g'), '0000:02:00.0').status).toBe('SKIP');
    expect(bars(fixtureRoot('gpu-rebar-32g'), '0000:09:00.0').status).toBe('SKIP');
  });

  it('formats sizes as people read BARs', () => {
    expect([128, 16384, 0x1000000, 0x800000000, 0x802000000].map(formatSize)).toEqual(['128 bytes', '16 KiB', '16 MiB', '32 GiB', '32.03 GiB']);
  });
});
