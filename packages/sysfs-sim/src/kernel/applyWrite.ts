// The write's meaning per attribute: which family module a bus, driver or device attribute
// belongs to. Attributes small enough to need no module of their own are handled here.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errnoError } from '@passthru/hostfs';
import { writeBind, writeDriverOverride, writeDriversProbe, writeUnbind } from './bindAttributes';
import type { WriteContext } from './WriteContext';
import { writeNewId, writeRemoveId } from './newIdAttributes';
import { writeRemove, writeRescan } from './removeRescan';
import { writeSriovDriversAutoprobe, writeSriovNumvfs } from './sriov';
import { PAGE_SIZE, checkUevent, kstrtoul } from './sysfsParse';
import { classify } from './target';

/** Applies one write of `data` to `hostPath`, throwing an errno error as the kernel would. */
export function applyWrite(ctx: WriteContext, hostPath: string, data: string): void {
  const target = classify(ctx.tree, hostPath);
  // kernfs: a sysfs attribute takes at most one page per write, and a zero-length write
  // never reaches the store method (sysfs_kf_write returns 0): `echo -n '' >` changes nothing.
  if (Buffer.byteLength(data) > PAGE_SIZE) throw errnoError('E2BIG', `${hostPath}: a sysfs write takes at most ${PAGE_SIZE} bytes`);
  if (data.length === 0) return;
  switch (target.kind) {
    case 'bus':
      return writeBus(ctx, target.attr, data, target.file);
    case 'driver':
      return writeDriver(ctx, target.driver, target.attr, data);
    case 'device':
      return writeDevice(ctx, target.address, target.folder, target.attr, data, target.file);
    case 'other':
      return ctx.tree.storeAttribute(target.file, data);
  }
}

/** /sys/bus/pci/<attr>. */
function writeBus(ctx: WriteContext, attr: string, data: string, file: string): void {
  switch (attr) {
    case 'drivers_probe':
      return writeDriversProbe(ctx, data);
    case 'rescan':
      return writeRescan(ctx, undefined, data);
    case 'drivers_autoprobe':
      // bus.c: anything starting with '0' turns autoprobe off, anything else on.
      ctx.tree.writeFile(file, data.startsWith('0') ? '0\n' : '1\n');
      return;
    default:
      ctx.tree.storeAttribute(file, data);
  }
}

/** /sys/bus/pci/drivers/<driver>/<attr>. */
function writeDriver(ctx: WriteContext, driver: string, attr: string, data: string): void {
  switch (attr) {
    case 'bind':
      return writeBind(ctx, driver, data);
    case 'unbind':
      return writeUnbind(ctx.tree, driver, data);
    case 'new_id':
      return writeNewId(ctx, driver, data);
    case 'remove_id':
      return writeRemoveId(ctx.ids, driver, data);
    case 'uevent':
      return checkUevent(data);
    default:
      throw errnoError('EACCES', `${driver}/${attr}: not writable`);
  }
}

/** /sys/bus/pci/devices/<address>/<attr>. */
function writeDevice(ctx: WriteContext, address: string, folder: string, attr: string, data: string, file: string): void {
  switch (attr) {
    case 'driver_override':
      return writeDriverOverride(ctx.tree, file, data);
    case 'sriov_numvfs':
      return writeSriovNumvfs(ctx, address, folder, data);
    case 'sriov_drivers_autoprobe':
      return writeSriovDriversAutoprobe(ctx.tree, file, data);
    case 'remove':
      return writeRemove(ctx.tree, address, data);
    case 'rescan':
      return writeRescan(ctx, folder, data);
    case 'reset': {
      // reset_store: only "1"; pci_reset_function gives ENOTTY when no reset method works.
      if (kstrtoul(data, attr) !== 1) throw errnoError('EINVAL', `reset: only 1 is accepted`);
      const methods = ctx.tree.readFile(`${folder}/reset_method`)?.trim();
      if (!methods) throw errnoError('ENOTTY', `reset: ${address} has no reset method`);
      return;
    }
    case 'uevent':
      return checkUevent(data);
    case 'config': {
      // A write at offset 0 of the config space: the bytes land over the old ones.
      const real = path.join(ctx.tree.root, file);
      const current = fs.readFileSync(real);
      Buffer.from(data, 'latin1').copy(current, 0, 0, current.length);
      fs.writeFileSync(real, current);
      return;
    }
    default:
      ctx.tree.storeAttribute(file, data);
  }
}
