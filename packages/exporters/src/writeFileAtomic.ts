import * as fs from 'node:fs';
import * as path from 'node:path';
import { ExportersError } from './ExportersError';

/**
 * Writes `file` so that a reader sees the old content or the new, never a part: the text goes
 * to a dot-file in the same folder (nfd-worker ignores dot-files; node-exporter reads only
 * *.prom), is fsynced, renamed over `file` (rename(2) is atomic within one file system), and
 * the folder is fsynced so the rename survives a crash. Output files are not host files: plain
 * node:fs, not HostFs. The temporary file is removed when any step fails.
 */
export function writeFileAtomic(file: string, text: string, mode = 0o644): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  let step = 'writing';
  try {
    const fd = fs.openSync(tmp, 'w', mode);
    try {
      fs.writeFileSync(fd, text);
      step = 'syncing';
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    step = 'renaming';
    fs.renameSync(tmp, file);
  } catch (error) {
    fs.rmSync(tmp, { force: true });
    throw new ExportersError(`Failed ${step} ${file} via ${tmp}: ${(error as Error).message}`, { cause: error });
  }
  // Best effort: some file systems refuse fsync on a folder (EINVAL); the file itself is whole.
  try {
    const d = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(d);
    } finally {
      fs.closeSync(d);
    }
  } catch {
    /* the rename is done; durability of the folder entry is what is lost */
  }
}
