import * as z from 'zod';
import type { PciDevice } from './PciDevice';

/**
 * What identifies a device across reboots: a renumbered address (a card moved, a BIOS change)
 * names another device, and these fields tell. Journals and persist records keep it per device.
 */
export const DeviceIdentitySchema = z.object({
  vendorId: z.string(),
  deviceId: z.string(),
  subsystemVendorId: z.string().nullable(),
  subsystemDeviceId: z.string().nullable(),
  class: z.string(),
  iommuGroup: z.number().int().nullable(),
});
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
