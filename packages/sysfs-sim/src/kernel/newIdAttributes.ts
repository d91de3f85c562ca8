// A driver's new_id and remove_id (drivers/pci/pci-driver.c): dynamic ids, written as
// "vendor device [subvendor subdevice class class_mask [driver_data]]" in hex.
import { errnoError } from '@passthru/hostfs';
import type { WriteContext } from './WriteContext';
import { ANY, type DynamicId, type IdTables } from './IdTables';
import { probe } from './probe';
import { hex4, scanHex } from './sysfsParse';

/** pci-driver.c new_id_store + pci_add_dynid: EEXIST when the driver already matches, then driver_attach. */
export function writeNewId(ctx: WriteContext, driver: string, data: string): void {
  const fields = scanHex(data, 7);
  if (fields.length < 2)
    throw errnoError('EINVAL', `new_id: expected "vendor device [subvendor subdevice class class_mask driver_data]", got ${JSON.stringify(data)}`);
  const [vendor, device, subvendor = ANY, subdevice = ANY, cls = 0, classMask = 0, driverData = 0] = fields as [number, number, ...number[]];
  const id: DynamicId = { vendor, device, subvendor, subdevice, class: cls, classMask, driverData };
  // Only a write without driver_data is checked against what the driver already matches.
  if (fields.length !== 7 && ctx.ids.matches(driver, { override: undefined, vendor, device, subvendor, subdevice, class: cls })) {
    throw errnoError('EEXIST', `new_id: ${hex4(vendor)}:${hex4(device)} already matches ${driver}`);
  }
  ctx.ids.addDynamicId(driver, id);
  // driver_attach: every unbound device the driver now matches is probed; failures are ignored.
  for (const address of ctx.tree.deviceAddresses()) {
    const candidate = ctx.tree.device(address);
    if (candidate && !candidate.driver && ctx.ids.matches(driver, candidate)) probe(ctx, driver, candidate);
  }
}

/** pci-driver.c remove_id_store: removes the first matching dynamic id; ENODEV when none; bound devices stay. */
export function writeRemoveId(ids: IdTables, driver: string, data: string): void {
  const fields = scanHex(data, 6);
  if (fields.length < 2) throw errnoError('EINVAL', `remove_id: expected "vendor device [subvendor subdevice class class_mask]", got ${JSON.stringify(data)}`);
  const [vendor, device, subvendor = ANY, subdevice = ANY, cls = 0, classMask = 0] = fields as [number, number, ...number[]];
  if (!ids.removeDynamicId(driver, { vendor, device, subvendor, subdevice, class: cls, classMask }))
    throw errnoError('ENODEV', `remove_id: ${driver} has no dynamic id ${hex4(vendor)}:${hex4(device)}`);
}
