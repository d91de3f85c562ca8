import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HostFs } from './HostFs';
import { HostFsError, errnoError, errnoOf } from './HostFsError';
import { checkHostPath } from './hostPath';
import { randomHex } from './randomHex';

// The regular-file writes of HostFs on real paths (resolved and confined by the caller):
// writeFile's replaceFile, appendFile's appendAll, createExclusive's linkNewFile, and the
// check of all of them before a command's first write (checkWritable).

/** write(2) of regular files (fs.writeSync's shape). */
export type WriteSync = (fd: number, buffer: Buffer, offset: number, length: number) => number;

/** What a file passthru writes may replace: nothing, or a regular file (never a device node, FIFO, socket, folder or symlink). */
function refuseNonRegular(real: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(real);
  } catch {
    return;
  }
  if (st.isFile()) return;
  const kind = st.isDirectory()
    ? 'a folder'
    : st.isSymbolicLink()
      ? 'a symlink'
      : st.isFIFO()
        ? 'a FIFO'
        : st.isCharacterDevice() || st.isBlockDevice()
          ? 'a device node'
          : 'a socket';
  throw Object.assign(errnoError(st.isDirectory() ? 'EISDIR' : 'EEXIST', `it is ${kind}, and passthru replaces only regular files; nothing was written`), {
    refused: true,
  });
}

/** What replaceFile will find at `real`: nothing, or a regular file it may replace (immutable: EPERM). */
export function checkReplaceable(real: string): void {
  refuseNonRegular(real);
  if (fs.existsSync(real)) fs.accessSync(real, fs.constants.W_OK);
}

/**
 * The one way passthru replaces a file: refuses anything but a regular file at the target;
 * writes a temp file beside it under an unpredictable name, created exclusively (O_EXCL: a
 * name planted in advance, symlink or not, is never followed), fsyncs, renames over the target,
 * then fsyncs the folder (best effort: the file is whole either way). On any failure the temp
 * file goes and the old file stays as it was; the error is thrown as is.
 */
export function replaceFile(real: string, data: string | Buffer, mode: number): void {
  refuseNonRegular(real);
  const temp = path.join(path.dirname(real), `.${path.basename(real)}.passthru-${randomHex(8)}.tmp`);
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  let created = false;
  try {
    const fd = fs.openSync(temp, 'wx', mode);
    created = true;
    try {
      for (let done = 0; done < bytes.length; ) done += fs.writeSync(fd, bytes, done, bytes.length - done);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, real);
    created = false;
  } catch (error) {
    if (created) fs.rmSync(temp, { force: true });
    throw error;
  }
  try {
    const dirFd = fs.openSync(path.dirname(real), 'r');
    try {
      fs.fsyncSync(dirFd);
    } finally {
      fs.closeSync(dirFd);
    }
  } catch {
    // Some file systems refuse fsync on a folder (EINVAL); the rename is done and the file whole.
  }
}

/**
 * Reads an input file on this machine (a baseline, a plain path, not under --root): a regular
 * file of at most `maxBytes`, opened without blocking, so a FIFO, a device (/dev/zero) or a
 * folder is refused at once (`refused`: the CLI says exit 2) instead of hanging or eating memory.
 */
