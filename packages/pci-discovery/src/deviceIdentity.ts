import type * as z from 'zod';
import type { PciDevice } from './PciDevice';
import type { DeviceIdentitySchema } from './schemas';

/**
 * What identifies a device across reboots: a renumbered address (a card moved, a BIOS change)
 * names another device, and these fields tell. Journals and persist records keep it per device.
 */
export type DeviceIdentity = z.infer<typeof DeviceIdentitySchema>;

export function identityOf(device: Pick<PciDevice, keyof DeviceIdentity>): DeviceIdentity {
  return {
    vendorId: device.vendorId,
    deviceId: device.deviceId,
    subsystemVendorId: device.subsystemVendorId,
    subsystemDeviceId: device.subsystemDeviceId,
    class: device.class,
    iommuGroup: device.iommuGroup,
  };
}

/** The fields that say "the same device" (the IOMMU group may change with the slot, the device stays). */
const SAME_DEVICE = ['vendorId', 'deviceId', 'subsystemVendorId', 'subsystemDeviceId', 'class'] as const;
type SameDeviceFields = Pick<DeviceIdentity, (typeof SAME_DEVICE)[number]>;

/**
 * The one "is it the same device" rule (restore, persist, baseline): what differs between a
 * recorded identity and a device now, one phrase each ("deviceId was 2684, is 2704"); [] when it
 * is the same device.
 */
export function identityMismatch(recorded: SameDeviceFields, now: SameDeviceFields): string[] {
  return SAME_DEVICE.filter((k) => recorded[k] !== now[k]).map((k) => `${k} was ${recorded[k] ?? 'none'}, is ${now[k] ?? 'none'}`);
}

/** A key that is equal for two records exactly when identityMismatch finds nothing between them. */
export function identityKey(d: SameDeviceFields): string {
  return SAME_DEVICE.map((k) => d[k] ?? '-').join(' ');
}
