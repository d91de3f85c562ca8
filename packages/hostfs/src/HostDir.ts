import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HostFs } from './HostFs';
import { checkHostPath, resolveRelative } from './hostPath';
import { HostFsError, errnoOf } from './HostFsError';

/** Sysfs attributes are at most a page; anything far larger is garbage, not an attribute. */
export const MAX_ATTRIBUTE_BYTES = 64 * 1024;

/**
 * A folder of the host, resolved and confined once, its entry names read once: a snapshot for
 * scans (a long-lived HostDir does not see entries added later). Names are single path
 * components; a name that is itself a symlink is resolved through HostFs (and so confined).
 */
const scratch = Buffer.allocUnsafe(64 * 1024);
/** openQuietly's answer for a name that is a symlink. */
const SYMLINK = Symbol('symlink');

export class HostDir {
  constructor(
    readonly host: HostFs,
    readonly hostPath: string,
    readonly realPath: string,
  ) {}

  private child(name: string): string {
    return `${this.hostPath}/${this.checkName(name)}`;
  }

  /** A name that is one path component, or a HostFsError (EINVAL). */
  private checkName(name: string): string {
    if (name.length === 0 || name.includes('/') || name === '..' || name === '.' || name.includes('\0')) {
      throw new HostFsError('reading', `${this.hostPath}/${name}`, 'EINVAL', 'expected one path component');
    }
    return name;
  }

  private names: Set<string> | undefined;

  /** The folder's entry names, read once (one readdir answers every "is it there?"). */
  private entries(): Set<string> {
    if (!this.names) {
      try {
        this.names = new Set(fs.readdirSync(this.realPath));
      } catch {
        // an unreadable folder has no entries
        this.names = new Set();
      }
    }
    return this.names;
  }

  /**
   * What an entry is, by lstat (a symlink is not followed): absent when this folder's listing,
   * if it was read, lacks it or lstat finds nothing. A folder listed only for this question is
   * not read: one lstat is cheaper than a readdir.
   */
  private kindOf(name: string): 'folder' | 'other' | 'absent' {
    if (this.names && !this.names.has(name)) return 'absent';
    try {
      const stat = fs.lstatSync(`${this.realPath}/${name}`, { throwIfNoEntry: false });
      return stat === undefined ? 'absent' : stat.isDirectory() ? 'folder' : 'other';
    } catch {
      return 'other';
    }
  }

  /**
   * Bytes of a file in this folder, at most `maxBytes` (EFBIG beyond). With `keepBytes`, the file
   * is still read (and held to `maxBytes`) but only its first `keepBytes` are returned: a scan
   * that needs the 64-byte config header of every device does not keep 4 KiB of each.
   */
  readBytes(name: string, maxBytes = MAX_ATTRIBUTE_BYTES, keepBytes = maxBytes): Buffer {
    return this.readFile(name, maxBytes, keepBytes, false) as Buffer;
  }

  /** A sysfs attribute with its trailing newline removed. */
  readAttribute(name: string, maxBytes = MAX_ATTRIBUTE_BYTES): string {
    return (this.readFile(name, maxBytes, maxBytes, true) as string).replace(/\n+$/, '');
  }

