/**
 * Servers the test cluster cannot be: an LXD without per-member config (before the
 * `clustering_config` extension) and a standalone (not clustered) server, for `fleet publish`
 * and `report --cluster`. A small HTTP server on a unix socket answers GET /1.0 as such a
 * server would and records every request, so the tests show the CLI exits 2 having written
 * nothing.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

const CLI = path.resolve(__dirname, '../../../apps/cli/dist/passthru.mjs');
const FIXTURE = path.resolve(__dirname, '../../../fixtures/hosts/intel-workstation');
let server: http.Server | undefined;
let dir: string | undefined;
afterEach(() => {
  server?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function serve(environment: object, extensions: string[]): Promise<{ lxdDir: string; requests: string[] }> {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-fake-'));
  const requests: string[] = [];
  server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.setHeader('Content-Type', 'application/json');
    if (req.url === '/1.0')
      res.end(JSON.stringify({ type: 'sync', status: 'Success', status_code: 200, metadata: { api_extensions: extensions, environment } }));
    else res.end(JSON.stringify({ type: 'error', error: 'not here', error_code: 404 }));
  });
  await new Promise<void>((resolve) => server!.listen(path.join(dir!, 'unix.socket'), resolve));
  return { lxdDir: dir, requests };
}

async function cli(lxdDir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, '--root', FIXTURE, ...args], { env: { ...process.env, LXD_DIR: lxdDir } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
const publish = (lxdDir: string) => cli(lxdDir, ['fleet', 'publish']);

describe('fleet publish refuses servers that cannot hold a fleet', () => {
  it('a standalone server (not a cluster): exit 2, only GET /1.0 asked', async () => {
    const { lxdDir, requests } = await serve({ server_clustered: false, server_name: 'solo' }, ['clustering', 'clustering_config', 'clustering_groups']);
    const r = await publish(lxdDir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('this server is not a cluster member');
    expect(requests).toEqual(['GET /1.0']);
  });

  it('a server without per-member user.* config: exit 2, names the extension', async () => {
    const { lxdDir, requests } = await serve({ server_clustered: true, server_name: 'old' }, ['clustering', 'clustering_groups']);
    const r = await publish(lxdDir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('per-member user.* configuration (API extension clustering_config)');
    expect(requests).toEqual(['GET /1.0']);
  });

  it('report asks LXD only with --cluster; on a standalone server that is exit 2 and no page is written', async () => {
    const { lxdDir, requests } = await serve({ server_clustered: false, server_name: 'solo' }, ['clustering', 'clustering_config', 'clustering_groups']);
    const plain = await cli(lxdDir, ['report', '--format', 'json']);
    expect(plain.code).toBe(0);
    expect(JSON.parse(plain.stdout)).not.toHaveProperty('cluster');
    expect(requests).toEqual([]);
    const page = path.join(lxdDir, 'report.html');
    const r = await cli(lxdDir, ['report', '--cluster', '--html', page]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('this server is not a cluster member');
    expect(requests).toEqual(['GET /1.0']);
    expect(fs.existsSync(page)).toBe(false);
  });
});
