// @passthru/iommu-check: firmware / kernel / cmdline IOMMU state, boot-loader configs, ACS, vfio modules.
export { IommuCheckError } from './IommuCheckError';
export { parseCmdline, tokenizeCmdline, formatParam, canonicalParamKey, splitOptions, judgeIommuParams, iommuParamsToAdd } from './KernelCmdline';
export type { KernelParam, KernelParamToken, KernelCmdline, KernelCmdlineTokens, CpuVendor, Verdict, IommuParamFinding, IommuParamChange } from './KernelCmdline';
export { lexShellAssignments } from './ShellAssignments';
export type { ShellAssignment, ShellSegment, ShellQuote, ShellLexOptions } from './ShellAssignments';
export { parseGrubDefault, effectiveGrubCmdline, GRUB_CMDLINE_VARIABLES } from './GrubDefault';
export type { GrubDefault, GrubDefaultFile, GrubOrigin, ParseGrubDefaultOptions } from './GrubDefault';
export { planGrubCmdlineEdit, planKernelCmdlineFileEdit, planKernelstubEdit, kernelInstallFallbackCmdline } from './GrubEdit';
export type { Distro, CmdlineEditSpec, BootConfigEditPlan } from './GrubEdit';
export { parseModprobeConfig, orderModprobeFiles, normalizeModuleName, moduleOptions, isModuleBlocked, MODPROBE_DIRS } from './ModprobeConfig';
export type { ConfigFile, ConfigOrigin, ModprobeConfig, ModprobeOption, ModprobeSoftdep } from './ModprobeConfig';
export { parseInitramfsToolsModules, parseDracutConf, parseMkinitcpioConf, VFIO_MODULES, GPU_DRIVERS } from './InitramfsConfig';
export type { InitramfsTool, InitramfsModuleEntry, InitramfsVfioReport } from './InitramfsConfig';
export { parseInterruptRemapping, decodeIntelEcap } from './InterruptRemapping';
export type { InterruptRemappingState, IntelEcap } from './InterruptRemapping';
export { decodeAcsCapability, findPcieCapability, inspectPciConfig, walkCapabilities, walkExtendedCapabilities, REQ_ACS_FLAGS, PCI_EXT_CAP_ID_ACS, PCI_CAP_ID_EXP } from './AcsCapability';
export type { AcsCapability, AcsFlags, PciePortType, PcieCapability, PciConfigIsolation } from './AcsCapability';
