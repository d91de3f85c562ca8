import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The real path of host path `hostPath` under `root`, for a change the simulator makes: the
 * folder it lands in must resolve inside the root (a symlinked `dev/vfio` or device folder
 * that leads elsewhere is refused with EXDEV), so the simulated kernel never writes, links or
 * removes outside the tree it simulates. The last component itself is not followed.
 */
export function treePath(root: string, hostPath: string): string {
  const file = path.join(root, hostPath);
  let dir = path.dirname(file);
  while (!fs.existsSync(dir) && dir !== path.dirname(dir)) dir = path.dirname(dir);
  const real = fs.realpathSync(dir);
  const realRoot = fs.realpathSync(root);
  if (real !== realRoot && !real.startsWith(`${realRoot}${path.sep}`)) {
    const error = new Error(`EXDEV: ${hostPath} leads out of the simulated tree (to ${real})`) as NodeJS.ErrnoException;
    error.code = 'EXDEV';
    throw error;
  }
  return file;
}
