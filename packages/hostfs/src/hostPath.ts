import * as path from 'node:path';
import { HostFsError } from './HostFsError';

const MAX_HOST_PATH = 4096;

/** A path already in normal form: absolute, no empty, `.` or `..` component, no NUL, no trailing slash. */
const NORMAL_PATH = /^(?:\/(?!\.\.?(?:\/|$))[^/\0]+)+$/;

/** Checks a host path's spelling and returns it normalised (no trailing slash). */
export function checkHostPath(hostPath: string): string {
  // The common case (a scan checks tens of thousands) costs one match, no split and join.
  if (typeof hostPath === 'string' && hostPath.length <= MAX_HOST_PATH && NORMAL_PATH.test(hostPath)) return hostPath;
  if (typeof hostPath !== 'string' || hostPath.length === 0)
    throw new HostFsError('checking path', String(hostPath), 'EINVAL', 'a host path must be a non-empty string');
  if (hostPath.length > MAX_HOST_PATH)
    throw new HostFsError('checking path', `${hostPath.slice(0, 64)}...`, 'ENAMETOOLONG', `a host path is at most ${MAX_HOST_PATH} characters`);
  if (hostPath.includes('\0')) throw new HostFsError('checking path', JSON.stringify(hostPath), 'EINVAL', 'a host path must not contain NUL');
  if (!hostPath.startsWith('/')) throw new HostFsError('checking path', hostPath, 'EINVAL', 'a host path must be absolute');
  const parts = hostPath.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new HostFsError('checking path', hostPath, 'EACCES', "'..' is refused in host paths");
  return `/${parts.join('/')}`;
}

/**
 * path.posix.resolve(folder, target) for a normal `folder` and a relative link target: a run of
 * `../` and then plain components (what the kernel's links are) is resolved by dropping folders,
 * anything else the long way.
 */
export function resolveRelative(folder: string, target: string): string {
  let at = 0;
  let end = folder.length;
  while (target.startsWith('../', at)) {
    at += 3;
    end = end > 0 ? folder.lastIndexOf('/', end - 1) : -1;
  }
  const rest = target.slice(at);
  if (end <= 0 || folder === '/' || !NORMAL_PATH.test(`/${rest}`)) return path.posix.resolve(folder, target);
  return `${folder.slice(0, end)}/${rest}`;
}
