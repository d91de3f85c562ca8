/**
 * Every PCI sysfs path passthru reads or writes, named once (the procfs style: one accessor per
 * file), as a live host spells it; HostFs resolves it under its root. The kernel's ABI:
 * Documentation/ABI/testing/sysfs-bus-pci and sysfs-kernel-iommu_groups. (sysfs-sim lays the
 * same tree out for fixtures: it is the kernel's side, and depends on hostfs alone.)
 */
export const PCI_DEVICES = '/sys/bus/pci/devices';
export const PCI_DRIVERS = '/sys/bus/pci/drivers';
/** Writing an address asks every driver to probe that device (driver_override first). */
export const DRIVERS_PROBE = '/sys/bus/pci/drivers_probe';
export const IOMMU_GROUPS = '/sys/kernel/iommu_groups';
/** Mediated devices (vGPUs) by UUID; each is a folder below its parent device with an `mdev_type` link. */
export const MDEV_DEVICES = '/sys/bus/mdev/devices';

/** The files and links of a PCI device's folder that passthru reads or writes. */
export type PciDeviceFile =
  | 'boot_vga'
  | 'config'
  | 'current_link_speed'
  | 'current_link_width'
  | 'driver'
  | 'driver_override'
  | 'iommu_group'
  | 'max_link_speed'
  | 'max_link_width'
  | 'mdev_supported_types'
  | 'net'
  | 'numa_node'
  | 'nvidia'
  | 'physfn'
  | 'reset_method'
  | 'resource'
  | 'rom'
  | 'sriov_drivers_autoprobe'
  | 'sriov_numvfs'
  | 'sriov_totalvfs'
  | 'vfio'
  | 'vfio-dev'
  | `virtfn${number}`;

/** A PCI device's folder (`/sys/bus/pci/devices/0000:01:00.0`), or one of its files. */
export function pciDevicePath(address: string, file?: PciDeviceFile): string {
  return file === undefined ? `${PCI_DEVICES}/${address}` : `${PCI_DEVICES}/${address}/${file}`;
}

/** A PCI driver's folder, or the file that binds, unbinds or adds an id to it. */
export function pciDriverPath(driver: string, file?: 'bind' | 'unbind' | 'new_id' | 'remove_id' | 'module'): string {
  return file === undefined ? `${PCI_DRIVERS}/${driver}` : `${PCI_DRIVERS}/${driver}/${file}`;
}

/** An IOMMU group's folder, or its member list or domain type. */
export function iommuGroupPath(id: number | string, file?: 'devices' | 'type' | 'reserved_regions'): string {
  return file === undefined ? `${IOMMU_GROUPS}/${id}` : `${IOMMU_GROUPS}/${id}/${file}`;
}
