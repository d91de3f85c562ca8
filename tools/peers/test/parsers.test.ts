// The peer-tool parsers on text captured from the tools in the e2e image (no container needed);
// lspci's parser has its own file (lspci.test.ts).
import { describe, expect, it } from 'vitest';
import { parseDevbindStatus, parseDriverctlList, parseVirtHostValidate } from '../src/index';

describe('peer tool parsers', () => {
  it('driverctl list-devices: (none) and the [*] override mark', () => {
    expect(parseDriverctlList('0000:00:00.0 (none)\n0000:01:00.0 vfio-pci [*]\n10000:e1:00.0 nvme\n')).toEqual([
      { address: '0000:00:00.0', driver: null, overridden: false },
      { address: '0000:01:00.0', driver: 'vfio-pci', overridden: true },
      { address: '10000:e1:00.0', driver: 'nvme', overridden: false },
    ]);
  });

  it('dpdk-devbind.py --status: sections, if= lists, drv= and unused=', () => {
    const text = [
      '',
      'Network devices using DPDK-compatible driver',
      '============================================',
      "0000:3b:02.0 'Ethernet Adaptive Virtual Function 1889' drv=vfio-pci unused=iavf",
      '',
      'Network devices using kernel driver',
      '===================================',
      "0000:00:1f.6 'Ethernet Connection (17) I219-LM 1a1c' if=eno1 drv=e1000e unused=vfio-pci *Active*",
      "0000:3b:00.0 'Ethernet Controller E810-C for QSFP 1592' if=ens1f0,ens1f0d1 drv=ice unused=vfio-pci",
      '',
      'Other Network devices',
      '=====================',
      "0000:3b:00.1 'Ethernet Controller E810-C for QSFP 1592' unused=ice,vfio-pci",
      '',
      "No 'Crypto' devices detected",
      '============================',
    ].join('\n');
    expect(parseDevbindStatus(text)).toEqual([
      {
        address: '0000:3b:02.0',
        section: 'Network devices using DPDK-compatible driver',
        name: 'Ethernet Adaptive Virtual Function 1889',
        driver: 'vfio-pci',
        interfaces: [],
        unused: ['iavf'],
      },
      {
        address: '0000:00:1f.6',
        section: 'Network devices using kernel driver',
        name: 'Ethernet Connection (17) I219-LM 1a1c',
        driver: 'e1000e',
        interfaces: ['eno1'],
        unused: ['vfio-pci'],
      },
      {
        address: '0000:3b:00.0',
        section: 'Network devices using kernel driver',
        name: 'Ethernet Controller E810-C for QSFP 1592',
        driver: 'ice',
        interfaces: ['ens1f0', 'ens1f0d1'],
        unused: ['vfio-pci'],
      },
      {
        address: '0000:3b:00.1',
        section: 'Other Network devices',
        name: 'Ethernet Controller E810-C for QSFP 1592',
        driver: null,
        interfaces: [],
        unused: ['ice', 'vfio-pci'],
      },
    ]);
  });

  it('virt-host-validate: PASS, and WARN/FAIL with their reason', () => {
    const text = [
      '  QEMU: Checking for hardware virtualization                                 : PASS',
      "  QEMU: Checking if device /dev/kvm exists                                   : FAIL (Check that the 'kvm-intel' or 'kvm-amd' modules are loaded & the BIOS has enabled virtualization)",
      '  QEMU: Checking for device assignment IOMMU support                         : PASS',
      '  QEMU: Checking if IOMMU is enabled by kernel                               : WARN (IOMMU appears to be disabled in kernel. Add intel_iommu=on to kernel cmdline arguments)',
    ].join('\n');
    const checks = parseVirtHostValidate(text);
    expect(checks.map((c) => [c.check, c.result])).toEqual([
      ['for hardware virtualization', 'PASS'],
      ['if device /dev/kvm exists', 'FAIL'],
      ['for device assignment IOMMU support', 'PASS'],
      ['if IOMMU is enabled by kernel', 'WARN'],
    ]);
    expect(checks[3]!.message).toMatch(/intel_iommu=on/);
  });
});
