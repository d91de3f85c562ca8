/**
 * The readiness checks of `passthru doctor`: every fact read through one HostFs, every check a
 * stable id with PASS / WARN / FAIL / SKIP, the evidence (paths and values read) and the exact
 * remediation. Never throws for what a host lacks or refuses to show: a missing or unreadable
 * file becomes a FAIL or SKIP that says so.
 */
import type { HostFs } from '@passthru/hostfs';
import { blockingEndpoints, compareAddresses, keepsGroupViable, normalizePciAddress, notPassable, platformFunctionsOf, readIommuGroups, scanPciDevices, slotOf, type IommuGroup, type PciDevice, type PciScan } from '@passthru/pci-discovery';
import { inspectPciConfig, type PciConfigIsolation } from './AcsCapability';
import { describeCmdlinePlan, planCmdlineRemediation, readBootLoaderCmdlines, type CmdlineRemediationPlan } from './BootLoaderCmdline';
import { DoctorReportSchema, verdictOf, type CheckResult, type CheckStatus, type DoctorReport, type HostIdentity } from './DoctorReport';
import type { CmdlineEditSpec, Distro } from './GrubEdit';
import { detectDistro, dmiLooksVirtual, parseCpuInfo, readDmiIdentity, readKernelConfig, readKernelRelease, tryList, tryReadBytes, tryReadText, type CpuInfo, type KernelConfig } from './HostFacts';
import { GPU_DRIVERS, parseDracutConf, parseInitramfsToolsModules, parseMkinitcpioConf, type InitramfsVfioReport } from './InitramfsConfig';
import { decodeIntelEcap, parseInterruptRemapping } from './InterruptRemapping';
import { IommuCheckError } from './IommuCheckError';
import { canonicalParamKey, formatParam, judgeIommuParams, parseCmdline, splitOptions, type CpuVendor, type IommuParamFinding, type KernelParam } from './KernelCmdline';
import { isModuleBlocked, MODPROBE_DIRS, moduleOptions, normalizeModuleName, parseModprobeConfig, type ConfigFile, type ModprobeConfig } from './ModprobeConfig';

export interface RunChecksOptions {
  /** Addresses to check for passthrough (`0000:01:00.0` or `01:00.0`): adds group.viable.* and acs.*. */
  devices?: string[];
  /** Distribution family for remediation commands; read from /etc/os-release when absent. */
  distro?: Distro;
  /** A scan already made (with device names); scanned here when absent. */
  scan?: PciScan;
  /** Host facts from outside HostFs (systeminformation on a live host); they win over DMI files. */
  identity?: Partial<Pick<HostIdentity, 'board' | 'bios' | 'isVirtualMachine'>>;
}

const ACPI_TABLES = '/sys/firmware/acpi/tables';
const IOMMU_CLASS = '/sys/class/iommu';
const IOMMU_GROUPS = '/sys/kernel/iommu_groups';
const REQUIRED_VFIO = ['vfio', 'vfio_pci', 'vfio_iommu_type1'] as const;

/**
 * Layers of a host whose absence from a tree leaves checks without evidence (a partial capture
 * of a real machine often holds only /sys/bus and /sys/devices). A check that needs an absent
 * layer is SKIP "not in this tree", never FAIL, and the verdict is `incomplete`.
 */
export const EVIDENCE_LAYERS = ['/proc/cpuinfo', '/proc/cmdline', '/sys/firmware', '/sys/kernel', '/sys/kernel/iommu_groups'] as const;
export type EvidenceLayer = (typeof EVIDENCE_LAYERS)[number];

const notInTree = (layer: string) => `${layer} is not in this tree`;

/** Everything read once and shared by the checks. */
interface Facts {
  host: HostFs;
  /** Evidence layers absent from the tree (see EVIDENCE_LAYERS). */
  absent: Set<EvidenceLayer>;
  /** Devices whose `iommu_group` link exists, resolved or not (what the kernel had when the tree was made). */
  linkedGroups: () => Map<string, string>;
  cpu: CpuInfo;
  cpuPath: string;
  release: string | undefined;
  config: KernelConfig | undefined;
  cmdlineText: string | undefined;
  cmdlineError: string | undefined;
  params: KernelParam[];
  findings: IommuParamFinding[];
  /** Names in /sys/firmware/acpi/tables; undefined when the folder is absent or unreadable. */
  tables: string[] | undefined;
  tablesError: string | undefined;
  units: string[];
  groupIds: number[];
  groupsError: string | undefined;
  scan: PciScan;
  groups: IommuGroup[];
  byAddress: Map<string, PciDevice>;
  distro: Distro;
  isVm: boolean;
  modprobe: ModprobeConfig;
  modprobeError: string | undefined;
  plans: (extra?: CmdlineEditSpec) => { plans: CmdlineRemediationPlan[]; error?: string };
}

function expectedTable(vendor: CpuVendor): 'DMAR' | 'IVRS' | 'IORT' {
  return vendor === 'intel' ? 'DMAR' : vendor === 'amd' ? 'IVRS' : 'IORT';
}

function vendorIommuName(vendor: CpuVendor): string {
  return vendor === 'intel' ? 'Intel VT-d' : vendor === 'amd' ? 'AMD-Vi' : 'the IOMMU (SMMU)';
}

/** The kernel option that builds this vendor's IOMMU driver. */
function iommuConfigOption(vendor: CpuVendor): string[] {
  return vendor === 'intel' ? ['CONFIG_INTEL_IOMMU'] : vendor === 'amd' ? ['CONFIG_AMD_IOMMU'] : ['CONFIG_ARM_SMMU_V3', 'CONFIG_ARM_SMMU'];
}

function firmwareRemediation(f: Facts): string {
  if (f.isVm) {
    return (
      'This host is a virtual machine: give it a virtual IOMMU in the outer hypervisor (QEMU: machine q35 with ' +
      '`-device intel-iommu,intremap=on,caching-mode=on`; libvirt: `<iommu model="intel"><driver intremap="on" caching_mode="on"/></iommu>`; ' +
      'or virtio-iommu), then boot it with intel_iommu=on. Hypervisors without a virtual IOMMU (Firecracker, most cloud instances) cannot pass devices through to nested guests.'
    );
  }
  if (f.cpu.vendor === 'intel') return 'Enable VT-d (Intel Virtualization Technology for Directed I/O) in the firmware setup (UEFI/BIOS; often under Chipset or System Agent configuration), save and power-cycle.';
  if (f.cpu.vendor === 'amd') return 'Enable IOMMU (AMD-Vi) and SVM Mode in the firmware setup (UEFI/BIOS; IOMMU is often under AMD CBS > NBIO Common Options and set to Auto), save and power-cycle.';
  return 'Enable the SMMU / IOMMU in the firmware setup, or use firmware that describes it (ACPI IORT).';
}

