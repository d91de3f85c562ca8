// @passthru/exporters: pure renderers of one host report (NFD feature file, Prometheus
// textfile, KubeVirt permittedHostDevices, SR-IOV device plugin config), the adapter that reads
// the report from a host, and the atomic writer of the output files.
export { ExportersError } from './ExportersError';
export { HostReportSchema, ExportDeviceSchema, ExportGroupSchema, DEVICE_READINESS, GROUP_STATUSES, DRIFT_KINDS, primaryOf } from './HostReport';
export type { HostReport, ExportDevice, ExportGroup, DeviceReadiness } from './HostReport';
export { readHostReport, type ReadHostReportOptions } from './readHostReport';
export {
  renderNfdFeatures,
  nfdLabels,
  NFD_FEATURES_DIR,
  NFD_FILE_NAME,
  NFD_MAX_BYTES,
  NFD_PREFIX,
  NFD_DEFAULT_TTL_SECONDS,
  type NfdOptions,
} from './renderNfdFeatures';
export { renderPrometheus, prometheusFamilies, PROMETHEUS_TEXTFILE } from './renderPrometheus';
export {
  renderKubevirt,
  offeredDevices,
  DEFAULT_RESOURCE_PREFIX,
  type DeviceSelection,
  type KubevirtPermittedHostDevices,
  type KubevirtPciHostDevice,
} from './renderKubevirt';
export { renderSriovDp, type SriovDpConfig, type SriovDpResource, type SriovDpSelectors } from './renderSriovDp';
export { renderYaml } from './renderYaml';
export { writeFileAtomic } from './writeFileAtomic';
