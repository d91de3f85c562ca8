/**
 * Reads that report instead of throwing, for checks that must go on past a file they cannot
 * read: an absent file gives no value, a HostFs failure (EACCES, EIO) gives its message.
 */
import { HostFsError } from './HostFsError';
import type { HostFs } from './HostFs';

export interface ReadResult<T> {
  value?: T;
  /** Why the value is missing when the file exists but could not be read. */
  error?: string;
}

export function tryReadText(host: HostFs, path: string): ReadResult<string> {
  try {
    const value = host.readTextIfExists(path);
    return value === undefined ? {} : { value };
  } catch (error) {
    if (error instanceof HostFsError) return { error: error.message };
    throw error;
  }
}

export function tryReadBytes(host: HostFs, path: string, maxBytes: number): ReadResult<Buffer> {
  try {
    return { value: host.readBytes(path, maxBytes) };
  } catch (error) {
    if (error instanceof HostFsError) return error.code === 'ENOENT' ? {} : { error: error.message };
    throw error;
  }
}

export function tryList(host: HostFs, path: string): ReadResult<string[]> {
  try {
    if (!host.exists(path)) return {};
    return { value: host.list(path) };
  } catch (error) {
    if (error instanceof HostFsError) return { error: error.message };
    throw error;
  }
}
