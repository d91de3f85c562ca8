/**
 * The kernel command-line advice for passthrough, as boot-loader edits: add intel_iommu=on on
 * Intel (nothing on AMD: AMD-Vi is on by default with an IVRS table), remove what switches the
 * IOMMU or interrupt remapping off and invalid values such as amd_iommu=on. The edits
 * themselves (GRUB, /etc/kernel/cmdline, kernelstub) are @passthru/boot-config's.
 */
import {
  canonicalParamKey,
  planCmdlineEdits,
  type BootLoader,
  type CmdlineEditSpec,
  type CmdlineRemediationPlan,
  type Distro,
  type KernelParam,
} from '@passthru/boot-config';
import type { HostFs } from '@passthru/hostfs';
import { iommuParamsToAdd, type CpuVendor } from './IommuParams';

export interface PlanCmdlineOptions {
  distro?: Distro;
  /** More parameters to add or remove (e.g. `vfio-pci.ids=` for persist). */
  extra?: CmdlineEditSpec;
  /** Only this loader's configuration. */
  loader?: BootLoader;
}

/** The change for this CPU vendor against what runs now and what the loader already holds. */
export function cmdlineChangeFor(cpuVendor: CpuVendor, present: readonly KernelParam[], extra?: CmdlineEditSpec): CmdlineEditSpec {
  const change = iommuParamsToAdd(cpuVendor, present);
  const add = [...change.add, ...(extra?.add ?? [])];
  const remove = [...change.remove, ...(extra?.remove ?? [])].filter((r) => !add.some((x) => canonicalParamKey(x) === canonicalParamKey(r)));
  return { add: [...new Set(add)], remove: [...new Set(remove)] };
}

/**
 * The edits that make the next boot's command line right for passthrough on this CPU vendor,
 * one plan per boot-loader configuration present (see planCmdlineEdits). Throws
 * BootConfigError for a file that cannot be edited safely (nothing is written by planning).
 */
export function planCmdlineRemediation(host: HostFs, cpuVendor: CpuVendor, options: PlanCmdlineOptions = {}): CmdlineRemediationPlan[] {
  const { extra, ...where } = options;
  return planCmdlineEdits(host, (present) => cmdlineChangeFor(cpuVendor, present, extra), where);
}
