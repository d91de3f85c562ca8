/**
 * Applies a patch the way a person would: the before-file in a temporary root laid out as the
 * host path, then real GNU patch (`patch -p0`, Debian package `patch`) run in that root.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The text of `hostPath` after `patch -p0` applied `patchText` to `before` (null: no file yet). */
export function applyWithGnuPatch(hostPath: string, before: string | null, patchText: string): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'passthru-patch-'));
  try {
    const file = path.join(root, hostPath);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (before !== null) fs.writeFileSync(file, before);
    const r = spawnSync('patch', ['-p0', '--batch', '--forward', '--no-backup-if-mismatch'], { cwd: root, input: patchText, encoding: 'utf8' });
    if (r.error !== undefined) throw new Error(`Failed running GNU patch (install the Debian package "patch"): ${r.error.message}`, { cause: r.error });
    if (r.status !== 0) throw new Error(`patch -p0 exited ${r.status}: ${r.stdout}${r.stderr}\n--- the patch:\n${patchText}`);
    const left = fs.readdirSync(path.dirname(file)).filter((n) => n.endsWith('.rej') || n.endsWith('.orig'));
    if (left.length > 0) throw new Error(`patch -p0 left ${left.join(', ')}`);
    return fs.readFileSync(file, 'utf8');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
