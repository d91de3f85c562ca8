// Plain LXC and Proxmox VE configs: the parser (line numbers, includes, renamed keys), LXC's
// reading of list keys, and the audit against the fixture tree fixtures/lxc (Debian's own
// common.conf/userns.conf/nesting.conf, Proxmox VE's /etc/pve/lxc/10{1,2,3}.conf).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { afterEach, describe, expect, it } from 'vitest';
import { AUDIT_RULES } from '../src/auditRules';
import { severityRank } from '../src/Finding';
import { auditLxc, lxcAuditFailed, type LxcAuditReport } from '../src/lxc/auditLxc';
import { canonicalKey, detectFormat, parseConfigText, readLxcConfig } from '../src/lxc/config';
import { effectiveConfig } from '../src/lxc/effective';
import { lxcPathOf, parseProcDevices } from '../src/lxc/lxcHost';
import { lxcAuditSarif } from '../src/lxc/lxcSarif';
import { validateSarif } from './sarifValidator';

const REPO = path.resolve(__dirname, '../../..');
const FIXTURE = path.join(REPO, 'fixtures/lxc');
const fixture = new HostFs(FIXTURE);
const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
/** A scratch host root with these files (host path -> text). */
function tree(files: Record<string, string>): HostFs {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pt-lxc-'));
  made.push(root);
  for (const [p, text] of Object.entries(files)) {
    fs.mkdirSync(path.join(root, path.dirname(p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), text);
  }
  return new HostFs(root);
}
const ids = (report: LxcAuditReport, name: string) =>
  report.containers.find((c) => c.name === name)!.findings.map((f) => `${f.severity} ${f.id}${f.line === null ? '' : `:${f.line}`}`);
const worst = (report: LxcAuditReport, name: string) =>
  report.containers.find((c) => c.name === name)!.findings.reduce((w, f) => Math.min(w, severityRank(f.severity)), 4);

describe('the config parser', () => {
  it('key = value lines with their numbers; comments and blanks skipped; one pair of quotes stripped, as LXC does', () => {
    const entries = parseConfigText('# c\n\nlxc.uts.name = "c1"\n  lxc.cap.drop = sys_module  \nlxc.cap.drop =\n', '/c', 'lxc');
    expect(entries.map((e) => [e.line, e.key, e.value])).toEqual([
      [3, 'lxc.uts.name', 'c1'],
      [4, 'lxc.cap.drop', 'sys_module'],
      [5, 'lxc.cap.drop', ''],
    ]);
  });

  it('a line LXC would refuse is refused with its file and line (bad input)', () => {
    expect(() => parseConfigText('lxc.uts.name = a\nnot a setting\n', '/var/lib/lxc/c1/config', 'lxc')).toThrow(
      /Failed parsing an LXC configuration via \/var\/lib\/lxc\/c1\/config:2: expected "key = value"/,
    );
    expect(() => parseConfigText('= x\n', '/c', 'lxc')).toThrow(/:1: expected/);
  });

  it('reads the keys LXC 2.1 renamed as the new ones (lxc.id_map, lxc.aa_profile, lxc.seccomp, lxc.network.*) and keeps cgroup v1 and v2 keys apart', () => {
    expect(canonicalKey('lxc.id_map')).toBe('lxc.idmap');
    expect(canonicalKey('lxc.aa_profile')).toBe('lxc.apparmor.profile');
    expect(canonicalKey('lxc.seccomp')).toBe('lxc.seccomp.profile');
    expect(canonicalKey('lxc.network.type')).toBe('lxc.net.0.type');
    expect(canonicalKey('lxc.network.1.link')).toBe('lxc.net.1.link');
    expect(canonicalKey('lxc.cgroup.devices.allow')).toBe('lxc.cgroup.devices.allow');
    expect(canonicalKey('lxc.cgroup2.devices.allow')).toBe('lxc.cgroup2.devices.allow');
  });

  it("tells Proxmox VE's format (key: value) from LXC's, and stops at PVE's first [section] (a snapshot)", () => {
    const pve = fs.readFileSync(path.join(FIXTURE, 'etc/pve/lxc/102.conf'), 'utf8');
    expect(detectFormat(pve)).toBe('proxmox');
    expect(detectFormat('lxc.mount.entry = /dev/dri dev/dri none bind,optional,create=dir\n')).toBe('lxc');
    const entries = parseConfigText(pve, '/etc/pve/lxc/102.conf', 'proxmox');
    expect(entries.map((e) => e.key)).toContain('unprivileged');
    expect(entries.map((e) => e.key)).not.toContain('lxc.cgroup2.devices.allow'); // only in the snapshot
    expect(parseConfigText('lxc.cgroup2.devices.allow: c 226:0 rwm\nlxc.apparmor.profile = unconfined\n', '/x.conf', 'proxmox').map((e) => e.value)).toEqual([
      'c 226:0 rwm',
      'unconfined',
    ]);
  });

  it('follows lxc.include through HostFs, in place: a file, a folder (its *.conf in name order), a missing file noted, a loop cut', () => {
    const host = tree({
      '/c/config': 'lxc.include = /inc/a.conf\nlxc.include = /inc/d/\nlxc.include = /inc/missing.conf\nlxc.include = /c/config\nlxc.uts.name = x\n',
      '/inc/a.conf': 'lxc.cap.drop = sys_module\n',
      '/inc/d/2.conf': 'lxc.cap.drop = sys_time\n',
      '/inc/d/1.conf': 'lxc.cap.drop = sys_rawio\n',
      '/inc/d/skip.txt': 'lxc.cap.drop = mac_admin\n',
    });
    const read = readLxcConfig(host, '/c/config');
    expect(read.entries.filter((e) => e.key === 'lxc.cap.drop').map((e) => `${e.file}:${e.line} ${e.value}`)).toEqual([
      '/inc/a.conf:1 sys_module',
      '/inc/d/1.conf:1 sys_rawio',
      '/inc/d/2.conf:1 sys_time',
    ]);
    expect(read.includes.map((i) => [i.path, i.found])).toEqual([
      ['/inc/a.conf', true],
      ['/inc/d/', true],
      ['/inc/missing.conf', false],
      ['/c/config', false],
    ]);
  });

  it("LXC's reading: an empty value clears a list key (userns.conf clears common.conf's dropped capabilities and device allows)", () => {
    const eff = effectiveConfig(readLxcConfig(fixture, '/var/lib/lxc/debian-default/config'));
    expect(eff.unprivileged).toBe(true);
    expect(eff.capDrop).toEqual([]);
    expect(eff.capDropCleared?.file).toBe('/usr/share/lxc/config/userns.conf');
    // userns.conf empties both lists: an unprivileged container cannot mknod, so its list stays open.
    expect(eff.devices.v2.rules).toEqual([]);
    expect(eff.devices.v2.all).toBe('default');
    expect(eff.seccomp?.value).toBe('/usr/share/lxc/config/common.seccomp');
    const priv = effectiveConfig(readLxcConfig(fixture, '/var/lib/lxc/debian-priv/config'));
    expect(priv.unprivileged).toBe(false);
    expect(priv.capDrop.map((c) => c.cap).sort()).toEqual(['mac_admin', 'mac_override', 'sys_module', 'sys_rawio', 'sys_time']);
    expect(priv.devices.v1.all).toBeNull();
  });

  it('the lxcpath: --lxcpath, else lxc.lxcpath of /etc/lxc/lxc.conf, else /var/lib/lxc', () => {
    expect(lxcPathOf(fixture)).toBe('/var/lib/lxc');
    expect(lxcPathOf(fixture, '/srv/lxc/')).toBe('/srv/lxc');
    expect(lxcPathOf(tree({ '/etc/lxc/lxc.conf': 'lxc.lxcpath = /data/lxc\n' }))).toBe('/data/lxc');
    expect(() => lxcPathOf(fixture, 'relative/lxc')).toThrow(/expected an absolute path/);
    expect(parseProcDevices('Character devices:\n226 drm\n\nBlock devices:\n  8 sd\n')).toEqual({ char: new Map([[226, 'drm']]), block: new Map([[8, 'sd']]) });
  });
});

describe('audit --lxc on the fixture tree', () => {
  const report = auditLxc(fixture, { targets: ['debian-default', 'debian-priv', 'legacy', 'nested', '/etc/pve/lxc/101.conf', '/etc/pve/lxc/102.conf'] });

  it("a default unprivileged container (Debian's common.conf + userns.conf) has nothing above low; a privileged one on LXC's defaults is only 'privileged' high", () => {
    expect(worst(report, 'debian-default')).toBeGreaterThanOrEqual(severityRank('low'));
    expect(ids(report, 'debian-priv')).toEqual(['high privileged']);
    expect(report.containers.find((c) => c.name === 'debian-priv')!.findings[0]!.fix).toContain('lxc.idmap = u 0 100000 65536');
  });

  it('Proxmox VE: a privileged container with devices.allow a is critical, line by line; an unprivileged default one has nothing; a snapshot section is not read', () => {
    expect(ids(report, '101')).toEqual([
      'critical nesting:4',
      'critical privileged',
      'critical raw-lxc-capabilities:13',
      'critical raw-lxc-devices-allow:12',
      'critical raw-lxc-mount-entry:16',
      'critical raw-lxc-mount-entry:16',
      'high raw-lxc-apparmor-unconfined:14',
      'medium disk-host-path:7',
      'low unix-device:15',
    ]);
    const allow = report.containers.find((c) => c.name === '101')!.findings.find((f) => f.id === 'raw-lxc-devices-allow')!;
    expect(allow).toMatchObject({ file: '/etc/pve/lxc/101.conf', line: 12 });
    expect(allow.summary).toContain('lxc.cgroup2.devices.allow: a');
    expect(allow.fix).toBe(
      'remove /etc/pve/lxc/101.conf:12: lxc.cgroup2.devices.allow: a; allow only the nodes it needs (passthru attach --lxc NAME TARGET writes them)',
    );
    expect(ids(report, '102')).toEqual(['low idmap-shared:9']); // the same host ids as the lxcpath's unprivileged containers
    expect(ids(auditLxc(fixture, { targets: ['/etc/pve/lxc/102.conf'] }), '102')).toEqual([]);
    expect(report.containers.find((c) => c.name === '102')!).toMatchObject({ format: 'proxmox', privileged: false });
    expect(lxcAuditFailed(auditLxc(fixture, { targets: ['/etc/pve/lxc/102.conf'] }))).toBe(false);
    expect(lxcAuditFailed(report)).toBe(true);
  });

  it('nesting, an emptied cap.drop, block devices, the LXD socket and a host folder: each from its own line; a missing include is a note', () => {
    expect(ids(report, 'nested')).toEqual([
      'critical nesting:3',
      'critical privileged',
      'critical raw-lxc-capabilities:5',
      'critical raw-lxc-devices-allow:6',
      'critical raw-lxc-mount-entry:8',
      'medium raw-lxc-mount-entry:9',
      'low raw-lxc-devices-allow:7',
    ]);
    const nested = report.containers.find((c) => c.name === 'nested')!;
    expect(nested.findings.find((f) => f.line === 6)!.summary).toContain('block devices 8 (sd):*: host disks');
    expect(nested.notes).toEqual([
      '/var/lib/lxc/nested/config:4 includes /usr/share/lxc/config/debian.common.conf, which is not on this host (LXC refuses to load the config then): what it would set is not judged',
    ]);
  });

  it('old key names count as the new (lxc.aa_profile = unconfined, an empty lxc.seccomp), with a note naming them', () => {
    expect(ids(report, 'legacy')).toEqual(['low idmap-shared:4', 'low raw-lxc-apparmor-unconfined:6', 'low syscalls-deny-default-off:7']);
    expect(report.containers.find((c) => c.name === 'legacy')!.notes[0]).toMatch(
      /lxc\.id_map -> lxc\.idmap \(line 4\).*lxc\.aa_profile -> lxc\.apparmor\.profile \(line 6\)/,
    );
  });

  it('AppArmor off on the host makes unconfined low; on, it is high for a privileged container and medium for an unprivileged one', () => {
    const text = 'lxc.apparmor.profile = unconfined\nlxc.include = /usr/share/lxc/config/common.conf\n';
    const files = {
      '/var/lib/lxc/p/config': text,
      '/var/lib/lxc/u/config': `${text}lxc.idmap = u 0 200000 65536\nlxc.idmap = g 0 200000 65536\n`,
      '/usr/share/lxc/config/common.conf': fs.readFileSync(path.join(FIXTURE, 'usr/share/lxc/config/common.conf'), 'utf8'),
    };
    const sev = (r: LxcAuditReport, n: string) =>
      r.containers.find((c) => c.name === n)!.findings.find((f) => f.id === 'raw-lxc-apparmor-unconfined')!.severity;
    const off = auditLxc(tree(files));
    expect([sev(off, 'p'), sev(off, 'u')]).toEqual(['low', 'low']);
    const on = auditLxc(tree({ ...files, '/sys/module/apparmor/parameters/enabled': 'Y\n' }));
    expect(on.host.apparmor).toBe(true);
    expect([sev(on, 'p'), sev(on, 'u')]).toEqual(['high', 'medium']);
  });

  it('the devices cgroup the host uses decides which keys count when nothing closes the list (a v1 host ignores lxc.cgroup2.*)', () => {
    const files = { '/var/lib/lxc/c/config': 'lxc.cgroup2.devices.deny = a\nlxc.cap.drop = sys_module sys_rawio sys_time mac_admin mac_override\n' };
    const v2 = auditLxc(tree(files));
    expect(ids(v2, 'c').filter((i) => i.includes('devices'))).toEqual([]);
    const v1 = auditLxc(tree({ ...files, '/sys/fs/cgroup/devices/devices.list': 'a *:* rwm\n' }));
    expect(v1.host.cgroup).toBe('v1');
    expect(v1.containers[0]!.findings.find((f) => f.id === 'raw-lxc-devices-allow')!.summary).toMatch(/^no lxc\.cgroup\.devices\.deny = a/);
  });

  it('idmap-shared: unprivileged containers whose host ids overlap, among the lxcpath and the files named (PVE maps every unprivileged one alike)', () => {
    expect(ids(auditLxc(fixture, { targets: ['/etc/pve/lxc/102.conf'] }), '102')).toEqual([]);
    const both = auditLxc(fixture, { targets: ['/etc/pve/lxc/102.conf', '/etc/pve/lxc/103.conf'] });
    expect(ids(both, '102')).toEqual(['low idmap-shared:9']);
    expect(ids(both, '103')).toEqual(['medium nesting:5', 'low idmap-shared:11', 'low unix-device:4']);
    // By name, the other containers of the lxcpath count: debian-default shares legacy's range.
    expect(ids(auditLxc(fixture, { targets: ['debian-default'] }), 'debian-default')).toEqual(['low idmap-shared:7']);
  });

  it('every id is one of the LXD audit catalogue, never above its highest severity', () => {
    const all = auditLxc(fixture, { targets: [...fs.readdirSync(path.join(FIXTURE, 'var/lib/lxc')), '/etc/pve/lxc/101.conf', '/etc/pve/lxc/103.conf'] });
    const found = all.containers.flatMap((c) => c.findings);
    expect(found.length).toBeGreaterThan(20);
    for (const f of found) {
      const rule = AUDIT_RULES.find((r) => r.id === f.id);
      expect(rule, f.id).toBeDefined();
      expect(severityRank(f.severity), f.id).toBeGreaterThanOrEqual(severityRank(rule!.severity));
    }
  });

  it('no names: every container of the lxcpath; bad names and relative files are refused', () => {
    expect(auditLxc(fixture).containers.map((c) => c.name)).toEqual(['debian-default', 'debian-priv', 'legacy', 'nested']);
    expect(() => auditLxc(fixture, { targets: ['../etc'] })).toThrow(/file|absolute|container name/);
    expect(() => auditLxc(fixture, { targets: ['a b'] })).toThrow(/not a valid container name/);
    expect(() => auditLxc(fixture, { targets: ['nope'] })).toThrow(/Failed reading the LXC configuration via \/var\/lib\/lxc\/nope\/config: no such file/);
    expect(() => auditLxc(fixture, { targets: ['/proc/devices/x'] })).toThrow(/no such file/);
  });

  it('SARIF: the LXD audit’s rule descriptors, each result at its file and line; the official validator accepts it', () => {
    const log = lxcAuditSarif(report, '0.1.0');
    const run = log.runs[0]!;
    expect(run.results).toHaveLength(report.containers.flatMap((c) => c.findings).length);
    const allow = run.results!.find((r) => r.ruleId === 'raw-lxc-devices-allow' && r.message.text.includes('101.conf'))!;
    expect(allow.locations![0]!.physicalLocation).toEqual({ artifactLocation: { uri: 'file:///etc/pve/lxc/101.conf' }, region: { startLine: 12 } });
    expect(allow.locations![0]!.logicalLocations![0]).toEqual({ name: '101', fullyQualifiedName: 'proxmox/101', kind: 'resource' });
    expect(run.tool.driver.rules!.map((r) => r.id)).toEqual([...new Set(run.results!.map((r) => r.ruleId))].sort());
    expect(validateSarif(log)).toEqual([{ ruleId: 'SARIF2005', level: 'warning', where: 'runs[0].tool.driver passthru' }]);
  });
});
