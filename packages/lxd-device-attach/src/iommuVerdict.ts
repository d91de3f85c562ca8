import type { HostFs } from '@passthru/hostfs';
import {
  blockingEndpoints,
  notPassable,
  platformFunctionsOf,
  readIommuGroups,
  scanPciDevices,
  type PciDevice,
  type PlatformFunction,
} from '@passthru/pci-discovery';

export interface IommuVerdict {
  group: number | null;
  /** Every endpoint of the group is on vfio-pci (or only the target is, and LXD binds it). */
  viable: boolean;
  /** The endpoints that must move to vfio-pci first, with their current drivers. */
  toBind: { address: string; driver: string | null }[];
  /** Platform functions in the group (host bridge, LPC bridge, SMBus, SPI flash...): the group can never be passed. */
  platformFunctions: PlatformFunction[];
  /** The plan text: what `passthru bind` would do. */
  plan: string[];
}

/**
 * IOMMU viability for a VM device: the kernel lets vfio use a group only when every endpoint
 * in it is on vfio-pci (or driverless/pci-stub). LXD binds only the function it is given,
 * so "group N is not viable" otherwise appears at VM start; passthru says it here, with the plan.
 */
export function iommuVerdict(host: HostFs, device: PciDevice, devices?: PciDevice[]): IommuVerdict {
  if (device.iommuGroup === null) {
    return {
      group: null,
      viable: false,
      toBind: [],
      platformFunctions: [],
      plan: [`${device.address} has no IOMMU group: enable the IOMMU first (passthru doctor)`],
    };
  }
  const all = devices ?? scanPciDevices(host).devices;
  const group = readIommuGroups(host, all).find((g) => g.id === device.iommuGroup);
  const byAddress = new Map(all.map((d) => [d.address, d]));
  const endpoints = group ? group.endpoints : [device.address];
  const platformFunctions = platformFunctionsOf(group ?? { devices: [device.address] }, byAddress);
  if (platformFunctions.length > 0) {
    const np = notPassable(platformFunctions);
    return {
      group: device.iommuGroup,
      viable: false,
      toBind: [],
      platformFunctions,
      plan: [`IOMMU group ${device.iommuGroup} is ${np.summary} (${np.why}); the host cannot give it away`, np.fix],
    };
  }
  // The target itself may keep its driver: LXD rebinds it to vfio-pci at start.
  const toBind = blockingEndpoints({ endpoints }, byAddress, device.address).map((a) => ({ address: a, driver: byAddress.get(a)?.driver ?? null }));
  const plan =
    toBind.length === 0
      ? [
          `IOMMU group ${device.iommuGroup} is viable (${endpoints.length} endpoint${endpoints.length === 1 ? '' : 's'}); LXD binds ${device.address} to vfio-pci at VM start`,
        ]
      : [
          `IOMMU group ${device.iommuGroup} is not viable: ${toBind.length} other endpoint${toBind.length === 1 ? '' : 's'} still on a host driver`,
          ...toBind.map((m) => `  ${m.address}: ${m.driver} -> vfio-pci`),
          `plan: passthru bind group:${device.iommuGroup} --dry-run   (then without --dry-run), and attach again`,
        ];
  return { group: device.iommuGroup, viable: toBind.length === 0, toBind, platformFunctions, plan };
}
