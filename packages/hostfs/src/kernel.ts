// What hostfs knows of the kernel behind a tree: the sysfs mount a write must be on to reach it,
// the simulated kernel that gives a fixture's writes their meaning, and the module loader.
import { execFileSync } from 'node:child_process';
import { HostFsError, errnoOf } from './HostFsError';

/** statfs(2) f_type of sysfs: a write there reaches the kernel. */
export const SYSFS_MAGIC = 0x62656572;

/**
 * What applies a sysfs write's kernel meaning to a tree that is not a real sysfs.
 * @passthru/sysfs-sim implements it; hostfs only knows this contract. `write` throws an
 * error with an errno `code` (as the kernel would return from write(2)) or returns normally.
 */
export interface SimulatedKernelWriter {
  write(hostPath: string, data: string): void;
  /** What `modprobe MODULE` does to the tree; throws an error with an errno `code` when it cannot be loaded. */
  loadModule?(module: string): void;
}

/** Runs `modprobe MODULE` on this machine; throws with the module loader's own words on failure. */
export type ModprobeRunner = (module: string) => void;

export const runModprobe: ModprobeRunner = (module) => {
  try {
    execFileSync('modprobe', [module], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: Buffer; status?: number | null };
    const said = e.stderr?.toString('utf8').trim();
    throw Object.assign(
      new Error(said || (e.code === 'ENOENT' ? 'modprobe is not installed (Debian: apt-get install kmod)' : `modprobe exited ${e.status ?? e.code}`)),
      {
        code: e.code === 'ENOENT' ? 'ENOENT' : 'EIO',
      },
    );
  }
};

/** Where a module load goes: the tree's kind (a real sysfs, this machine's), its simulated kernel, the module loader. */
export interface ModuleLoader {
  realSysfs: boolean;
  live: boolean;
  root: string;
  kernel: SimulatedKernelWriter | undefined;
  modprobe: ModprobeRunner;
}

/** HostFs.loadModule: modprobe on this machine's real sysfs, the simulated kernel on a fixture, refused elsewhere. */
export function loadModule(to: ModuleLoader, module: string): void {
  const where = `module ${module}`;
  if (to.realSysfs) {
    if (!to.live)
      throw new HostFsError('loading', where, 'ENOTSUP', `the root ${to.root} is a real sysfs but not this machine's /: load it there with modprobe ${module}`);
    try {
      to.modprobe(module);
    } catch (error) {
      throw new HostFsError('loading', where, errnoOf(error), `via modprobe: ${(error as Error).message}`, { cause: error });
    }
    return;
  }
  if (!to.kernel?.loadModule) throw new HostFsError('loading', where, 'ENOTSUP', 'this tree is not a real sysfs and no simulated kernel is attached');
  try {
    to.kernel.loadModule(module);
  } catch (error) {
    throw new HostFsError('loading', where, errnoOf(error), (error as Error).message, { cause: error });
  }
}