export function readInputFile(file: string, maxBytes: number): Buffer {
  const real = path.resolve(file);
  const fail = (code: string, detail: string, cause?: unknown, refused = true) =>
    Object.assign(new HostFsError('reading', file, code, detail, { realPath: real, cause }), { refused });
  let fd: number;
  try {
    fd = fs.openSync(real, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (error) {
    throw fail(errnoOf(error), detailOf(error), error, true);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw fail(st.isDirectory() ? 'EISDIR' : 'EINVAL', 'not a regular file: passthru reads only regular files here');
    if (st.size > maxBytes) throw fail('EFBIG', `${st.size} bytes, more than the ${maxBytes} a file of this kind can hold`);
    const bytes = Buffer.alloc(st.size);
    let done = 0;
    while (done < st.size) {
      const n = fs.readSync(fd, bytes, done, st.size - done, null);
      if (n === 0) break;
      done += n;
    }
    return bytes.subarray(0, done);
  } catch (error) {
    if (error instanceof HostFsError) throw error;
    throw fail(errnoOf(error), detailOf(error), error, false);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Writes an output file on this machine (a report, an export, a baseline: a plain path, not
 * under --root) the way replaceFile does. Errors are HostFsErrors for `file`; a refused target
 * (not a regular file) has `refused` set, which the CLI reports as bad input (exit 2).
 */
export function writeOutputFile(file: string, data: string | Buffer, mode = 0o644): void {
  const real = path.resolve(file);
  try {
    replaceFile(real, data, mode);
  } catch (error) {
    const wrapped = new HostFsError('writing', file, errnoOf(error), detailOf(error), { realPath: real, cause: error });
    throw Object.assign(wrapped, { refused: (error as { refused?: boolean }).refused === true });
  }
}

/** appendFile's whole-or-nothing append to `real` (see HostFs.appendFile); every failure is a HostFsError for `hostPath`. */
export function appendAll(writeSync: WriteSync, hostPath: string, real: string, data: string): void {
  const bytes = Buffer.from(data);
  let fd: number | undefined;
  let before = 0;
  try {
    fd = fs.openSync(real, 'a', 0o644);
    before = fs.fstatSync(fd).size;
  } catch (error) {
    if (fd !== undefined) fs.closeSync(fd);
    throw wrapError('appending to', hostPath, error, real);
  }
  try {
    for (let done = 0; done < bytes.length; ) {
      const n = writeSync(fd, bytes, done, bytes.length - done);
      if (n <= 0) throw errnoError('EIO', `write(2) wrote nothing after ${done} of ${bytes.length} bytes`);
      done += n;
    }
    fs.fsyncSync(fd);
  } catch (error) {
    const detail = detailOf(error);
    try {
      fs.ftruncateSync(fd, before);
      fs.fsyncSync(fd);
    } catch (undo) {
      throw new HostFsError(
        'appending to',
        hostPath,
        errnoOf(error),
        `${detail}; truncating it back to ${before} bytes failed too (${errnoOf(undo)}): its last line may be torn`,
        { realPath: real, cause: error },
      );
    }
    throw new HostFsError('appending to', hostPath, errnoOf(error), `${detail}; nothing of it was kept (the file is back to its ${before} bytes)`, {
      realPath: real,
      cause: error,
    });
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * createExclusive on `real` (see HostFs.createExclusive): false when the name is taken; other
 * errors are thrown as is (the caller wraps them).
 */
export function linkNewFile(writeSync: WriteSync, real: string, data: string): boolean {
  const temp = `${real}.${process.pid}-${randomHex(6)}.tmp`;
  try {
    const fd = fs.openSync(temp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
    try {
      const bytes = Buffer.from(data);
      for (let done = 0; done < bytes.length; ) {
        const n = writeSync(fd, bytes, done, bytes.length - done);
        if (n <= 0) throw errnoError('EIO', `write(2) wrote nothing after ${done} of ${bytes.length} bytes`);
        done += n;
      }
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.linkSync(temp, real);
    return true;
  } catch (error) {
    if (errnoOf(error) === 'EEXIST') return false;
    throw error;
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

/** @internal wraps a node error into a HostFsError (HostFs.wrap). */
export function wrapError(doing: string, hostPath: string, error: unknown, realPath: string): HostFsError {
  if (error instanceof HostFsError) return error;
  return new HostFsError(doing, hostPath, errnoOf(error), detailOf(error), { realPath, cause: error });
}

/** A node error's message without its errno prefix and its trailing syscall and path. */
function detailOf(error: unknown): string {
  return error instanceof Error ? error.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '') : String(error);
}

/**
 * Checks, writing nothing, what writeFile or appendFile of `hostPath` would run into that can
 * be known in advance: the path confined to the root (EXDEV), every existing ancestor a folder
 * (ENOTDIR), the nearest existing folder writable (EACCES, EROFS, EPERM of an immutable folder),
 * and the target absent or a writable regular file (a device node, FIFO, socket, folder or
 * symlink: `refused`). A full disk is not knowable: the writers keep the old file whole then.
 * Commands check every file they will write before their first write of any kind.
 */
export function checkWritable(host: HostFs, hostPath: string): void {
  // Every answer is a refusal before any write: `refused` (the CLI says exit 2, nothing written).
  const refuse = (error: unknown, real: string) => {
    const wrapped = host.wrap('checking', hostPath, error, real);
    if (!wrapped.message.endsWith('nothing was written')) wrapped.message += '; nothing was written';
    return Object.assign(wrapped, { refused: true });
  };
  const clean = checkHostPath(hostPath);
  if (/^\/(sys|proc|dev)(\/|$)/.test(clean))
    throw refuse(new HostFsError('checking', hostPath, 'EINVAL', 'not a regular file tree; use writeAttribute for /sys'), clean);
  let folder = path.posix.dirname(clean);
  let realFolder = folder;
  try {
    while (folder !== '/' && !host.exists(folder) && host.lstat(folder) === undefined) folder = path.posix.dirname(folder);
    realFolder = host.resolve(folder, false, 'checking');
    if (!fs.statSync(realFolder).isDirectory()) throw new HostFsError('checking', hostPath, 'ENOTDIR', `${folder} is not a folder`, { realPath: realFolder });
    fs.accessSync(realFolder, fs.constants.W_OK);
    if (folder !== path.posix.dirname(clean)) return;
    const real = host.resolve(clean, true, 'checking');
    checkReplaceable(real);
  } catch (error) {
    throw refuse(error, realFolder);
  }
}
