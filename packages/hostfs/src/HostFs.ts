import * as fs from 'node:fs';
import * as path from 'node:path';
import { HostDir, MAX_ATTRIBUTE_BYTES, openLinkedDir, type LinkedParents } from './HostDir';
import { HostFsError, errnoOf } from './HostFsError';
import { loadModule, runModprobe, SYSFS_MAGIC, type ModprobeRunner, type SimulatedKernelWriter } from './kernel';
import { checkHostPath } from './hostPath';
import { appendAll, checkWritable, linkNewFile, replaceFile, wrapError, type WriteSync } from './regularFile';

export interface HostFsOptions {
  /** Gives sysfs writes their meaning when the target is not on a real sysfs mount. */
  kernel?: SimulatedKernelWriter;
  /** statfs f_type of a real path; injectable so tests can pretend a tree is real sysfs. */
  fsTypeOf?: (realPath: string) => number;
  /** write(2) of regular files (fs.writeSync's shape); injectable so tests can write short. */
  writeSync?: (fd: number, buffer: Buffer, offset: number, length: number) => number;
  /** `modprobe MODULE` on this machine (the live host's module loader); injectable for tests. */
  modprobe?: ModprobeRunner;
}

/**
 * One injected root for /sys, /proc, /etc, /dev and /lib/modules (prometheus/procfs `NewFS`).
 * Callers spell paths as on a live host; HostFs resolves them under `root`, refuses `..`,
 * NUL bytes, relative paths and symlinks whose targets leave the root, and reports every
 * failure as a HostFsError that keeps the errno.
 */
export class HostFs {
  /** The root as a real, symlink-free path on this machine. */
  readonly root: string;
  readonly kernel: SimulatedKernelWriter | undefined;
  private readonly fsTypeOf: (realPath: string) => number;
  private readonly writeSync: WriteSync;
  private readonly modprobe: ModprobeRunner;

  constructor(root = '/', options: HostFsOptions = {}) {
    let real: string;
    try {
      real = fs.realpathSync.native(path.resolve(root));
    } catch (error) {
      throw new HostFsError('opening host root', root, errnoOf(error), 'the --root folder must exist', { cause: error });
    }
    if (!fs.statSync(real).isDirectory()) throw new HostFsError('opening host root', root, 'ENOTDIR', 'the root must be a folder');
    this.root = real;
    this.kernel = options.kernel;
    this.fsTypeOf = options.fsTypeOf ?? ((p) => Number(fs.statfsSync(p).type));
    this.writeSync = options.writeSync ?? ((fd, buffer, offset, length) => fs.writeSync(fd, buffer, offset, length));
    this.modprobe = options.modprobe ?? runModprobe;
  }

  /** True when this HostFs reads the machine it runs on. */
  get isLive(): boolean {
    return this.root === '/';
  }

  /** Checks a host path's spelling and returns it normalised (no trailing slash). */
  static checkHostPath(hostPath: string): string {
    return checkHostPath(hostPath);
  }

  /** The path on this machine where `hostPath` lives, without following symlinks. */
  lexicalPath(hostPath: string): string {
    const clean = HostFs.checkHostPath(hostPath);
    // Both are normal (the root is a real path, never `/` here): joining is concatenating.
    return this.isLive ? clean : this.root + clean;
  }

  /**
   * The real path on this machine behind `hostPath`, every symlink followed, refused when it
   * leaves the root. With `mayNotExist`, a missing last component is allowed (for creation).
   */
  resolve(hostPath: string, mayNotExist = false, doing = 'resolving'): string {
    const lexical = this.lexicalPath(hostPath);
    let real: string;
    try {
      real = fs.realpathSync.native(lexical);
    } catch (error) {
      if (!mayNotExist || errnoOf(error) !== 'ENOENT') throw new HostFsError(doing, hostPath, errnoOf(error), '', { realPath: lexical, cause: error });
      real = path.join(this.resolve(path.posix.dirname(HostFs.checkHostPath(hostPath)), false), path.basename(lexical));
    }
    // On the live host every path is inside the root: symlinks are followed, nothing to confine.
    if (!this.isLive && real !== this.root && !real.startsWith(`${this.root}/`)) {
      throw new HostFsError(doing, hostPath, 'EXDEV', `a symlink leads outside the root ${this.root}`, { realPath: real });
    }
    return real;
  }

