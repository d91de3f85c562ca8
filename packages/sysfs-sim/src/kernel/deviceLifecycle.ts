// Devices coming into and going out of the tree, with every link that points at them
// (bus, IOMMU group, IOMMU unit, class, PF/VF, /dev nodes).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DeviceSpec, HostSpec } from '../HostSpec';
import { linkTree, materializeDevice } from '../materialize';
import { release } from './probe';
import type { SysfsTree } from './SysfsTree';
import { entriesOf, type TreeEntry } from './treeEntries';

/** A removed device: its folder and every entry its removal took (folder, bus, group, class and IOMMU links). */
export interface RemovedDevice {
  address: string;
  folder: string;
  entries: TreeEntry[];
}

/**
 * pci_iov_add_virtfn: VF `index` of the PF at `pfFolder` appears next to it, linked as
 * virtfn<index>, and behind the PF's IOMMU unit. `multiFunction` as for materializeDevice.
 */
export function addVirtualFunction(tree: SysfsTree, spec: HostSpec, pfFolder: string, vf: DeviceSpec, index: number, multiFunction: boolean): void {
  const vfFolder = `${path.posix.dirname(pfFolder)}/${vf.address}`;
  materializeDevice(tree.root, spec, vf, vfFolder, multiFunction);
  linkTree(tree.root, `${pfFolder}/virtfn${index}`, vfFolder);
  // VFs sit behind the PF's IOMMU unit.
  const unit = tree.linkName(`${pfFolder}/iommu`);
  if (unit && fs.existsSync(path.join(tree.root, '/sys/devices/virtual/iommu', unit))) {
    linkTree(tree.root, `/sys/devices/virtual/iommu/${unit}/devices/${vf.address}`, vfFolder);
    linkTree(tree.root, `${vfFolder}/iommu`, `/sys/devices/virtual/iommu/${unit}`);
  }
}

/**
 * pci_stop_and_remove_bus_device: devices behind a bridge and the VFs of a PF go first; then
 * the driver is released and every link to the device (bus, group, class, PF) goes with its
 * folder. An IOMMU group left without devices disappears. With `kept` (a `remove` write) the
 * entries that go (after the driver release: a device returns unbound) are appended to it, for
 * rescan; a VF's are not, since a bus scan never finds VFs (they return through sriov_numvfs).
 */
export function removeDevice(tree: SysfsTree, address: string, kept?: RemovedDevice[]): void {
  const folder = tree.deviceFolder(address);
  if (!folder) return;
  const below = tree
    .deviceAddresses()
    .map((a) => ({ a, f: tree.deviceFolder(a) }))
    .filter((d) => d.f?.startsWith(`${folder}/`))
    .sort((x, y) => y.f!.length - x.f!.length);
  for (const d of below) removeDevice(tree, d.a, kept);
  for (const link of tree.virtfnLinks(folder)) {
    const vf = tree.linkName(`${folder}/${link}`);
    if (vf) removeDevice(tree, vf, kept);
  }
  const device = tree.device(address);
  if (device) release(tree, device);
  const physfn = tree.linkName(`${folder}/physfn`);
  const keeping: RemovedDevice | undefined = kept && !physfn ? { address, folder, entries: [] } : undefined;
  const drop = (hostPath: string) => {
    if (keeping) keeping.entries.push(...entriesOf(tree, hostPath));
    tree.remove(hostPath);
  };
  const group = tree.linkName(`${folder}/iommu_group`);
  if (group) {
    const groupFolder = `/sys/kernel/iommu_groups/${group}`;
    drop(`${groupFolder}/devices/${address}`);
    if (tree.list(`${groupFolder}/devices`).length === 0) drop(groupFolder);
  }
  for (const node of tree.list(`${folder}/drm`)) drop(`/dev/dri/${node}`);
  for (const cls of ['net', 'drm']) {
    for (const name of tree.list(`/sys/class/${cls}`)) {
      const target = tree.resolveLink(`/sys/class/${cls}/${name}`);
      if (target?.startsWith(`${folder}/`)) drop(`/sys/class/${cls}/${name}`);
    }
  }
  for (const unit of tree.list('/sys/devices/virtual/iommu')) {
    const link = `/sys/devices/virtual/iommu/${unit}/devices/${address}`;
    if (tree.lstat(link)) drop(link);
  }
  const pfFolder = physfn ? tree.deviceFolder(physfn) : undefined;
  if (pfFolder) for (const link of tree.virtfnLinks(pfFolder)) if (tree.resolveLink(`${pfFolder}/${link}`) === folder) drop(`${pfFolder}/${link}`);
  drop(`/sys/bus/pci/devices/${address}`);
  drop(folder);
  if (keeping) kept!.push(keeping);
}
