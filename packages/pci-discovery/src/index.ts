// @passthru/pci-discovery: the PCI vocabulary (docs/architecture.md).
export { PciDiscoveryError } from './PciDiscoveryError';
export { PciIds, findPciIdsFile, PCI_IDS_PATHS, PCI_IDS_MAX_BYTES, type PciClassNames } from './PciIds';
export { parseLspciVmm, LspciRecordSchema, type LspciRecord } from './LspciParser';
export { runLspci, lspciArgs, execaRunner, type Runner, type LspciOptions } from './LspciRunner';
export { PciDeviceSchema, IommuGroupSchema, ScanProblemSchema, SriovSchema, PcieLinkSchema, DEVICE_CLASSES, deviceClassOf, compareAddresses, PCI_ADDRESS_RE } from './PciDevice';
export type { PciDevice, IommuGroup, ScanProblem, DeviceClassFilter } from './PciDevice';
export { scanPciDevices, readPciDevice, readIommuGroups, PCI_DEVICES, IOMMU_GROUPS, type PciScan, type ReadOptions } from './scanPciDevices';
export { PlatformFunctionSchema, platformFunction, platformFunctionsOf, describePlatformFunctions, notPassable, type PlatformFunction } from './platformFunction';
