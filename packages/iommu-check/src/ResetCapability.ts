// Reset capability of a PCI function: what the kernel offers (`reset_method`, Linux 5.15+), FLR
// from config space for older kernels (PCIe Device Capabilities bit 28), what a secondary bus
// reset would also hit, and device families known not to reset without the out-of-tree
// `vendor-reset` module.
import { findPcieCapability } from './AcsCapability';

/**
 * GPU families that do not come back from a reset the kernel offers (the "AMD reset bug") and
 * that `vendor-reset` handles, by PCI vendor:device id. Source: the device table of
 * gnif/vendor-reset (src/device-db.h), which lists these ids per family; passthru keeps the ids only.
 */
export const NO_RESET_FAMILIES: ReadonlyArray<{ family: string; vendor: string; devices: readonly string[] }> = [
  {
    family: 'AMD Polaris 10',
    vendor: '1002',
    devices: ['67c0', '67c1', '67c2', '67c4', '67c7', '67c8', '67c9', '67ca', '67cc', '67cf', '67d0', '67df', '6fdf'],
  },
  { family: 'AMD Polaris 11', vendor: '1002', devices: ['67e0', '67e1', '67e3', '67e7', '67e8', '67e9', '67eb', '67ef', '67ff'] },
  { family: 'AMD Polaris 12', vendor: '1002', devices: ['6980', '6981', '6985', '6986', '6987', '6995', '6997', '699f'] },
  {
    family: 'AMD Vega 10',
    vendor: '1002',
    devices: ['6860', '6861', '6862', '6863', '6864', '6867', '6868', '6869', '686a', '686b', '686c', '686d', '686e', '686f', '687f'],
  },
  { family: 'AMD Vega 20', vendor: '1002', devices: ['66a0', '66a1', '66a2', '66a3', '66a4', '66a7', '66af'] },
  { family: 'AMD Navi 10', vendor: '1002', devices: ['7310', '7312', '7318', '7319', '731a', '731b', '731e', '731f'] },
  { family: 'AMD Navi 12', vendor: '1002', devices: ['7360', '7362'] },
  { family: 'AMD Navi 14', vendor: '1002', devices: ['7340', '7341', '7347', '734f'] },
  { family: 'AMD Navi 23', vendor: '1002', devices: ['73ff'] },
];

/** The known no-reset family of a vendor:device, if any. */
export function noResetFamily(vendorId: string, deviceId: string): string | undefined {
  return NO_RESET_FAMILIES.find((f) => f.vendor === vendorId && f.devices.includes(deviceId.toLowerCase()))?.family;
}

/** Pure: whether config space says the function supports Function Level Reset (PCIe DevCap bit 28); undefined when not decodable. */
export function flrFromConfig(config: Uint8Array): boolean | undefined {
  if (config.length <= 64) return undefined;
  const cap = findPcieCapability(config);
  if (cap === undefined) return false;
  if (cap.offset + 8 > config.length) return undefined;
  const devcap = (config[cap.offset + 4]! | (config[cap.offset + 5]! << 8) | (config[cap.offset + 6]! << 16) | (config[cap.offset + 7]! << 24)) >>> 0;
  return (devcap & (1 << 28)) !== 0;
}

/** Methods that reset the function alone (the kernel's pci_reset_fn_methods, bus resets excluded). */
export const FUNCTION_RESETS = ['device_specific', 'acpi', 'flr', 'af_flr', 'pm'] as const;
export const BUS_RESETS = ['bus', 'cxl_bus'] as const;
