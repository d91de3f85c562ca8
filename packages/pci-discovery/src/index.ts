// @passthru/pci-discovery: the PCI vocabulary (docs/architecture.md). The door holds what other
// packages and users need; tests reach the rest by path.
export { PciDiscoveryError } from './PciDiscoveryError';
// Addresses, TARGETs, identity, labels: the words every package speaks.
export {
  PCI_ADDRESS_RE,
  PCI_ADDRESS_SOURCE,
  parsePciAddress,
  normalizePciAddress,
  trailingPciAddress,
  slotOf,
  compareAddresses,
  type PciAddressParts,
} from './pciAddress';
export { parseTarget, quoteTarget, type Target } from './parseTarget';
export { identityOf, identityMismatch, identityKey, type DeviceIdentity } from './deviceIdentity';
export { DEVICE_CLASSES, deviceClassOf, deviceLabel } from './PciDevice';
export type { PciDevice, Bar, ResizableBar, IommuGroup, ScanProblem, DeviceClassFilter } from './PciDevice';
// Reading a host: sysfs scan, pci.ids names.
export { scanPciDevices, readPciDevice, readIommuGroups, iommuGroupFolders, type PciScan } from './scanPciDevices';
export { PCI_DEVICES, PCI_DRIVERS, DRIVERS_PROBE, IOMMU_GROUPS, pciDevicePath, pciDriverPath, iommuGroupPath, type PciDeviceFile } from './sysfsPaths';
export { scanPciDevicesParallel, serveScanWorker, type ParallelScanOptions } from './parallelScan';
export { PciIds, findPciIdsFile } from './PciIds';
// Rules on what was read: topology, group viability, platform functions.
export { buildTopology, walkTopology, type Topology, type TopologyNode } from './topology';
export { keepsGroupViable, blockingEndpoints } from './groupViability';
export { platformFunction, platformFunctionsOf, notPassable, type PlatformFunction } from './platformFunction';
export {
  PCI_CAP_ID_EXP,
  PCI_EXT_CAP_ID_ACS,
  PCI_EXT_CAP_ID_REBAR,
  PCI_EXT_CAP_ID_SRIOV,
  u16,
  u32,
  walkCapabilities,
  walkExtendedCapabilities,
  hasCapability,
  hasExtendedCapability,
} from './configSpace';
export {
  dumpOptionRom,
  formatRomImages,
  parseOptionRom,
  readOptionRom,
  tryReadOptionRom,
  romFitFor,
  guestMachineOf,
  MAX_ROM_BYTES,
  type GuestMachine,
  type OptionRom,
  type RomDump,
  type RomFit,
  type RomImage,
  type RomRead,
} from './optionRom';
// Who holds a device's BARs (/proc/iomem against its resource file): firmware framebuffers, its driver, others.
export {
  FIRMWARE_FRAMEBUFFERS,
  IOMEM,
  parseIomem,
  parsePciResources,
  describeResource,
  claimsOnBars,
  readIomem,
  readBarClaims,
  barEvidence,
  type Iomem,
  type IomemEntry,
  type IomemRead,
  type PciResource,
  type BarClaim,
  type BarClaimsRead,
} from './barClaims';
// How each GPU can be shared (LXD's gputype: physical, mdev, sriov, mig), read per GPU after the scan.
export {
  GPU_TYPES,
  isGpu,
  mdevTypesOfCard,
  readGpuModes,
  readGpuModesOf,
  type GpuModes,
  type GpuType,
  type GpuVf,
} from './gpuModes';
export { readMdevTypes, readMdevs, type MdevType, type VgpuFiles } from './mdevTypes';
export type { Mig } from './nvidiaMig';
export { NVIDIA_SMI_CAPTURES, NVIDIA_SMI_COMMANDS, readNvidiaSmi, type NvidiaSmiOutput, type NvidiaSmiRunner } from './nvidiaSmi';
// What nvidia-smi says (pure parsers, also used on captured output).
export { parseMigComputeInstances, parseMigGpuInstances, parseMigModes, parseNvidiaSmiList } from './nvidiaSmi';
// The JSON shapes of all the above, as zod schemas (the types are inferred from them): only what
// validates or publishes JSON imports them, so reading a host does not load zod.
export {
  PciDeviceSchema,
  BarSchema,
  ResizableBarSchema,
  IommuGroupSchema,
  ScanProblemSchema,
  DeviceIdentitySchema,
  TopologyNodeSchema,
  PlatformFunctionSchema,
  GpuModesSchema,
  GpuVfSchema,
  MdevTypeSchema,
  VgpuFilesSchema,
  MigSchema,
} from './schemas';
