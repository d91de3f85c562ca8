// The audit on Incus, without a daemon: its series, the rules Incus renamed or added, the trust
// tokens of both servers, the one rewording of a report, and the SARIF of an Incus audit. The real
// Incus daemon is auditIncus.integration.test.ts's.
import { describe, expect, it } from 'vitest';
import { auditInstance } from '../src/auditInstance';
import { AuditReportSchema, reportInVocabularyOf, type AuditReport } from '../src/auditLxd';
import { AUDIT_RULES, CHECKLIST } from '../src/auditRules';
import { auditSarif } from '../src/auditSarif';
import { auditServer } from '../src/auditServer';
import { parsePendingTokens } from '../src/auditTrust';
import { INCUS_SERIES, lxdSupport } from '../src/lxdSeries';
import { InstanceSchema, ServerSchema } from '../src/schemas';
import { INCUS, LXD } from '../src/servers';
import { instance } from './fakeLxd';
import { validateSarif } from './sarifValidator';

const LIMITED = { 'limits.cpu': '2', 'limits.memory': '2GiB', 'limits.processes': '2000', 'security.idmap.isolated': 'true' };
const inst = (name: string, config: Record<string, string>, type = 'container') =>
  InstanceSchema.parse(instance(name, { type, config: { ...LIMITED, ...config }, expanded_config: { ...LIMITED, ...config } }));
const ids = (f: { id: string; severity: string }[]) => f.map((x) => `${x.id}:${x.severity}`);
const incus = (config: Record<string, unknown>, version = '6.0.4') =>
  ServerSchema.parse({ config, environment: { server: 'incus', server_version: version, server_name: 'h1' } });
const lxd = (config: Record<string, unknown>, version = '5.21.1') =>
  ServerSchema.parse({ config, environment: { server_version: version, server_name: 'h1' } });
const TODAY = '2026-12-07';
/** A pending token as GET /1.0/operations?recursion=1 lists it (Incus 6.0.4, measured). */
const token = (name: string, extra: Record<string, unknown> = {}, request: Record<string, unknown> = {}) => ({
  id: `op-${name}`,
  class: 'token',
  status: 'Running',
  status_code: 103,
  metadata: {
    addresses: ['127.0.0.1:8443'],
    fingerprint: 'ab',
    secret: 'NEVER-SHOWN',
    request: { name, restricted: false, projects: [], type: 'client', ...request },
    ...extra,
  },
});

describe("Incus's series (Incus's doc/support.md)", () => {
  it('6.0 and 7.0 LTS within their dates; 7.x current feature releases; 6.1-6.23 and 0.x superseded', () => {
    const status = (v: string, today = TODAY) => lxdSupport(v, today, INCUS_SERIES).status;
    expect(status('6.0.4')).toBe('supported-lts');
    expect(status('6.0.4', '2029-07-01')).toBe('unsupported');
    expect(status('7.0.1')).toBe('supported-lts');
    expect(status('7.3')).toBe('feature-release');
    expect(status('6.23')).toBe('unsupported');
    expect(status('6.12', '2026-04-30')).toBe('feature-release');
    expect(status('0.7')).toBe('unsupported');
    expect(status('8.0')).toBe('unknown');
  });

  it('version findings keep their ids, judge Incus by its own table and advise an Incus LTS at or above the running one', () => {
    expect(auditServer(incus({}), [], TODAY)).toMatchObject({ support: { status: 'supported-lts' }, findings: [] });
    const old = auditServer(incus({}, '6.12'), [], TODAY).findings;
    expect(ids(old)).toEqual(['lxd-version-unsupported:high']);
    expect(old[0]!.summary).toBe('LXD 6.12 (feature series 6) is out of support since 2026-05-01: security fixes no longer reach it');
    expect(old[0]!.fix).toBe(
      "upgrade Incus to a supported LTS series: 7.0 (until 2031-06-30) (your distribution's Incus LTS packages, or Zabbly's LTS repository)",
    );
    expect(auditServer(incus({}, '6.0.4'), [], '2029-07-01').findings[0]!.fix).toContain('7.0 (until 2031-06-30)');
    expect(auditServer(incus({}, '7.3'), [], TODAY).findings.map((f) => f.id)).toEqual(['lxd-version-feature-release']);
    expect(auditServer(incus({}, '8.0'), [], TODAY).findings[0]!.fix).toContain('https://linuxcontainers.org/incus/docs/main/support/');
    // LXD's advice skips LTS series below the running version too (no downgrades).
    expect(auditServer(lxd({}, '5.13'), [], TODAY).findings[0]!.fix).toBe(
      'upgrade LXD to a supported LTS series: 5.21 (until 2029-06-30) (snap: snap refresh lxd --channel=5.21/stable)',
    );
  });
});

