/**
 * The LXD security checklist against a REAL LXD daemon (tools/provision/lxd.sh, as in
 * lxd.integration.test.ts): every configurable finding is raised by setting its configuration on a
 * real instance, project or the server, and is gone once its own fix line has run. The remote API
 * listens on a free 127.0.0.1 port only. Fails (never skips) when LXD cannot be provisioned.
 * Cleans up its `aud16-<random>-*` instances, project, certificate and token, and restores the server config.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { HostFs } from '@passthru/hostfs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LxdClient } from '../src/LxdClient';
import { isSerious, type Finding } from '../src/Finding';
import { auditLxd, type AuditReport } from '../src/auditLxd';
import { auditSarif } from '../src/auditSarif';
import { validateSarif } from './sarifValidator';
import { freePort, provisionDaemon } from './realDaemon';

const execFileAsync = promisify(execFile);
const id = randomBytes(3).toString('hex');
const name = (s: string) => `aud16-${id}-${s}`;
const project = `aud16${id}`;
const host = new HostFs('/');
const created: string[] = [];
let env: NodeJS.ProcessEnv;
let client: LxdClient;
let tmp: string;
let originalServerConfig: Record<string, string> = {};
let certFingerprint: string | undefined;

/** stdin closed unless given: lxc reads YAML from a stdin that is not a terminal. */
const lxc = async (args: string[], input?: string) => {
  const p = execFileAsync('lxc', args, { env, timeout: 60_000 });
  if (input !== undefined) p.child.stdin?.end(input);
  else p.child.stdin?.end();
  return (await p).stdout;
};
const launch = async (n: string, start: boolean, config: Record<string, string>) => {
  created.push(n);
  await lxc([start ? 'launch' : 'init', 'passthru-busybox', n, ...Object.entries(config).flatMap(([k, v]) => ['-c', `${k}=${v}`])]);
};
const LIMITS = { 'limits.cpu': '1', 'limits.memory': '128MiB', 'limits.processes': '200' };

/**
 * Runs a finding's fix: its `;`-separated `lxc ...` commands, each without the trailing
 * "(...)" note; `extra` arguments are appended to every command (the note's advice, where needed).
 */
async function applyFix(finding: Finding, extra: string[] = []): Promise<void> {
  for (const part of finding.fix.split('; ')) {
    const command = part.replace(/\s+\(.*\)$/, '').trim();
    expect(command, `fix of ${finding.id}: ${finding.fix}`).toMatch(/^lxc /);
    await lxc([...command.split(/\s+/).slice(1), ...extra]);
  }
}
const of = (report: AuditReport, instance: string) => report.instances.find((i) => i.name === instance)!.findings;
const byId = (findings: Finding[], findingId: string) => findings.find((f) => f.id === findingId);

beforeAll(async () => {
  const daemon = provisionDaemon('lxd');
  env = daemon.env;
  client = daemon.client;
  originalServerConfig = (await client.getServer()).config;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pt-aud16-'));
}, 320_000);

afterAll(async () => {
  if (!env) return;
  await Promise.all(created.map((n) => lxc(['delete', '-f', n]).catch(() => undefined)));
  await lxc(['project', 'delete', project]).catch(() => undefined);
  if (certFingerprint) await lxc(['config', 'trust', 'remove', certFingerprint.slice(0, 12)]).catch(() => undefined);
  // Back to the server config found at the start (LXD 5.0 stores "false" for an unset
  // core.metrics_authentication, so "true", its default, is what removes the key).
  await lxc(['config', 'trust', 'revoke-token', name('tok')]).catch(() => undefined);
  for (const key of ['core.https_address', 'core.trust_password', 'core.metrics_address', 'core.remote_token_expiry']) {
    if (originalServerConfig[key] === undefined) await lxc(['config', 'unset', key]).catch(() => undefined);
  }
  if (originalServerConfig['core.metrics_authentication'] === undefined)
    await lxc(['config', 'set', 'core.metrics_authentication=true']).catch(() => undefined);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}, 120_000);

