// /dev/vfio/<group>: the group's character device, which vfio creates when the first device of
// an IOMMU group binds to vfio-pci and removes when the last one leaves.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeTreeFile } from '../materialize';
import type { SysfsTree } from './SysfsTree';

/** vfio_iommu_group_get: the node of the group, made if it is not there yet (mode 0600, as udev leaves it). */
export function addVfioGroupNode(tree: SysfsTree, group: string): void {
  if (!fs.existsSync(path.join(tree.root, '/dev/vfio', group))) writeTreeFile(tree.root, `/dev/vfio/${group}`, '', 0o600);
}

/** The node goes once no member of the group is bound to vfio-pci any more. */
export function dropVfioGroupNodeIfUnused(tree: SysfsTree, group: string): void {
  if (!groupHasVfioMember(tree, group)) tree.remove(`/dev/vfio/${group}`);
}

function groupHasVfioMember(tree: SysfsTree, group: string): boolean {
  return tree.list(`/sys/kernel/iommu_groups/${group}/devices`).some((address) => {
    const folder = tree.deviceFolder(address);
    return folder !== undefined && tree.driverOf(folder) === 'vfio-pci';
  });
}
