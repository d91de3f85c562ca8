// @passthru/sysfs-sim: host specs -> trees on disk, kernel write semantics, fault injection,
// large-host generator, live-host capture.
export { SysfsSimError } from './SysfsSimError';
export { HostSpecSchema, DeviceSpecSchema, DriverSpecSchema, PciAddressSchema, PCI_ADDRESS_RE, parseHostSpec } from './HostSpec';
export { loadHostSpec } from './loadHostSpec';
export type { HostSpec, HostSpecInput, DeviceSpec, DriverSpec } from './HostSpec';
export { buildConfigSpace, isBridgeClass, ACS_REQUIRED_CONTROL, EXT_CAP_ACS, EXT_CAP_SRIOV, PCIE_CAP_OFFSET, EXT_CAP_OFFSET } from './configSpace';
export { materialize, materializeDevice, allDevices, deviceSysfsPaths, virtualFunctionSpecs, bindInTree, ensureDriverFolder, linkTree, writeTreeFile, moduleName, SIM_STATE_DIR, SIM_SPEC_FILE } from './materialize';
export { SimulatedKernel } from './SimulatedKernel';
export { globToRegExp } from './kernel/faults';
export { PAGE_SIZE } from './kernel/sysfsParse';
export { SIM_KERNEL_STATE_FILE, SIM_FAULTS_FILE, SIM_WRITE_LOG_FILE, SIM_REMOVED_FILE } from './kernel/sidecar';
export type { KernelWrite, SimulatedKernelOptions } from './SimulatedKernel';
export type { FaultSpec, InjectedFault } from './kernel/faults';
export type { DynamicId } from './kernel/IdTables';
export { generateLargeHost } from './generateLargeHost';
export type { LargeHostOptions } from './generateLargeHost';
export { capture } from './capture';
export type { CaptureOptions, CaptureResult } from './capture';
