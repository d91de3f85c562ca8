import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { SimulatedKernel } from '@passthru/sysfs-sim';
import { runCli } from '../src/cli';

export const repo = path.resolve(__dirname, '../../..');

/** Runs the CLI in-process with captured output; NO_COLOR so tables are plain text. */
export function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return cliWithEnv({}, ...argv);
}

/** `cli` with more environment (LXD_DIR, ...). */
export async function cliWithEnv(env: Record<string, string>, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += c));
  stderr.on('data', (c) => (err += c));
  const code = await runCli(argv, { stdout, stderr, env: { NO_COLOR: '1', ...env } });
  return { code, stdout: out, stderr: err };
}

const made: string[] = [];
/** A writable copy of a committed fixture tree. */
export function fixtureCopy(name: string): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `cli-${name}-`));
  made.push(root);
  fs.cpSync(path.join(repo, 'fixtures/hosts', name), root, { recursive: true, verbatimSymlinks: true });
  return root;
}
export function cleanFixtures(): void {
  made.splice(0).forEach((r) => {
    fs.rmSync(r, { recursive: true, force: true });
  });
}

/** Writes the simulated kernel applied to a tree (every process's, from its write log). */
export const kernelWrites = (root: string) => SimulatedKernel.writeLog(root);

export const driverOf = (root: string, address: string) => {
  try {
    return path.basename(fs.readlinkSync(path.join(root, 'sys/bus/pci/devices', address, 'driver')));
  } catch {
    return null;
  }
};

/**
 * Every entry under `root` (type, mode, mtime, symlink target, and for regular files up to
 * 1 MiB a content digest), keyed by relative path: equal snapshots before and after a run prove
 * the run wrote nothing, sidecar included (a file made and removed again changes its folder's
 * mtime). FIFOs and devices are recorded, never opened.
 */
export function treeSnapshot(root: string): Record<string, string> {
  const entries: Record<string, string> = {};
  const walk = (rel: string) => {
    const abs = path.join(root, rel);
    const st = fs.lstatSync(abs);
    const meta = `${(st.mode & 0o7777).toString(8)} ${st.mtimeMs}`;
    if (st.isSymbolicLink()) entries[rel] = `link ${fs.readlinkSync(abs)}`;
    else if (st.isDirectory()) {
      entries[rel] = `dir ${meta}`;
      for (const name of fs.readdirSync(abs).sort()) walk(path.join(rel, name));
    } else if (!st.isFile()) entries[rel] = `special ${meta}`;
    else entries[rel] = `file ${meta} ${st.size} ${st.size <= 1 << 20 ? createHash('sha256').update(fs.readFileSync(abs)).digest('hex') : ''}`;
  };
  walk('.');
  return entries;
}
