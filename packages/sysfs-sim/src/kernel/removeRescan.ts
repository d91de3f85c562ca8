// remove and rescan (pci-sysfs.c): a `remove` write takes a device out and keeps what it took
// in `.sysfs-sim/removed.json`; a bus or device `rescan` finds it again as a new pci_dev.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';
import type { WriteContext } from './WriteContext';
import { removeDevice, type RemovedDevice } from './deviceLifecycle';
import { attach } from './probe';
import { SIM_REMOVED_FILE, readSidecar, writeSidecar } from './sidecar';
import { disableSriov } from './sriov';
import { kstrtoul } from './sysfsParse';
import type { SysfsTree } from './SysfsTree';
import { TreeEntrySchema, restoreEntry } from './treeEntries';

const RemovedDeviceSchema = z.object({ address: z.string(), folder: z.string(), entries: z.array(TreeEntrySchema) });
const RemovedFileSchema = z.object({ version: z.literal(1), devices: z.array(RemovedDeviceSchema) });

/** remove_store: kstrtoul; a non-zero value removes the device (and what is below it), kept for rescan. */
export function writeRemove(tree: SysfsTree, address: string, data: string): void {
  if (kstrtoul(data, 'remove') === 0) return;
  const kept: RemovedDevice[] = [];
  try {
    removeDevice(tree, address, kept);
  } finally {
    if (kept.length) saveRemoved(tree, [...loadRemoved(tree), ...kept]);
  }
}

/**
 * rescan_store (/sys/bus/pci/rescan: every root bus) and dev_rescan_store (a device's rescan:
 * its bus, so what was removed below this device returns): kstrtoul, a rescan when non-zero.
 */
export function writeRescan(ctx: WriteContext, under: string | undefined, data: string): void {
  if (kstrtoul(data, 'rescan') !== 0) rescan(ctx, under);
}

/**
 * pci_rescan_bus: devices taken out by `remove` (all, or those below `under`) are found again
 * as new pci_devs: parents first, no driver_override, SR-IOV disabled, then probed unless
 * bus autoprobe is off. Hot-unplugged (`vanish`) devices and VFs do not return.
 */
function rescan(ctx: WriteContext, under: string | undefined): void {
  const { tree } = ctx;
  const removed = loadRemoved(tree);
  const back = removed.filter((r) => under === undefined || r.folder.startsWith(`${under}/`));
  if (back.length === 0) return;
  // Removal order is children first: bring parents back first.
  const order = [...back].reverse();
  for (const r of order) for (const entry of r.entries) restoreEntry(tree, entry);
  saveRemoved(
    tree,
    removed.filter((r) => !back.includes(r)),
  );
  for (const r of order) {
    if (tree.readFile(`${r.folder}/driver_override`) !== undefined) tree.writeFile(`${r.folder}/driver_override`, '(null)\n');
    if (tree.readFile(`${r.folder}/sriov_numvfs`) !== undefined) disableSriov(tree, r.folder);
  }
  if (tree.autoprobeOff()) return;
  for (const r of order) {
    const device = tree.device(r.address);
    if (device && !device.driver) attach(ctx, device);
  }
}

function loadRemoved(tree: SysfsTree): RemovedDevice[] {
  return readSidecar(tree.root, SIM_REMOVED_FILE, RemovedFileSchema, 'reading removed devices')?.devices ?? [];
}

function saveRemoved(tree: SysfsTree, devices: RemovedDevice[]): void {
  if (devices.length === 0) fs.rmSync(path.join(tree.root, SIM_REMOVED_FILE), { force: true });
  else writeSidecar(tree.root, SIM_REMOVED_FILE, `${JSON.stringify({ version: 1, devices })}\n`);
}
