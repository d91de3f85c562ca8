import { describe, expect, it } from 'vitest';
import { DeviceIdentitySchema, deviceLabel, identityOf } from '../src/index';

const gpu = {
  vendorId: '10de',
  deviceId: '2684',
  subsystemVendorId: '1043',
  subsystemDeviceId: '889d',
  class: '030000',
  iommuGroup: 12,
  vendorName: 'NVIDIA Corporation',
  deviceName: 'AD102 [GeForce RTX 4090]',
  address: '0000:01:00.0',
};

describe('device identity and label', () => {
  it('identity keeps exactly what names a device across reboots, and its schema takes only whole group numbers', () => {
    expect(identityOf(gpu)).toEqual({
      vendorId: '10de',
      deviceId: '2684',
      subsystemVendorId: '1043',
      subsystemDeviceId: '889d',
      class: '030000',
      iommuGroup: 12,
    });
    expect(DeviceIdentitySchema.parse(identityOf(gpu))).toEqual(identityOf(gpu));
    expect(DeviceIdentitySchema.safeParse({ ...identityOf(gpu), iommuGroup: 1.5 }).success).toBe(false);
  });

  it('labels a device by its pci.ids names, else by its ids', () => {
    expect(deviceLabel(gpu)).toBe('NVIDIA Corporation AD102 [GeForce RTX 4090]');
    expect(deviceLabel({ ...gpu, vendorName: null, deviceName: null })).toBe('Vendor 10de Device 2684');
  });
});
