import type { IommuGroup, PciDevice } from './PciDevice';

/**
 * The kernel's group viability (vfio_group_viable, vfio_dev_driver_allowed): VFIO lets a group
 * be used only when every endpoint in it is on vfio-pci, on pci-stub (which never enables DMA)
 * or on no driver at all. Bridges do not count: the kernel allows them on pcieport, and
 * `IommuGroup.endpoints` leaves them out already. This is the one copy of the rule.
 */
export const VIABLE_DRIVERS: ReadonlySet<string> = new Set(['vfio-pci', 'pci-stub']);

/** May an endpoint on this driver (null: none) stay in a viable group? */
export function keepsGroupViable(driver: string | null): boolean {
  return driver === null || VIABLE_DRIVERS.has(driver);
}

/**
 * The endpoints that keep a group from being viable, in group order: each on a host driver. An
 * endpoint absent from `devices` counts too (its driver cannot be known). `except` leaves one
 * endpoint out (LXD rebinds the function it attaches to vfio-pci itself at VM start).
 * A group is viable when this is empty.
 */
export function blockingEndpoints(group: Pick<IommuGroup, 'endpoints'>, devices: ReadonlyMap<string, Pick<PciDevice, 'driver'>>, except?: string): string[] {
  return group.endpoints.filter((a) => {
    if (a === except) return false;
    const d = devices.get(a);
    return d === undefined || !keepsGroupViable(d.driver);
  });
}