  /** The host path (as spelled on the host) of the real file behind `hostPath`. */
  realHostPath(hostPath: string): string {
    const real = this.resolve(hostPath);
    return this.isLive ? real : real === this.root ? '/' : real.slice(this.root.length);
  }

  exists(hostPath: string): boolean {
    try {
      fs.statSync(this.resolve(hostPath));
      return true;
    } catch {
      return false;
    }
  }

  /** lstat of the path itself (a symlink is reported as a symlink); undefined when absent. */
  lstat(hostPath: string): fs.Stats | undefined {
    const lexical = this.lexicalPath(hostPath);
    try {
      if (!this.isLive) this.resolve(path.posix.dirname(HostFs.checkHostPath(hostPath)));
      return fs.lstatSync(lexical);
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') return undefined;
      throw this.wrap('inspecting', hostPath, error, lexical);
    }
  }

  stat(hostPath: string): fs.Stats {
    const real = this.resolve(hostPath);
    try {
      return fs.statSync(real);
    } catch (error) {
      throw this.wrap('inspecting', hostPath, error, real);
    }
  }

  /** Reads a whole text file (16 MiB at most; a FIFO in its place reads as empty instead of hanging: readBytes). */
  readText(hostPath: string): string {
    return this.readBytes(hostPath).toString('utf8');
  }

  /** Reads a text file, or undefined when it does not exist (ENOENT, or ENOTDIR: a file where a folder on its path should be); any other failure throws. */
  readTextIfExists(hostPath: string): string | undefined {
    try {
      return this.readText(hostPath);
    } catch (error) {
      if (error instanceof HostFsError && (error.code === 'ENOENT' || error.code === 'ENOTDIR')) return undefined;
      throw error;
    }
  }

  /**
   * Reads a sysfs attribute: at most `maxBytes`, trailing newline removed. A larger file is
   * refused with EFBIG instead of being loaded (a garbage or hostile tree must not cost memory).
   */
  readAttribute(hostPath: string, maxBytes = MAX_ATTRIBUTE_BYTES): string {
    return this.readBytes(hostPath, maxBytes).toString('utf8').replace(/\n+$/, '');
  }

