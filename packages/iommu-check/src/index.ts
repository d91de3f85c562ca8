// @passthru/iommu-check: is this host ready for passthrough, and the edits that make it so.
// The face of the package: what the CLI, vfio-binder and library users call. Parsers and the
// checks of each layer are internals (tests import them by path).
export { IommuCheckError } from './IommuCheckError';

// doctor: every readiness check, and the report it returns.
export { runChecks, EVIDENCE_LAYERS } from './runChecks';
export type { RunChecksOptions, EvidenceLayer } from './runChecks';
export { DoctorReportSchema, CheckResultSchema, CheckStatusSchema, HostIdentitySchema, VerdictSchema, CHECK_STATUSES, VERDICTS } from './DoctorReport';
export type { DoctorReport, CheckResult, CheckStatus, DoctorVerdict, HostIdentity } from './DoctorReport';
export { parseCpuInfo } from './HostFacts';
export type { CpuInfo } from './HostFacts';
export type { CpuVendor } from './IommuParams';
// The command line and interrupt remapping as exporters read them.
export { parseCmdline, canonicalParamKey } from './KernelCmdline';
export { parseInterruptRemapping } from './InterruptRemapping';

// The kernel command-line edits doctor proposes and persist applies.
export { planCmdlineRemediation, describeCmdlinePlan } from './BootLoaderCmdline';
export type { BootLoader, CmdlineRemediationPlan, PlanCmdlineOptions } from './BootLoaderCmdline';
export type { BootConfigEditPlan, CmdlineEditSpec, Distro } from './GrubEdit';

// Initramfs and modprobe.d, as persist reads them before writing its own lines.
export { parseInitramfsToolsModules, parseDracutConf, parseMkinitcpioConf } from './InitramfsConfig';
export type { InitramfsTool, InitramfsModuleEntry, InitramfsVfioReport } from './InitramfsConfig';
export { parseModprobeConfig, moduleOptions } from './ModprobeConfig';
export type { ConfigFile, ConfigOrigin, ModprobeConfig, ModprobeOption, ModprobeSoftdep } from './ModprobeConfig';

// The one rendering of a file edit: doctor, persist and --dry-run show the same patch.
export { unifiedPatch } from './unifiedPatch';
