/**
 * `audit` against a REAL Incus daemon (tools/provision/incus.sh, through realDaemon.ts; it fails
 * with the install command, never skips). Each finding is raised by real configuration on Incus
 * and is gone once its own fix line has run through the real `incus` client: the Incus-only one
 * (OIDC without authorization), the renamed key (security.guestapi.images), a pending trust token
 * (Incus's way in, with no trust password), and the LXD findings that apply to Incus, whose fix
 * lines must be `incus ...`, never `lxc ...`. The SARIF of the Incus audit passes the official
 * validator. The remote API listens on a free 127.0.0.1 port only, for the token. Removes its
 * `pt-ia-<random>-*` containers, `ptia<random>` project and token; restores the server's config.
 */
import { randomBytes } from 'node:crypto';
import { HostFs } from '@passthru/hostfs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLxd, type AuditReport } from '../src/auditLxd';
import { auditSarif } from '../src/auditSarif';
import { isSerious, type Finding } from '../src/Finding';
import { provisionDaemon, type RealDaemon, freePort } from './realDaemon';
import { validateSarif } from './sarifValidator';

const id = randomBytes(3).toString('hex');
const name = (s: string) => `pt-ia-${id}-${s}`;
const project = `ptia${id}`;
const host = new HostFs('/');
const created: string[] = [];
/** Server keys this suite sets; afterAll puts back what it found. */
const SERVER_KEYS = ['core.https_address', 'core.remote_token_expiry', 'oidc.issuer', 'oidc.client.id', 'core.trust_password'];
const LIMITS = { 'limits.cpu': '1', 'limits.memory': '128MiB', 'limits.processes': '200', 'security.idmap.isolated': 'true' };
let incus: RealDaemon;
let original: Record<string, string> = {};

