import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditInstance, auditProject } from '../src/auditInstance';
import { dockerSigns } from '../src/dockerSigns';
import { AuditReportSchema, allFindings, type AuditReport } from '../src/auditLxd';
import { AUDIT_RULES, AUDIT_RULE_IDS } from '../src/auditRules';
import { SARIF_LEVEL, auditSarif } from '../src/auditSarif';
import { auditServer, listenScope } from '../src/auditServer';
import { lxdSupport } from '../src/lxdSeries';
import { InstanceSchema, ServerSchema } from '../src/schemas';
import { instance } from './fakeLxd';
import { validateSarif } from './sarifValidator';

const LIMITED = { 'limits.cpu': '2', 'limits.memory': '2GiB', 'limits.processes': '2000', 'security.idmap.isolated': 'true' };
/** A container whose config is `config` on top of a clean, limited one (`local`: also in its own config). */
const inst = (name: string, config: Record<string, string>, devices: Record<string, Record<string, string>> = {}, extra: Record<string, unknown> = {}) =>
  InstanceSchema.parse(
    instance(name, {
      config: { ...LIMITED, ...config },
      devices,
      expanded_config: { ...LIMITED, ...config },
      expanded_devices: { root: { type: 'disk', path: '/', pool: 'default' }, ...devices },
      ...extra,
    }),
  );
const ids = (f: { id: string; severity: string }[]) => f.map((x) => `${x.id}:${x.severity}`);
const server = (config: Record<string, unknown>, version = '5.21.1') =>
  ServerSchema.parse({ config, environment: { server_version: version, server_name: 'h1' } });
const TODAY = '2026-01-15';

describe('server: versions and the remote API', () => {
  it('LXD series: LTS within its dates, old LTS and superseded feature releases unsupported, 6.x a feature release', () => {
    expect(lxdSupport('5.21.1 LTS', TODAY).status).toBe('supported-lts');
    expect(lxdSupport('5.0.2', TODAY).status).toBe('supported-lts');
    expect(lxdSupport('5.0.2', '2027-07-01').status).toBe('unsupported');
    expect(lxdSupport('4.0.9', TODAY).status).toBe('unsupported');
    expect(lxdSupport('5.13', TODAY).status).toBe('unsupported');
    expect(lxdSupport('6.1', TODAY).status).toBe('feature-release');
    expect(lxdSupport('2.21', TODAY).status).toBe('unsupported');
    expect(lxdSupport('7.0', TODAY).status).toBe('unknown');
    expect(ids(auditServer(server({}, '4.0.9'), [], TODAY).findings)).toEqual(['lxd-version-unsupported:high']);
    expect(auditServer(server({}, '4.0.9'), [], TODAY).findings[0]!.fix).toContain('5.21 (until 2029-06-30) or 5.0 (until 2027-06-30)');
    expect(ids(auditServer(server({}, '6.1'), [], TODAY).findings)).toEqual(['lxd-version-feature-release:low']);
    expect(ids(auditServer(server({}, '7.0'), [], TODAY).findings)).toEqual(['lxd-version-unknown:low']);
    expect(auditServer(server({}, '5.0.2'), [], TODAY).findings).toEqual([]);
  });

  it('listen addresses: loopback, every address, or one address', () => {
    expect(['127.0.0.1:8443', '[::1]:8443', 'localhost:9000', '127.0.1.1'].map(listenScope)).toEqual(['loopback', 'loopback', 'loopback', 'loopback']);
    expect([':8443', '[::]:8443', '0.0.0.0:8443', '[::]'].map(listenScope)).toEqual(['all', 'all', 'all', 'all']);
    expect(['192.0.2.5:8443', 'lxd.example:8443', '2001:db8::1'].map(listenScope)).toEqual(['address', 'address', 'address']);
  });

  it('https beyond loopback, the trust password (true in GET /1.0), unrestricted certificates, open metrics', () => {
    const certs = [
      { name: 'admin', type: 'client', fingerprint: 'aa'.repeat(32), restricted: false, projects: [] },
      { name: 'alice', type: 'client', fingerprint: 'bb'.repeat(32), restricted: true, projects: ['lab'] },
      { name: 'prom', type: 'metrics', fingerprint: 'cc'.repeat(32), restricted: false, projects: [] },
    ];
    const open = auditServer(
      server({ 'core.https_address': '[::]:8443', 'core.trust_password': true, 'core.metrics_address': ':9100', 'core.metrics_authentication': 'false' }),
      certs,
      TODAY,
    ).findings;
    expect(ids(open)).toEqual([
      'remote-api-trust-password:high',
      'certificate-unrestricted:medium',
      'metrics-unauthenticated:medium',
      'remote-api-exposed:medium',
    ]);
    expect(open.find((f) => f.id === 'remote-api-exposed')!.fix).toBe(
      'lxc config set core.https_address=127.0.0.1:8443 (for remote management: a management address only, firewalled)',
    );
    expect(open.find((f) => f.id === 'certificate-unrestricted')!.fix).toContain('lxc config trust edit aaaaaaaaaaaa');
    // On loopback: the API is not exposed, the password still lets any local user become admin.
    const local = auditServer(server({ 'core.https_address': '127.0.0.1:8443', 'core.trust_password': true }), [], TODAY).findings;
    expect(ids(local)).toEqual(['remote-api-trust-password:high']);
    // No listener: the password and certificates are latent.
    expect(ids(auditServer(server({ 'core.trust_password': true }), certs, TODAY).findings)).toEqual([
      'remote-api-trust-password:medium',
      'certificate-unrestricted:low',
    ]);
    expect(
      ids(
        auditServer(
          server({ 'core.https_address': '192.0.2.5:8443', 'core.metrics_address': '127.0.0.1:9100', 'core.metrics_authentication': 'false' }),
          [],
          TODAY,
        ).findings,
      ),
    ).toEqual(['metrics-unauthenticated:low', 'remote-api-exposed:low']);
    expect(auditServer(server({ 'core.metrics_address': ':9100' }), [], TODAY).findings).toEqual([]);
  });
});

