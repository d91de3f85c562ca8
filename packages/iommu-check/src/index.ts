// @passthru/iommu-check: is this host ready for passthrough, and the advice that makes it so.
// The face of the package: what the CLI, vfio-binder and library users call. Parsers and the
// checks of each layer are internals (tests import them by path).
export { IommuCheckError } from './IommuCheckError';

// doctor: every readiness check, and the report it returns.
export { runChecks, EVIDENCE_LAYERS } from './runChecks';
export type { RunChecksOptions, EvidenceLayer } from './runChecks';
export { CHECK_STATUSES, VERDICTS } from './DoctorReport';
export { DoctorReportSchema, CheckResultSchema, CheckStatusSchema, HostIdentitySchema, VerdictSchema } from './schemas';
export type { DoctorReport, CheckResult, CheckStatus, DoctorVerdict, HostIdentity } from './DoctorReport';
export { parseCpuInfo } from './HostFacts';
export type { CpuInfo } from './HostFacts';
export type { CpuVendor } from './IommuParams';
// Interrupt remapping as exporters read it.
export { parseInterruptRemapping } from './InterruptRemapping';

// The kernel command-line edits doctor proposes and persist applies (boot-config makes them).
export { planCmdlineRemediation } from './cmdlineRemediation';
export type { PlanCmdlineOptions } from './cmdlineRemediation';

// The firmware framebuffer on a GPU: does vfio-pci remove it, and the boot parameter that keeps it off.
export { firmwareFramebufferClaims, framebufferParam, vfioRemovesFramebuffer, VFIO_REMOVES_FRAMEBUFFER_SINCE } from './FirmwareFramebuffer';
export type { FramebufferClaim } from './FirmwareFramebuffer';