describe('audit against the LXD security checklist (real daemon)', { timeout: 60_000 }, () => {
  it('syscall intercepts, deny_default, kernel modules, raw.lxc capabilities and a bridged NIC: raised, then gone after their fix lines', async () => {
    const c = name('sys');
    await launch(c, false, {
      ...LIMITS,
      'security.syscalls.intercept.mount': 'true',
      'security.syscalls.intercept.mount.allowed': 'ext4',
      'security.syscalls.intercept.mount.shift': 'true',
      'security.syscalls.intercept.mknod': 'true',
      'security.syscalls.intercept.setxattr': 'true',
      'security.syscalls.intercept.bpf': 'true',
      'security.syscalls.intercept.bpf.devices': 'true',
      'security.syscalls.deny_default': 'false',
      'linux.kernel_modules': 'dummy',
      'raw.lxc': 'lxc.cap.drop =',
    });
    // A bridged NIC on a bridge that does not exist: LXD accepts it on a stopped container, which is never started.
    await lxc(['config', 'device', 'add', c, 'eth0', 'nic', 'nictype=bridged', `parent=aud16${id}br`]);
    const before = of(await auditLxd(client, host, { instances: [c] }), c);
    const expected = {
      'syscalls-intercept-mount': 'high',
      'syscalls-intercept-mknod': 'low',
      'syscalls-intercept-setxattr': 'low',
      'syscalls-intercept-bpf': 'medium',
      'syscalls-deny-default-off': 'medium',
      'kernel-modules': 'medium',
      'raw-lxc-capabilities': 'high',
      'nic-mac-filtering-off': 'medium',
      'nic-ip-filtering-off': 'low',
      'nic-port-isolation-off': 'low',
    };
    for (const [findingId, severity] of Object.entries(expected)) expect(byId(before, findingId), findingId).toMatchObject({ severity });
    for (const findingId of Object.keys(expected)) {
      const f = byId(before, findingId)!;
      if (findingId === 'raw-lxc-capabilities')
        await lxc(['config', 'unset', c, 'raw.lxc']); // its fix: remove the line from raw.lxc
      // The fix's note: an unmanaged bridge needs the NIC's addresses for IP filtering (documentation ranges, never used).
      else await applyFix(f, findingId === 'nic-ip-filtering-off' ? ['ipv4.address=192.0.2.10', 'ipv6.address=2001:db8::10'] : []);
    }
    const after = of(await auditLxd(client, host, { instances: [c] }), c);
    for (const findingId of Object.keys(expected)) expect(byId(after, findingId), findingId).toBeUndefined();
    expect(after.every((f) => f.severity === 'low')).toBe(true);
  });

  it('limits: an unlimited container is medium until its fix; a clean, unprivileged, limited (running) container has no finding above low', async () => {
    const [bare, clean] = [name('bare'), name('clean')];
    await Promise.all([launch(bare, false, {}), launch(clean, true, LIMITS)]);
    const report = await auditLxd(client, host, { instances: [bare, clean] });
    expect(byId(of(report, bare), 'limits-missing')).toMatchObject({
      severity: 'medium',
      summary: expect.stringContaining('limits.cpu, limits.memory, limits.processes'),
    });
    expect(of(report, clean).filter((f) => f.severity !== 'low')).toEqual([]);
    await applyFix(byId(of(report, bare), 'limits-missing')!);
    expect(byId(of(await auditLxd(client, host, { instances: [bare] }), bare), 'limits-missing')).toBeUndefined();
  });

  it('Docker in LXD: a privileged Docker host is docker-unsafe; the fix applies the safe pattern, which has nothing above low', async () => {
    const d = name('docker');
    await launch(d, false, { ...LIMITS, 'security.privileged': 'true', 'security.nesting': 'true' });
    const before = of(await auditLxd(client, host, { instances: [d] }), d);
    const unsafe = byId(before, 'docker-unsafe')!;
    expect(unsafe).toMatchObject({
      severity: 'critical',
      fix: expect.stringContaining('security.syscalls.intercept.mknod=true security.syscalls.intercept.setxattr=true'),
    });
    await applyFix(unsafe);
    const { instance } = await client.getInstance(d);
    expect(instance.config).toMatchObject({
      'security.nesting': 'true',
      'security.syscalls.intercept.mknod': 'true',
      'security.syscalls.intercept.setxattr': 'true',
    });
    expect(instance.config['security.privileged']).toBeUndefined();
    const after = of(await auditLxd(client, host, { instances: [d] }), d);
    expect(after.map((f) => f.id)).not.toContain('docker-unsafe');
    expect(after.map((f) => `${f.id}:${f.severity}`)).toEqual(
      expect.arrayContaining(['nesting:low', 'syscalls-intercept-mknod:low', 'syscalls-intercept-setxattr:low']),
    );
    expect(after.filter((f) => f.severity !== 'low')).toEqual([]);
  });

  it('a project without limits, until its fix line', async () => {
    await lxc(['project', 'create', project]);
    const report = await auditLxd(client, host, { project });
    const f = byId(report.projects[0]!.findings, 'project-limits-missing')!;
    expect(f).toMatchObject({
      severity: 'low',
      fix: `lxc project set ${project} limits.cpu=8 limits.memory=16GiB limits.processes=20000 (example values: size them to the host)`,
    });
    await applyFix(f);
    expect(byId((await auditLxd(client, host, { project })).projects[0]!.findings, 'project-limits-missing')).toBeUndefined();
  });

  it('the server: remote API on loopback with a trust password, an unrestricted client certificate, open metrics; audited over the remote API too; gone after the fixes', async () => {
    const [apiPort, metricsPort] = [await freePort(), await freePort()];
    await lxc([
      'config',
      'set',
      `core.https_address=127.0.0.1:${apiPort}`,
      'core.trust_password=aud16-not-a-secret',
      `core.metrics_address=127.0.0.1:${metricsPort}`,
      'core.metrics_authentication=false',
    ]);
    const key = path.join(tmp, 'client.key');
    const crt = path.join(tmp, 'client.crt');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        crt,
        '-days',
        '1',
        '-subj',
        `/CN=${name('cert')}`,
      ],
      { stdio: 'ignore' },
    );
    await lxc(['config', 'trust', 'add', crt, '--name', name('cert')]);
    const fp = (await client.listCertificates()).find((c) => c.name === name('cert'))!.fingerprint;
    certFingerprint = fp;
    // A certificate add token, made while core.remote_token_expiry is unset: it never expires.
    await lxc(['config', 'trust', 'add', '--name', name('tok')]);

    const report = await auditLxd(client, host, {});
    const server = report.server.findings;
    expect(report.server).toMatchObject({
      version: expect.stringMatching(/^\d+\.\d+/),
      support: expect.stringMatching(/^(supported-lts|feature-release|unsupported|unknown)$/),
    });
    expect(byId(server, 'remote-api-trust-password')).toMatchObject({ severity: 'high', fix: expect.stringMatching(/^lxc config unset core\.trust_password/) });
    expect(byId(server, 'certificate-unrestricted')).toMatchObject({
      severity: 'medium',
      summary: expect.stringContaining(name('cert')),
      fix: expect.stringContaining(`lxc config trust edit ${fp.slice(0, 12)}`),
    });
    expect(byId(server, 'metrics-unauthenticated')).toMatchObject({ severity: 'low' });
    const token = server.find((f) => f.id === 'trust-token-no-expiry' && f.summary.includes(name('tok')));
    expect(token).toMatchObject({
      severity: 'medium',
      fix: `lxc config trust revoke-token ${name('tok')}; lxc config set core.remote_token_expiry=15M (new tokens then expire after 15 minutes)`,
    });
    expect(byId(server, 'remote-api-exposed')).toBeUndefined(); // loopback only

    // The same audit over HTTPS, as the (still unrestricted) client, pinning LXD's server certificate.
    const remote = new LxdClient({
      kind: 'https',
      url: `https://127.0.0.1:${apiPort}`,
      cert: fs.readFileSync(crt),
      key: fs.readFileSync(key),
      serverCert: fs.readFileSync(path.join(env.LXD_DIR!, 'server.crt')),
    });
    const overHttps = await auditLxd(remote, undefined, {});
    expect(overHttps.server.findings.map((f) => f.id)).toEqual(server.map((f) => f.id));
    expect(overHttps.host.socket).toBeNull();

    // The fixes: unset the password; metrics authentication back on; restrict the certificate (the fix's `lxc config trust edit`).
    await applyFix(byId(server, 'remote-api-trust-password')!);
    await applyFix(byId(server, 'metrics-unauthenticated')!);
    await applyFix(token!);
    const shown = await lxc(['config', 'trust', 'show', fp.slice(0, 12)]);
    await lxc(
      ['config', 'trust', 'edit', fp.slice(0, 12)],
      shown.replace(/^restricted: false$/m, 'restricted: true').replace(/^projects: \[\]$/m, 'projects:\n- default'),
    );
    const fixed = (await auditLxd(client, host, {})).server.findings.map((f) => f.id);
    for (const findingId of ['remote-api-trust-password', 'certificate-unrestricted', 'metrics-unauthenticated', 'trust-token-no-expiry'])
      expect(fixed).not.toContain(findingId);
  });

  it('the SARIF log of a real audit is accepted by the official validator', async () => {
    const report = await auditLxd(client, host, { all: true });
    const log = auditSarif(report, '0.0.0-test');
    const found = [
      ...report.server.findings,
      ...report.host.findings,
      ...report.projects.flatMap((p) => p.findings),
      ...report.instances.flatMap((i) => i.findings),
    ];
    expect(log.runs[0]!.results).toHaveLength(found.length);
    expect(log.runs[0]!.results!.filter((r) => r.level === 'error')).toHaveLength(found.filter(isSerious).length);
    expect(validateSarif(log).filter((p) => p.level === 'error')).toEqual([]);
  });
});