  /** An attribute, or undefined when the file does not exist. */
  readAttributeIfExists(hostPath: string, maxBytes = MAX_ATTRIBUTE_BYTES): string | undefined {
    try {
      return this.readAttribute(hostPath, maxBytes);
    } catch (error) {
      if (error instanceof HostFsError && error.code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Reads at most `maxBytes` bytes; EFBIG when the file holds more. */
  readBytes(hostPath: string, maxBytes = Number.MAX_SAFE_INTEGER): Buffer {
    const real = this.resolve(hostPath, false, 'reading');
    let fd: number | undefined;
    try {
      // O_NONBLOCK: a FIFO planted in a tree opens and reads without waiting for a writer (it
      // reads as empty); sysfs attributes and regular files ignore the flag.
      fd = fs.openSync(real, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      const limit = Math.min(maxBytes, 16 * 1024 * 1024);
      const chunks: Buffer[] = [];
      let total = 0;
      for (;;) {
        const chunk = Buffer.allocUnsafe(Math.min(65536, limit + 1 - total));
        const n = fs.readSync(fd, chunk, 0, chunk.length, null);
        if (n === 0) break;
        chunks.push(chunk.subarray(0, n));
        total += n;
        if (total > limit) throw Object.assign(new Error(`more than ${limit} bytes`), { code: 'EFBIG' });
      }
      return Buffer.concat(chunks, total);
    } catch (error) {
      throw this.wrap('reading', hostPath, error, real);
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }

  /** Entry names of a folder, sorted; [] when the folder does not exist. */
  list(hostPath: string): string[] {
    let real: string;
    try {
      real = this.resolve(hostPath, false, 'listing');
    } catch (error) {
      if (error instanceof HostFsError && error.code === 'ENOENT') return [];
      throw error;
    }
    try {
      return fs.readdirSync(real).sort();
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') return [];
      throw this.wrap('listing', hostPath, error, real);
    }
  }

  /** The raw target of a symlink, or undefined when `hostPath` is absent or not a link. */
  readlink(hostPath: string): string | undefined {
    const lexical = this.lexicalPath(hostPath);
    try {
      return fs.readlinkSync(lexical);
    } catch (error) {
      const code = errnoOf(error);
      if (code === 'ENOENT' || code === 'EINVAL') return undefined;
      throw this.wrap('reading link', hostPath, error, lexical);
    }
  }

  /** The last component of a symlink's target (`driver` -> `vfio-pci`), or undefined. */
  linkName(hostPath: string): string | undefined {
    const target = this.readlink(hostPath);
    return target === undefined ? undefined : path.posix.basename(target);
  }

  /** True when `hostPath` lies on a real sysfs mount, so a write reaches the running kernel. */
  isRealSysfs(hostPath: string): boolean {
    try {
      return this.fsTypeOf(this.resolve(hostPath, true)) === SYSFS_MAGIC;
    } catch {
      return false;
    }
  }

  /**
   * Writes a kernel attribute (the write rule): on a real sysfs the bytes go to the kernel in
   * one write(2); on any other tree the simulated kernel applies the write's kernel meaning.
   * Errors keep the kernel's errno (EBUSY, ENODEV, EEXIST, EINVAL, ...).
   */
  writeAttribute(hostPath: string, data: string): void {
    const clean = HostFs.checkHostPath(hostPath);
    if (!clean.startsWith('/sys/')) throw new HostFsError('writing', hostPath, 'EINVAL', 'kernel attributes live under /sys; use writeFile for other files');
    const real = this.resolve(clean, true);
    if (this.isRealSysfs(clean)) {
      try {
        fs.writeFileSync(real, data, { flag: 'w' });
      } catch (error) {
        throw this.wrap('writing', hostPath, error, real);
      }
      return;
    }
    if (!this.kernel)
      throw new HostFsError('writing', hostPath, 'ENOTSUP', 'this tree is not a real sysfs and no simulated kernel is attached', { realPath: real });
    try {
      this.kernel.write(clean, data);
    } catch (error) {
      throw this.wrap('writing', hostPath, error, real);
    }
  }

  /**
   * Loads a kernel module, by the write rule: on this machine's real sysfs the module loader
   * does it (`modprobe MODULE`, with modprobe.d's options, softdeps and install hooks); on a
   * fixture tree the simulated kernel gives it its meaning (the driver's folder appears and the
   * driver probes the devices that are waiting for it). A real sysfs under another root (a
   * container's view, a chroot) is refused: its modules are not this process's to load.
   */
  loadModule(module: string): void {
    loadModule({ realSysfs: this.isRealSysfs('/sys/bus/pci'), live: this.isLive, root: this.root, kernel: this.kernel, modprobe: this.modprobe }, module);
  }

  /**
   * Writes a regular file (boot-loader config, modprobe.d, journal) atomically: temp file,
   * fsync, rename, fsync of the folder. Refused under /sys, /proc and /dev.
   */
  writeFile(hostPath: string, data: string | Buffer, mode = 0o644): void {
    const clean = HostFs.checkHostPath(hostPath);
    if (/^\/(sys|proc|dev)(\/|$)/.test(clean)) throw new HostFsError('writing', hostPath, 'EINVAL', 'not a regular file tree; use writeAttribute for /sys');
    this.mkdirp(path.posix.dirname(clean));
    const real = this.resolve(clean, true);
    try {
      replaceFile(real, data, mode);
    } catch (error) {
      throw this.wrap('writing', hostPath, error, real);
    }
  }

  /**
   * Checks, writing nothing, what writeFile or appendFile of `hostPath` would run into that can
   * be known in advance: the path confined to the root (EXDEV), every existing ancestor a folder
   * (ENOTDIR), the nearest existing folder writable (EACCES, EROFS, EPERM of an immutable folder),
   * and the target absent or a writable regular file (a device node, FIFO, socket, folder or
   * symlink: `refused`). A full disk is not knowable: the writers keep the old file whole then.
   * Commands check every file they will write before their first write of any kind.
   */
  checkWritable(hostPath: string): void {
    checkWritable(this, hostPath);
  }

  /**
   * Appends `data` to a regular file (created if absent) whole or not at all: the primitive of
   * journals. write(2) may write fewer bytes than asked (a full disk writes up to the last free
   * block, then ENOSPC), so it loops until every byte is written, then fsyncs. On any failure the
   * file is truncated back to its length before the append (and fsynced), so no torn record
   * stays, and the error is thrown; if even the truncation fails, the error says so.
   */
  appendFile(hostPath: string, data: string): void {
    const clean = HostFs.checkHostPath(hostPath);
    if (/^\/(sys|proc|dev)(\/|$)/.test(clean)) throw new HostFsError('appending to', hostPath, 'EINVAL', 'not a regular file tree');
    this.mkdirp(path.posix.dirname(clean));
    const real = this.resolve(clean, true);
    appendAll(this.writeSync, hostPath, real, data);
  }

  /**
   * Creates a regular file holding `data` only if no file has that name, never visible empty or
   * half-written: the primitive of host-wide locks. The data goes to a unique temp file next to
   * it (fsynced), then link(2) gives it the name, which is atomic and fails with EEXIST when the
   * name is taken; the temp name is removed either way. Returns false when the file exists.
   */
  createExclusive(hostPath: string, data: string): boolean {
    const clean = HostFs.checkHostPath(hostPath);
    this.mkdirp(path.posix.dirname(clean));
    const real = this.resolve(clean, true);
    try {
      return linkNewFile(this.writeSync, real, data);
    } catch (error) {
      throw this.wrap('creating', hostPath, error, real);
    }
  }

  /** Creates a folder and its parents under the root. */
  mkdirp(hostPath: string): void {
    const clean = HostFs.checkHostPath(hostPath);
    if (clean === '/') return;
    if (!this.exists(clean)) this.mkdirp(path.posix.dirname(clean));
    const real = this.resolve(clean, true);
    try {
      fs.mkdirSync(real, { recursive: true });
    } catch (error) {
      throw this.wrap('creating folder', hostPath, error, real);
    }
  }

  /** Removes a regular file; absent is fine. */
  removeFile(hostPath: string): void {
    const clean = HostFs.checkHostPath(hostPath);
    if (/^\/(sys|proc)(\/|$)/.test(clean)) throw new HostFsError('removing', hostPath, 'EINVAL', 'refused under /sys and /proc');
    const real = this.resolve(clean, true);
    try {
      fs.rmSync(real, { force: true });
    } catch (error) {
      throw this.wrap('removing', hostPath, error, real);
    }
  }

  /** Removes a folder if it is empty (a rollback taking back the folders it made); true when removed. */
  removeEmptyFolder(hostPath: string): boolean {
    const real = this.resolve(hostPath, true);
    try {
      fs.rmdirSync(real);
      return true;
    } catch (error) {
      if (['ENOENT', 'ENOTEMPTY', 'EEXIST'].includes(errnoOf(error))) return false;
      throw this.wrap('removing folder', hostPath, error, real);
    }
  }

  /**
   * A folder resolved once (for scans that read many attributes of one device): each read
   * then costs one open(O_NOFOLLOW) instead of a full resolution of the path.
   */
  openDir(hostPath: string): HostDir {
    return new HostDir(this, HostFs.checkHostPath(hostPath), this.resolve(hostPath, false, 'opening'));
  }

  /** openDir, or undefined when the folder does not exist; any other failure throws. */
  openDirIfExists(hostPath: string): HostDir | undefined {
    try {
      return this.openDir(hostPath);
    } catch (error) {
      if (error instanceof HostFsError && error.code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Real paths of parent folders and their entry kinds, for openLinkedDir (a scan's parents repeat). */
  private readonly parents: LinkedParents = new Map();

  /** The folder a symlink names, opened as openDir would, at the cost of one readlink(2) (see openLinkedDir in HostDir.ts). */
  openLinkedDir(linkHostPath: string): HostDir {
    return openLinkedDir(this, linkHostPath, this.parents);
  }

  /** @internal wraps a node error into a HostFsError. */
  wrap(doing: string, hostPath: string, error: unknown, realPath: string): HostFsError {
    return wrapError(doing, hostPath, error, realPath);
  }
}
