// The writes that choose a device's driver (drivers/base/bus.c, pci-sysfs.c): a driver's bind
// and unbind, a device's driver_override, the bus's drivers_probe.
import { errnoError } from '@passthru/hostfs';
import type { WriteContext } from './WriteContext';
import { attach, probe, release } from './probe';
import { driverOverrideValue, sysfsName } from './sysfsParse';
import type { SysfsTree } from './SysfsTree';

/**
 * bus.c bind_store: ENODEV unless the device exists and pci_bus_match says yes; then
 * EBUSY when it has a driver; since 5.13 the probe's own error reaches userspace.
 */
export function writeBind(ctx: WriteContext, driver: string, data: string): void {
  const name = sysfsName(data);
  const device = ctx.tree.device(name);
  if (!device) throw errnoError('ENODEV', `bind: no device ${name}`);
  if (!ctx.ids.matches(driver, device))
    throw errnoError('ENODEV', `bind: ${driver} does not match ${name}${device.override ? ` (driver_override is ${device.override})` : ''}`);
  if (device.driver) throw errnoError('EBUSY', `bind: ${name} is already bound to ${device.driver}`);
  const error = probe(ctx, driver, device);
  if (error && error !== 'quiet') throw errnoError(error, `bind: ${driver} probe of ${name} failed`);
}

/** bus.c unbind_store: ENODEV unless the device is bound to this very driver. */
export function writeUnbind(tree: SysfsTree, driver: string, data: string): void {
  const name = sysfsName(data);
  const device = tree.device(name);
  if (!device || device.driver !== driver) throw errnoError('ENODEV', `unbind: ${name} is not bound to ${driver}`);
  release(tree, device);
}

/** driver_override_store: only the attribute changes; it takes effect at the next probe. */
export function writeDriverOverride(tree: SysfsTree, file: string, data: string): void {
  tree.writeFile(file, driverOverrideValue(data));
}

/**
 * bus.c drivers_probe_store: ENODEV for no such device; a bound device is left alone;
 * probe failures are swallowed (the write succeeds with the device still unbound).
 */
export function writeDriversProbe(ctx: WriteContext, data: string): void {
  const device = ctx.tree.device(sysfsName(data));
  if (!device) throw errnoError('ENODEV', `drivers_probe: no device ${sysfsName(data)}`);
  if (!device.driver) attach(ctx, device);
}
