// @passthru/sysfs-sim: host specs -> trees on disk, kernel write semantics, fault injection,
// large-host generator, live-host capture.
export { SysfsSimError } from './SysfsSimError';
export { HostSpecSchema, DeviceSpecSchema, DriverSpecSchema, PciAddressSchema, PCI_ADDRESS_RE, parseHostSpec, loadHostSpec } from './HostSpec';
export type { HostSpec, HostSpecInput, DeviceSpec, DriverSpec } from './HostSpec';
export { buildConfigSpace, isBridgeClass, ACS_REQUIRED_CONTROL, EXT_CAP_ACS, EXT_CAP_SRIOV, PCIE_CAP_OFFSET, EXT_CAP_OFFSET } from './configSpace';
export { materialize, materializeDevice, allDevices, deviceSysfsPaths, virtualFunctionSpecs, bindInTree, ensureDriverFolder, linkTree, writeTreeFile, moduleName, SIM_STATE_DIR, SIM_SPEC_FILE } from './materialize';