describe('instances: syscalls, kernel modules, capabilities, limits, bridged NICs', () => {
  it('a clean, unprivileged, limited container has no finding', () => {
    expect(auditInstance(inst('c1', {}))).toEqual([]);
  });

  it('each security.syscalls.intercept.* and deny_default=false is a finding, with the unset line', () => {
    const f = auditInstance(
      inst('c1', {
        'security.syscalls.intercept.mount': 'true',
        'security.syscalls.intercept.mount.allowed': 'ext4',
        'security.syscalls.intercept.mount.shift': 'true',
        'security.syscalls.intercept.mknod': 'true',
        'security.syscalls.intercept.setxattr': 'true',
        'security.syscalls.intercept.bpf': 'true',
        'security.syscalls.intercept.bpf.devices': 'true',
        'security.syscalls.deny_default': 'false',
        'linux.kernel_modules': 'zfs',
      }),
    );
    expect(ids(f)).toEqual([
      'syscalls-intercept-mount:high',
      'kernel-modules:medium',
      'syscalls-deny-default-off:medium',
      'syscalls-intercept-bpf:medium',
      'syscalls-intercept-mknod:low',
      'syscalls-intercept-setxattr:low',
    ]);
    expect(f.find((x) => x.id === 'syscalls-intercept-mount')!.fix).toBe('lxc config unset c1 security.syscalls.intercept.mount');
    expect(ids(auditInstance(inst('c1', { 'security.syscalls.intercept.mount': 'true', 'security.syscalls.intercept.mount.shift': 'true' })))).toEqual([
      'syscalls-intercept-mount:medium',
    ]);
    expect(ids(auditInstance(inst('c1', { 'security.privileged': 'true', 'security.syscalls.deny_default': 'false' })))).toEqual([
      'privileged:high',
      'syscalls-deny-default-off:high',
    ]);
  });

  it('a key from a profile is overridden, not unset; instances of other projects get --project', () => {
    const fromProfile = InstanceSchema.parse(
      instance('c1', {
        project: 'lab',
        config: LIMITED,
        expanded_config: { ...LIMITED, 'security.syscalls.intercept.bpf': 'true', 'linux.kernel_modules': 'zfs' },
      }),
    );
    const f = auditInstance(fromProfile);
    expect(f.find((x) => x.id === 'syscalls-intercept-bpf')!.fix).toBe('lxc config set c1 --project lab security.syscalls.intercept.bpf=false');
    expect(f.find((x) => x.id === 'kernel-modules')!.fix).toMatch(/^lxc profile unset PROFILE --project lab linux\.kernel_modules/);
  });

  it("raw.lxc capabilities: cap.keep or an empty cap.drop replace LXD's drops; extra drops are low", () => {
    expect(ids(auditInstance(inst('c1', { 'raw.lxc': 'lxc.cap.drop =\nlxc.cap.keep = sys_admin' })))).toEqual([
      'raw-lxc-capabilities:high',
      'raw-lxc-capabilities:high',
    ]);
    expect(ids(auditInstance(inst('c1', { 'security.privileged': 'true', 'raw.lxc': 'lxc.cap.drop =' })))).toEqual([
      'raw-lxc-capabilities:critical',
      'privileged:high',
    ]);
    expect(ids(auditInstance(inst('c1', { 'raw.lxc': 'lxc.cap.drop = sys_admin' })))).toEqual(['raw-lxc-capabilities:low']);
  });

  it('limits: memory or processes missing is medium, only cpu low; VMs have sizes by default', () => {
    const bare = InstanceSchema.parse(
      instance('c1', { config: { 'security.idmap.isolated': 'true' }, expanded_config: { 'security.idmap.isolated': 'true' } }),
    );
    const f = auditInstance(bare);
    expect(ids(f)).toEqual(['limits-missing:medium']);
    expect(f[0]!.fix).toBe('lxc config set c1 limits.cpu=2 limits.memory=2GiB limits.processes=2000 (example values: size them to the workload)');
    expect(ids(auditInstance(inst('c1', { 'limits.cpu': '' })))).toEqual(['limits-missing:low']);
    expect(auditInstance(InstanceSchema.parse(instance('v1', { type: 'virtual-machine' })))).toEqual([]);
  });

  it('bridged NICs: MAC filtering, IP filtering, port isolation; network= counts when it is a bridge', () => {
    const nic = { type: 'nic', nictype: 'bridged', parent: 'br0' };
    const f = auditInstance(inst('c1', {}, { eth0: nic }));
    expect(ids(f)).toEqual(['nic-mac-filtering-off:medium', 'nic-ip-filtering-off:low', 'nic-port-isolation-off:low']);
    expect(f[0]!.fix).toBe('lxc config device set c1 eth0 security.mac_filtering=true');
    expect(
      auditInstance(
        inst('c1', {}, { eth0: { ...nic, 'security.mac_filtering': 'true', 'security.ipv6_filtering': 'true', 'security.port_isolation': 'true' } }),
      ),
    ).toEqual([]);
    const managed = InstanceSchema.parse(
      instance('c1', { config: LIMITED, expanded_config: LIMITED, expanded_devices: { eth0: { type: 'nic', network: 'lxdbr0', name: 'eth0' } } }),
    );
    expect(ids(auditInstance(managed, undefined, { lxdbr0: 'bridge' }))).toContain('nic-mac-filtering-off:medium');
    expect(auditInstance(managed, undefined, { lxdbr0: 'bridge' })[0]!.fix).toBe('lxc config device override c1 eth0 security.mac_filtering=true');
    expect(auditInstance(managed, undefined, { lxdbr0: 'ovn' }).filter((x) => x.id.startsWith('nic-'))).toEqual([]);
    expect(auditInstance(inst('c1', {}, { eth0: { type: 'nic', nictype: 'macvlan', parent: 'eno1' } }))).toEqual([]);
  });
});

