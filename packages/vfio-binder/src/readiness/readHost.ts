import type { HostFs } from '@passthru/hostfs';
import { runChecks, type CheckResult, type DoctorReport, type DoctorVerdict, type RunChecksOptions } from '@passthru/iommu-check';
import {
  readGpuModes,
  iommuGroupFolders,
  readIommuGroups,
  scanPciDevices,
  trailingPciAddress,
  type GpuModes,
  type NvidiaSmiOutput,
  type PciDevice,
  type PciScan,
  type ScanProblem,
} from '@passthru/pci-discovery';
import { VFIO_DRIVER } from '../bind/plan';
import type { JournalRecords } from '../journalRecords';
import { hostReadinessWith, type HostReadiness } from './hostReadiness';
import { isForeign } from '../owners';

export interface ReadHostOptions {
  /** A scan already made (the CLI's, with names, its problems said on stderr); scanned here when absent. */
  scan?: PciScan;
  /** The devices a user asked about (`doctor --device`): their checks join the verdict. */
  asked?: string[];
  /**
   * `endpoints`: also run the device checks (group viability, ACS, reset) on every endpoint worth
   * passing (see `examinedEndpoints`), as information per device; they never change the verdict.
   */
  examine?: 'asked' | 'endpoints';
  /** Host facts from outside HostFs (systeminformation on a live host). */
  identity?: RunChecksOptions['identity'];
  /** What nvidia-smi said (readNvidiaSmi: run on a live host, captured for a tree), for the GPUs' MIG state. */
  nvidiaSmi?: NvidiaSmiOutput | null;
}

/**
 * Everything the read-only surfaces show about a host, read once: `doctor`, `report`, `export`,
 * `fleet publish` and `baseline` render it and judge nothing themselves.
 */
export interface HostView {
  devices: PciDevice[];
  problems: ScanProblem[];
  /** Per IOMMU group and per device (in scan order): status, summary, owner, guards. Read on first use. */
  readonly readiness: HostReadiness;
  /**
   * The doctor: the host checks, then the checks of the asked devices. `doctor.verdict` is THE
   * verdict: the host's layers and the devices a user asked about, nothing else. Surfaces that ask
   * about no device (report, export, fleet) therefore all give the host's own verdict.
   */
  doctor: DoctorReport;
  verdict: DoctorVerdict;
  /** The device checks of each asked or examined device, by address. */
  deviceChecks: Map<string, CheckResult[]>;
  /**
   * IOMMU groups a VM can be given now: the verdict is ready or ready-with-warnings, the group is
   * `ready` (viable, on vfio-pci, no platform function), and no endpoint of it is held by a
   * manager other than passthru (libvirt, driverctl, a foreign driver_override, vfio-pci without
   * passthru's journal): an instance placed here would compete with that manager.
   */
  readonly vmReadyGroups: number[];
  /** The endpoints on vfio-pci of `vmReadyGroups`, in scan order. */
  readonly vmReady: string[];
  /** How each GPU (class 03xx) can be given to an instance (gputype physical, mdev, sriov, mig), by address. Read on first use. */
  readonly gpuModes: Map<string, GpuModes>;
}

/** The verdicts under which a host can give devices to VMs. */
export const isUsable = (verdict: DoctorVerdict): boolean => verdict === 'ready' || verdict === 'ready-with-warnings';

/**
 * The endpoints whose device checks the report shows: every grouped endpoint but VFs (a VF's
 * group is its own by construction, and checking 2,000 VFs costs seconds; their readiness says
 * enough) and but those of a group holding a platform function (their readiness says why).
 */
export function examinedEndpoints(devices: readonly PciDevice[], readiness: HostReadiness): string[] {
  const passable = new Set(readiness.groups.filter((g) => g.platformFunctions.length === 0).map((g) => g.id));
  return devices.filter((d) => !d.isBridge && d.iommuGroup !== null && d.sriov?.role !== 'vf' && passable.has(d.iommuGroup)).map((d) => d.address);
}

/**
 * Reads the host once: the scan, its IOMMU groups, readiness, the doctor checks and the verdict.
 * An unreadable /sys/kernel/iommu_groups throws (HostFsError): no surface can judge such a host.
 * `journal` gives the bind journal's records (who holds each device) on the first read of
 * `readiness`; readHost reads the journal itself then.
 */
export function readHostWith(host: HostFs, options: ReadHostOptions, journal: () => JournalRecords): HostView {
  const scan = options.scan ?? scanPciDevices(host);
  const { devices, problems } = scan;
  // Owners and guards are read when a surface asks for them: `doctor` without --device shows
  // none of them, and on a 2,000-function host they cost it half its time again.
  // The groups are walked once (a readdir per group), when the readiness or a device check needs
  // them: `doctor` without --device does not. Their folder is listed now (unreadable: this throws).
  const groupFolders = iommuGroupFolders(host);
  const groups = once(() => readIommuGroups(host, devices, groupFolders));
  const readiness = once(() => hostReadinessWith(host, { devices, groups: groups() }, journal()));
  const checkOptions: RunChecksOptions = { devices: options.asked ?? [], scan, groups, groupFolders };
  if (options.identity) checkOptions.identity = options.identity;
  if (options.examine === 'endpoints') checkOptions.examine = examinedEndpoints(devices, readiness());
  const doctor = runChecks(host, checkOptions);

  const deviceChecks = new Map<string, CheckResult[]>();
  for (const c of [...doctor.checks, ...(doctor.examined ?? [])]) {
    const address = trailingPciAddress(c.id);
    if (address !== undefined) deviceChecks.set(address, [...(deviceChecks.get(address) ?? []), c]);
  }

  const vmReadyGroups = once((): number[] => {
    if (!isUsable(doctor.verdict)) return [];
    const heldByOther = new Set(
      readiness()
        .devices.filter((r) => isForeign(r.owner))
        .map((r) => r.address),
    );
    return readiness()
      .groups.filter((g) => g.status === 'ready' && !g.endpoints.some((a) => heldByOther.has(a)))
      .map((g) => g.id);
  });
  const vmReady = once(() => {
    const inReadyGroup = new Set(vmReadyGroups());
    return devices.filter((d) => !d.isBridge && d.iommuGroup !== null && inReadyGroup.has(d.iommuGroup) && d.driver === VFIO_DRIVER).map((d) => d.address);
  });
  const gpuModes = once(() => readGpuModes(host, devices, options.nvidiaSmi ?? null));
  return {
    devices,
    problems,
    doctor,
    verdict: doctor.verdict,
    deviceChecks,
    get readiness() {
      return readiness();
    },
    get vmReadyGroups() {
      return vmReadyGroups();
    },
    get vmReady() {
      return vmReady();
    },
    get gpuModes() {
      return gpuModes();
    },
  };
}

/** `make`'s value, made on the first call. */
function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => {
    made ??= { value: make() };
    return made.value;
  };
}
