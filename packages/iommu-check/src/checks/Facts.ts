/** The host facts every check reads, gathered once through one HostFs. */
import {
  detectDistro,
  type CmdlineEditSpec,
  type CmdlineRemediationPlan,
  type ConfigFile,
  type Distro,
  type KernelParam,
  MODPROBE_DIRS,
  type ModprobeConfig,
  parseCmdline,
  parseModprobeConfig,
} from '@passthru/boot-config';
import { planCmdlineRemediation } from '../cmdlineRemediation';
import type { HostDir, HostFs } from '@passthru/hostfs';
import { iommuGroupFolders, readIommuGroups, scanPciDevices, type IommuGroup, type PciDevice, type PciScan } from '@passthru/pci-discovery';
import { dmiLooksVirtual, parseCpuInfo, readDmiIdentity, readKernelConfig, readKernelRelease, type CpuInfo, type KernelConfig } from '../HostFacts';
import { tryList, tryReadText } from '@passthru/hostfs';
import { IommuCheckError } from '../IommuCheckError';
import { judgeIommuParams, type CpuVendor, type IommuParamFinding } from '../IommuParams';
import type { RunChecksOptions } from '../runChecks';
import { absentLayers, IOMMU_GROUPS, linkedGroupsOf, type EvidenceLayer } from './evidence';
import { iommuVendorOf } from './platformChecks';

export const ACPI_TABLES = '/sys/firmware/acpi/tables';
export const IOMMU_CLASS = '/sys/class/iommu';

/** Everything read once and shared by the checks. */
export interface Facts {
  host: HostFs;
  /** Evidence layers absent from the tree (see EVIDENCE_LAYERS). */
  absent: Set<EvidenceLayer>;
  /** Devices whose `iommu_group` link exists, resolved or not (what the kernel had when the tree was made). */
  linkedGroups: () => Map<string, string>;
  cpu: CpuInfo;
  cpuPath: string;
  /** Whose IOMMU the kernel and firmware describe (iommuVendorOf); the CPU's vendor only when neither says. */
  iommuVendor: CpuVendor;
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
  /** The group folders by number (iommuGroupFolders): one listing, no group read. */
  groupFolders: Map<number, HostDir>;
  scan: PciScan;
  /** Every group with its members, read on first use: only device checks need them (a readdir per group). */
  readonly groups: IommuGroup[];
  byAddress: Map<string, PciDevice>;
  distro: Distro;
  isVm: boolean;
  modprobe: ModprobeConfig;
  modprobeError: string | undefined;
  plans: (extra?: CmdlineEditSpec) => { plans: CmdlineRemediationPlan[]; error?: string };
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

/** Reads every fact the checks share; never throws for what the host lacks. */
export function gatherFacts(host: HostFs, options: RunChecksOptions): Facts {
  const cpuText = tryReadText(host, '/proc/cpuinfo').value ?? '';
  const cpu = parseCpuInfo(cpuText);
  const release = readKernelRelease(host);
  const config = readKernelConfig(host, release);
  const cmd = tryReadText(host, '/proc/cmdline');
  const params = cmd.value === undefined ? [] : parseCmdline(cmd.value).params;
  const units = tryList(host, IOMMU_CLASS).value ?? [];
  const groupsList = tryList(host, IOMMU_GROUPS);
  const groupIds = (groupsList.value ?? [])
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
  const scan = options.scan ?? scanPciDevices(host);
  const linkedGroups = linkedGroupsOf(host, scan.devices);
  const absent = absentLayers(host, cmd, groupsList.error, linkedGroups);
  const tablesList = tryList(host, ACPI_TABLES);
  // x86 firmware is always ACPI: a missing tables folder under /sys/firmware means no table,
  // while elsewhere (device tree) it means "not ACPI".
  // A tree without /sys/firmware at all says nothing (see EVIDENCE_LAYERS).
  if (tablesList.value === undefined && tablesList.error === undefined && !absent.has('/sys/firmware') && (cpu.vendor === 'intel' || cpu.vendor === 'amd'))
    tablesList.value = [];
  const iommuVendor = iommuVendorOf(units, tablesList.value, cpu.vendor);
  // An unreadable groups folder throws here, when the facts are gathered, as reading the groups did.
  const groupFolders = groupIds.length === 0 ? new Map<number, HostDir>() : (options.groupFolders ?? iommuGroupFolders(host));
  let groups: IommuGroup[] | undefined;
  const readGroups = (): IommuGroup[] => {
    if (groupIds.length === 0) return [];
    const given = options.groups;
    return given === undefined ? readIommuGroups(host, scan.devices, groupFolders) : typeof given === 'function' ? given() : given;
  };
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
    iommuVendor,
    release,
    config,
    cmdlineText: cmd.value,
    cmdlineError: cmd.error,
    params,
    findings: judgeIommuParams(params, iommuVendor),
    tables: tablesList.value,
    tablesError: tablesList.error,
    units,
    groupIds,
    groupsError: groupsList.error,
    groupFolders,
    scan,
    get groups() {
      groups ??= readGroups();
      return groups;
    },
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
          cached = { plans: planCmdlineRemediation(host, iommuVendor, extra === undefined ? { distro } : { distro, extra }) };
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
