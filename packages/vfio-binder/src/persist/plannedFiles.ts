// The files a plan will write, checked before the first write of a command, and the folders
// its writes will make (a rollback takes them back).
import { HostFsError, type HostFs } from '@passthru/hostfs';
import type { FileChange } from './plan';
import { VfioBinderError } from '../VfioBinderError';

/**
 * Checks every file a plan will write (each change, its backup, and `extra` files such as a
 * record) before the first write of the command, sysfs included: refused (usage, nothing
 * written) naming the file when one cannot be written (HostFs.checkWritable).
 */
export function checkFileWrites(host: HostFs, changes: FileChange[], extra: string[], doing: string): void {
  const paths = [...changes.flatMap((c) => (c.backup && c.before !== null ? [c.backup, c.path] : [c.path])), ...extra];
  for (const path of paths) {
    try {
      host.checkWritable(path);
    } catch (error) {
      if (!(error instanceof HostFsError)) throw error;
      throw new VfioBinderError('bad-input', `Failed planning ${doing} via ${path}: ${error.message}`, { cause: error });
    }
  }
}

/** The folders above `file` that do not exist yet, nearest first. */
export function missingFolders(host: HostFs, file: string): string[] {
  const missing: string[] = [];
  for (let folder = file.slice(0, file.lastIndexOf('/')); folder && !host.exists(folder); folder = folder.slice(0, folder.lastIndexOf('/')))
    missing.push(folder);
  return missing;
}
