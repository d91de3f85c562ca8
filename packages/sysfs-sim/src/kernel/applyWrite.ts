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
import { treePath } from '../treePath';

/** Applies one write of `data` to `hostPath`, throwing an errno error as the kernel would. */
export function applyWrite(ctx: WriteContext, hostPath: string, data: string): void {
  const target = classify(ctx.tree, hostPath);
  // kernfs: a sysfs attribute takes at most one page per write, and a zero-length write
  // never reaches the store method (sysfs_kf_write returns 0): `echo -n '' >` changes nothing.
  if (Buffer.byteLength(data) > PAGE_SIZE) throw errnoError('E2BIG', `${hostPath}: a sysfs write takes at most ${PAGE_SIZE} bytes`);
  if (data.length === 0) return;
  switch (target.kind) {
    case 'bus':
      writeBus(ctx, target.attr, data, target.file);
      return;
    case 'driver':
      writeDriver(ctx, target.driver, target.attr, data);
      return;
    case 'device':
      writeDevice(ctx, target.address, target.folder, target.attr, data, target.file);
      return;
    case 'other':
      ctx.tree.storeAttribute(target.file, data);
      return;
  }
}

/** /sys/bus/pci/<attr>. */
function writeBus(ctx: WriteContext, attr: string, data: string, file: string): void {
  switch (attr) {
    case 'drivers_probe':
      writeDriversProbe(ctx, data);
      return;
    case 'rescan':
      writeRescan(ctx, undefined, data);
      return;
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
      writeBind(ctx, driver, data);
      return;
    case 'unbind':
      writeUnbind(ctx.tree, driver, data);
      return;
    case 'new_id':
      writeNewId(ctx, driver, data);
      return;
    case 'remove_id':
      writeRemoveId(ctx.ids, driver, data);
      return;
    case 'uevent':
      checkUevent(data);
      return;
    default:
      throw errnoError('EACCES', `${driver}/${attr}: not writable`);
  }
}

/** /sys/bus/pci/devices/<address>/<attr>. */
function writeDevice(ctx: WriteContext, address: string, folder: string, attr: string, data: string, file: string): void {
  switch (attr) {
    case 'driver_override':
      writeDriverOverride(ctx.tree, file, data);
      return;
    case 'rom':
      // pci_write_rom: "0" disables reads of the ROM, anything else enables them; the ROM's bytes stay as they are.
      return;
    case 'sriov_numvfs':
      writeSriovNumvfs(ctx, address, folder, data);
      return;
    case 'sriov_drivers_autoprobe':
      writeSriovDriversAutoprobe(ctx.tree, file, data);
      return;
    case 'remove':
      writeRemove(ctx.tree, address, data);
      return;
    case 'rescan':
      writeRescan(ctx, folder, data);
      return;
    case 'reset': {
      // reset_store: only "1"; pci_reset_function gives ENOTTY when no reset method works.
      if (kstrtoul(data, attr) !== 1) throw errnoError('EINVAL', `reset: only 1 is accepted`);
      const methods = ctx.tree.readFile(`${folder}/reset_method`)?.trim();
      if (!methods) throw errnoError('ENOTTY', `reset: ${address} has no reset method`);
      return;
    }
    case 'uevent':
      checkUevent(data);
      return;
    case 'config': {
      // A write at offset 0 of the config space: the bytes land over the old ones.
      const real = treePath(ctx.tree.root, file);
      const current = fs.readFileSync(real);
      Buffer.from(data, 'latin1').copy(current, 0, 0, current.length);
      fs.writeFileSync(real, current);
      return;
    }
    default:
      ctx.tree.storeAttribute(file, data);
  }
}