  /**
   * Reads a file through the shared scratch buffer. As text, a file that one read(2) holds (every
   * sysfs attribute) is decoded from the scratch buffer directly: no Buffer per attribute for
   * the garbage collector (a scan of 8,000 functions reads 80,000 of them).
   */
  private readFile(name: string, maxBytes: number, keepBytes: number, asText: boolean): Buffer | string {
    const hostPath = this.child(name);
    const real = `${this.realPath}/${name}`;
    let fd: number;
    try {
      // O_NONBLOCK: a FIFO in place of an attribute reads as empty instead of hanging the scan.
      fd = fs.openSync(real, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    } catch (error) {
      // ELOOP: the name is a symlink; let HostFs resolve and confine it.
      if (errnoOf(error) === 'ELOOP') {
        const bytes = this.host.readBytes(hostPath, maxBytes);
        return asText ? bytes.toString('utf8') : bytes.subarray(0, keepBytes);
      }
      throw this.host.wrap('reading', hostPath, error, real);
    }
    try {
      return readDescriptor(fd, maxBytes, keepBytes, asText);
    } catch (error) {
      throw this.host.wrap('reading', hostPath, error, real);
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * The scan's read of an attribute: its text without trailing newlines, or undefined when it is
   * absent or cannot be read (any errno; more than `maxBytes`). The file is opened directly, no
   * listing of the folder first, and a failed open costs no stack trace: a scan expects absent
   * files (a function without SR-IOV has no sriov_totalvfs) and never throws on them.
   */
  attributeOrUndefined(name: string, maxBytes = MAX_ATTRIBUTE_BYTES): string | undefined {
    const fd = this.openQuietly(name);
    if (fd === undefined) return undefined;
    if (fd === SYMLINK) return this.quietly(() => this.readAttribute(name, maxBytes));
    try {
      const n = fs.readSync(fd, scratch, 0, scratch.length, null);
      if (n < scratch.length && n <= maxBytes) {
        let end = n;
        while (end > 0 && scratch[end - 1] === 0x0a) end--;
        return scratch.toString('utf8', 0, end);
      }
    } catch {
      return undefined;
    } finally {
      fs.closeSync(fd);
    }
    // A first read that filled the buffer: not an attribute of one page; read it the long way.
    return this.quietly(() => this.readAttribute(name, maxBytes));
  }

  /**
   * The scan's look at a file of at most `maxBytes` (see attributeOrUndefined): `inspect` gets
   * its bytes in the shared scratch buffer, valid only during the call (nothing is copied), and
   * its answer is returned; undefined when the file is absent, unreadable or larger.
   */
  inspectBytes<T>(name: string, maxBytes: number, inspect: (bytes: Buffer) => T): T | undefined {
    const fd = this.openQuietly(name);
    if (fd === undefined) return undefined;
    if (fd === SYMLINK) {
      const bytes = this.quietly(() => this.readBytes(name, maxBytes));
      return bytes === undefined ? undefined : inspect(bytes);
    }
    let n: number;
    try {
      n = fs.readSync(fd, scratch, 0, scratch.length, null);
    } catch {
      return undefined;
    } finally {
      fs.closeSync(fd);
    }
    // A short read is the whole file (see readFile); a full buffer is far past any maxBytes here.
    return n > maxBytes || n === scratch.length ? undefined : inspect(scratch.subarray(0, n));
  }

  /** The raw target of a symlink in this folder, or undefined (absent, not a link, unreadable), without listing the folder or a stack trace. */
  readlinkOrUndefined(name: string): string | undefined {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return fs.readlinkSync(`${this.realPath}/${this.checkName(name)}`);
    } catch {
      return undefined;
    } finally {
      Error.stackTraceLimit = limit;
    }
  }

  /** Whether an entry of this folder exists (lstat: a symlink is not followed), without listing the folder. */
  hasEntry(name: string): boolean {
    if (this.names) return this.names.has(this.checkName(name));
    return fs.lstatSync(`${this.realPath}/${this.checkName(name)}`, { throwIfNoEntry: false }) !== undefined;
  }

  /** A file descriptor, SYMLINK when the name is a symlink (HostFs must resolve and confine it), undefined when it cannot be opened. */
  private openQuietly(name: string): number | typeof SYMLINK | undefined {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      // O_NONBLOCK: a FIFO in place of an attribute reads as empty instead of hanging the scan.
      return fs.openSync(`${this.realPath}/${this.checkName(name)}`, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    } catch (error) {
      return errnoOf(error) === 'ELOOP' ? SYMLINK : undefined;
    } finally {
      Error.stackTraceLimit = limit;
    }
  }

  /** What `read` gives, or undefined for any HostFsError. */
  private quietly<T>(read: () => T): T | undefined {
    try {
      return read();
    } catch (error) {
      if (error instanceof HostFsError) return undefined;
      throw error;
    }
  }

  /** An attribute, or undefined when the file does not exist. */
  readAttributeIfExists(name: string, maxBytes = MAX_ATTRIBUTE_BYTES): string | undefined {
    if (!this.entries().has(name)) return undefined;
    try {
      return this.readAttribute(name, maxBytes);
    } catch (error) {
      if (error instanceof HostFsError && error.code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** The last component of a symlink's target in this folder, or undefined. */
  linkName(name: string): string | undefined {
    const target = this.readlink(name);
    return target === undefined ? undefined : path.posix.basename(target);
  }

  /** The raw target of a symlink in this folder (readlink does not follow it, so no confinement is needed). */
  readlink(name: string): string | undefined {
    const hostPath = this.child(name);
    if (!this.entries().has(name)) return undefined;
    try {
      return fs.readlinkSync(`${this.realPath}/${name}`);
    } catch (error) {
      const code = errnoOf(error);
      if (code === 'ENOENT' || code === 'EINVAL') return undefined;
      throw this.host.wrap('reading link', hostPath, error, `${this.realPath}/${name}`);
    }
  }

  /** Entry names of this folder or of a sub-folder; [] when absent. */
  list(sub?: string): string[] {
    if (!sub) return [...this.entries()].sort();
    const kind = this.kindOf(sub);
    if (kind === 'absent') return [];
    if (kind === 'other') return this.host.list(this.child(sub));
    try {
      return fs.readdirSync(`${this.realPath}/${sub}`).sort();
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') return [];
      throw this.host.wrap('listing', this.child(sub), error, `${this.realPath}/${sub}`);
    }
  }

  /**
   * A sub-folder as a HostDir of its own: a real folder is opened without resolving its path
   * again; a symlink goes through HostFs, which resolves and confines it. Throws a HostFsError
   * when it is absent.
   */
  openDir(name: string): HostDir {
    const hostPath = this.child(name);
    if (this.kindOf(name) === 'folder') return new HostDir(this.host, hostPath, `${this.realPath}/${name}`);
    return this.host.openDir(hostPath);
  }

  /**
   * Every sub-folder (real or symlinked) by name, from one typed readdir: /sys/kernel/iommu_groups
   * with thousands of groups costs one listing, not a lookup per group. Symlinks go through
   * HostFs (resolved and confined); one that leads nowhere or outside the root is left out.
   */
  folders(): Map<string, HostDir> {
    const found = new Map<string, HostDir>();
    let listing: fs.Dirent[];
    try {
      listing = fs.readdirSync(this.realPath, { withFileTypes: true });
    } catch {
      return found;
    }
    for (const entry of listing) {
      const hostPath = this.child(entry.name);
      if (entry.isDirectory()) found.set(entry.name, new HostDir(this.host, hostPath, `${this.realPath}/${entry.name}`));
      else if (entry.isSymbolicLink()) {
        try {
          const dir = this.host.openDir(hostPath);
          if (fs.statSync(dir.realPath).isDirectory()) found.set(entry.name, dir);
        } catch {
          // a dangling or escaping link is no folder of this tree
        }
      }
    }
    return found;
  }

  has(name: string): boolean {
    this.child(name);
    return this.entries().has(name);
  }
}

/**
 * Reads an open file through the shared scratch buffer (see HostDir.readFile); throws EFBIG past
 * `maxBytes`, keeps the first `keepBytes`.
 */
function readDescriptor(fd: number, maxBytes: number, keepBytes: number, asText: boolean): Buffer | string {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const n = fs.readSync(fd, scratch, 0, scratch.length, null);
    if (n === 0) break;
    total += n;
    if (total > maxBytes) throw Object.assign(new Error(`more than ${maxBytes} bytes`), { code: 'EFBIG' });
    // A short read is the end: sysfs returns a whole attribute in its first read, and a
    // regular file reads short only at its end. Saves one read(2) per attribute.
    if (asText && total === n && n < scratch.length) return scratch.toString('utf8', 0, n);
    const keep = Math.min(n, keepBytes - (total - n));
    if (keep > 0) chunks.push(Buffer.from(scratch.subarray(0, keep)));
    if (n < scratch.length) break;
  }
  const bytes = chunks.length === 1 ? chunks[0]! : chunks.length === 0 ? Buffer.alloc(0) : Buffer.concat(chunks);
  return asText ? bytes.toString('utf8') : bytes;
}

/** Real paths of parent folders and their folder entries, per host path (null: unreadable). */
export type LinkedParents = Map<string, { real: string; dirs: Set<string> } | null>;

/**
 * The folder a symlink names, opened as openDir would, at the cost of one readlink(2) instead
 * of a realpath(3) that reads every component of a deep path (`/sys/bus/pci/devices/X` ->
 * `../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0`). Confinement is kept: the target's
 * parent is resolved (once per parent: siblings share it, cached in `parents`) and the last
 * component must be a real folder there, not a symlink. Anything unusual falls back to openDir.
 */
export function openLinkedDir(host: HostFs, linkHostPath: string, parents: LinkedParents): HostDir {
  const target = host.readlink(linkHostPath);
  if (target === undefined || target.startsWith('/')) return host.openDir(linkHostPath);
  const link = checkHostPath(linkHostPath);
  const hostPath = resolveRelative(link.slice(0, link.lastIndexOf('/')) || '/', target);
  const parentPath = hostPath.slice(0, hostPath.lastIndexOf('/')) || '/';
  let parent = parents.get(parentPath);
  if (parent === undefined) {
    try {
      const real = host.resolve(parentPath, false, 'opening');
      const dirs = new Set(
        fs
          .readdirSync(real, { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => e.name),
      );
      parent = { real, dirs };
    } catch {
      parent = null;
    }
    parents.set(parentPath, parent);
  }
  const name = hostPath.slice(hostPath.lastIndexOf('/') + 1);
  if (!parent || !parent.dirs.has(name)) return host.openDir(linkHostPath);
  return new HostDir(host, link, `${parent.real}/${name}`);
}
