// Agreement with libvirt's virt-host-validate on the two IOMMU lines it prints, on the same
// fixture trees (mounted over /sys and the proc files in a private mount namespace) and on this
// machine's live host; and where its advice is wrong (AMD), passthru's advice differs.
import { HostFs } from '@passthru/hostfs';
import { afterAll, describe, expect, it } from 'vitest';
import type { CheckStatus, DoctorReport } from '../src/DoctorReport';
import { runChecks } from '../src/runChecks';
import { cleanupFixtures, fixtureRoot, specNames, variantRoot } from './fixtureHosts';
import { parseVirtHostValidate, runVirtHostValidate, virtHostValidateAvailable, type VhvLine } from './virtHostValidate';

afterAll(cleanupFixtures);

// The comparison is part of the suite: without its prerequisites it fails, never skips.
const available = virtHostValidateAvailable();

/** virt-host-validate reports the IOMMU lines at WARN level: its WARN is a failed check. */
function asPassthru(line: VhvLine): CheckStatus {
  return line.status === 'PASS' ? 'PASS' : 'FAIL';
}

function status(r: DoctorReport, id: string): CheckStatus | undefined {
  return r.checks.find((c) => c.id === id)?.status;
}

describe('parseVirtHostValidate', () => {
  it('reads status and message', () => {
    const text =
      '  QEMU: Checking for device assignment IOMMU support                         : PASS\n' +
      '  QEMU: Checking if IOMMU is enabled by kernel                               : WARN (IOMMU appears to be disabled in kernel. Add intel_iommu=on to kernel cmdline arguments)\n';
    expect(parseVirtHostValidate(text)).toEqual([
      { check: 'for device assignment IOMMU support', status: 'PASS' },
      {
        check: 'if IOMMU is enabled by kernel',
        status: 'WARN',
        message: 'IOMMU appears to be disabled in kernel. Add intel_iommu=on to kernel cmdline arguments',
      },
    ]);
  });
});

describe('agreement with virt-host-validate', () => {
  it('has virt-host-validate and root (apt-get install -y --no-install-recommends libvirt-clients; run as root)', () => {
    expect(available.ok, available.why).toBe(true);
  });
  const tally = { compared: 0, agreed: 0 };
  afterAll(() => console.log(`virt-host-validate agreement: ${tally.agreed}/${tally.compared} IOMMU lines`));

  for (const name of [...specNames, '(live host)']) {
    it(`on ${name}`, () => {
      if (!available.ok) throw new Error(`virt-host-validate is not usable here: ${available.why}`);
      const root = name === '(live host)' ? '/' : fixtureRoot(name);
      const vhv = runVirtHostValidate(root);
      const report = runChecks(new HostFs(root));
      expect(vhv.firmware, vhv.stdout).toBeDefined();
      if (report.absent.includes('/sys/firmware')) {
        // A partial capture: virt-host-validate takes the missing tables for "no DMAR table"
        // (a FAIL on missing files); passthru does not judge what the tree does not hold.
        expect(vhv.firmware!.status).not.toBe('PASS');
        expect(status(report, 'iommu.firmware')).toBe('SKIP');
        expect(status(report, 'iommu.kernel')).toBe('SKIP');
        return;
      }
      tally.compared++;
      expect({ check: 'iommu.firmware', status: status(report, 'iommu.firmware') }).toEqual({ check: 'iommu.firmware', status: asPassthru(vhv.firmware!) });
      tally.agreed++;
      if (vhv.kernel) {
        tally.compared++;
        expect({ check: 'iommu.kernel', status: status(report, 'iommu.kernel') }).toEqual({ check: 'iommu.kernel', status: asPassthru(vhv.kernel) });
        tally.agreed++;
      } else {
        // virt-host-validate stops after a failed firmware line; passthru goes on and fails the kernel too.
        expect(vhv.firmware!.status).not.toBe('PASS');
        expect(status(report, 'iommu.kernel')).toBe('FAIL');
      }
    });
  }

  it('AMD with the IOMMU off in the kernel: virt-host-validate advises "iommu=pt iommu=1", passthru removes amd_iommu=off and adds nothing', () => {
    const root = variantRoot('amd-shared-group', 'amd-iommu-off', (spec) => {
      spec.cmdline = spec.cmdline.replace('amd_iommu=on iommu=pt', 'amd_iommu=off');
      spec.files['/etc/default/grub'] = spec.files['/etc/default/grub'].replace('amd_iommu=on iommu=pt', 'amd_iommu=off');
      spec.iommu = { enabled: false, units: [], groupType: 'DMA', interruptRemapping: false };
      for (const d of spec.devices) delete d.iommuGroup;
    });
    const vhv = runVirtHostValidate(root);
    expect(vhv.firmware?.status).toBe('PASS');
    expect(vhv.kernel?.status).not.toBe('PASS');
    // The anchor's advice: iommu=1 is a GART aperture size on x86 and iommu=pt only a host-DMA
    // trade-off; neither undoes amd_iommu=off.
    expect(vhv.kernel?.message).toMatch(/Add iommu=pt iommu=1 to kernel cmdline arguments/);

    const report = runChecks(new HostFs(root));
    const kernel = report.checks.find((c) => c.id === 'iommu.kernel')!;
    expect(kernel.status).toBe('FAIL');
    expect(kernel.summary).toMatch(/off in the kernel: amd_iommu=off on the command line switches it off/);
    expect(kernel.remediation).toMatch(/Remove amd_iommu=off from GRUB_CMDLINE_LINUX_DEFAULT in \/etc\/default\/grub, then run update-grub and reboot/);
    for (const c of report.checks) {
      const fix = c.remediation ?? '';
      expect(fix, c.id).not.toMatch(/iommu=1/);
      expect(fix, c.id).not.toMatch(/^\+.*(amd_iommu=on|iommu=pt)/m);
      expect(fix, c.id).not.toMatch(/\badd [^.\n]*(amd_iommu=on|iommu=pt)/i);
    }
    expect(report.checks.find((c) => c.id === 'iommu.cmdline')?.status).toBe('FAIL');
  });
});
