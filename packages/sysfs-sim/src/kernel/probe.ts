// The driver core's side of binding (drivers/base/dd.c, pci-driver.c): probe one driver,
// attach the first that matches, release a driver. The attribute writes that lead here are in
// bindAttributes.ts, newIdAttributes.ts, sriov.ts and removeRescan.ts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bindInTree } from '../materialize';
import type { WriteContext } from './WriteContext';
import type { SysfsTree, TreeDevice } from './SysfsTree';
import { addVfioGroupNode, dropVfioGroupNodeIfUnused } from './vfioNodes';
import { releaseDriverRegions, removeFirmwareFramebuffers } from './aperture';

/**
 * pci_device_probe + the driver's probe(): binds and returns undefined, or returns the errno
 * the probe failed with ('quiet' for a `noBind` fault). The driver must be loaded.
 */
export function probe(ctx: WriteContext, driver: string, device: TreeDevice): string | undefined {
  const { tree } = ctx;
  if (!fs.existsSync(path.join(tree.root, '/sys/bus/pci/drivers', driver))) return 'ENODEV';
  // pci_device_can_probe: a VF is probed only when its PF allows it or an override is set.
  const physfn = tree.linkName(`${device.folder}/physfn`);
  if (physfn && device.override === undefined) {
    const pfFolder = tree.deviceFolder(physfn);
    if (pfFolder && tree.readFile(`${pfFolder}/sriov_drivers_autoprobe`)?.trim() === '0') return 'ENODEV';
  }
  if (driver === 'vfio-pci') {
    // vfio_pci_probe: only normal headers (no bridges); vfio_iommu_group_get: a group is required.
    if (tree.headerType(device) !== 0) return 'EINVAL';
    if (!tree.linkName(`${device.folder}/iommu_group`)) return 'EINVAL';
  }
  if (ctx.noBind) return 'quiet';
  bindInTree(tree.root, device.address, device.folder, driver);
  tree.setUeventDriver(device.folder, driver);
  if (driver === 'vfio-pci') {
    addVfioGroupNode(tree, tree.linkName(`${device.folder}/iommu_group`)!);
    removeFirmwareFramebuffers(tree, device, ctx.spec?.kernelRelease);
  }
  return undefined;
}

/** device_attach: the first driver that matches and probes successfully wins; failures are ignored. */
export function attach(ctx: WriteContext, device: TreeDevice): boolean {
  for (const driver of ctx.tree.list('/sys/bus/pci/drivers')) {
    if (!ctx.ids.matches(driver, device)) continue;
    if (probe(ctx, driver, device) === undefined) return true;
  }
  return false;
}

/** device_release_driver: both links go, uevent loses DRIVER=, /dev/vfio/N goes with the group's last vfio-pci member. */
export function release(tree: SysfsTree, device: TreeDevice): void {
  const driver = device.driver;
  if (!driver) return;
  tree.remove(`${device.folder}/driver`);
  const back = `/sys/bus/pci/drivers/${driver}/${device.address}`;
  if (tree.lstat(back)?.isSymbolicLink()) tree.remove(back);
  tree.setUeventDriver(device.folder, undefined);
  releaseDriverRegions(tree, device);
  if (driver === 'vfio-pci') {
    const group = tree.linkName(`${device.folder}/iommu_group`);
    if (group) dropVfioGroupNodeIfUnused(tree, group);
  }
}
