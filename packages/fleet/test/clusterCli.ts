// What the cluster suites share: the state folder globalSetup hands over, each member's socket
// and host copy, and the CLI bundle and lxc run against one member's socket.
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { LxdClient } from '@passthru/lxd-device-attach';
import { inject } from 'vitest';

const execFileAsync = promisify(execFile);
export const REPO = path.resolve(__dirname, '../../..');
export const CLI = path.join(REPO, 'apps/cli/dist/passthru.mjs');
export const STATE = inject('clusterState');
export const socketOf = (m: string) => `${STATE}/${m}/lxd`;
export const hostOf = (m: string) => `${STATE}/${m}/host`;
export const client = (m = 'm1') => new LxdClient({ kind: 'unix', socketPath: `${socketOf(m)}/unix.socket` });

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
export async function run(file: string, args: string[], member = 'm1'): Promise<Run> {
  try {
    const p = execFileAsync(file, args, { env: { ...process.env, LXD_DIR: socketOf(member), NO_COLOR: '1' }, timeout: 120_000 });
    p.child.stdin?.end();
    const { stdout, stderr } = await p;
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
/** The CLI bundle with LXD_DIR of `member` (its socket: the server it talks to). */
export const passthru = (args: string[], member = 'm1') => run(process.execPath, [CLI, ...args], member);
export const lxc = async (...args: string[]) => {
  const r = await run('lxc', args);
  if (r.code !== 0) throw new Error(`lxc ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