describe('Docker in LXD', () => {
  it('recognises Docker hosts by name, profile, kernel modules, /var/lib/docker or user keys', () => {
    expect(dockerSigns(inst('web', {}))).toEqual([]);
    expect(dockerSigns(inst('docker1', {}))).toEqual(['name docker1']);
    expect(dockerSigns(inst('ci', { 'linux.kernel_modules': 'ip_tables,overlay' }))).toEqual(['linux.kernel_modules ip_tables,overlay']);
    expect(dockerSigns(inst('ci', {}, { d: { type: 'disk', pool: 'p', source: 'v', path: '/var/lib/docker' } }))).toEqual(['device d at /var/lib/docker']);
    expect(dockerSigns(inst('ci', {}, {}, { profiles: ['default', 'docker'] }))).toEqual(['profile docker']);
  });

  it('a privileged Docker host gets the safe configuration as its fix; the safe pattern has nothing above low', () => {
    const unsafe = auditInstance(inst('docker1', { 'security.privileged': 'true', 'security.nesting': 'true' }));
    expect(ids(unsafe)).toEqual(['docker-unsafe:critical', 'nesting:critical', 'privileged:critical']);
    const safe =
      'lxc config unset docker1 security.privileged; lxc config set docker1 security.nesting=true security.syscalls.intercept.mknod=true security.syscalls.intercept.setxattr=true';
    expect(unsafe.find((f) => f.id === 'docker-unsafe')!.fix).toBe(safe);
    expect(unsafe.find((f) => f.id === 'privileged')!.fix).toBe(`${safe} (the safe Docker-in-LXD pattern)`);
    const good = auditInstance(
      inst('docker1', { 'security.nesting': 'true', 'security.syscalls.intercept.mknod': 'true', 'security.syscalls.intercept.setxattr': 'true' }),
    );
    expect(ids(good)).toEqual(['nesting:low', 'syscalls-intercept-mknod:low', 'syscalls-intercept-setxattr:low']);
    // The classic unsafe raw.lxc recipe, unprivileged: docker-unsafe high, raw.lxc removed by the fix.
    const raw = auditInstance(
      inst('docker1', { 'security.nesting': 'true', 'raw.lxc': 'lxc.apparmor.profile = unconfined\nlxc.cgroup.devices.allow = a\nlxc.cap.drop =' }),
    );
    expect(ids(raw)).toContain('docker-unsafe:high');
    expect(raw.find((f) => f.id === 'docker-unsafe')!.fix).toMatch(/^lxc config unset docker1 raw\.lxc; lxc config set docker1 security\.nesting=true/);
    // A non-Docker nesting container stays medium.
    expect(ids(auditInstance(inst('web', { 'security.nesting': 'true' })))).toEqual(['nesting:medium']);
  });
});

