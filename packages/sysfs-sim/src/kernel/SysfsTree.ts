import * as fs from 'node:fs';
import * as path from 'node:path';
import { isBridgeClass } from '../configSpace';
import { PCI_ADDRESS_RE } from '../HostSpec';
import { treePath } from '../treePath';

/** What pci_match_one_device compares. */
export interface PciIdentity {
  vendor: number;
  device: number;
  subvendor: number;
  subdevice: number;
  class: number;
}

/** A device as found in the tree. */
export interface TreeDevice extends PciIdentity {
  address: string;
  /** Host path of its folder under /sys/devices. */
  folder: string;
  driver: string | undefined;
  override: string | undefined;
}

/**
 * Reads of one tree root by host path (`/sys/...`), and the plain rewrites of attribute files.
 * Every read answers undefined (or empty) for what is absent: the tree, not this object, is
 * the state, so a device that went away is simply not found.
 */
export class SysfsTree {
  constructor(readonly root: string) {}

  /** The device at `address` with its ids (attributes first, else config space), driver and override. */
  device(address: string): TreeDevice | undefined {
    if (!PCI_ADDRESS_RE.test(address)) return undefined;
    const folder = this.deviceFolder(address);
    if (!folder) return undefined;
    const config = this.readConfig(folder);
    const num = (name: string, offset: number, bytes: 2 | 3) => {
      const text = this.readFile(`${folder}/${name}`)?.trim();
      if (text !== undefined && /^(0x)?[0-9a-f]+$/i.test(text)) return parseInt(text, 16);
      if (config && config.length >= offset + bytes) return bytes === 2 ? config.readUInt16LE(offset) : config.readUIntLE(offset, 3);
      return NaN;
    };
    const override = this.readFile(`${folder}/driver_override`)?.replace(/\n$/, '');
    return {
      address,
      folder,
      driver: this.driverOf(folder),
      override: override === undefined || override === '(null)' || override === '' ? undefined : override,
      vendor: num('vendor', 0x00, 2),
      device: num('device', 0x02, 2),
      subvendor: num('subsystem_vendor', 0x2c, 2),
      subdevice: num('subsystem_device', 0x2e, 2),
      class: num('class', 0x09, 3),
    };
  }

  /** PCI header type (0 normal, 1 bridge, 2 CardBus) from config byte 0x0e, else from the class. */
  headerType(device: TreeDevice): number {
    const config = this.readConfig(device.folder);
    if (config && config.length > 0x0e) return config.readUInt8(0x0e) & 0x7f;
    return isBridgeClass(device.class.toString(16).padStart(6, '0')) ? 1 : 0;
  }

  readConfig(folder: string): Buffer | undefined {
    try {
      return fs.readFileSync(path.join(this.root, folder, 'config'));
    } catch {
      return undefined;
    }
  }

  /** Host path of a device's folder, via /sys/bus/pci/devices/X; undefined when it is gone. */
  deviceFolder(address: string): string | undefined {
    const target = this.resolveLink(`/sys/bus/pci/devices/${address}`);
    if (!target || !fs.existsSync(path.join(this.root, target))) return undefined;
    return target;
  }

  deviceAddresses(): string[] {
    return this.list('/sys/bus/pci/devices').filter((a) => PCI_ADDRESS_RE.test(a) && this.deviceFolder(a) !== undefined);
  }

  /** A PF's virtfnN links, in N order. */
  virtfnLinks(folder: string): string[] {
    return this.list(folder)
      .filter((n) => /^virtfn\d+$/.test(n))
      .sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)));
  }

  driverOf(folder: string): string | undefined {
    return this.linkName(`${folder}/driver`);
  }

  /** bus.c drivers_autoprobe: '0' means devices that appear (VFs, rescans) are not probed. */
  autoprobeOff(): boolean {
    return this.readFile('/sys/bus/pci/drivers_autoprobe')?.trim() === '0';
  }

  /** Host path a (relative) link points at, lexically; undefined when not a link. */
  resolveLink(hostPath: string): string | undefined {
    try {
      const target = fs.readlinkSync(path.join(this.root, hostPath));
      return path.posix.isAbsolute(target) ? path.posix.normalize(target) : path.posix.join(path.posix.dirname(hostPath), target);
    } catch {
      return undefined;
    }
  }

  linkName(hostPath: string): string | undefined {
    const target = this.resolveLink(hostPath);
    return target === undefined ? undefined : path.posix.basename(target);
  }

  readFile(hostPath: string): string | undefined {
    try {
      return fs.readFileSync(path.join(this.root, hostPath), 'utf8');
    } catch {
      return undefined;
    }
  }

  list(hostPath: string): string[] {
    try {
      return fs.readdirSync(path.join(this.root, hostPath)).sort();
    } catch {
      return [];
    }
  }

  lstat(hostPath: string): fs.Stats | undefined {
    return lstatOrUndefined(path.join(this.root, hostPath));
  }

  /** Rewrites an attribute's content, keeping its mode (inside the tree only: treePath). */
  writeFile(hostPath: string, content: string): void {
    fs.writeFileSync(treePath(this.root, hostPath), content);
  }

  /** Removes what is at hostPath (a folder with all below it); nothing when absent, or when it lies outside the tree. */
  remove(hostPath: string): void {
    let file: string;
    try {
      file = treePath(this.root, hostPath);
    } catch {
      return;
    }
    fs.rmSync(file, { recursive: true, force: true });
  }

  /** A writable attribute with no special meaning: a readable one shows the value back, a write-only one swallows it. */
  storeAttribute(hostPath: string, data: string): void {
    const mode = fs.statSync(path.join(this.root, hostPath)).mode;
    if ((mode & 0o444) !== 0) this.writeFile(hostPath, `${data.replace(/\n+$/, '')}\n`);
  }

  /** The uevent attribute shows DRIVER= first while a driver is bound. */
  setUeventDriver(folder: string, driver: string | undefined): void {
    const text = this.readFile(`${folder}/uevent`);
    if (text === undefined) return;
    const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('DRIVER='));
    this.writeFile(`${folder}/uevent`, `${[...(driver ? [`DRIVER=${driver}`] : []), ...lines].join('\n')}\n`);
  }
}

export function statOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch {
    return undefined;
  }
}

export function lstatOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(file);
  } catch {
    return undefined;
  }
}
