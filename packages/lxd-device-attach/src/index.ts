// @passthru/lxd-device-attach: LXD REST client, device attach/detach with ETag, audit, raw LXC lines.
export { LxdError, type LxdErrorKind, type LxdErrorOptions } from './LxdError';
export { LxdClient, findLxdSocket, lxdSocketCandidates, SNAP_SOCKET, DEBIAN_SOCKET } from './LxdClient';
export type { LxdEndpoint, LxdClientOptions, RawResponse, RequestOptions, Purpose } from './LxdClient';
export * from './schemas';
export { checkInstanceName, checkProjectName, checkDeviceName, INSTANCE_NAME_RE, PROJECT_NAME_RE, DEVICE_NAME_RE } from './names';
export { resolveTarget, chooseDevice, ATTACH_TYPES, type AttachType, type HostTarget, type DeviceChoice, type ResolveOptions } from './resolveTarget';
export { planAttach, applyAttach, planDetach, applyDetach, findHolders, holdsSameDevice, iommuVerdict } from './attachDevice';
export type { AttachRequest, AttachPlan, AttachResult, AttachHooks, DetachRequest, DetachPlan, DeviceHolder, IommuVerdict } from './attachDevice';
export { auditInstance, auditProject, dockerSigns, parseRawLxc, idmapMapsHostRoot, hostDevices, sensitivePath, sortFindings, FindingSchema, SEVERITIES, severityRank, isSerious, SENSITIVE_HOST_PATHS } from './auditInstance';
export type { Finding, Severity, HostIommuState, NetworkTypes } from './auditInstance';
export { auditServer, listenScope, type ListenScope } from './auditServer';
export { LXD_SERIES, lxdSupport, type LxdSeries, type LxdSupport } from './lxdSeries';
export { AUDIT_RULES, AUDIT_RULE_IDS, CHECKLIST, auditRule, type AuditRule, type ChecklistItem } from './auditRules';
export { auditSarif, SARIF_LEVEL } from './auditSarif';
export { auditLxd, auditSocket, auditFailed, allFindings, probeHostIommu, parseGroupFile, AuditReportSchema, InstanceAuditSchema, ServerAuditSchema, SocketAccessSchema } from './auditLxd';
export type { AuditReport, AuditRequest, FindingScope, InstanceAudit, ServerAudit, SocketAccess } from './auditLxd';
export { lxcConfigLines, type LxcConfig } from './lxcConfig';
export * from './cluster';