describe('the trust model: tokens (both servers), OIDC without authorization (Incus)', () => {
  it('parses pending certificate add tokens, never their secret; cluster join tokens and expiring tokens are not findings', () => {
    const ops = {
      running: [
        token('laptop'),
        token('ci', { expiresAt: '2026-12-07T07:04:55Z' }),
        token('old', { expiresAt: '0001-01-01T00:00:00Z' }),
        token('alice', {}, { restricted: true, projects: ['lab'] }),
        { id: 'join', class: 'token', status: 'Running', status_code: 103, metadata: { serverName: 'm2', secret: 's' } },
        { id: 'x', class: 'task', status: 'Running', status_code: 103, metadata: null },
      ],
      success: null,
    };
    const tokens = parsePendingTokens(ops);
    expect(tokens).toEqual([
      { name: 'alice', restricted: true, projects: ['lab'], expiresAt: null },
      { name: 'ci', restricted: false, projects: [], expiresAt: '2026-12-07T07:04:55Z' },
      { name: 'laptop', restricted: false, projects: [], expiresAt: null },
      { name: 'old', restricted: false, projects: [], expiresAt: null },
    ]);
    expect(parsePendingTokens(undefined)).toEqual([]);
    const f = auditServer(lxd({ 'core.https_address': '127.0.0.1:8443' }), [], TODAY, tokens).findings;
    expect(ids(f)).toEqual(['trust-token-no-expiry:medium', 'trust-token-no-expiry:medium', 'trust-token-no-expiry:low']);
    expect(f.find((x) => x.summary.includes('laptop'))).toEqual({
      id: 'trust-token-no-expiry',
      severity: 'medium',
      summary:
        'pending trust token laptop never expires (core.remote_token_expiry is unset): whoever obtains it becomes a trusted unrestricted client, i.e. host root, now or at any later time (revoke it unless it is about to be used)',
      fix: 'lxc config trust revoke-token laptop; lxc config set core.remote_token_expiry=15M (new tokens then expire after 15 minutes)',
    });
    // Made before the expiry was set: only the revocation is left to do.
    const later = auditServer(lxd({ 'core.remote_token_expiry': '1H' }), [], TODAY, tokens).findings;
    expect(later.find((x) => x.summary.includes('laptop'))!.fix).toBe('lxc config trust revoke-token laptop');
    expect(f.find((x) => x.severity === 'low')!.summary).toContain('client restricted to lab');
    expect(JSON.stringify(f)).not.toContain('NEVER-SHOWN');
  });

  it('oidc-full-access on Incus only: high beyond loopback, medium otherwise; an authorizer (OpenFGA, scriptlet) clears it', () => {
    const oidc = { 'oidc.issuer': 'https://id.example/', 'oidc.client.id': 'incus' };
    expect(ids(auditServer(incus({ ...oidc, 'core.https_address': ':8443' }), [], TODAY).findings)).toEqual([
      'oidc-full-access:high',
      'remote-api-exposed:medium',
    ]);
    const local = auditServer(incus(oidc), [], TODAY).findings;
    expect(local).toEqual([
      {
        id: 'oidc-full-access',
        severity: 'medium',
        summary:
          'oidc.issuer=https://id.example/ without authorization (no openfga.*, no authorization.scriptlet): every account of that identity provider gets full access to Incus, i.e. root on the host, once the remote API listens',
        fix: 'incus config unset oidc.issuer (or let an authorizer decide: openfga.api.url, openfga.api.token and openfga.store.id, or authorization.scriptlet)',
      },
    ]);
    const fga = { 'openfga.api.url': 'https://fga', 'openfga.api.token': 't', 'openfga.store.id': 's' };
    expect(auditServer(incus({ ...oidc, ...fga }), [], TODAY).findings).toEqual([]);
    expect(auditServer(incus({ ...oidc, 'authorization.scriptlet': 'def authorize(d, o, e):\n  return False' }), [], TODAY).findings).toEqual([]);
    expect(auditServer(incus({ 'oidc.issuer': 'https://id.example/' }), [], TODAY).findings).toEqual([]); // no client id: OIDC off
    expect(auditServer(lxd(oidc), [], TODAY).findings).toEqual([]); // not LXD's rule
  });

  it('remote-api-exposed names what Incus trusts (no trust password there)', () => {
    const [f] = auditServer(incus({ 'core.https_address': '[::]:8443' }), [], TODAY).findings;
    expect(f!.summary).toContain('a trusted certificate or a pending trust token is then host root');
    expect(f!.summary).not.toContain('trust password');
  });
});

