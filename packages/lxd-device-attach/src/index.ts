// @passthru/lxd-device-attach: LXD REST client, device attach/detach with ETag, audit, raw LXC lines.
export { LxdError, type LxdErrorKind, type LxdErrorOptions } from './LxdError';
export { LxdClient, findLxdSocket, lxdSocketCandidates, SNAP_SOCKET, DEBIAN_SOCKET } from './LxdClient';
export type { LxdEndpoint, LxdClientOptions, RawResponse, RequestOptions, Purpose } from './LxdClient';
export * from './schemas';
export { checkInstanceName, checkProjectName, checkDeviceName, INSTANCE_NAME_RE, PROJECT_NAME_RE, DEVICE_NAME_RE } from './names';
export { resolveTarget, chooseDevice, ATTACH_TYPES, type AttachType, type HostTarget, type DeviceChoice, type ResolveOptions } from './resolveTarget';
export { planAttach, applyAttach, planDetach, applyDetach, findHolders, holdsSameDevice, iommuVerdict } from './attachDevice';
export type { AttachRequest, AttachPlan, AttachResult, AttachHooks, DetachRequest, DetachPlan, DeviceHolder, IommuVerdict } from './attachDevice';
export { auditInstance, auditProject, parseRawLxc, idmapMapsHostRoot, hostDevices, sensitivePath, FindingSchema, SEVERITIES, severityRank, isSerious, SENSITIVE_HOST_PATHS } from './auditInstance';
export type { Finding, Severity, HostIommuState } from './auditInstance';
export { auditLxd, auditSocket, auditFailed, probeHostIommu, parseGroupFile, AuditReportSchema, InstanceAuditSchema, SocketAccessSchema } from './auditLxd';
export type { AuditReport, AuditRequest, InstanceAudit, SocketAccess } from './auditLxd';
export { lxcConfigLines, type LxcConfig } from './lxcConfig';
