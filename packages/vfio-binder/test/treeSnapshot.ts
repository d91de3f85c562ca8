import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Bookkeeping of the simulator and of passthru itself: not part of the host's state. */
const IGNORED = ['.sysfs-sim', 'var/lib/passthru', 'run/passthru'];
/** Folders passthru may create to hold its bookkeeping. */
const BOOKKEEPING_PARENTS = new Set(['run', 'var', 'var/lib']);

/** Every entry of a tree: type, symlink target or content hash, and mode (mtimes ignored). */
export function snapshotTree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
      const child = rel ? `${rel}/${name}` : name;
      if (IGNORED.some((i) => child === i || child.startsWith(`${i}/`))) continue;
      const full = path.join(root, child);
      const st = fs.lstatSync(full);
      if (st.isSymbolicLink()) out.set(child, `link ${fs.readlinkSync(full)}`);
      else if (st.isDirectory()) {
        if (!BOOKKEEPING_PARENTS.has(child)) out.set(child, `dir ${st.mode.toString(8)}`);
        walk(child);
      } else if (!st.isFile()) out.set(child, `special ${st.mode.toString(8)}`);
      else out.set(child, `file ${st.mode.toString(8)} ${createHash('sha1').update(fs.readFileSync(full)).digest('hex')}`);
    }
  };
  walk('');
  return out;
}

/** The entries that differ between two snapshots, for a readable assertion. */
export function diffSnapshots(before: Map<string, string>, after: Map<string, string>): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys]
    .filter((k) => before.get(k) !== after.get(k))
    .sort()
    .map((k) => `${k}: ${before.get(k) ?? '(absent)'} -> ${after.get(k) ?? '(absent)'}`);
}
