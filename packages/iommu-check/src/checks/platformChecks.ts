/** Platform and firmware layer: PCI devices readable, CPU virtualization, the firmware's IOMMU table. */
import type { CheckResult } from '../DoctorReport';
import type { CpuVendor } from '../IommuParams';
import { check } from './check';
import { notInTree } from './evidence';
import { ACPI_TABLES, type Facts } from './Facts';

export function expectedTable(vendor: CpuVendor): 'DMAR' | 'IVRS' | 'IORT' {
  return vendor === 'intel' ? 'DMAR' : vendor === 'amd' ? 'IVRS' : 'IORT';
}

export function vendorIommuName(vendor: CpuVendor): string {
  return vendor === 'intel' ? 'Intel VT-d' : vendor === 'amd' ? 'AMD-Vi' : 'the IOMMU (SMMU)';
}

/** The kernel option that builds this vendor's IOMMU driver. */
export function iommuConfigOption(vendor: CpuVendor): string[] {
  return vendor === 'intel' ? ['CONFIG_INTEL_IOMMU'] : vendor === 'amd' ? ['CONFIG_AMD_IOMMU'] : ['CONFIG_ARM_SMMU_V3', 'CONFIG_ARM_SMMU'];
}

/**
 * Whose IOMMU this host has: what the kernel registered (`dmar*` units are Intel VT-d, `ivhd*`
 * AMD-Vi), else what the firmware describes (ACPI DMAR, IVRS, IORT), and only when neither says,
 * the CPU's vendor (what such a host would need). Never the CPU first: a VM can have an Intel
 * vIOMMU under a CPU that reports AMD-V (QEMU's `-cpu max` under TCG does).
 */
export function iommuVendorOf(units: readonly string[], tables: readonly string[] | undefined, cpuVendor: CpuVendor): CpuVendor {
  if (units.some((u) => u.startsWith('dmar'))) return 'intel';
  if (units.some((u) => u.startsWith('ivhd'))) return 'amd';
  if (units.length > 0) return 'other';
  if (tables?.includes('DMAR')) return 'intel';
  if (tables?.includes('IVRS')) return 'amd';
  if (tables?.includes('IORT')) return 'other';
  return cpuVendor;
}

export function firmwareRemediation(f: Facts): string {
  if (f.isVm) {
    return (
      'This host is a virtual machine: give it a virtual IOMMU in the outer hypervisor (QEMU: machine q35 with ' +
      '`-device intel-iommu,intremap=on,caching-mode=on`; libvirt: `<iommu model="intel"><driver intremap="on" caching_mode="on"/></iommu>`; ' +
      'or virtio-iommu), then boot it with intel_iommu=on. Hypervisors without a virtual IOMMU (Firecracker, most cloud instances) cannot pass devices through to nested guests.'
    );
  }
  if (f.iommuVendor === 'intel')
    return 'Enable VT-d (Intel Virtualization Technology for Directed I/O) in the firmware setup (UEFI/BIOS; often under Chipset or System Agent configuration), save and power-cycle.';
  if (f.iommuVendor === 'amd')
    return 'Enable IOMMU (AMD-Vi) and SVM Mode in the firmware setup (UEFI/BIOS; IOMMU is often under AMD CBS > NBIO Common Options and set to Auto), save and power-cycle.';
  return 'Enable the SMMU / IOMMU in the firmware setup, or use firmware that describes it (ACPI IORT).';
}

export function checkCpuVirtualization(f: Facts): CheckResult {
  if (f.absent.has('/proc/cpuinfo'))
    return check('cpu.virtualization', 'SKIP', `${notInTree('/proc/cpuinfo')}: the CPU's virtualization flags (vmx/svm) cannot be read.`, [
      '/proc/cpuinfo: absent',
    ]);
  const ev = [
    `${f.cpuPath}: vendor ${f.cpu.vendorId ?? 'unknown'}, ${f.cpu.virtualization ? `flag ${f.cpu.virtualization}` : 'no vmx/svm flag'}${f.cpu.hypervisor ? ', flag hypervisor' : ''}`,
  ];
  if (f.cpu.virtualization !== null) {
    return check(
      'cpu.virtualization',
      'PASS',
      `Hardware virtualization available (${f.cpu.virtualization === 'vmx' ? 'Intel VT-x' : 'AMD-V'}): KVM can run the VMs devices are passed to.`,
      ev,
    );
  }
  if (f.cpu.vendor === 'other') {
    const kvm = f.host.exists('/dev/kvm');
    ev.push(`/dev/kvm: ${kvm ? 'present' : 'absent'}`);
    return kvm
      ? check('cpu.virtualization', 'PASS', 'KVM is available (/dev/kvm).', ev)
      : check(
          'cpu.virtualization',
          'WARN',
          'No /dev/kvm: VMs cannot run on this host (containers can still get devices).',
          ev,
          'Enable virtualization in the firmware and load the kvm module.',
        );
  }
  const name = f.cpu.vendor === 'intel' ? 'VT-x (vmx)' : 'AMD-V (svm)';
  if (f.isVm) {
    return check(
      'cpu.virtualization',
      'FAIL',
      `No ${name} flag: this virtual machine has no nested virtualization, so it cannot run VMs to pass devices to (containers are unaffected).`,
      ev,
      `Enable nested virtualization in the outer hypervisor (KVM: kvm_${f.cpu.vendor === 'intel' ? 'intel' : 'amd'} nested=1 and a CPU model with ${f.cpu.vendor === 'intel' ? 'vmx' : 'svm'}, e.g. -cpu host).`,
    );
  }
  return check(
    'cpu.virtualization',
    'FAIL',
    `No ${name} flag in /proc/cpuinfo: hardware virtualization is off in the firmware, so KVM cannot run VMs (containers are unaffected).`,
    ev,
    f.cpu.vendor === 'intel'
      ? 'Enable Intel Virtualization Technology (VT-x) in the firmware setup, save and power-cycle.'
      : 'Enable SVM Mode in the firmware setup, save and power-cycle.',
  );
}