describe('projects: limits', () => {
  it('a project without limits is medium with non-admin users, low without; the default project of admins none', () => {
    const certs = [{ name: 'alice', type: 'client', fingerprint: 'ab', restricted: true, projects: ['lab'] }];
    const limited = { restricted: 'true', 'limits.cpu': '8', 'limits.memory': '16GiB', 'limits.processes': '20000' };
    expect(auditProject({ name: 'lab', description: '', config: limited }, certs)).toEqual([]);
    const f = auditProject({ name: 'lab', description: '', config: { restricted: 'true', 'limits.cpu': '8' } }, certs);
    expect(ids(f)).toEqual(['project-limits-missing:medium']);
    expect(f[0]!.fix).toBe('lxc project set lab limits.memory=16GiB limits.processes=20000 (example values: size them to the host)');
    expect(ids(auditProject({ name: 'dev', description: '', config: { restricted: 'true' } }, []))).toEqual(['project-limits-missing:low']);
    expect(auditProject({ name: 'default', description: '', config: {} }, [])).toEqual([]);
  });
});

/** A report with one finding of (nearly) every kind, from the functions above. */
function bigReport(): AuditReport {
  const certs = [{ name: 'admin', type: 'client', fingerprint: 'aa'.repeat(32), restricted: false, projects: [] }];
  const s = auditServer(
    server(
      { 'core.https_address': '[::]:8443', 'core.trust_password': true, 'core.metrics_address': ':9100', 'core.metrics_authentication': 'false' },
      '4.0.9',
    ),
    certs,
    TODAY,
  );
  const instances = [
    inst(
      'docker1',
      { 'security.privileged': 'true', 'security.nesting': 'true', 'linux.kernel_modules': 'overlay', 'security.syscalls.intercept.mknod': 'true' },
      { eth0: { type: 'nic', nictype: 'bridged', parent: 'br0' } },
    ),
    inst('c2', { 'security.syscalls.intercept.bpf': 'true', 'security.syscalls.deny_default': 'false', 'raw.lxc': 'lxc.cap.drop =', 'limits.memory': '' }),
  ];
  return AuditReportSchema.parse({
    instances: instances.map((i) => ({ name: i.name, project: 'default', type: i.type, findings: auditInstance(i) })),
    projects: [{ name: 'lab', findings: auditProject({ name: 'lab', description: '', config: {} }, []) }],
    host: {
      socket: { path: '/var/lib/lxd/unix.socket', mode: '0666', uid: 0, gid: 0, group: 'root', members: [] },
      findings: [{ id: 'socket-world-accessible', severity: 'critical', summary: 's', fix: 'chmod 0660 /var/lib/lxd/unix.socket' }],
    },
    server: { server: 'lxd', name: 'h1', version: '4.0.9', support: s.support!.status, findings: s.findings },
  });
}

