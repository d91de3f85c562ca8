// doctor on real kernels: the IOMMU is named from what the kernel registered and the firmware
// describes (never from the CPU: every guest runs QEMU's `-cpu max`, which reports AMD-V), the
// verdict follows the kernel, and vfio.modules says what the module loader can do.
import { describe, expect, it } from 'vitest';
import { step, stepFile } from './records';

interface Check {
  id: string;
  status: string;
  summary: string;
  evidence: string[];
  remediation?: string | null;
}
const doctor = (run: string) => {
  const s = step(run, 'doctor');
  const json = JSON.parse(s.stdout) as { verdict: string; checks: Check[] };
  const check = (id: string) => {
    const c = json.checks.find((x) => x.id === id);
    if (!c) throw new Error(`${run}: doctor has no check ${id}`);
    return c;
  };
  return { rc: s.rc, verdict: json.verdict, check, kernel: s.kernel };
};

describe('doctor on real kernels', () => {
  it('VT-d guest: ready (exit 0), Intel VT-d named by the kernel (dmar0) and the firmware (DMAR), though the CPU says AMD-V', () => {
    const d = doctor('vtd');
    expect(d.rc).toBe(0);
    expect(d.verdict).toMatch(/^ready/);
    expect(d.check('cpu.virtualization').summary).toContain('AMD-V');
    expect(d.check('iommu.kernel').status).toBe('PASS');
    expect(d.check('iommu.kernel').summary).toContain('Intel VT-d');
    expect(d.check('iommu.kernel').summary).toContain('dmar0');
    expect(d.check('iommu.firmware').status).toBe('PASS');
    expect(d.check('iommu.firmware').summary).toContain('DMAR');
    expect(d.check('irq.remapping').status).toBe('PASS');
    // The kernel's own count of groups.
    expect(d.check('iommu.kernel').summary).toContain(`${Object.keys(d.kernel.groups).length} IOMMU groups`);
  });

  it('AMD-Vi guest: ready, AMD-Vi named by the kernel (ivhd0) and the firmware (IVRS)', () => {
    const d = doctor('amd');
    expect(d.rc).toBe(0);
    expect(d.check('iommu.kernel').status).toBe('PASS');
    expect(d.check('iommu.kernel').summary).toContain('AMD-Vi');
    expect(d.check('iommu.firmware').status).toBe('PASS');
    expect(d.check('iommu.firmware').summary).toContain('IVRS');
    expect(Object.keys(d.kernel.groups).length).toBeGreaterThan(0);
  });

  it('no IOMMU at all: not ready (exit 1), iommu.firmware FAIL with the virtual-IOMMU fix; the kernel has no groups', () => {
    const d = doctor('no-iommu');
    expect(Object.keys(d.kernel.groups)).toEqual([]);
    expect(d.rc).toBe(1);
    expect(d.verdict).toBe('not-ready');
    expect(d.check('iommu.firmware').status).toBe('FAIL');
    expect(d.check('iommu.firmware').remediation).toContain('intel-iommu');
    expect(d.check('iommu.kernel').status).toBe('FAIL');
  });

  it('intel_iommu=off: not ready, the firmware still describes VT-d, and the fix removes intel_iommu=off', () => {
    const d = doctor('iommu-off');
    expect(Object.keys(d.kernel.groups)).toEqual([]);
    expect(d.rc).toBe(1);
    expect(d.check('iommu.firmware').status).toBe('PASS');
    expect(d.check('iommu.firmware').summary).toContain('DMAR');
    const kernel = d.check('iommu.kernel');
    expect(kernel.status).toBe('FAIL');
    expect(kernel.summary).toContain('intel_iommu=off');
    expect(d.check('iommu.cmdline').status).toBe('FAIL');
  });

  it('Debian turns VT-d on without intel_iommu=on (CONFIG_INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF): no cmdline check asks for it', () => {
    const d = doctor('vtd');
    expect(d.check('iommu.cmdline').status).toBe('PASS');
    expect(`${d.check('iommu.cmdline').summary} ${d.check('iommu.cmdline').remediation ?? ''}`).not.toContain('intel_iommu=on');
  });

  it('vfio.modules is true to the module loader: not loaded but loadable (modprobe -n succeeds), and bind will load it', () => {
    const d = doctor('vtd');
    const dryRun = stepFile('vtd', 'doctor', 'modprobe-vfio-pci').trim().split('\n');
    expect(dryRun.at(-1)).toBe('0');
    expect(dryRun.join('\n')).toContain('vfio-pci.ko');
    expect(d.kernel.modules).not.toContain('vfio_pci');
    const c = d.check('vfio.modules');
    expect(c.status).toBe('WARN');
    expect(c.summary).toContain('vfio_pci');
    expect(c.evidence.join('\n')).toMatch(/CONFIG_VFIO_PCI=m/);
  });

  it('virt-host-validate on the same VT-d guest warns "No ACPI IVRS table found" (it asks the CPU, not the firmware): the peer\'s bug AB-2, passthru is right', () => {
    const vhv = stepFile('vtd', 'doctor', 'virt-host-validate');
    expect(vhv).toMatch(/Checking for device assignment IOMMU support\s*: WARN \(No ACPI IVRS table found/);
    expect(doctor('vtd').check('iommu.firmware').status).toBe('PASS');
    expect(Object.keys(doctor('vtd').kernel.groups).length).toBeGreaterThan(0);
  });
});