/** Any word of LXD's vocabulary in a summary or fix line audited on Incus. */
const LXD_WORDS =
  /(^|[\s(`'"=;])lxc (config|profile|project|cluster|launch|init|start|stop|exec|query|storage|network|image)\b|\bLXD\b|security\.devlxd|\/dev\/lxd\b/;

const create = async (n: string, config: Record<string, string>) => {
  created.push(n);
  await incus.cli('init', 'passthru-busybox', n, ...Object.entries(config).flatMap(([k, v]) => ['-c', `${k}=${v}`]));
};
/** Runs a fix line as written with the real `incus`: its `;`-separated commands, without the "(...)" notes. */
async function applyFix(finding: Finding): Promise<void> {
  for (const part of finding.fix.replace(/\s*\([^()]*\)/g, '').split(';')) {
    const command = part.trim();
    expect(command, `fix of ${finding.id}: ${finding.fix}`).toMatch(/^incus /);
    await incus.cli(...command.split(/\s+/).slice(1));
  }
}
const audit = (request: Parameters<typeof auditLxd>[2]) => auditLxd(incus.client, host, request);
const of = (report: AuditReport, instance: string) => report.instances.find((i) => i.name === instance)!.findings;
const byId = (findings: Finding[], findingId: string) => findings.find((f) => f.id === findingId);
const everyFinding = (r: AuditReport) => [
  ...r.server.findings,
  ...r.host.findings,
  ...r.projects.flatMap((p) => p.findings),
  ...r.instances.flatMap((i) => i.findings),
];

beforeAll(async () => {
  incus = provisionDaemon('incus');
  original = (await incus.client.getServer()).config;
}, 320_000);

afterAll(async () => {
  if (!incus) return;
  await Promise.all(created.map((n) => incus.cli('delete', '-f', n).catch(() => undefined)));
  await incus.cli('project', 'delete', project).catch(() => undefined);
  await incus.cli('config', 'trust', 'revoke-token', name('tok')).catch(() => undefined);
  for (const key of SERVER_KEYS) {
    if (original[key] === undefined) await incus.cli('config', 'unset', key).catch(() => undefined);
    else await incus.cli('config', 'set', `${key}=${original[key]}`).catch(() => undefined);
  }
}, 120_000);

describe('audit on a real Incus daemon', { timeout: 60_000 }, () => {
  it('names the server it audited: Incus, its version, a supported LTS; no trust-password finding can exist there', async () => {
    const report = await audit({});
    expect(report.server).toMatchObject({ server: 'incus', version: expect.stringMatching(/^\d+\.\d+/) });
    if (report.server.version!.startsWith('6.0.')) expect(report.server.support).toBe('supported-lts');
    expect(report.server.findings.map((f) => f.id)).not.toContain('remote-api-trust-password');
    // Incus refuses the key itself: the LXD finding has nothing to read there.
    await expect(incus.cli('config', 'set', 'core.trust_password=pt-ia-not-a-secret')).rejects.toThrow(/core\.trust_password/);
  });

  it('Incus only: OIDC without an authorizer is oidc-full-access, gone after its own fix line', async () => {
    // An issuer nobody answers (Incus reads its discovery document lazily); the remote API does not listen.
    await incus.cli('config', 'set', 'oidc.issuer=https://127.0.0.1:9/', `oidc.client.id=${name('oidc')}`);
    const f = byId((await audit({})).server.findings, 'oidc-full-access');
    expect(f).toMatchObject({ severity: 'medium', fix: expect.stringMatching(/^incus config unset oidc\.issuer \(/) });
    expect(f!.summary).toContain('every account of that identity provider gets full access to Incus');
    await applyFix(f!);
    expect((await incus.client.getServer()).config['oidc.issuer']).toBeUndefined();
    expect(byId((await audit({})).server.findings, 'oidc-full-access')).toBeUndefined();
  });

  it('the renamed key: security.guestapi.images is guest-api-images, worded for /dev/incus, gone after its fix line', async () => {
    const c = name('guest');
    await create(c, { ...LIMITS, 'security.guestapi.images': 'true' });
    const f = byId(of(await audit({ instances: [c] }), c), 'guest-api-images')!;
    expect(f).toEqual({
      id: 'guest-api-images',
      severity: 'low',
      summary: "security.guestapi.images=true: the container can download the host's public and cached images through the guest API (/dev/incus)",
      fix: `incus config unset ${c} security.guestapi.images`,
    });
    await applyFix(f);
    expect(of(await audit({ instances: [c] }), c)).toEqual([]);
  });

  it("a pending trust token (Incus's way in) that never expires: raised, then gone after its fix lines", async () => {
    await incus.cli('config', 'set', `core.https_address=127.0.0.1:${await freePort()}`);
    await incus.cli('config', 'trust', 'add', name('tok'));
    const server = (await audit({})).server.findings;
    const f = server.find((x) => x.id === 'trust-token-no-expiry' && x.summary.includes(name('tok')))!;
    expect(f).toMatchObject({
      severity: 'medium',
      fix: `incus config trust revoke-token ${name('tok')}; incus config set core.remote_token_expiry=15M (new tokens then expire after 15 minutes)`,
    });
    expect(byId(server, 'remote-api-exposed')).toBeUndefined(); // loopback only
    await applyFix(f);
    const after = (await audit({})).server.findings;
    expect(after.filter((x) => x.summary.includes(name('tok')))).toEqual([]);
    expect((await incus.client.getServer()).config['core.remote_token_expiry']).toBe('15M');
    await incus.cli('config', 'unset', 'core.https_address');
  });

  it('the LXD findings that apply to Incus carry incus fix lines (none names lxc or LXD) and are gone after them', async () => {
    const c = name('priv');
    await create(c, { 'security.privileged': 'true', 'security.nesting': 'true', 'raw.lxc': 'lxc.cgroup2.devices.allow = c 1:3 rwm' });
    await incus.cli('project', 'create', project);
    const report = await audit({ instances: [c] });
    const findings = of(report, c);
    expect(findings.map((f) => `${f.id}:${f.severity}`)).toEqual(
      expect.arrayContaining(['privileged:critical', 'nesting:critical', 'raw-lxc-devices-allow:critical', 'limits-missing:medium']),
    );
    for (const f of everyFinding(report)) {
      expect(f.summary, f.id).not.toMatch(LXD_WORDS);
      expect(f.fix, f.id).not.toMatch(LXD_WORDS);
    }
    expect(byId(findings, 'privileged')!.fix).toMatch(new RegExp(`^incus config unset ${c} security\\.privileged \\(`));
    expect(byId(findings, 'raw-lxc-devices-allow')!.summary).toBe("raw.lxc lxc.cgroup2.devices.allow = c 1:3 rwm: opens host device nodes behind Incus's back");
    for (const findingId of ['privileged', 'nesting', 'limits-missing']) await applyFix(byId(findings, findingId)!);
    await incus.cli('config', 'unset', c, 'raw.lxc'); // its fix: remove the line from raw.lxc
    const after = of(await audit({ instances: [c] }), c);
    for (const findingId of ['privileged', 'nesting', 'raw-lxc-devices-allow', 'limits-missing']) expect(byId(after, findingId), findingId).toBeUndefined();
    await applyFix(byId(after, 'idmap-shared')!);
    expect(of(await audit({ instances: [c] }), c)).toEqual([]);

    const p = byId((await audit({ project })).projects[0]!.findings, 'project-limits-missing')!;
    expect(p.fix).toBe(`incus project set ${project} limits.cpu=8 limits.memory=16GiB limits.processes=20000 (example values: size them to the host)`);
    await applyFix(p);
    expect(byId((await audit({ project })).projects[0]!.findings, 'project-limits-missing')).toBeUndefined();
  });

  it('the SARIF log of the Incus audit passes the official validator, in Incus words with Incus links', async () => {
    const c = name('sarif');
    await create(c, { 'security.privileged': 'true', 'security.guestapi.images': 'true' });
    await incus.cli('config', 'set', 'oidc.issuer=https://127.0.0.1:9/', `oidc.client.id=${name('oidc')}`);
    const report = await audit({ all: true });
    await incus.cli('config', 'unset', 'oidc.issuer');
    const log = auditSarif(report, '0.0.0-test');
    const found = everyFinding(report);
    const run = log.runs[0]!;
    expect(run.results).toHaveLength(found.length);
    expect(run.results!.filter((r) => r.level === 'error')).toHaveLength(found.filter(isSerious).length);
    expect(run.results!.map((r) => r.ruleId)).toEqual(expect.arrayContaining(['oidc-full-access', 'guest-api-images', 'privileged']));
    for (const r of run.tool.driver.rules!) {
      expect(r.properties!.tags, r.id).toContain('incus');
      expect(`${r.fullDescription!.text} ${r.help!.text}`, r.id).not.toMatch(LXD_WORDS);
      expect(r.helpUri, r.id).toMatch(/^https:\/\/(linuxcontainers\.org\/incus\/|docs\.kernel\.org\/)/);
    }
    expect(validateSarif(log).filter((p) => p.level === 'error')).toEqual([]);
  });
});