function planRemediation(f: Facts, why: string, fallback: string, extra?: CmdlineEditSpec): string {
  const { plans, error } = f.plans(extra);
  const changed = plans.filter((p) => p.changed);
  if (error !== undefined) return `${why}${fallback} (no edit planned: ${error})`;
  if (changed.length === 0) return `${why}${fallback}`;
  return `${why}${changed.map((p) => `${capitalise(describeCmdlinePlan(p))}${p.loader === 'grub' ? '' : ` (${p.loader})`}:\n${p.diff.trimEnd()}`).join('\n')}\n(\`passthru persist\` applies this edit; \`--dry-run\` shows it.)`;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function check(id: string, status: CheckStatus, summary: string, evidence: string[], remediation?: string): CheckResult {
  const c: CheckResult = { id, status, summary, evidence };
  if (remediation !== undefined && remediation !== '') c.remediation = remediation;
  return c;
}

function excerpt(text: string, max = 200): string {
  const t = text.trim().replace(/\s+/g, ' ');
  return t.length > max ? `${t.slice(0, max)}...` : t;
}

// ---------------------------------------------------------------------------------------------
// Checks

function checkCpuVirtualization(f: Facts): CheckResult {
  if (f.absent.has('/proc/cpuinfo')) return check('cpu.virtualization', 'SKIP', `${notInTree('/proc/cpuinfo')}: the CPU's virtualization flags (vmx/svm) cannot be read.`, ['/proc/cpuinfo: absent']);
  const ev = [`${f.cpuPath}: vendor ${f.cpu.vendorId ?? 'unknown'}, ${f.cpu.virtualization ? `flag ${f.cpu.virtualization}` : 'no vmx/svm flag'}${f.cpu.hypervisor ? ', flag hypervisor' : ''}`];
  if (f.cpu.virtualization !== null) {
    return check('cpu.virtualization', 'PASS', `Hardware virtualization available (${f.cpu.virtualization === 'vmx' ? 'Intel VT-x' : 'AMD-V'}): KVM can run the VMs devices are passed to.`, ev);
  }
  if (f.cpu.vendor === 'other') {
    const kvm = f.host.exists('/dev/kvm');
    ev.push(`/dev/kvm: ${kvm ? 'present' : 'absent'}`);
    return kvm
      ? check('cpu.virtualization', 'PASS', 'KVM is available (/dev/kvm).', ev)
      : check('cpu.virtualization', 'WARN', 'No /dev/kvm: VMs cannot run on this host (containers can still get devices).', ev, 'Enable virtualization in the firmware and load the kvm module.');
  }
  const name = f.cpu.vendor === 'intel' ? 'VT-x (vmx)' : 'AMD-V (svm)';
  if (f.isVm) {
    return check('cpu.virtualization', 'FAIL', `No ${name} flag: this virtual machine has no nested virtualization, so it cannot run VMs to pass devices to (containers are unaffected).`, ev, `Enable nested virtualization in the outer hypervisor (KVM: kvm_${f.cpu.vendor === 'intel' ? 'intel' : 'amd'} nested=1 and a CPU model with ${f.cpu.vendor === 'intel' ? 'vmx' : 'svm'}, e.g. -cpu host).`);
  }
  return check('cpu.virtualization', 'FAIL', `No ${name} flag in /proc/cpuinfo: hardware virtualization is off in the firmware, so KVM cannot run VMs (containers are unaffected).`, ev, f.cpu.vendor === 'intel' ? 'Enable Intel Virtualization Technology (VT-x) in the firmware setup, save and power-cycle.' : 'Enable SVM Mode in the firmware setup, save and power-cycle.');
}

function checkFirmware(f: Facts): CheckResult {
  const want = expectedTable(f.cpu.vendor);
  const ev: string[] = [];
  if (f.tables === undefined) {
    ev.push(`${ACPI_TABLES}: ${f.tablesError ?? 'absent'}`);
    if (f.units.length > 0) return check('iommu.firmware', 'PASS', `No ACPI tables visible, but the kernel registered IOMMU units (${f.units.join(', ')}): the firmware describes an IOMMU.`, ev);
    if (f.absent.has('/sys/firmware')) return check('iommu.firmware', 'SKIP', `${notInTree('/sys/firmware')}: whether the firmware describes an IOMMU (ACPI ${want} table) cannot be read.`, ev);
    return check('iommu.firmware', 'FAIL', `${ACPI_TABLES} is ${f.tablesError ? 'unreadable' : 'absent'}: no ACPI ${want} table can be seen, so the firmware exposes no IOMMU to this kernel.`, ev, f.tablesError ? 'Run as root to read the ACPI tables.' : firmwareRemediation(f));
  }
  const found = f.tables.filter((t) => ['DMAR', 'IVRS', 'IORT'].includes(t));
  ev.push(`${ACPI_TABLES}: ${found.length > 0 ? found.join(', ') : f.tables.length === 0 ? 'no tables' : `no DMAR, IVRS or IORT (${f.tables.length} tables: ${f.tables.slice(0, 12).join(' ')}${f.tables.length > 12 ? ' ...' : ''})`}`);
  if (found.includes(want)) {
    const what = want === 'DMAR' ? 'Intel VT-d DMA remapping units (DMAR)' : want === 'IVRS' ? 'AMD-Vi I/O virtualization (IVRS)' : 'SMMUs (IORT)';
    return check('iommu.firmware', 'PASS', `The firmware describes ${what}: the IOMMU is on in the firmware.`, ev);
  }
  if (found.length > 0) {
    return check('iommu.firmware', 'WARN', `ACPI ${found.join(', ')} present but no ${want} table, which this ${f.cpu.vendor} CPU's IOMMU driver needs.`, ev);
  }
  const why = f.isVm
    ? `No ACPI ${want} table: this host is a virtual machine (hypervisor CPU flag) whose hypervisor exposes no virtual IOMMU.`
    : `No ACPI ${want} table: the IOMMU is off in the firmware (${f.cpu.vendor === 'amd' ? 'IOMMU / AMD-Vi' : 'VT-d'} disabled in the setup) or not supported by this platform.`;
  return check('iommu.firmware', 'FAIL', why, ev, firmwareRemediation(f));
}

/** Why the kernel has no IOMMU groups, most fundamental cause first. */
interface KernelDiagnosis {
  kind: 'not-built' | 'off-in-firmware' | 'off-on-cmdline' | 'not-enabled-by-default' | 'driver-failed';
  text: string;
}

function diagnoseKernel(f: Facts): KernelDiagnosis[] {
  const out: KernelDiagnosis[] = [];
  const want = expectedTable(f.cpu.vendor);
  if (f.config !== undefined) {
    const opts = iommuConfigOption(f.cpu.vendor);
    const built = opts.some((o) => f.config!.options.get(o) === 'y');
    if (!built) {
      out.push({ kind: 'not-built', text: `not built into this kernel (${opts.map((o) => `${o}=${f.config!.options.get(o) ?? 'absent'}`).join(', ')} in ${f.config.path})` });
    }
  }
  if (f.tables !== undefined && !f.tables.includes(want)) out.push({ kind: 'off-in-firmware', text: f.isVm ? `no virtual IOMMU from the hypervisor (no ACPI ${want} table in this virtual machine)` : `off in the firmware (no ACPI ${want} table)` });
  const offParams = f.params.filter((p) => {
    const key = canonicalParamKey(p.key);
    const opts = splitOptions(p.value);
    return (key === 'intel_iommu' && f.cpu.vendor === 'intel' && opts.includes('off')) || (key === 'iommu' && opts.some((o) => o.startsWith('off'))) || (key === 'amd_iommu' && f.cpu.vendor === 'amd' && opts.some((o) => o.startsWith('off')));
  });
  if (offParams.length > 0) out.push({ kind: 'off-on-cmdline', text: `off in the kernel: ${offParams.map(formatParam).join(' ')} on the command line switches it off` });
  else if (f.cpu.vendor === 'intel' && !hasIntelIommuOn(f.params) && out.every((d) => d.kind !== 'not-built')) {
    const defaultOn = f.config?.options.get('CONFIG_INTEL_IOMMU_DEFAULT_ON');
    if (defaultOn !== 'y') {
      const cfg = f.config === undefined ? 'the kernel configuration is not readable, and distribution kernels usually leave it off' : `CONFIG_INTEL_IOMMU_DEFAULT_ON is ${defaultOn === undefined || defaultOn === 'n' ? 'not set' : defaultOn} in ${f.config.path}`;
      out.push({ kind: 'not-enabled-by-default', text: `off in the kernel: intel_iommu=on is missing from the command line and this kernel does not enable VT-d by default (${cfg})` });
    }
  }
  if (out.length === 0) out.push({ kind: 'driver-failed', text: `the ${vendorIommuName(f.cpu.vendor)} driver did not initialise although the firmware and the command line allow it (see \`dmesg | grep -i -e DMAR -e AMD-Vi -e IOMMU\` for firmware errors)` });
  return out;
}

/** The kernel's IOMMU layer is missing from the tree: no group, unit or mode can be judged. */
function kernelAbsent(f: Facts): boolean {
  return f.absent.has('/sys/kernel') || f.absent.has('/sys/kernel/iommu_groups');
}

/** A symlink's raw target, or undefined (absent, not a link, unreadable). */
function tryReadlink(host: HostFs, path: string): string | undefined {
  try {
    return host.readlink(path);
  } catch {
    return undefined;
  }
}

function hasIntelIommuOn(params: readonly KernelParam[]): boolean {
  const last = params.filter((p) => canonicalParamKey(p.key) === 'intel_iommu' && splitOptions(p.value).some((o) => o === 'on' || o === 'off')).at(-1);
  return last !== undefined && splitOptions(last.value).includes('on');
}

function checkKernel(f: Facts): CheckResult {
  const ev = [`${IOMMU_CLASS}: ${f.units.length > 0 ? f.units.join(', ') : 'no units'}`, `${IOMMU_GROUPS}: ${f.groupsError ?? (f.groupIds.length > 0 ? `${f.groupIds.length} groups` : 'empty')}`];
  if (f.config) ev.push(`${f.config.path}: ${[...iommuConfigOption(f.cpu.vendor), 'CONFIG_INTEL_IOMMU_DEFAULT_ON', 'CONFIG_IOMMU_DEFAULT_PASSTHROUGH'].filter((o, i, a) => a.indexOf(o) === i && (f.cpu.vendor === 'intel' || o !== 'CONFIG_INTEL_IOMMU_DEFAULT_ON')).map((o) => `${o}=${f.config!.options.get(o) ?? 'absent'}`).join(' ')}`);
  else ev.push(`/boot/config-${f.release ?? '<release>'}, /proc/config.gz: not readable`);
  if (f.cmdlineText !== undefined) ev.push(`/proc/cmdline: ${excerpt(f.cmdlineText)}`);
  if (f.groupsError !== undefined) return check('iommu.kernel', 'FAIL', `Cannot read ${IOMMU_GROUPS}: ${f.groupsError}`, ev, 'Run as root, or check that sysfs is mounted.');
  const missing = f.absent.has('/sys/kernel') ? '/sys/kernel' : f.absent.has('/sys/kernel/iommu_groups') ? IOMMU_GROUPS : undefined;
  if (missing !== undefined) {
    const linked = f.linkedGroups();
    const ids = [...new Set(linked.values())].sort((a, b) => Number(a) - Number(b));
    if (linked.size > 0) ev.push(`/sys/bus/pci/devices/*/iommu_group: ${linked.size} links to groups ${ids.join(' ')}, their targets not in this tree`);
    const said = linked.size > 0 ? ` Yet ${linked.size} device${linked.size === 1 ? '' : 's'} carry iommu_group links (groups ${ids.join(' ')}): the kernel had the IOMMU on when this tree was made, but the groups are missing here.` : '';
    return check('iommu.kernel', 'SKIP', `${notInTree(missing)}: the kernel's IOMMU state (groups, units) cannot be read.${said}`, ev, 'Capture the whole /sys/kernel/iommu_groups (and /sys/firmware/acpi/tables) with the tree, e.g. `passthru snapshot`.');
  }
  if (f.groupIds.length > 0) {
    const units = f.units.length > 0 ? ` by ${f.units.length} unit${f.units.length === 1 ? '' : 's'} (${f.units.join(', ')})` : '';
    return check('iommu.kernel', 'PASS', `The kernel enabled ${vendorIommuName(f.cpu.vendor)}${units}: ${f.groupIds.length} IOMMU groups.`, ev);
  }
  const diagnosis = diagnoseKernel(f);
  const absent = diagnosis.some((d) => d.kind === 'not-built' || d.kind === 'off-in-firmware');
  const texts = diagnosis.map((d) => d.text);
  const head = absent ? `IOMMU absent: ${texts.join('; ')}` : `IOMMU ${texts[0]}${texts.length > 1 ? `; ${texts.slice(1).join('; ')}` : ''}`;
  const summary = `${head}. No IOMMU groups, so no device can be passed through.`;
  const remedies: string[] = [];
  for (const d of diagnosis) {
    if (d.kind === 'not-built') remedies.push(`Boot a kernel built with ${iommuConfigOption(f.cpu.vendor)[0]}=y (every major distribution kernel has it).`);
    else if (d.kind === 'off-in-firmware') remedies.push(firmwareRemediation(f));
    else if (d.kind === 'off-on-cmdline' || d.kind === 'not-enabled-by-default') {
      const fallback = f.cpu.vendor === 'intel' ? 'Add intel_iommu=on to the kernel command line of your boot loader and reboot.' : 'Remove the parameter that switches the IOMMU off from the kernel command line and reboot.';
      remedies.push(planRemediation(f, '', fallback));
    } else remedies.push(f.cpu.vendor === 'amd' ? 'AMD-Vi is on by default when the firmware has an IVRS table: nothing needs adding to the command line. Update the firmware; if dmesg reports an IVRS bug, amd_iommu=force_enable or an ivrs_ioapic= / ivrs_hpet= override may help.' : 'Check dmesg for DMAR errors and update the firmware.');
  }
  return check('iommu.kernel', 'FAIL', summary, ev, remedies.join('\n'));
}

function checkCmdline(f: Facts): CheckResult {
  if (f.cmdlineText === undefined && f.absent.has('/proc/cmdline')) return check('iommu.cmdline', 'SKIP', `${notInTree('/proc/cmdline')}: the running kernel's parameters cannot be read.`, ['/proc/cmdline: absent']);
  if (f.cmdlineText === undefined) return check('iommu.cmdline', 'SKIP', `/proc/cmdline not readable${f.cmdlineError ? `: ${f.cmdlineError}` : ''}.`, ['/proc/cmdline: not readable']);
  const ev = [`/proc/cmdline: ${excerpt(f.cmdlineText, 400)}`, ...f.findings.map((x) => `${x.param}: ${x.verdict}: ${x.reason}`)];
  const fails = f.findings.filter((x) => x.verdict === 'fail');
  const warns = f.findings.filter((x) => x.verdict === 'warn');
  const missingOn = f.groupIds.length === 0 && !kernelAbsent(f) && diagnoseKernel(f).some((d) => d.kind === 'not-enabled-by-default');
  const fixes = [...fails, ...warns].map((x) => x.fix).filter((x): x is string => x !== undefined);
  if (fails.length > 0 || missingOn) {
    const parts = [...fails.map((x) => `${x.param}: ${x.reason}`), ...(missingOn ? ['intel_iommu=on is missing and this kernel leaves VT-d off without it.'] : [])];
    return check('iommu.cmdline', 'FAIL', parts.join(' '), ev, planRemediation(f, '', fixes.join(' ') || 'Add intel_iommu=on to the kernel command line and reboot.'));
  }
  if (warns.length > 0) {
    const note = f.cpu.vendor === 'amd' ? ' AMD-Vi needs no kernel parameter: it is on by default when the firmware has an IVRS table (amd_iommu has no "on" value; iommu=pt is an optional trade-off).' : '';
    return check('iommu.cmdline', 'WARN', warns.map((x) => `${x.param}: ${x.reason}`).join(' '), ev, planRemediation(f, note ? `${note.trim()}\n` : '', fixes.join(' ')));
  }
  const relevant = f.findings.filter((x) => x.verdict === 'ok').map((x) => x.param);
  const what = relevant.length > 0 ? ` (${relevant.join(' ')})` : f.cpu.vendor === 'amd' ? ' (none needed on AMD)' : '';
  return check('iommu.cmdline', 'PASS', `No kernel parameter disables the IOMMU or interrupt remapping${what}.`, ev);
}

/** Whether a parameter matters to passthrough: judged by judgeIommuParams, or a vfio module option. */
function isRelevant(p: KernelParam, vendor: CpuVendor): boolean {
  return canonicalParamKey(p.key).startsWith('vfio') || judgeIommuParams([p], vendor).length > 0;
}

function multisetMinus(a: readonly string[], b: readonly string[]): string[] {
  const rest = [...b];
  return a.filter((x) => {
    const i = rest.indexOf(x);
    if (i < 0) return true;
    rest.splice(i, 1);
    return false;
  });
}

function checkBootloaderPending(f: Facts): CheckResult {
  const loaders = readBootLoaderCmdlines(f.host);
  if (loaders.length === 0) {
    return check('bootloader.pending', 'SKIP', 'No boot-loader configuration found (/etc/default/grub, /etc/kernel/cmdline, /etc/kernelstub/configuration): cannot tell what the next boot passes.', ['/etc/default/grub, /etc/kernel/cmdline, /etc/kernelstub/configuration: absent']);
  }
  const running = f.params.filter((p) => isRelevant(p, f.cpu.vendor)).map(formatParam);
  const ev: string[] = [`/proc/cmdline (relevant): ${running.join(' ') || '(none)'}`];
  let status: CheckStatus = 'PASS';
  const parts: string[] = [];
  const loaderName = { grub: 'GRUB', 'systemd-boot': 'systemd-boot (/etc/kernel/cmdline)', kernelstub: 'kernelstub' } as const;
  for (const l of loaders) {
    if (l.cmdline === undefined) {
      ev.push(`${l.files.join(', ')}: ${l.error ?? 'unreadable'}`);
      parts.push(`${loaderName[l.loader]}: cannot read its configuration (${l.error ?? 'unreadable'}).`);
      if (status === 'PASS') status = 'WARN';
      continue;
    }
    const pendingParams = parseCmdline(l.cmdline).params.filter((p) => isRelevant(p, f.cpu.vendor));
    const pending = pendingParams.map(formatParam);
    ev.push(`${l.files.join(' + ')}: ${excerpt(l.cmdline, 300) || '(empty)'}`);
    const added = multisetMinus(pending, running);
    const dropped = multisetMinus(running, pending);
    const badNext = judgeIommuParams(pendingParams, f.cpu.vendor).filter((x) => x.verdict === 'fail');
    if (added.length === 0 && dropped.length === 0) {
      parts.push(`${loaderName[l.loader]} will pass the same IOMMU parameters as the running kernel (${pending.join(' ') || 'none'}).`);
    } else {
      const diff = [added.length > 0 ? `adds ${added.join(' ')}` : '', dropped.length > 0 ? `drops ${dropped.join(' ')}` : ''].filter((x) => x !== '').join(' and ');
      parts.push(`The next boot differs from the running kernel: ${loaderName[l.loader]} ${diff}${badNext.length > 0 ? '' : ' (reboot to apply)'}.`);
      if (status === 'PASS') status = 'WARN';
    }
    if (badNext.length > 0) {
      parts.push(`On the next boot ${badNext.map((x) => x.param).join(' ')} will switch passthrough support off.`);
      status = 'FAIL';
    }
  }
  const remediation = status === 'FAIL' ? planRemediation(f, '', 'Fix the boot-loader configuration before rebooting.') : status === 'WARN' ? 'Reboot to run with the configured parameters (after regenerating the boot-loader configuration: update-grub, kernel-install or kernelstub).' : undefined;
  return check('bootloader.pending', status, parts.join(' '), ev, remediation);
}

function checkMode(f: Facts): CheckResult {
  if (kernelAbsent(f)) return check('iommu.mode', 'SKIP', `${notInTree(f.absent.has('/sys/kernel') ? '/sys/kernel' : IOMMU_GROUPS)}: no DMA translation mode to read.`, [`${IOMMU_GROUPS}: absent`]);
  if (f.groupIds.length === 0) return check('iommu.mode', 'SKIP', 'No IOMMU groups: no DMA translation mode to report.', [`${IOMMU_GROUPS}: empty`]);
  const counts = new Map<string, number>();
  for (const id of f.groupIds) {
    const t = tryReadText(f.host, `${IOMMU_GROUPS}/${id}/type`).value?.trim() ?? 'unknown';
    counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  const types = [...counts.entries()].map(([t, n]) => `${t} x${n}`).join(', ');
  const ptParams = f.params.filter((p) => {
    const k = canonicalParamKey(p.key);
    return (k === 'iommu' && splitOptions(p.value).some((o) => o.startsWith('pt'))) || k === 'iommu.passthrough';
  });
  const ev = [`${IOMMU_GROUPS}/*/type: ${types}`];
  if (ptParams.length > 0) ev.push(`/proc/cmdline: ${ptParams.map(formatParam).join(' ')}`);
  const defPt = f.config?.options.get('CONFIG_IOMMU_DEFAULT_PASSTHROUGH');
  if (defPt !== undefined && f.config) ev.push(`${f.config.path}: CONFIG_IOMMU_DEFAULT_PASSTHROUGH=${defPt}`);
  if (counts.has('identity')) {
    return check('iommu.mode', 'PASS', `Trade-off: host-owned devices use identity (passthrough) DMA mapping${ptParams.length > 0 ? ` (${ptParams.map(formatParam).join(' ')})` : ''}: better host I/O performance, but host devices are not isolated from each other. Devices given to VMs through VFIO are still translated; iommu=pt is not required for passthrough.`, ev);
  }
  return check('iommu.mode', 'PASS', `Host DMA is translated (${[...counts.keys()].join(', ')}): host devices are isolated too. iommu=pt is optional (a performance trade-off), not a requirement for passthrough.`, ev);
}

function readIrqChips(f: Facts): { remapped: boolean; chips: string[]; evidence: string } | undefined {
  const text = tryReadText(f.host, '/proc/interrupts').value;
  if (text !== undefined) {
    const s = parseInterruptRemapping(text);
    return { remapped: s.remapped, chips: s.chips, evidence: `/proc/interrupts: irq chips ${s.allChips.join(', ') || '(none)'}` };
  }
  const irqs = tryList(f.host, '/sys/kernel/irq').value ?? [];
  const chips: string[] = [];
  for (const irq of irqs.slice(0, 512)) {
    const c = tryReadText(f.host, `/sys/kernel/irq/${irq}/chip_name`).value?.trim();
    if (c && !chips.includes(c)) chips.push(c);
  }
  if (chips.length === 0) return undefined;
  const ir = chips.filter((c) => /^(IR-|INTEL-IR|AMD-IR)/.test(c));
  return { remapped: ir.length > 0, chips: ir, evidence: `/sys/kernel/irq/*/chip_name: ${chips.join(', ')}` };
}

function unsafeInterruptsAllowed(f: Facts): string | undefined {
  const fromSys = tryReadText(f.host, '/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts').value?.trim();
  if (fromSys === 'Y' || fromSys === '1') return '/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts: Y';
  const p = f.params.filter((x) => canonicalParamKey(x.key) === 'vfio_iommu_type1.allow_unsafe_interrupts').at(-1);
  if (p && /^(1|y|on)/i.test(p.value ?? '')) return `/proc/cmdline: ${formatParam(p)}`;
  const o = moduleOptions(f.modprobe, 'vfio_iommu_type1')['allow_unsafe_interrupts'];
  if (o !== undefined && /^(1|y|on)/i.test(o)) return `/etc/modprobe.d: options vfio_iommu_type1 allow_unsafe_interrupts=${o}`;
  return undefined;
}

function checkIrqRemapping(f: Facts): CheckResult {
  const chips = readIrqChips(f);
  const ev: string[] = chips ? [chips.evidence] : ['/proc/interrupts, /sys/kernel/irq/*/chip_name: not readable'];
  const ecaps: boolean[] = [];
  for (const u of f.units) {
    const hex = tryReadText(f.host, `${IOMMU_CLASS}/${u}/intel-iommu/ecap`).value;
    if (hex === undefined) continue;
    try {
      const ecap = decodeIntelEcap(hex, `${IOMMU_CLASS}/${u}/intel-iommu/ecap`);
      ecaps.push(ecap.interruptRemapping);
      ev.push(`${IOMMU_CLASS}/${u}/intel-iommu/ecap: ${hex.trim()} (IR=${ecap.interruptRemapping ? 1 : 0}, EIM=${ecap.extendedInterruptMode ? 1 : 0})`);
    } catch (error) {
      if (!(error instanceof IommuCheckError)) throw error;
      ev.push(`${IOMMU_CLASS}/${u}/intel-iommu/ecap: ${error.detail}`);
    }
  }
  const unsafe = unsafeInterruptsAllowed(f);
  if (unsafe) ev.push(unsafe);
  if (chips?.remapped) {
    if (unsafe) return check('irq.remapping', 'WARN', `Interrupt remapping is on (${chips.chips.join(', ')}), but VFIO is told to allow unsafe interrupts, which is not needed here.`, ev, 'Remove vfio_iommu_type1.allow_unsafe_interrupts=1 (kernel command line or /etc/modprobe.d).');
    return check('irq.remapping', 'PASS', `Interrupt remapping is on (${chips.chips.join(', ')}): assigned devices cannot inject arbitrary interrupts.`, ev);
  }
  if (kernelAbsent(f)) return check('irq.remapping', 'SKIP', `No remapped interrupts seen, and whether the IOMMU is on cannot be read (${notInTree(f.absent.has('/sys/kernel') ? '/sys/kernel' : IOMMU_GROUPS)}).`, ev);
  if (f.groupIds.length === 0) return check('irq.remapping', 'SKIP', 'Interrupt remapping needs the IOMMU, which is not enabled (see iommu.kernel).', ev);
  if (chips === undefined) return check('irq.remapping', 'SKIP', 'Cannot tell: neither /proc/interrupts nor /sys/kernel/irq/*/chip_name is readable.', ev);
  const intremapOff = f.params.filter((p) => canonicalParamKey(p.key) === 'intremap' && splitOptions(p.value).includes('off'));
  const unsafeNote = unsafe ? ' VFIO is told to allow unsafe interrupts, so assignment works without isolation.' : '';
  const status: CheckStatus = unsafe ? 'WARN' : 'FAIL';
  if (intremapOff.length > 0) {
    return check('irq.remapping', status, `Interrupt remapping is off: intremap=off on the command line; VFIO refuses device assignment without it.${unsafeNote}`, ev, planRemediation(f, '', 'Remove intremap=off from the kernel command line and reboot.'));
  }
  const unsafeFix = 'Only if you accept that an assigned device can inject interrupts into the host: `options vfio_iommu_type1 allow_unsafe_interrupts=1` in /etc/modprobe.d/vfio.conf.';
  if (ecaps.length > 0 && ecaps.some((x) => !x)) {
    return check('irq.remapping', status, `The IOMMU hardware has no interrupt remapping (ecap IR=0): VFIO refuses device assignment without it.${unsafeNote}`, ev, `Use a platform with interrupt remapping. ${unsafeFix}`);
  }
  return check('irq.remapping', status, `Interrupt remapping is off although the IOMMU is on: no IR- irq chips.${unsafeNote}`, ev, `Check \`dmesg | grep -i -e DMAR-IR -e 'AMD-Vi.*remap' -e x2apic\` (firmware x2APIC opt-out, IOAPIC/HPET missing from the IVRS/DMAR table); update the firmware. ${unsafeFix}`);
}

function readLoadedModules(f: Facts): { loaded: Set<string>; builtin: Set<string>; sysModule: Set<string>; ev: string[] } {
  const ev: string[] = [];
  const loaded = new Set<string>();
  const proc = tryReadText(f.host, '/proc/modules');
  if (proc.value !== undefined) {
    for (const line of proc.value.split('\n')) {
      const name = line.split(' ')[0];
      if (name) loaded.add(normalizeModuleName(name));
    }
  }
  const sysModule = new Set((tryList(f.host, '/sys/module').value ?? []).map(normalizeModuleName));
  const builtin = new Set<string>();
  const builtinPath = f.release ? `/lib/modules/${f.release}/modules.builtin` : undefined;
  const builtinText = builtinPath ? tryReadText(f.host, builtinPath).value : undefined;
  for (const line of (builtinText ?? '').split('\n')) {
    const base = line.trim().split('/').pop()?.replace(/\.ko(\.[a-z]+)?$/, '');
    if (base) builtin.add(normalizeModuleName(base));
  }
  const show = (s: Set<string>): string => REQUIRED_VFIO.filter((m) => s.has(m)).join(' ') || 'none of vfio, vfio_pci, vfio_iommu_type1';
  ev.push(`/proc/modules: ${proc.value === undefined ? 'not readable' : show(loaded)}`);
  ev.push(`/sys/module: ${show(sysModule)}`);
  ev.push(`${builtinPath ?? '/lib/modules/<release>/modules.builtin'}: ${builtinText === undefined ? 'absent' : show(builtin)}`);
  return { loaded, builtin, sysModule, ev };
}

function checkVfioModules(f: Facts): CheckResult {
  const { loaded, builtin, sysModule, ev } = readLoadedModules(f);
  const state = (m: string): 'loaded' | 'built-in' | 'missing' => (loaded.has(m) ? 'loaded' : builtin.has(m) || sysModule.has(m) ? 'built-in' : 'missing');
  const missing = REQUIRED_VFIO.filter((m) => state(m) === 'missing');
  const cfgName: Record<string, string> = { vfio: 'CONFIG_VFIO', vfio_pci: 'CONFIG_VFIO_PCI', vfio_iommu_type1: 'CONFIG_VFIO_IOMMU_TYPE1' };
  if (f.config) ev.push(`${f.config.path}: ${REQUIRED_VFIO.map((m) => `${cfgName[m]}=${f.config!.options.get(cfgName[m]!) ?? 'absent'}`).join(' ')}`);
  const blocked = REQUIRED_VFIO.filter((m) => isModuleBlocked(f.modprobe, m));
  if (blocked.length > 0) {
    ev.push(`/etc/modprobe.d: ${blocked.join(', ')} blacklisted or install-disabled`);
    return check('vfio.modules', 'FAIL', `${blocked.join(', ')} blocked by modprobe.d (blacklist or install /bin/false): vfio-pci cannot load.`, ev, `Remove the blacklist / install lines for ${blocked.join(', ')} from ${[...new Set([...f.modprobe.blacklists, ...f.modprobe.installs].filter((b) => blocked.includes(b.module as (typeof REQUIRED_VFIO)[number])).map((b) => b.origin.path))].join(', ')}.`);
  }
  if (missing.length === 0) {
    return check('vfio.modules', 'PASS', `${REQUIRED_VFIO.map((m) => `${m} ${state(m)}`).join(', ')}.`, ev);
  }
  const notBuilt = f.config ? missing.filter((m) => { const v = f.config!.options.get(cfgName[m]!); return v === undefined || v === 'n'; }) : [];
  if (notBuilt.length > 0) {
    return check('vfio.modules', 'FAIL', `${notBuilt.join(', ')} not built for this kernel (${notBuilt.map((m) => `${cfgName[m]} ${f.config!.options.get(cfgName[m]!) === 'n' ? 'is not set' : 'absent'}`).join(', ')} in ${f.config!.path}): VFIO passthrough is impossible with this kernel.`, ev, 'Boot a kernel built with CONFIG_VFIO, CONFIG_VFIO_PCI and CONFIG_VFIO_IOMMU_TYPE1 (=m or =y; every major distribution kernel has them).');
  }
  return check('vfio.modules', 'WARN', `Not loaded: ${missing.join(', ')} (${REQUIRED_VFIO.filter((m) => !missing.includes(m)).map((m) => `${m} ${state(m)}`).join(', ') || 'none loaded'}).`, ev, 'modprobe vfio-pci (it pulls in vfio and vfio_iommu_type1); to load it at every boot: echo vfio-pci > /etc/modules-load.d/vfio-pci.conf');
}

function readModprobe(host: HostFs): { config: ModprobeConfig; error?: string } {
  const files: ConfigFile[] = [];
  let error: string | undefined;
  for (const dir of MODPROBE_DIRS) {
    const names = tryList(host, dir);
    if (names.error) error ??= names.error;
    for (const name of names.value ?? []) {
      const r = tryReadText(host, `${dir}/${name}`);
      if (r.error) error ??= r.error;
      if (r.value !== undefined) files.push({ path: `${dir}/${name}`, text: r.value });
    }
  }
  const result: { config: ModprobeConfig; error?: string } = { config: parseModprobeConfig(files) };
  if (error !== undefined) result.error = error;
  return result;
}

/** A device's id as vfio-pci's ids= matches it. */
function idOf(d: PciDevice): string {
  return `${d.vendorId}:${d.deviceId}`;
}

function idMatches(id: string, d: PciDevice): boolean {
  const [v, dev, sv, sd] = id.toLowerCase().split(':');
  if (v !== d.vendorId || dev !== d.deviceId) return false;
  if (sv !== undefined && sv !== 'ffffffff' && sv !== d.subsystemVendorId) return false;
  if (sd !== undefined && sd !== 'ffffffff' && sd !== d.subsystemDeviceId) return false;
  return true;
}

/** The endpoints that must go to vfio-pci together with `address` (its group's endpoints). */
function groupEndpoints(f: Facts, d: PciDevice): string[] {
  if (d.iommuGroup === null) return [d.address];
  return f.groups.find((g) => g.id === d.iommuGroup)?.endpoints ?? [d.address];
}

function checkVfioModprobe(f: Facts, asked: PciDevice[]): CheckResult {
  const cfg = f.modprobe;
  const ev: string[] = [`modprobe.d files: ${cfg.files.length > 0 ? cfg.files.join(', ') : 'none'}`];
  if (f.modprobeError) ev.push(`modprobe.d: ${f.modprobeError}`);
  const vfioOptions = cfg.options['vfio_pci'] ?? [];
  for (const o of vfioOptions) ev.push(`${o.origin.path}:${o.origin.line}: options vfio-pci ${o.raw}`);
  const cmdIds = f.params.filter((p) => canonicalParamKey(p.key) === 'vfio_pci.ids').at(-1);
  if (cmdIds) ev.push(`/proc/cmdline: ${formatParam(cmdIds)}`);
  const softdeps = cfg.softdeps.filter((s) => s.pre.includes('vfio_pci'));
  for (const s of softdeps) ev.push(`${s.origin.path}:${s.origin.line}: softdep ${s.module} pre: ${s.pre.join(' ')}`);
  const ignored = cfg.ignored.filter((i) => /vfio/.test(i.text));
  for (const i of ignored) ev.push(`${i.origin.path}:${i.origin.line}: ignored by kmod (${i.reason}): ${i.text.trim()}`);

  const modIds = moduleOptions(cfg, 'vfio_pci')['ids'];
  const ids = [...splitOptions(modIds), ...splitOptions(cmdIds?.value)];
  const problems: string[] = [];
  const notes: string[] = [];
  const bad = ids.filter((id) => !/^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}(:[0-9a-fA-F]{4,8}:[0-9a-fA-F]{4,8})?$/.test(id));
  if (bad.length > 0) problems.push(`malformed ids ${bad.join(', ')} are ignored by vfio-pci`);
  if (ignored.length > 0) problems.push(`${ignored.length} vfio line${ignored.length === 1 ? ' is' : 's are'} ignored by kmod`);

  const good = ids.filter((id) => !bad.includes(id));
  const claimed = f.scan.devices.filter((d) => good.some((id) => idMatches(id, d)));
  if (good.length > 0) notes.push(`vfio-pci ids=${good.join(',')} claims ${claimed.length > 0 ? claimed.map((d) => d.address).join(' ') : 'no device of this host'}`);
  if (asked.length > 0 && good.length > 0) {
    const wanted = new Set(asked.flatMap((d) => groupEndpoints(f, d)));
    const extra = claimed.filter((d) => !wanted.has(d.address));
    if (extra.length > 0) problems.push(`ids= also claims ${extra.map((d) => `${d.address} (${idOf(d)}${d.bootVga ? ', the boot GPU' : ''}${d.driver ? `, now on ${d.driver}` : ''})`).join(', ')}, which ${extra.length === 1 ? 'is' : 'are'} not in the asked devices' groups: vfio-pci takes every device with a listed id`);
  }
  // The native driver must not win the race: a softdep <driver> pre: vfio-pci per claimed device's driver.
  const racing = [...new Set(claimed.map((d) => d.driver).filter((drv): drv is string => !keepsGroupViable(drv)).map(normalizeModuleName))].filter((m) => !softdeps.some((s) => s.module === m) && m !== 'pcieport');
  if (racing.length > 0 && good.length > 0) problems.push(`no \`softdep <driver> pre: vfio-pci\` for ${racing.join(', ')}: ${racing.length === 1 ? 'it' : 'they'} can claim the listed devices before vfio-pci loads`);
  if (isModuleBlocked(cfg, 'vfio_pci')) problems.push('vfio_pci is blacklisted or install-disabled');

  const summary = [...problems, ...notes].join('; ') || 'No vfio-pci options in modprobe.d (none are needed when passthru binds by driver_override).';
  if (problems.length > 0) {
    const fixes: string[] = [];
    if (racing.length > 0) fixes.push(`Add to /etc/modprobe.d/vfio.conf: ${racing.map((m) => `softdep ${m} pre: vfio-pci`).join('; ')}.`);
    if (asked.length > 0) {
      const wantIds = [...new Set(asked.flatMap((d) => [d.address, ...d.functions]).map((a) => f.byAddress.get(a)).filter((d): d is PciDevice => d !== undefined).map(idOf))];
      fixes.push(`Prefer binding by address (\`passthru bind ${asked.map((d) => d.address).join(' ')} --persist\` uses driver_override) over ids=; or list only ${wantIds.join(',')} when no other device shares those ids.`);
    }
    if (bad.length > 0) fixes.push('Write ids as vendor:device in hex, e.g. ids=10de:2684,10de:22ba.');
    return check('vfio.modprobe', 'WARN', `${summary}.`, ev, fixes.join(' ') || 'Fix the lines listed in the evidence.');
  }
  return check('vfio.modprobe', 'PASS', summary.endsWith('.') ? summary : `${summary}.`, ev);
}

function checkVfioInitramfs(f: Facts, asked: PciDevice[]): CheckResult {
  const reports: Array<{ path: string; report: InitramfsVfioReport }> = [];
  const ev: string[] = [];
  const errors: string[] = [];
  const itm = tryReadText(f.host, '/etc/initramfs-tools/modules');
  if (itm.value !== undefined) reports.push({ path: '/etc/initramfs-tools/modules', report: parseInitramfsToolsModules(itm.value) });
  const readSet = (main: string, dir: string): ConfigFile[] => {
    const files: ConfigFile[] = [];
    const m = tryReadText(f.host, main).value;
    if (m !== undefined) files.push({ path: main, text: m });
    for (const name of (tryList(f.host, dir).value ?? []).filter((n) => n.endsWith('.conf')).sort()) {
      const t = tryReadText(f.host, `${dir}/${name}`).value;
      if (t !== undefined) files.push({ path: `${dir}/${name}`, text: t });
    }
    return files;
  };
  const dracut = readSet('/etc/dracut.conf', '/etc/dracut.conf.d');
  if (dracut.length > 0) {
    try {
      reports.push({ path: dracut.map((x) => x.path).join(' + '), report: parseDracutConf(dracut) });
    } catch (error) {
      if (!(error instanceof IommuCheckError)) throw error;
      errors.push(error.message);
    }
  }
  const mkinit = readSet('/etc/mkinitcpio.conf', '/etc/mkinitcpio.conf.d');
  if (mkinit.length > 0) {
    try {
      reports.push({ path: mkinit.map((x) => x.path).join(' + '), report: parseMkinitcpioConf(mkinit) });
    } catch (error) {
      if (!(error instanceof IommuCheckError)) throw error;
      errors.push(error.message);
    }
  }
  for (const r of reports) ev.push(`${r.path} (${r.report.tool}): ${r.report.modules.map((m) => m.module).join(' ') || '(no modules)'}`);
  for (const e of errors) ev.push(e);
  if (reports.length === 0 && errors.length === 0) {
    return check('vfio.initramfs', 'SKIP', 'No initramfs generator configuration found (/etc/initramfs-tools/modules, /etc/dracut.conf[.d], /etc/mkinitcpio.conf): vfio-pci can only bind after the root filesystem is mounted, which is fine unless a native driver in the initramfs claims the device first.', ['/etc/initramfs-tools/modules, /etc/dracut.conf, /etc/mkinitcpio.conf: absent']);
  }
  if (errors.length > 0 && reports.length === 0) return check('vfio.initramfs', 'WARN', `Cannot evaluate the initramfs configuration: ${errors.join('; ')}`, ev, 'Fix the file named above.');
  const withVfio = reports.filter((r) => r.report.includesVfioPci);
  const notes = reports.flatMap((r) => r.report.notes);
  if (withVfio.length > 0) {
    const order = withVfio.filter((r) => r.report.gpuDrivers.length > 0 && !r.report.vfioBeforeGpu);
    if (order.length > 0) {
      return check('vfio.initramfs', 'WARN', `vfio_pci is in the initramfs, but after ${order.flatMap((r) => r.report.gpuDrivers).join(', ')}: the GPU driver loads first and claims the card.`, ev, 'List vfio_pci (and vfio, vfio_iommu_type1) before the GPU driver, then rebuild the initramfs (update-initramfs -u, dracut -f or mkinitcpio -P).');
    }
    ev.push(...notes.map((n) => `note: ${n}`));
    return check('vfio.initramfs', 'PASS', `vfio_pci is in the initramfs (${withVfio.map((r) => r.report.tool).join(', ')}): it can claim devices before their native drivers.`, ev);
  }
  const gpus = asked.filter((d) => d.class.startsWith('03') || (d.driver !== null && (GPU_DRIVERS as readonly string[]).includes(normalizeModuleName(d.driver))));
  const tool = reports[0]!.report.tool;
  const how = tool === 'initramfs-tools' ? 'add vfio, vfio_iommu_type1 and vfio_pci to /etc/initramfs-tools/modules, then update-initramfs -u' : tool === 'dracut' ? 'add force_drivers+=" vfio vfio_iommu_type1 vfio_pci " to /etc/dracut.conf.d/vfio.conf, then dracut -f' : 'put vfio_pci vfio vfio_iommu_type1 first in MODULES=() in /etc/mkinitcpio.conf, then mkinitcpio -P';
  if (gpus.length > 0) {
    return check('vfio.initramfs', 'WARN', `vfio_pci is not in the initramfs (${tool}): the native driver of ${gpus.map((d) => d.address).join(', ')} can claim it at boot before vfio-pci.`, ev, `To claim the GPU at boot: ${how} (\`passthru persist\` can do this).`);
  }
  return check('vfio.initramfs', 'PASS', `vfio_pci is not in the initramfs (${tool}); needed only to claim a device before its native driver loads from the initramfs (a boot GPU).`, ev);
}

const CLASS_NAMES: Array<[string, string]> = [
  ['0106', 'SATA controller'],
  ['0108', 'NVMe controller'],
  ['0107', 'SAS controller'],
  ['0104', 'RAID controller'],
  ['01', 'storage controller'],
  ['0200', 'Ethernet controller'],
  ['0280', 'network controller'],
  ['02', 'network controller'],
  ['0300', 'VGA controller'],
  ['0302', '3D controller'],
  ['03', 'display controller'],
  ['0403', 'audio device'],
  ['04', 'multimedia controller'],
  ['0c03', 'USB controller'],
  ['0c05', 'SMBus controller'],
  ['0c80', 'serial bus controller'],
  ['0c', 'serial bus controller'],
  ['0604', 'PCI bridge'],
  ['06', 'bridge'],
  ['12', 'accelerator'],
];

function describeDevice(d: PciDevice | undefined, address: string): string {
  if (d === undefined) return `${address} (not in /sys/bus/pci/devices)`;
  const kind = d.className ?? CLASS_NAMES.find(([p]) => d.class.startsWith(p))?.[1] ?? `class ${d.class}`;
  const name = d.deviceName ? `${d.vendorName ?? ''} ${d.deviceName}`.trim() : idOf(d);
  return `${d.address} ${kind} ${name} (${d.driver ? `driver ${d.driver}` : 'no driver'}${d.bootVga ? ', boot GPU' : ''})`;
}

/** Host-critical members: storage with a driver (disks), the boot GPU, a NIC with an interface. */
function hostCritical(d: PciDevice): string | undefined {
  if (d.class.startsWith('01') && !keepsGroupViable(d.driver)) return 'the host loses its disks on it';
  if (d.bootVga) return 'the host console runs on it';
  if (d.class.startsWith('02') && d.net.length > 0 && !keepsGroupViable(d.driver)) return `the host loses network interface ${d.net.join(', ')}`;
  return undefined;
}

function checkGroupViable(f: Facts, address: string): CheckResult {
  const id = `group.viable.${address}`;
  const d = f.byAddress.get(address);
  if (d === undefined) return check(id, 'FAIL', `No PCI device ${address} on this host.`, [`/sys/bus/pci/devices/${address}: absent`], 'Use an address from `passthru list`.');
  const ev = [`/sys/bus/pci/devices/${address}/iommu_group: ${d.iommuGroup === null ? 'absent' : `-> ${d.iommuGroup}`}`, `/sys/bus/pci/devices/${address}/driver: ${d.driver ?? 'none'}`];
  if (d.iommuGroup === null) {
    const link = f.linkedGroups().get(address);
    if (link !== undefined || kernelAbsent(f)) {
      if (link !== undefined) ev.push(`/sys/bus/pci/devices/${address}/iommu_group: -> group ${link}, ${notInTree(`${IOMMU_GROUPS}/${link}`)}`);
      return check(id, 'SKIP', `${address}'s IOMMU group cannot be read: ${link !== undefined ? `its iommu_group link names group ${link}, but ${notInTree(`${IOMMU_GROUPS}/${link}`)}` : notInTree(f.absent.has('/sys/kernel') ? '/sys/kernel' : IOMMU_GROUPS)}.`, ev);
    }
    let why = 'the IOMMU is not enabled (see iommu.kernel)';
    let fix = 'Enable the IOMMU first (see iommu.kernel).';
    if (f.groupIds.length > 0) {
      const igfxOff = f.params.some((p) => canonicalParamKey(p.key) === 'intel_iommu' && splitOptions(p.value).includes('igfx_off'));
      if (igfxOff && d.class.startsWith('03') && /^[0-9a-f]+:00:02\.0$/.test(address)) {
        why = 'intel_iommu=...,igfx_off on the command line leaves the integrated GPU out of DMA remapping';
        const spelled = f.params.filter((p) => canonicalParamKey(p.key) === 'intel_iommu' && splitOptions(p.value).includes('igfx_off')).map(formatParam);
        fix = planRemediation(f, 'Drop igfx_off so the integrated GPU gets an IOMMU group (intel_iommu=on stays). ', 'Replace it by intel_iommu=on on the kernel command line and reboot.', { add: ['intel_iommu=on'], remove: spelled });
        ev.push(`/proc/cmdline: ${f.params.filter((p) => canonicalParamKey(p.key) === 'intel_iommu').map(formatParam).join(' ')}`);
      } else {
        why = 'no IOMMU unit translates it (the firmware DMAR/IVRS table does not list it, or its unit was ignored)';
        fix = 'Check the firmware settings for this device and `dmesg | grep -i -e DMAR -e AMD-Vi`; a device without an IOMMU group cannot be assigned.';
      }
    }
    return check(id, 'FAIL', `${address} has no IOMMU group: ${why}. VFIO can only assign grouped devices.`, ev, fix);
  }
  const group = f.groups.find((g) => g.id === d.iommuGroup);
  const members = group?.endpoints ?? [address];
  ev.push(`${IOMMU_GROUPS}/${d.iommuGroup}/devices: ${group?.devices.join(' ') ?? address}${group && group.bridges.length > 0 ? ` (bridges ${group.bridges.join(' ')} excluded)` : ''}`);
  const notReady = blockingEndpoints({ endpoints: members }, f.byAddress);
  for (const a of members) if (a !== address) ev.push(`${a}: ${describeDevice(f.byAddress.get(a), a)}`);
  const platform = platformFunctionsOf(group ?? { devices: [address] }, f.byAddress);
  if (platform.length > 0) {
    const np = notPassable(platform);
    for (const p of platform) ev.push(`${p.address}: platform function (${p.kind}): ${p.reason}`);
    return check(id, 'FAIL', `Group ${d.iommuGroup} is ${np.summary}: ${np.why}. The host cannot give it away, so ${address} cannot be passed through (passthru bind refuses it; --force does not override this).`, ev, np.fix);
  }
  if (notReady.length === 0) {
    return check(id, 'PASS', `Group ${d.iommuGroup} is viable: every endpoint (${members.join(' ')}) is on vfio-pci, pci-stub or no driver.`, ev);
  }
  const others = members.filter((a) => a !== address);
  const foreign = others.filter((a) => slotOf(a) !== slotOf(address));
  const foreignInUse = foreign.filter((a) => notReady.includes(a));
  const mustMove = others.length > 0 ? `must move with it: ${others.map((a) => describeDevice(f.byAddress.get(a), a)).join('; ')}` : 'no other endpoint shares the group';
  if (foreignInUse.length > 0) {
    const critical = foreignInUse.map((a) => ({ a, why: f.byAddress.get(a) ? hostCritical(f.byAddress.get(a)!) : undefined })).filter((x) => x.why !== undefined);
    const named = foreignInUse.map((a) => describeDevice(f.byAddress.get(a), a)).join('; ');
    return check(
      id,
      'FAIL',
      `Group ${d.iommuGroup} is shared with other devices the host uses: ${named}. Passing ${address} means taking all of them from the host${critical.length > 0 ? ` (${critical.map((x) => `${x.a}: ${x.why}`).join('; ')})` : ''}. ${capitalise(mustMove)}.`,
      ev,
      `Move the card to a slot whose path to the CPU has ACS (a CPU-attached slot; see acs.${address}), or pass the whole group ${d.iommuGroup} only if the host can do without ${foreignInUse.join(', ')}. pcie_acs_override is out of tree and fakes isolation.`,
    );
  }
  return check(
    id,
    'WARN',
    `Group ${d.iommuGroup} is not viable yet: ${notReady.length === 1 ? `${notReady[0]} is` : `${notReady.length} endpoints are`} still on host drivers (${[...new Set(notReady.map((a) => f.byAddress.get(a)?.driver ?? '?'))].join(', ')}); all belong to this card, so the group can move as a whole. ${capitalise(mustMove)}.`,
    ev,
    `passthru bind group:${d.iommuGroup} (moves ${members.join(' ')} to vfio-pci together; add --persist to keep it across reboots).`,
  );
}

function portLabel(iso: PciConfigIsolation): string {
  return (iso.pcie?.portType ?? 'conventional PCI').replace(/-/g, ' ');
}

function acsDetail(iso: PciConfigIsolation): string {
  const a = iso.acs;
  if (!a.present) return 'no ACS capability';
  const need: Array<[keyof NonNullable<typeof a.control>, string]> = [['sourceValidation', 'SV'], ['p2pRequestRedirect', 'RR'], ['p2pCompletionRedirect', 'CR'], ['upstreamForwarding', 'UF']];
  const missing = need.filter(([k]) => a.capability?.[k] && !a.control?.[k]).map(([, n]) => n);
  return a.isolates ? `ACS enabled (ctrl 0x${(a.control?.raw ?? 0).toString(16).padStart(4, '0')})` : `ACS capability present but ${missing.join(' ') || 'required flags'} not enabled (ctrl 0x${(a.control?.raw ?? 0).toString(16).padStart(4, '0')})`;
}

function checkAcs(f: Facts, address: string): CheckResult {
  const id = `acs.${address}`;
  const d = f.byAddress.get(address);
  if (d === undefined) return check(id, 'SKIP', `No PCI device ${address} on this host.`, [`/sys/bus/pci/devices/${address}: absent`]);
  // The bridges above the device, nearest first, then the device itself when multi-function.
  const chain: PciDevice[] = [];
  const seen = new Set<string>();
  for (let p = d.parent; p !== null && !seen.has(p); ) {
    seen.add(p);
    const up = f.byAddress.get(p);
    if (up === undefined) break;
    chain.push(up);
    p = up.parent;
  }
  const ev: string[] = [];
  const decoded = new Map<string, PciConfigIsolation>();
  for (const dev of [d, ...chain]) {
    const path = `/sys/bus/pci/devices/${dev.address}/config`;
    const bytes = tryReadBytes(f.host, path, 4096);
    if (bytes.value === undefined) {
      ev.push(`${path}: ${bytes.error ?? 'absent'}`);
      if (dev === d) continue;
      return check(id, 'SKIP', `Cannot decode ACS: ${path} is ${bytes.error ? 'unreadable' : 'absent'} (${bytes.error ?? 'no config file'}).`, ev, bytes.error ? 'Run as root: config space past 64 bytes is readable by root only.' : undefined);
    }
    if (bytes.value.length <= 64) {
      ev.push(`${path}: ${bytes.value.length} bytes`);
      if (dev === d) continue;
      return check(id, 'SKIP', `Cannot decode ACS: only the first ${bytes.value.length} bytes of ${path} are readable (the capability lists lie beyond; unprivileged readers get 64 bytes).`, ev, 'Run passthru doctor as root.');
    }
    const iso = inspectPciConfig(new Uint8Array(bytes.value));
    decoded.set(dev.address, iso);
    if (dev !== d) ev.push(`${path}: ${portLabel(iso)}, ${acsDetail(iso)}${iso.kernelAcsEnabled ? '' : ' -> does not isolate'}`);
    else ev.push(`${path}: ${portLabel(iso)}${iso.multiFunction ? ', multi-function' : ''}${iso.multiFunction ? `, ${acsDetail(iso)}` : ''}`);
  }
  const lacking = chain.filter((b) => decoded.get(b.address)?.kernelAcsEnabled === false);
  const selfIso = decoded.get(d.address);
  const selfLacks = selfIso !== undefined && selfIso.multiFunction && !selfIso.kernelAcsEnabled;
  const group = d.iommuGroup === null ? undefined : f.groups.find((g) => g.id === d.iommuGroup);
  const sharers = (group?.endpoints ?? []).filter((a) => slotOf(a) !== slotOf(address));
  if (chain.length === 0 && !selfLacks) {
    return check(id, 'PASS', `${address} sits on a root bus (no bridge above it)${selfIso?.multiFunction ? ' and its functions isolate with ACS' : ''}: nothing upstream can join it to other devices.`, ev);
  }
  // The topmost non-isolating port decides the group: everything below it shares one group.
  const top = lacking.at(-1);
  if (d.iommuGroup === null) {
    const text = lacking.length > 0 ? `Ports without ACS above ${address}: ${lacking.map((b) => `${b.address} (${portLabel(decoded.get(b.address)!)}, ${acsDetail(decoded.get(b.address)!)})`).join('; ')}.` : `Every port above ${address} has ACS (${chain.map((b) => b.address).join(' ')}).`;
    const link = f.linkedGroups().get(address);
    const tail = link !== undefined ? `Its IOMMU group (${link}) ${notInTree(`${IOMMU_GROUPS}/${link}`).replace(/^\S+ /, '')}, so what shares it cannot be told.` : `${address} has no IOMMU group, so its isolation is moot until the IOMMU covers it.`;
    return check(id, lacking.length > 0 ? 'WARN' : 'PASS', `${text} ${tail}`, ev);
  }
  if (sharers.length > 0) {
    // The sharers' own paths: which of their ports lack ACS too (peers below a common switch).
    const chainOf = (dev: PciDevice): PciDevice[] => {
      const out: PciDevice[] = [];
      for (let p = dev.parent; p !== null && !out.some((x) => x.address === p); ) {
        const up = f.byAddress.get(p);
        if (up === undefined) break;
        out.push(up);
        p = up.parent;
      }
      return out;
    };
    const sharerPorts: string[] = [];
    for (const a of sharers) {
      const s = f.byAddress.get(a);
      if (s === undefined) continue;
      for (const b of chainOf(s)) {
        if (chain.some((c) => c.address === b.address)) break; // reached the common part of the paths
        let iso = decoded.get(b.address);
        if (iso === undefined) {
          const bytes = tryReadBytes(f.host, `/sys/bus/pci/devices/${b.address}/config`, 4096).value;
          if (bytes === undefined || bytes.length <= 64) continue;
          iso = inspectPciConfig(new Uint8Array(bytes));
          decoded.set(b.address, iso);
          ev.push(`/sys/bus/pci/devices/${b.address}/config: ${portLabel(iso)}, ${acsDetail(iso)}${iso.kernelAcsEnabled ? '' : ' -> does not isolate'}`);
        }
        if (!iso.kernelAcsEnabled && !sharerPorts.some((x) => x.startsWith(b.address))) sharerPorts.push(`${b.address} above ${a} (${acsDetail(iso)})`);
      }
    }
    const why = top !== undefined
      ? `${top.address} (${portLabel(decoded.get(top.address)!)}) lacks ACS isolation (${acsDetail(decoded.get(top.address)!)}), so the devices below it and its peer ports can reach each other by peer-to-peer DMA and the kernel puts them in one group` +
        `${sharerPorts.length > 0 ? `; their ports lack ACS too: ${sharerPorts.join(', ')}` : ''}` +
        `${lacking.length > 1 ? `; also without ACS on ${address}'s path: ${lacking.slice(0, -1).map((b) => `${b.address} (${acsDetail(decoded.get(b.address)!)})`).join(', ')}` : ''}`
      : `every port above it has ACS; a kernel quirk or a multi-function device joins them`;
    return check(
      id,
      'FAIL',
      `Group ${d.iommuGroup} is shared: ${sharers.map((a) => describeDevice(f.byAddress.get(a), a)).join('; ')} share${sharers.length === 1 ? 's' : ''} it with ${address} because ${why}.`,
      ev,
      `Use a slot whose ports all have ACS (usually a CPU-attached slot), or a board/BIOS that enables ACS on ${top?.address ?? 'the ports'} (some firmware has an "ACS Enable" option). pcie_acs_override is an out-of-tree patch that fakes isolation: devices can still reach each other.`,
    );
  }
  if (selfLacks && lacking.length === 0) {
    return check(id, 'PASS', `Isolated: every port above ${address} has ACS enabled (${chain.map((b) => b.address).join(' <- ')}); its own functions share group ${d.iommuGroup} (a multi-function device without ACS), which is how a card is passed: whole.`, ev);
  }
  if (lacking.length > 0 || selfLacks) {
    const list = [...lacking.map((b) => `${b.address} (${acsDetail(decoded.get(b.address)!)})`), ...(selfLacks ? [`${address}'s own functions (multi-function, ${acsDetail(selfIso!)})`] : [])];
    return check(id, 'PASS', `Group ${d.iommuGroup} holds only ${address}'s own card: ports without ACS (${list.join('; ')}) join only functions of the same device.`, ev);
  }
  return check(id, 'PASS', `Isolated: every port above ${address} has ACS enabled (${chain.map((b) => b.address).join(' <- ')}).`, ev);
}

function checkPciDevices(f: Facts): CheckResult {
  const ev = [`/sys/bus/pci/devices: ${f.scan.devices.length} devices`, ...f.scan.problems.slice(0, 5).map((p) => `${p.address}: ${p.message}`)];
  if (f.scan.devices.length === 0) {
    return check('pci.devices', 'FAIL', `No PCI devices readable under /sys/bus/pci/devices${f.scan.problems.length > 0 ? ` (${f.scan.problems.length} unreadable)` : ''}: nothing to pass through here (or reading is denied).`, ev, 'Run on the host itself (not a container without /sys), as root; to see a full report meanwhile: passthru doctor --root fixtures/hosts/intel-workstation');
  }
  const unreadable = f.scan.problems.filter((p) => !f.byAddress.has(p.address)).length;
  const partial = new Set(f.scan.problems.filter((p) => f.byAddress.has(p.address)).map((p) => p.address)).size;
  if (f.scan.problems.length > 0) {
    const parts = [unreadable > 0 ? `${unreadable} could not be read` : '', partial > 0 ? `${partial} read in part` : ''].filter((x) => x !== '').join(', ');
    return check('pci.devices', 'WARN', `${f.scan.devices.length} PCI devices read; ${parts} (see evidence).`, ev, unreadable > 0 ? 'Run as root.' : 'Capture the whole tree (the links lead to folders it lacks).');
  }
  return check('pci.devices', 'PASS', `${f.scan.devices.length} PCI devices, ${f.groups.length} IOMMU groups.`, ev);
}

// ---------------------------------------------------------------------------------------------

function gatherFacts(host: HostFs, options: RunChecksOptions): Facts {
  const cpuText = tryReadText(host, '/proc/cpuinfo').value ?? '';
  const cpu = parseCpuInfo(cpuText);
  const release = readKernelRelease(host);
  const config = readKernelConfig(host, release);
  const cmd = tryReadText(host, '/proc/cmdline');
  const params = cmd.value === undefined ? [] : parseCmdline(cmd.value).params;
  const absent = new Set<EvidenceLayer>();
  if (cmd.value === undefined && cmd.error === undefined) absent.add('/proc/cmdline');
  if (!host.exists('/proc/cpuinfo')) absent.add('/proc/cpuinfo');
  if (!host.exists('/sys/firmware')) absent.add('/sys/firmware');
  if (!host.exists('/sys/kernel')) absent.add('/sys/kernel');
  const tablesList = tryList(host, ACPI_TABLES);
  // x86 firmware is always ACPI: a missing tables folder under /sys/firmware means no table,
  // while elsewhere (device tree) it means "not ACPI".
  // A tree without /sys/firmware at all says nothing (see EVIDENCE_LAYERS).
  if (tablesList.value === undefined && tablesList.error === undefined && !absent.has('/sys/firmware') && (cpu.vendor === 'intel' || cpu.vendor === 'amd')) tablesList.value = [];
  const units = tryList(host, IOMMU_CLASS).value ?? [];
  const groupsList = tryList(host, IOMMU_GROUPS);
  const groupIds = (groupsList.value ?? []).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
  const scan = options.scan ?? scanPciDevices(host);
  // Device links name groups the tree does not hold: the groups folder is missing, not empty.
  let linked: Map<string, string> | undefined;
  const linkedGroups = () =>
    (linked ??= new Map(
      scan.devices.flatMap((d) => {
        const target = tryReadlink(host, `/sys/bus/pci/devices/${d.address}/iommu_group`);
        const n = target === undefined ? undefined : /(\d+)$/.exec(target)?.[1];
        return n === undefined ? [] : [[d.address, n] as [string, string]];
      }),
    ));
  if (!absent.has('/sys/kernel') && !host.exists(IOMMU_GROUPS) && groupsList.error === undefined && linkedGroups().size > 0) absent.add('/sys/kernel/iommu_groups');
  const groups = groupIds.length > 0 ? readIommuGroups(host, scan.devices) : [];
  const dmi = readDmiIdentity(host);
  const isVm = options.identity?.isVirtualMachine ?? (cpu.hypervisor || dmiLooksVirtual(dmi));
  const mp = readModprobe(host);
  const distro = options.distro ?? detectDistro(host);
  const plansCache = new Map<string, { plans: CmdlineRemediationPlan[]; error?: string }>();
  return {
    host,
    absent,
    linkedGroups,
    cpu,
    cpuPath: '/proc/cpuinfo',
    release,
    config,
    cmdlineText: cmd.value,
    cmdlineError: cmd.error,
    params,
    findings: judgeIommuParams(params, cpu.vendor),
    tables: tablesList.value,
    tablesError: tablesList.error,
    units,
    groupIds,
    groupsError: groupsList.error,
    scan,
    groups,
    byAddress: new Map(scan.devices.map((d) => [d.address, d])),
    distro,
    isVm,
    modprobe: mp.config,
    modprobeError: mp.error,
    plans: (extra) => {
      const key = JSON.stringify(extra ?? null);
      let cached = plansCache.get(key);
      if (cached === undefined) {
        try {
          cached = { plans: planCmdlineRemediation(host, cpu.vendor, extra === undefined ? { distro } : { distro, extra }) };
        } catch (error) {
          if (!(error instanceof IommuCheckError)) throw error;
          cached = { plans: [], error: error.message };
        }
        plansCache.set(key, cached);
      }
      return cached;
    },
  };
}

function hostIdentity(f: Facts, options: RunChecksOptions): HostIdentity {
  const dmi = readDmiIdentity(f.host);
  const id: HostIdentity = { cpuVendor: f.cpu.vendor, virtualization: f.cpu.virtualization, isVirtualMachine: f.isVm };
  if (f.cpu.model !== undefined) id.cpuModel = f.cpu.model;
  if (f.release !== undefined) id.kernelRelease = f.release;
  const board = options.identity?.board ?? dmi.board;
  const bios = options.identity?.bios ?? dmi.bios;
  if (board !== undefined) id.board = board;
  if (bios !== undefined) id.bios = bios;
  return id;
}

/**
 * Runs every check against `host` and returns the report. Asked devices that are not PCI
 * addresses throw IommuCheckError (the CLI turns that into a usage error before any check).
 */
export function runChecks(host: HostFs, options: RunChecksOptions = {}): DoctorReport {
  const addresses: string[] = [];
  for (const raw of options.devices ?? []) {
    const a = normalizePciAddress(raw);
    if (a === undefined) throw new IommuCheckError('checking', 'device', raw, 'not a PCI address (expected 0000:01:00.0 or 01:00.0)');
    if (!addresses.includes(a)) addresses.push(a);
  }
  addresses.sort(compareAddresses);
  const f = gatherFacts(host, options);
  const asked = addresses.map((a) => f.byAddress.get(a)).filter((d): d is PciDevice => d !== undefined);
  const checks: CheckResult[] = [
    checkPciDevices(f),
    checkCpuVirtualization(f),
    checkFirmware(f),
    checkKernel(f),
    checkCmdline(f),
    checkBootloaderPending(f),
    checkMode(f),
    checkIrqRemapping(f),
    checkVfioModules(f),
    checkVfioModprobe(f, asked),
    checkVfioInitramfs(f, asked),
  ];
  for (const a of addresses) checks.push(checkGroupViable(f, a), checkAcs(f, a));
  const absent = EVIDENCE_LAYERS.filter((l) => f.absent.has(l));
  return DoctorReportSchema.parse({ verdict: verdictOf(checks, absent), host: hostIdentity(f, options), checks, absent });
}
