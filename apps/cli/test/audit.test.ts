// `passthru audit` formats, against a fake LXD on a unix socket ($LXD_DIR/unix.socket); the
// findings themselves and the real daemon are lxd-device-attach's tests.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import type { Log } from 'sarif';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { instance, startFakeLxd, sync } from '../../../packages/lxd-device-attach/test/fakeLxd';
import { runCli } from '../src/cli';
import { repo } from './runCli';

let lxd: Awaited<ReturnType<typeof startFakeLxd>>;
const LIMITS = { 'limits.cpu': '1', 'limits.memory': '1GiB', 'limits.processes': '100' };

beforeAll(async () => {
  lxd = await startFakeLxd((req) => {
    const url = req.url.split('?')[0];
    if (url === '/1.0')
      return sync({
        config: { 'core.https_address': '127.0.0.1:8443', 'core.trust_password': true },
        environment: { server_version: '5.0.2', server_name: 'fake' },
      });
    if (url === '/1.0/projects/default') return sync({ name: 'default', config: {} });
    if (url === '/1.0/certificates' || url === '/1.0/networks') return sync([]);
    if (url === '/1.0/instances')
      return sync([
        instance('docker1', { config: { ...LIMITS, 'security.privileged': 'true' }, expanded_config: { ...LIMITS, 'security.privileged': 'true' } }),
        instance('web', { config: LIMITS, expanded_config: { ...LIMITS, 'security.nesting': 'true' } }),
        instance('idle', { config: LIMITS, expanded_config: LIMITS }),
      ]);
    return undefined;
  });
});
afterAll(() => lxd.close());

async function audit(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const [stdout, stderr] = [new PassThrough(), new PassThrough()];
  let [out, err] = ['', ''];
  stdout.on('data', (c) => (out += c));
  stderr.on('data', (c) => (err += c));
  const code = await runCli(argv, { stdout, stderr, env: { NO_COLOR: '1', LXD_DIR: path.dirname(lxd.socketPath) } });
  return { code, stdout: out, stderr: err };
}

describe('passthru audit formats', () => {
  it('--format sarif: one SARIF 2.1.0 log, driver passthru, one rule per finding id, one result per finding with ruleId and level', async () => {
    for (const argv of [
      ['audit', '--format', 'sarif'],
      ['--format', 'sarif', 'audit'],
    ]) {
      const r = await audit(...argv);
      expect(r.code, r.stderr).toBe(1); // a critical finding
      const log = JSON.parse(r.stdout) as Log;
      const json = JSON.parse((await audit('audit', '--format', 'json')).stdout);
      const findings = [
        ...json.server.findings,
        ...json.host.findings,
        ...json.projects.flatMap((p: { findings: unknown[] }) => p.findings),
        ...json.instances.flatMap((i: { findings: unknown[] }) => i.findings),
      ] as { id: string; severity: string }[];
      expect(log.version).toBe('2.1.0');
      expect(log.runs).toHaveLength(1);
      expect(log.runs[0]!.tool.driver.name).toBe('passthru');
      expect(log.runs[0]!.tool.driver.rules!.map((x) => x.id)).toEqual([...new Set(findings.map((f) => f.id))].sort());
      expect(log.runs[0]!.results!.map((x) => `${x.ruleId}:${x.level}`)).toEqual(
        findings.map((f) => `${f.id}:${{ critical: 'error', high: 'error', medium: 'warning', low: 'note' }[f.severity]}`),
      );
      expect(log.runs[0]!.results!.map((x) => x.ruleId)).toEqual(expect.arrayContaining(['docker-unsafe', 'remote-api-trust-password', 'nesting']));
    }
  });

  it('--format json carries the server section and matches the committed schema; the table has a server row', async () => {
    const json = JSON.parse((await audit('audit', '--format', 'json')).stdout);
    expect(json.server).toMatchObject({
      name: 'fake',
      version: '5.0.2',
      support: 'supported-lts',
      findings: [expect.objectContaining({ id: 'remote-api-trust-password', severity: 'high' })],
    });
    const schema = z.fromJSONSchema(JSON.parse(fs.readFileSync(path.join(repo, 'docs/schemas/audit.schema.json'), 'utf8')));
    expect(schema.safeParse(json).success).toBe(true);
    const table = (await audit('audit')).stdout;
    expect(table).toMatch(/server fake \(LXD 5\.0\.2\)\s+high\s+remote-api-trust-password/);
  });

  it('on Incus: the table and JSON name the server audited, every fix line is incus, no trust-password finding', async () => {
    const incus = await startFakeLxd((req) => {
      const url = req.url.split('?')[0];
      if (url === '/1.0')
        return sync({
          config: { 'core.https_address': '127.0.0.1:8443', 'oidc.issuer': 'https://id.example/', 'oidc.client.id': 'incus' },
          environment: { server: 'incus', server_version: '6.0.4', server_name: 'fake' },
        });
      if (url === '/1.0/projects/default') return sync({ name: 'default', config: {} });
      if (url === '/1.0/certificates' || url === '/1.0/networks') return sync([]);
      if (url === '/1.0/instances')
        return sync([instance('c1', { config: LIMITS, expanded_config: { ...LIMITS, 'security.privileged': 'true', 'security.guestapi.images': 'true' } })]);
      return undefined;
    });
    try {
      const run = async (...argv: string[]) => {
        const [stdout, stderr] = [new PassThrough(), new PassThrough()];
        let out = '';
        stdout.on('data', (c) => (out += c));
        const code = await runCli(argv, { stdout, stderr, env: { NO_COLOR: '1', INCUS_DIR: path.dirname(incus.socketPath) } });
        return { code, stdout: out };
      };
      const json = JSON.parse((await run('audit', '--server', 'incus', '--format', 'json')).stdout);
      expect(json.server).toMatchObject({ server: 'incus', name: 'fake', version: '6.0.4', support: 'supported-lts' });
      const findings = [...json.server.findings, ...json.instances.flatMap((i: { findings: unknown[] }) => i.findings)] as { id: string; fix: string }[];
      expect(findings.map((f) => f.id)).toEqual(expect.arrayContaining(['oidc-full-access', 'privileged', 'guest-api-images']));
      expect(findings.map((f) => f.id)).not.toContain('remote-api-trust-password');
      for (const f of findings) expect(f.fix, f.id).not.toMatch(/\blxc (config|profile|project)\b/);
      expect(findings.find((f) => f.id === 'privileged')!.fix).toMatch(/^incus config unset c1 security\.privileged /);
      const table = await run('audit', '--server', 'incus');
      expect(table.code).toBe(1);
      expect(table.stdout).toMatch(/server fake \(Incus 6\.0\.4\)\s+medium\s+oidc-full-access/);
      const log = JSON.parse((await run('audit', '--server', 'incus', '--format', 'sarif')).stdout) as Log;
      expect(log.runs[0]!.tool.driver.rules!.find((r) => r.id === 'guest-api-images')!.helpUri).toBe('https://linuxcontainers.org/incus/docs/main/dev-incus/');
    } finally {
      await incus.close();
    }
  });

  it("sarif is audit's format only: other commands refuse it as usage", async () => {
    const r = await audit('--root', path.join(repo, 'fixtures/hosts/intel-workstation'), 'list', '--format', 'sarif');
    expect(r.code).toBe(2);
    const g = await audit('--root', path.join(repo, 'fixtures/hosts/intel-workstation'), '--format', 'sarif', 'groups');
    expect(g.code).toBe(2);
    expect(g.stderr).toContain('--format must be one of table, json');
  });
});
