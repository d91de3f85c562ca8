// What the cluster suites share: the state folders globalSetup hands over (a three-member LXD
// cluster and a three-member Incus cluster), each member's socket and host copy, and the CLI
// bundle and the server's own client (`lxc` or `incus`) run against one member's socket.
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { LxdClient, SERVERS, type ServerName } from '@passthru/lxd-device-attach';
import { inject } from 'vitest';

const execFileAsync = promisify(execFile);
export const REPO = path.resolve(__dirname, '../../..');
export const CLI = path.join(REPO, 'apps/cli/dist/passthru.mjs');
/** Both clusters run every cluster suite (describe.each over these). */
export const CLUSTER_SERVERS: readonly ServerName[] = ['lxd', 'incus'];

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** One cluster's helpers: its state folder, members' sockets and host copies, and the commands run as on a member. */
export function clusterOf(server: ServerName) {
  const kind = SERVERS[server];
  const STATE = inject('clusterStates')[server];
  const variable = server === 'incus' ? 'INCUS_DIR' : 'LXD_DIR';
  const socketOf = (m: string) => `${STATE}/${m}/${server}`;
  const hostOf = (m: string) => `${STATE}/${m}/host`;
  const client = (m = 'm1') => new LxdClient({ kind: 'unix', socketPath: `${socketOf(m)}/unix.socket` });
  async function run(file: string, args: string[], member = 'm1'): Promise<Run> {
    try {
      const p = execFileAsync(file, args, { env: { ...process.env, [variable]: socketOf(member), NO_COLOR: '1' }, timeout: 120_000 });
      p.child.stdin?.end();
      const { stdout, stderr } = await p;
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      if (typeof e.code !== 'number') throw error;
      return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }
  return {
    server,
    kind,
    STATE,
    socketOf,
    hostOf,
    client,
    /** The member's daemon pid (its pidfile). */
    pidFile: (m: string) => `${STATE}/${m}/${server === 'incus' ? 'incusd' : 'lxd'}.pid`,
    /** The CLI bundle with the member's socket (the server it talks to). */
    passthru: (args: string[], member = 'm1') => run(process.execPath, [CLI, ...args], member),
    /** The server's own client (`lxc` or `incus`) on m1; throws on failure. */
    lxc: async (...args: string[]) => {
      const r = await run(kind.cli, args);
      if (r.code !== 0) throw new Error(`${kind.cli} ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    },
  };
}
export type Cluster = ReturnType<typeof clusterOf>;