export function checkFirmware(f: Facts): CheckResult {
  const want = expectedTable(f.iommuVendor);
  const ev: string[] = [];
  if (f.tables === undefined) {
    ev.push(`${ACPI_TABLES}: ${f.tablesError ?? 'absent'}`);
    if (f.units.length > 0)
      return check(
        'iommu.firmware',
        'PASS',
        `No ACPI tables visible, but the kernel registered IOMMU units (${f.units.join(', ')}): the firmware describes an IOMMU.`,
        ev,
      );
    if (f.absent.has('/sys/firmware'))
      return check('iommu.firmware', 'SKIP', `${notInTree('/sys/firmware')}: whether the firmware describes an IOMMU (ACPI ${want} table) cannot be read.`, ev);
    return check(
      'iommu.firmware',
      'FAIL',
      `${ACPI_TABLES} is ${f.tablesError ? 'unreadable' : 'absent'}: no ACPI ${want} table can be seen, so the firmware exposes no IOMMU to this kernel.`,
      ev,
      f.tablesError ? 'Run as root to read the ACPI tables.' : firmwareRemediation(f),
    );
  }
  const found = f.tables.filter((t) => ['DMAR', 'IVRS', 'IORT'].includes(t));
  ev.push(
    `${ACPI_TABLES}: ${found.length > 0 ? found.join(', ') : f.tables.length === 0 ? 'no tables' : `no DMAR, IVRS or IORT (${f.tables.length} tables: ${f.tables.slice(0, 12).join(' ')}${f.tables.length > 12 ? ' ...' : ''})`}`,
  );
  if (found.includes(want)) {
    const what = want === 'DMAR' ? 'Intel VT-d DMA remapping units (DMAR)' : want === 'IVRS' ? 'AMD-Vi I/O virtualization (IVRS)' : 'SMMUs (IORT)';
    return check('iommu.firmware', 'PASS', `The firmware describes ${what}: the IOMMU is on in the firmware.`, ev);
  }
  if (found.length > 0) {
    return check('iommu.firmware', 'WARN', `ACPI ${found.join(', ')} present but no ${want} table, which this ${f.iommuVendor} CPU's IOMMU driver needs.`, ev);
  }
  const why = f.isVm
    ? `No ACPI ${want} table: this host is a virtual machine (hypervisor CPU flag) whose hypervisor exposes no virtual IOMMU.`
    : `No ACPI ${want} table: the IOMMU is off in the firmware (${f.iommuVendor === 'amd' ? 'IOMMU / AMD-Vi' : 'VT-d'} disabled in the setup) or not supported by this platform.`;
  return check('iommu.firmware', 'FAIL', why, ev, firmwareRemediation(f));
}

export function checkPciDevices(f: Facts): CheckResult {
  const ev = [`/sys/bus/pci/devices: ${f.scan.devices.length} devices`, ...f.scan.problems.slice(0, 5).map((p) => `${p.address}: ${p.message}`)];
  if (f.scan.devices.length === 0) {
    return check(
      'pci.devices',
      'FAIL',
      `No PCI devices readable under /sys/bus/pci/devices${f.scan.problems.length > 0 ? ` (${f.scan.problems.length} unreadable)` : ''}: nothing to pass through here (or reading is denied).`,
      ev,
      'Run on the host itself (not a container without /sys), as root; to see a full report meanwhile: passthru doctor --root fixtures/hosts/intel-workstation',
    );
  }
  const unreadable = f.scan.problems.filter((p) => !f.byAddress.has(p.address)).length;
  const partial = new Set(f.scan.problems.filter((p) => f.byAddress.has(p.address)).map((p) => p.address)).size;
  if (f.scan.problems.length > 0) {
    const parts = [unreadable > 0 ? `${unreadable} could not be read` : '', partial > 0 ? `${partial} read in part` : ''].filter((x) => x !== '').join(', ');
    return check(
      'pci.devices',
      'WARN',
      `${f.scan.devices.length} PCI devices read; ${parts} (see evidence).`,
      ev,
      unreadable > 0 ? 'Run as root.' : 'Capture the whole tree (the links lead to folders it lacks).',
    );
  }
  return check('pci.devices', 'PASS', `${f.scan.devices.length} PCI devices, ${f.groupFolders.size} IOMMU groups.`, ev);
}
