// A part of the tree kept as data (what a `remove` takes out, so a `rescan` can put it back).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';
import { treePath } from '../treePath';
import { lstatOrUndefined, type SysfsTree } from './SysfsTree';

/** One tree entry as it was just before `remove` took it out (file data base64: config is binary). */
export const TreeEntrySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('dir'), path: z.string(), mode: z.number().int() }),
  z.object({ kind: z.literal('file'), path: z.string(), mode: z.number().int(), data: z.string() }),
  z.object({ kind: z.literal('link'), path: z.string(), target: z.string() }),
]);
export type TreeEntry = z.infer<typeof TreeEntrySchema>;

/** Every entry at and below hostPath (parents first), as it is now; none when it is absent. */
export function entriesOf(tree: SysfsTree, hostPath: string): TreeEntry[] {
  const real = path.join(tree.root, hostPath);
  const stat = lstatOrUndefined(real);
  if (!stat) return [];
  if (stat.isSymbolicLink()) return [{ kind: 'link', path: hostPath, target: fs.readlinkSync(real) }];
  if (stat.isDirectory())
    return [
      { kind: 'dir', path: hostPath, mode: stat.mode & 0o7777 },
      ...fs
        .readdirSync(real)
        .sort()
        .flatMap((name) => entriesOf(tree, `${hostPath}/${name}`)),
    ];
  return [{ kind: 'file', path: hostPath, mode: stat.mode & 0o7777, data: fs.readFileSync(real).toString('base64') }];
}

/** Puts one kept entry back; what exists already is left as it is. */
export function restoreEntry(tree: SysfsTree, entry: TreeEntry): void {
  const real = treePath(tree.root, entry.path);
  fs.mkdirSync(path.dirname(real), { recursive: true });
  const exists = lstatOrUndefined(real) !== undefined;
  if (entry.kind === 'dir') {
    if (!exists) fs.mkdirSync(real);
    fs.chmodSync(real, entry.mode);
  } else if (!exists && entry.kind === 'file') fs.writeFileSync(real, Buffer.from(entry.data, 'base64'), { mode: entry.mode });
  else if (!exists && entry.kind === 'link') fs.symlinkSync(entry.target, real);
}
