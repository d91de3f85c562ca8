// doctor on trees the kernel lab captured from Debian's kernel under QEMU (fixtures/kernel-lab).
// The guest's CPU (QEMU `-cpu max` under TCG) reports AuthenticAMD and svm while the machine has
// an Intel VT-d vIOMMU: the IOMMU is named from the kernel's units and the firmware's tables.
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { describe, expect, it } from 'vitest';
import { iommuVendorOf } from '../src/checks/platformChecks';
import { runChecks } from '../src/runChecks';

const capture = (name: string) => new HostFs(path.resolve(__dirname, '../../../fixtures/kernel-lab', name));

describe('the IOMMU is the one the kernel and the firmware describe, never the CPU', () => {
  it('qemu-vtd: an AMD CPU with an Intel vIOMMU is ready, Intel VT-d by dmar0 and the DMAR table, no IVRS warning', () => {
    const host = capture('qemu-vtd');
    expect(host.readText('/proc/cpuinfo')).toContain('AuthenticAMD');
    const report = runChecks(host);
    const check = (id: string) => report.checks.find((c) => c.id === id)!;
    expect(check('iommu.kernel')).toMatchObject({ status: 'PASS' });
    expect(check('iommu.kernel').summary).toContain('Intel VT-d by 1 unit (dmar0)');
    expect(check('iommu.firmware')).toMatchObject({ status: 'PASS' });
    expect(check('iommu.firmware').summary).toContain('Intel VT-d DMA remapping units (DMAR)');
    expect(check('iommu.cmdline').status).toBe('PASS');
    expect(report.verdict).toMatch(/^ready/);
  });

  it.each([
    [['dmar0'], ['DMAR', 'FACP'], 'amd', 'intel'],
    [['ivhd0'], ['IVRS'], 'intel', 'amd'],
    [[], ['DMAR'], 'amd', 'intel'],
    [[], ['IVRS'], 'intel', 'amd'],
    [[], ['IORT'], 'other', 'other'],
    [[], [], 'amd', 'amd'],
    [[], undefined, 'intel', 'intel'],
  ] as const)('units %j, tables %j, CPU %s: %s', (units, tables, cpu, want) => {
    expect(iommuVendorOf(units, tables, cpu)).toBe(want);
  });
});
