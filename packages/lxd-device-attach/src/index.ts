// @passthru/lxd-device-attach: the LXD and Incus REST client, device attach/detach with ETag, audit, raw LXC lines.
// The door: the client, the attach/detach and audit use cases with their types, and what a front
// end renders (SARIF, raw LXC lines). Parsers, rules and helpers stay internal (tests import them by path).
export { LxdError, type LxdErrorReason, type LxdErrorOptions } from './LxdError';
export { LxdClient, type LxdEndpoint, type LxdClientOptions } from './LxdClient';
export {
  LXD,
  INCUS,
  SERVERS,
  SERVER_NAMES,
  findServerSocket,
  parseServerName,
  serverKindOf,
  inVocabularyOf,
  INCUS_RENAMES,
  staleResourcesNote,
} from './servers';
export type { ServerKind, ServerName } from './servers';
export { resolveTarget, ATTACH_TYPES, type AttachType, type HostTarget, type DeviceChoice, type ResolveOptions } from './resolveTarget';
export { planAttach, applyAttach, planDetach, applyDetach } from './attachDevice';
export type { GpuRequest } from './gpuAttach';
export type { AttachRequest, AttachPlan, AttachResult, AttachHooks, PlanOptions, DetachRequest, DetachPlan, DeviceHolder } from './attachDevice';
export { hostInventory, THIS_HOST, type DeviceInventory } from './deviceInventory';
export type { IommuVerdict } from './iommuVerdict';
export type { Instance } from './schemas';
export {
  auditLxd,
  auditFailed,
  AuditReportSchema,
  type AuditReport,
  type AuditRequest,
  type InstanceAudit,
  type ServerAudit,
  type SocketAccess,
} from './auditLxd';
export type { Finding, Severity } from './Finding';
export { auditSarif } from './auditSarif';
export { lxcConfigLines, type LxcConfig } from './lxcConfig';
// Plain LXC (and Proxmox VE configs): attach/detach by editing the config, and the audit (src/lxc/).
export { planLxcAttach, planLxcDetach, applyLxcEdit, LxcEditPlanSchema } from './lxc/attachLxc';
export type { LxcEditPlan, LxcEditRequest, LxcEditOutcome, LxcRunner } from './lxc/attachLxc';
export { auditLxc, lxcAuditFailed, LxcAuditReportSchema, type LxcAuditReport, type LxcAuditRequest, type LxcContainerAudit } from './lxc/auditLxc';
export type { LxcFinding } from './lxc/lxcFindings';
export { lxcAuditSarif } from './lxc/lxcSarif';
// The cluster API (members, groups, per-member resources), named one by one: the CLI bundle's
// import rewriter (apps/cli/barrels.mjs) maps only named re-exports, and `export *` made every
// command that imports this face load the audit and jsdiff with it.
export {
  listClusterMembers,
  getClusterMember,
  updateClusterMember,
  memberPut,
  listClusterGroups,
  createClusterGroup,
  getMemberResources,
  ResourcesSchema,
  type ClusterMemberPut,
  type ClusterGroup,
  type Resources,
} from './cluster';
export { tuneServerSysctl, SYSCTL_FILE, LXD_SYSCTL, type TuneRequest, type TuneOutcome, SysctlPlanSchema, type SysctlPlan } from './serverSettings';
