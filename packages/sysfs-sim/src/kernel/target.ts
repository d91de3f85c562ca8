import * as fs from 'node:fs';
import * as path from 'node:path';
import { errnoError, errnoOf } from '@passthru/hostfs';
import { PCI_ADDRESS_RE } from '../HostSpec';
import { statOrUndefined, type SysfsTree } from './SysfsTree';

/** The attribute a write lands on: a bus, driver or device attribute, or any other writable file. */
export type Target =
  | { kind: 'bus'; attr: string; file: string }
  | { kind: 'driver'; driver: string; attr: string; file: string }
  | { kind: 'device'; address: string; folder: string; attr: string; file: string }
  | { kind: 'other'; file: string };

/** The path without empty and '.' components, as its parts and as a string. */
function cleanPath(hostPath: string): { parts: string[]; clean: string } {
  const parts = hostPath.split('/').filter((p) => p !== '' && p !== '.');
  return { parts, clean: `/${parts.join('/')}` };
}

/**
 * Which attribute a host path names, with the kernel's open(2) errors: ENODEV for a device
 * that went away, ENOENT for a missing folder (a driver whose module is not loaded), EACCES
 * for a file sysfs does not have or a read-only attribute, EISDIR for a folder.
 */
export function classify(tree: SysfsTree, hostPath: string): Target {
  if (typeof hostPath !== 'string' || !hostPath.startsWith('/')) throw errnoError('EINVAL', `${String(hostPath)}: a host path must be absolute`);
  const { parts, clean } = cleanPath(hostPath);
  if (parts.includes('..')) throw errnoError('EACCES', `${hostPath}: '..' is refused`);
  if (parts[0] !== 'sys' || parts.length < 2) throw errnoError('EACCES', `${clean}: not a sysfs attribute`);
  const viaBus = /^\/sys\/bus\/pci\/devices\/([^/]+)\//.exec(clean);
  if (viaBus && !tree.deviceFolder(viaBus[1]!)) throw errnoError('ENODEV', `${clean}: no device ${viaBus[1]}`);
  let parentReal: string;
  try {
    parentReal = fs.realpathSync.native(path.join(tree.root, path.posix.dirname(clean)));
  } catch (error) {
    if (parts.slice(0, -1).some((p) => PCI_ADDRESS_RE.test(p))) throw errnoError('ENODEV', `${clean}: the device is gone`);
    throw errnoError(errnoOf(error) === 'ENOTDIR' ? 'ENOTDIR' : 'ENOENT', `${clean}: no such folder`);
  }
  if (parentReal !== tree.root && !parentReal.startsWith(`${tree.root}/`)) throw errnoError('EACCES', `${clean}: leads outside the tree`);
  const parent = parentReal === tree.root ? '' : parentReal.slice(tree.root.length);
  const attr = path.posix.basename(clean);
  const file = `${parent}/${attr}`;
  const stat = statOrUndefined(path.join(tree.root, file));
  if (!stat) throw errnoError('EACCES', `${clean}: sysfs has no such attribute (files cannot be created)`);
  if (stat.isDirectory()) throw errnoError('EISDIR', `${clean}: is a folder`);
  if ((stat.mode & 0o200) === 0) throw errnoError('EACCES', `${clean}: read-only attribute`);
  if (parent === '/sys/bus/pci') return { kind: 'bus', attr, file };
  const driver = /^\/sys\/bus\/pci\/drivers\/([^/]+)$/.exec(parent);
  if (driver) return { kind: 'driver', driver: driver[1]!, attr, file };
  const address = path.posix.basename(parent);
  if (PCI_ADDRESS_RE.test(address) && tree.deviceFolder(address) === parent) return { kind: 'device', address, folder: parent, attr, file };
  return { kind: 'other', file };
}

/** The path as written and its canonical spellings (/sys/devices, and /sys/bus/pci/devices for a device), for fault matching. */
export function spellings(tree: SysfsTree, hostPath: string): string[] {
  const { clean } = cleanPath(hostPath);
  try {
    const parentReal = fs.realpathSync.native(path.join(tree.root, path.posix.dirname(clean)));
    if (parentReal.startsWith(`${tree.root}/`)) {
      const attr = path.posix.basename(clean);
      const owner = path.posix.basename(parentReal);
      const viaBus = PCI_ADDRESS_RE.test(owner) ? [`/sys/bus/pci/devices/${owner}/${attr}`] : [];
      return [hostPath, clean, `${parentReal.slice(tree.root.length)}/${attr}`, ...viaBus];
    }
  } catch {
    // A path that does not resolve matches as written only.
  }
  return [hostPath, clean];
}