describe('SARIF', () => {
  it('one rule per finding id, one result per finding with ruleId and level; accepted by the official validator', () => {
    const report = bigReport();
    const found = allFindings(report);
    const log = auditSarif(report, '0.1.0');
    const run = log.runs[0]!;
    expect(log.version).toBe('2.1.0');
    expect(run.tool.driver.name).toBe('passthru');
    const ruleIds = run.tool.driver.rules!.map((r) => r.id);
    expect(ruleIds).toEqual([...new Set(found.map((f) => f.finding.id))].sort());
    expect(run.results).toHaveLength(found.length);
    for (const [i, r] of run.results!.entries()) {
      expect(r.ruleId).toBe(found[i]!.finding.id);
      expect(r.level).toBe(SARIF_LEVEL[found[i]!.finding.severity]);
      expect(run.tool.driver.rules![r.ruleIndex!]!.id).toBe(r.ruleId);
    }
    expect(run.results!.filter((r) => r.level === 'error').length).toBe(
      found.filter((f) => f.finding.severity === 'critical' || f.finding.severity === 'high').length,
    );
    expect(run.results!.some((r) => r.level === 'warning') && run.results!.some((r) => r.level === 'note')).toBe(true);
    expect(run.results!.find((r) => r.ruleId === 'docker-unsafe')!.locations![0]!.logicalLocations![0]).toEqual({
      name: 'docker1',
      fullyQualifiedName: 'project/default/instance/docker1',
      kind: 'resource',
    });
    expect(run.tool.driver.rules!.find((r) => r.id === 'remote-api-trust-password')!.help!.text).toContain(
      'Checklist: Restrict access to the LXD daemon and the remote API',
    );
    // No errors; the one warning left is SARIF2005 (the driver has no informationUri: passthru
    // has no public home page to name).
    expect(validateSarif(log)).toEqual([{ ruleId: 'SARIF2005', level: 'warning', where: 'runs[0].tool.driver passthru' }]);
  });

  it('the validator check can fail: a result without message and a bad level are reported', () => {
    const log = auditSarif(bigReport(), '0.1.0');
    const broken = JSON.parse(JSON.stringify(log));
    delete broken.runs[0].results[0].message;
    broken.runs[0].results[1].level = 'critical';
    const problems = validateSarif(broken);
    expect(problems.filter((p) => p.level === 'error').map((p) => p.where)).toEqual(
      expect.arrayContaining([expect.stringContaining('runs[0].results[0]'), expect.stringContaining('runs[0].results[1].level')]),
    );
  });
});

describe('the rule catalogue and docs/lxd.md', () => {
  it('every rule cites a checklist item; docs/lxd.md has one table row per id with its severity', () => {
    expect(new Set(AUDIT_RULE_IDS).size).toBe(AUDIT_RULES.length);
    const doc = fs.readFileSync(path.resolve(__dirname, '../../../docs/lxd.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `([a-z0-9-]+)` \| (critical|high|medium|low) \|/gm)].map((m) => `${m[1]}:${m[2]}`);
    expect(rows).toEqual(AUDIT_RULES.map((r) => `${r.id}:${r.severity}`));
  });

  it('every id the audit functions emit is in the catalogue', () => {
    const emitted = allFindings(bigReport()).map((f) => f.finding.id);
    for (const id of emitted) expect(AUDIT_RULE_IDS).toContain(id);
  });
});
