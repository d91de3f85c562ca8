/**
 * One client, two servers, against REAL daemons: a private LXD and a private Incus run on this
 * host at once (tools/provision/lxd.sh, incus.sh). passthru talks to the one asked for and names
 * it; asked for neither, or finding none, it stops with exit 2 before sending anything.
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionDaemon, type RealDaemon } from '../../../packages/lxd-device-attach/test/realDaemon';
import { cliWithEnv, repo } from './runCli';

const FIXTURE = path.join(repo, 'fixtures/hosts/intel-workstation');
const container = `pt-${randomBytes(3).toString('hex')}-both`;
let lxd: RealDaemon;
let incus: RealDaemon;
let both: Record<string, string>;
/** `attach --dry-run` of the fixture's GPU to the container, which exists on Incus only. */
const dryRun = (env: Record<string, string>, ...extra: string[]) => cliWithEnv(env, '--root', FIXTURE, ...extra, 'attach', container, '01:00.0', '--dry-run');

beforeAll(async () => {
  lxd = provisionDaemon('lxd');
  incus = provisionDaemon('incus');
  both = { LXD_DIR: lxd.dir, INCUS_DIR: incus.dir };
  await incus.cli('init', 'passthru-busybox', container);
}, 600_000);

afterAll(async () => {
  await incus?.cli('delete', '-f', container).catch(() => undefined);
}, 60_000);

describe('LXD and Incus on one host (real daemons)', { timeout: 60_000 }, () => {
  it('talks to the server asked for, by --server or PASSTHRU_SERVER, and names it', async () => {
    const before = (await incus.client.getInstance(container)).etag;
    const asked = await dryRun(both, '--server', 'incus');
    expect(asked.stderr).toBe('');
    expect(asked.code).toBe(0);
    expect(asked.stdout).toContain(`via ${incus.dir}/unix.socket (Incus)`);
    const byVariable = await dryRun({ ...both, PASSTHRU_SERVER: 'incus' });
    expect([byVariable.code, byVariable.stdout]).toEqual([0, asked.stdout]);
    // The same request to LXD: it has no such instance (exit 2, its own words, nothing written).
    const other = await dryRun(both, '--server', 'lxd');
    expect(other.code).toBe(2);
    expect(other.stderr).toContain(`via ${lxd.dir}/unix.socket`);
    expect(other.stderr).toContain('Instance not found');
    expect((await incus.client.getInstance(container)).etag).toBe(before);
  });

  it('asked for neither while both run: exit 2 naming both sockets and how to choose', async () => {
    const r = await dryRun(both);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${lxd.dir}/unix.socket, ${incus.dir}/unix.socket`);
    expect(r.stderr).toContain('--server lxd|incus');
  });

  it('no server to talk to, or an unknown --server: exit 2, every path tried named', async () => {
    const none = await dryRun({ LXD_DIR: '/nonexistent/lxd' });
    expect([none.code, none.stdout]).toEqual([2, '']);
    expect(none.stderr).toContain('Failed finding the LXD unix socket via /nonexistent/lxd/unix.socket: no socket exists (LXD_DIR is set)');
    const absent = await dryRun({ INCUS_DIR: '/nonexistent/incus' }, '--server', 'incus');
    expect(absent.code).toBe(2);
    expect(absent.stderr).toContain('Failed finding the Incus unix socket via /nonexistent/incus/unix.socket');
    const unknown = await dryRun(both, '--server', 'docker');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('"docker" is not a server: use lxd or incus');
  });
});
