// @passthru/fleet: an LXD cluster's view of passthrough readiness. Publish this member's
// readiness into its cluster member config (user.passthru.*) and keep passthru's cluster
// groups; status across members; placement advice. Uses lxd-device-attach's LXD client.
export { FleetError, type FleetErrorReason } from './FleetError';
export { readinessOf, ReadinessSummarySchema, ViableCountSchema, DEVICE_KINDS, type ReadinessSummary, type ViableCount } from './readiness';
export { KEYS, PUBLISHED_PREFIX, publishedAge, publishedConfig, readPublished, withPublished, type Published } from './published';
export { GROUP_PREFIX, GROUP_MARK, isPassthruGroup, wantedGroups } from './groups';
export { requireCluster } from './requireCluster';
export { publishReadiness, type PublishRequest, type PublishResult, type PlannedCall } from './publishReadiness';
export {
  fleetStatus,
  joinDevices,
  statusExitCode,
  DEFAULT_STALE_SECONDS,
  FleetStatusSchema,
  FleetMemberSchema,
  FleetDeviceSchema,
  type FleetStatus,
  type FleetMember,
  type FleetDevice,
  type StatusRequest,
} from './fleetStatus';
export { placeDevice, type PlaceRequest, type Placement } from './placeDevice';
export { memberInventory, type MemberFacts } from './memberInventory';
export { planClusterAttach, readMemberInventory, type ClusterAttachRequest } from './clusterAttach';
