/**
 * The readiness checks of `passthru doctor`: every fact read through one HostFs, every check a
 * stable id with PASS / WARN / FAIL / SKIP, the evidence (paths and values read) and the exact
 * remediation. Never throws for what a host lacks or refuses to show: a missing or unreadable
 * file becomes a FAIL or SKIP that says so. One module per layer under ./checks; this file is
 * the order they run in.
 */
import type { Distro } from '@passthru/boot-config';
import type { HostDir, HostFs } from '@passthru/hostfs';
import { compareAddresses, normalizePciAddress, type IommuGroup, type PciDevice, type PciScan } from '@passthru/pci-discovery';
import { checkAcs } from './checks/acsChecks';
import { checkBootloaderPending, checkCmdline } from './checks/cmdlineChecks';
import { EVIDENCE_LAYERS } from './checks/evidence';
import { gatherFacts, type Facts } from './checks/Facts';
import { checkGroupViable } from './checks/groupViability';
import { checkIrqRemapping } from './checks/interruptChecks';
import { checkIommufd } from './checks/iommufdChecks';
import { checkBars } from './checks/barChecks';
import { checkReset } from './checks/resetChecks';
import { checkRom } from './checks/romChecks';
import { checkFramebuffer } from './checks/framebufferChecks';
import { checkMode, checkKernel } from './checks/kernelChecks';
import { checkHugepages, checkMemlock } from './checks/memoryChecks';
import { checkCpuVirtualization, checkFirmware, checkPciDevices } from './checks/platformChecks';
import { checkVfioInitramfs, checkVfioModprobe, checkVfioModules } from './checks/vfioChecks';
import { readDmiIdentity } from './HostFacts';
import { verdictOf, type CheckResult, type DoctorReport, type HostIdentity } from './DoctorReport';
import { IommuCheckError } from './IommuCheckError';

export { EVIDENCE_LAYERS, type EvidenceLayer } from './checks/evidence';

export interface RunChecksOptions {
  /** Addresses to check for passthrough (`0000:01:00.0` or `01:00.0`): adds group.viable.*, acs.* and reset.*; their checks count in the verdict. */
  devices?: string[];
  /**
   * Addresses whose device checks are wanted as information only (the report shows them per
   * device): they go to `examined`, never into `checks`, the host checks or the verdict.
   */
  examine?: string[];
  /** Distribution family for remediation commands; read from /etc/os-release when absent. */
  distro?: Distro;
  /** A scan already made (with device names); scanned here when absent. */
  scan?: PciScan;
  /**
   * The scan's IOMMU groups, when already read (readIommuGroups), or how to read them once: the
   * groups are then not walked again, and only when a check needs them.
   */
  groups?: IommuGroup[] | (() => IommuGroup[]);
  /** The group folders, when already listed (iommuGroupFolders). */
  groupFolders?: Map<number, HostDir>;
  /** Host facts from outside HostFs (systeminformation on a live host); they win over DMI files. */
  identity?: Partial<Pick<HostIdentity, 'board' | 'bios' | 'isVirtualMachine'>>;
}

/** Host checks, in report order: platform and firmware, kernel, command line and boot loader, interrupts, vfio, memory, IOMMUFD. */
const HOST_CHECKS: ReadonlyArray<(f: Facts, asked: readonly PciDevice[]) => CheckResult> = [
  checkPciDevices,
  checkCpuVirtualization,
  checkFirmware,
  checkKernel,
  checkCmdline,
  checkBootloaderPending,
  checkMode,
  checkIrqRemapping,
  checkVfioModules,
  checkVfioModprobe,
  checkVfioInitramfs,
  checkMemlock,
  checkHugepages,
  checkIommufd,
];

/** Checks of each asked device, in report order: its IOMMU group, ACS above it, how it resets, what holds its BARs, its ROM, then whether its BARs fit the guest. */
const DEVICE_CHECKS: ReadonlyArray<(f: Facts, address: string) => CheckResult> = [
  checkGroupViable,
  checkAcs,
  checkReset,
  checkFramebuffer,
  checkRom,
  checkBars,
];
/**
 * Device checks that write in order to read (the ROM's enable write): run for the devices a user
 * asks about, never for those the report examines (every endpoint, on a live host too).
 */
const ASKED_ONLY: ReadonlySet<(f: Facts, address: string) => CheckResult> = new Set([checkRom]);

/** The host's identity, its keys in HostIdentitySchema's order (the order the JSON prints them in). */
function hostIdentity(f: Facts, options: RunChecksOptions): HostIdentity {
  const dmi = readDmiIdentity(f.host);
  const board = options.identity?.board ?? dmi.board;
  const bios = options.identity?.bios ?? dmi.bios;
  return {
    cpuVendor: f.cpu.vendor,
    ...(f.cpu.model !== undefined ? { cpuModel: f.cpu.model } : {}),
    virtualization: f.cpu.virtualization,
    ...(f.release !== undefined ? { kernelRelease: f.release } : {}),
    ...(board !== undefined ? { board } : {}),
    ...(bios !== undefined ? { bios } : {}),
    isVirtualMachine: f.isVm,
  };
}

/**
 * Runs every check against `host` and returns the report. Asked devices that are not PCI
 * addresses throw IommuCheckError (the CLI turns that into a usage error before any check).
 * The report is built in DoctorReportSchema's shape and key order, not parsed with it at run time
 * (that would load zod for every `doctor`): the tests parse the report of every fixture host and
 * require the same JSON, byte for byte.
 */
export function runChecks(host: HostFs, options: RunChecksOptions = {}): DoctorReport {
  const addresses = normalized(options.devices ?? []);
  const f = gatherFacts(host, options);
  const asked = addresses.map((a) => f.byAddress.get(a)).filter((d): d is PciDevice => d !== undefined);
  const checks: CheckResult[] = HOST_CHECKS.map((c) => c(f, asked));
  for (const a of addresses) checks.push(...DEVICE_CHECKS.map((c) => c(f, a)));
  const absent = EVIDENCE_LAYERS.filter((l) => f.absent.has(l));
  const report: DoctorReport = { verdict: verdictOf(checks, absent), host: hostIdentity(f, options), checks, absent };
  if (options.examine) {
    const more = normalized(options.examine).filter((a) => !addresses.includes(a));
    report.examined = more.flatMap((a) => DEVICE_CHECKS.filter((c) => !ASKED_ONLY.has(c)).map((c) => c(f, a)));
  }
  return report;
}

/** Distinct PCI addresses in address order; one that is not an address throws IommuCheckError. */
function normalized(raw: readonly string[]): string[] {
  const addresses: string[] = [];
  for (const r of raw) {
    const a = normalizePciAddress(r);
    if (a === undefined) throw new IommuCheckError('checking', 'device', r, 'not a PCI address (expected 0000:01:00.0 or 01:00.0)');
    if (!addresses.includes(a)) addresses.push(a);
  }
  return addresses.sort(compareAddresses);
}