describe('instances: the keys Incus renamed or added', () => {
  it('guest-api-images: security.devlxd.images on LXD, security.guestapi.images on Incus; unset, or overridden when from a profile', () => {
    expect(ids(auditInstance(inst('c1', { 'security.devlxd.images': 'true' })))).toEqual(['guest-api-images:low']);
    const [f] = auditInstance(inst('c1', { 'security.guestapi.images': 'true' }));
    expect(f).toMatchObject({ id: 'guest-api-images', fix: 'lxc config unset c1 security.guestapi.images' });
    expect(f!.summary).toMatch(/^security\.guestapi\.images=true: the container can download the host's public and cached images/);
    const profile = InstanceSchema.parse(instance('c2', { config: LIMITED, expanded_config: { ...LIMITED, 'security.guestapi.images': 'true' } }));
    expect(auditInstance(profile)[0]!.fix).toBe('lxc config set c2 security.guestapi.images=false');
    expect(auditInstance(inst('c1', { 'security.guestapi.images': 'false', 'security.guestapi': 'true' }))).toEqual([]);
  });

  it('bpf-delegation: the delegated types named, each key unset by the fix', () => {
    const f = auditInstance(
      inst('c1', { 'security.bpffs.delegate_cmds': 'any', 'security.bpffs.delegate_progs': 'kprobe', 'security.bpffs.path': '/sys/fs/bpf' }),
    );
    expect(f).toEqual([
      {
        id: 'bpf-delegation',
        severity: 'medium',
        summary:
          'BPF token delegation (security.bpffs.delegate_cmds=any, security.bpffs.delegate_progs=kprobe): the container uses these BPF commands, maps, programs and attach types against the host kernel',
        fix: 'lxc config unset c1 security.bpffs.delegate_cmds; lxc config unset c1 security.bpffs.delegate_progs',
      },
    ]);
  });

  it("raw-qemu covers Incus's QMP hooks and scriptlet", () => {
    const [f] = auditInstance(
      inst('v1', { 'raw.qemu.qmp.early': '[{"execute":"x"}]', 'raw.qemu.scriptlet': 'def qemu_hook(s, n):\n  pass' }, 'virtual-machine'),
    );
    expect(f).toMatchObject({
      id: 'raw-qemu',
      summary: 'raw.qemu.qmp.early, raw.qemu.scriptlet: options, QMP commands or a scriptlet passed to QEMU directly',
      fix: 'review them; lxc config unset v1 raw.qemu.qmp.early; lxc config unset v1 raw.qemu.scriptlet',
    });
  });
});

/** An Incus audit's report from the functions above, as auditLxd makes it (then reworded). */
function incusReport(): AuditReport {
  const s = auditServer(incus({ 'oidc.issuer': 'https://id.example/', 'oidc.client.id': 'incus' }, '6.12'), [], TODAY);
  const c = inst('c1', {
    'security.privileged': 'true',
    'security.nesting': 'true',
    'security.guestapi.images': 'true',
    'raw.lxc': 'lxc.cgroup2.devices.allow = a',
  });
  return reportInVocabularyOf(
    INCUS,
    AuditReportSchema.parse({
      instances: [{ name: 'c1', project: 'default', type: 'container', findings: auditInstance(c) }],
      projects: [],
      host: { socket: null, findings: [] },
      server: { server: 'incus', name: 'h1', version: '6.12', support: s.support!.status, findings: s.findings },
    }),
  );
}

describe('one rewording, and the SARIF of an Incus audit', () => {
  it("every summary and fix of an Incus report is in Incus's words; an LXD report is left as it is", () => {
    const report = incusReport();
    const texts = [...report.server.findings, ...report.instances[0]!.findings].flatMap((f) => [f.summary, f.fix]);
    for (const t of texts) expect(t).not.toMatch(/\blxc (config|profile|project)\b|\bLXD\b|security\.devlxd|\/dev\/lxd\b/);
    expect(report.instances[0]!.findings.find((f) => f.id === 'privileged')!.fix).toMatch(/^incus config unset c1 security\.privileged/);
    expect(report.instances[0]!.findings.find((f) => f.id === 'guest-api-images')!.summary).toContain('through the guest API (/dev/incus)');
    expect(report.server.findings.find((f) => f.id === 'lxd-version-unsupported')!.summary).toMatch(/^Incus 6\.12 /);
    expect(report.instances[0]!.findings.find((f) => f.id === 'raw-lxc-devices-allow')!.summary).toContain('raw.lxc lxc.cgroup2.devices.allow = a');
    const lxdReport = { ...report, server: { ...report.server, server: 'lxd' as const } };
    expect(reportInVocabularyOf(LXD, lxdReport)).toBe(lxdReport);
  });

  it("rule text in Incus's words, links to Incus's pages, tag incus; the official validator accepts it", () => {
    const log = auditSarif(incusReport(), '0.1.0');
    const rules = log.runs[0]!.tool.driver.rules!;
    for (const r of rules) {
      expect(r.helpUri, r.id).toMatch(/^https:\/\/(linuxcontainers\.org\/incus\/docs\/main\/|docs\.kernel\.org)/);
      expect(`${r.shortDescription!.text} ${r.fullDescription!.text} ${r.help!.text}`, r.id).not.toMatch(/\bLXD\b|\blxc config\b|security\.devlxd/);
      expect(r.properties!.tags).toContain('incus');
    }
    expect(rules.find((r) => r.id === 'guest-api-images')!.helpUri).toBe(CHECKLIST.guestApi.incus);
    expect(rules.find((r) => r.id === 'oidc-full-access')!.help!.text).toContain('Checklist: Authorize OpenID Connect users');
    expect(validateSarif(log).filter((p) => p.level === 'error')).toEqual([]);
  });

  it('the rules that fire on one server only say so', () => {
    const only = AUDIT_RULES.filter((r) => r.servers).map((r) => `${r.id}:${r.servers!.join(',')}`);
    expect(only).toEqual(['remote-api-trust-password:lxd', 'oidc-full-access:incus', 'bpf-delegation:incus']);
    for (const r of AUDIT_RULES.filter((x) => x.servers)) expect(r.help, r.id).toMatch(/^(LXD|Incus) only/);
  });
});
