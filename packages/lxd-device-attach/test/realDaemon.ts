/**
 * A REAL daemon of the LXC family for the integration suites: a private LXD
 * (tools/provision/lxd.sh) or a private Incus (tools/provision/incus.sh), each with its own
 * state folder, no network and a local busybox image `passthru-busybox`. A daemon that cannot be
 * provisioned FAILS the suite with the install command (it never skips).
 */
import { execFile, execFileSync } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { LxdClient } from '../src/LxdClient';
import { SERVERS, type ServerKind, type ServerName } from '../src/servers';

const execFileAsync = promisify(execFile);
const REPO = path.resolve(__dirname, '../../..');

const PROVISION: Record<ServerName, { script: string; variable: string; install: string }> = {
  lxd: { script: 'tools/provision/lxd.sh', variable: 'LXD_DIR', install: 'apt-get update && apt-get install -y --no-install-recommends lxd busybox-static' },
  incus: {
    script: 'tools/provision/incus.sh',
    variable: 'INCUS_DIR',
    install: 'add bookworm-backports, then apt-get install -y --no-install-recommends -t bookworm-backports incus-base incus-client busybox-static',
  },
};

export interface RealDaemon {
  kind: ServerKind;
  /** The environment that points its own client (and passthru) at the private daemon. */
  env: NodeJS.ProcessEnv;
  /** Its state folder (LXD_DIR or INCUS_DIR). */
  dir: string;
  client: LxdClient;
  /** Runs its own client (`lxc` or `incus`) with stdin closed (`init` reads YAML from a non-terminal stdin). */
  cli(...args: string[]): Promise<string>;
}

/** Starts (or reuses) the private daemon of `server`; throws with the install command when it cannot. */
export function provisionDaemon(server: ServerName): RealDaemon {
  const p = PROVISION[server];
  let out: string;
  try {
    out = execFileSync('bash', [path.join(REPO, p.script)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(
      `${SERVERS[server].product} could not be provisioned for the integration suite (it does not skip).\nAs root on Debian: ${p.install}\nthen: eval "$(bash ${p.script})"\n--- ${path.basename(p.script)} said:\n${e.stderr ?? e.message}`,
    );
  }
  const dir = new RegExp(`export ${p.variable}=(\\S+)`).exec(out)?.[1];
  if (!dir) throw new Error(`${p.script} printed no "export ${p.variable}=": ${out}`);
  // Only this server's variable: the other's must not point passthru elsewhere.
  const { LXD_DIR: _l, INCUS_DIR: _i, INCUS_SOCKET: _s, ...rest } = process.env;
  const env = { ...rest, [p.variable]: dir };
  const kind = SERVERS[server];
  return {
    kind,
    env,
    dir,
    client: LxdClient.local(env, {}, undefined, server),
    async cli(...args: string[]) {
      const run = execFileAsync(kind.cli, args, { env, timeout: 60_000 });
      run.child.stdin?.end();
      return (await run).stdout;
    },
  };
}

/** A loopback TCP port free at this moment (for a daemon's core.https_address). */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
