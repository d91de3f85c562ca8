// `attach --lxc`, `detach --lxc` and `audit --lxc` through the CLI on fixture trees: the formats
// (JSON validated against the committed schemas, SARIF), the exit codes, the option clashes and
// hostile input (exit 2, nothing written). The real containers: lxc.integration.test.ts.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Log } from 'sarif';
import { afterEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { cleanFixtures, cli, fixtureCopy, repo, treeSnapshot } from './runCli';

afterEach(cleanFixtures);
const LXC = path.join(repo, 'fixtures/lxc');
const schema = (name: string) => z.fromJSONSchema(JSON.parse(fs.readFileSync(path.join(repo, 'docs/schemas', `${name}.schema.json`), 'utf8')));
const CONFIG = 'lxc.include = /usr/share/lxc/config/common.conf\nlxc.uts.name = c1\n';

/** intel-workstation with a plain LXC container c1 (privileged). */
function withContainer(): string {
  const root = fixtureCopy('intel-workstation');
  fs.mkdirSync(path.join(root, 'var/lib/lxc/c1'), { recursive: true });
  fs.writeFileSync(path.join(root, 'var/lib/lxc/c1/config'), CONFIG, { mode: 0o640 });
  return root;
}

describe('passthru audit --lxc', () => {
  it('Proxmox VE fixtures: the privileged one with devices.allow a is critical (exit 1), the unprivileged default one passes (exit 0); JSON validates', async () => {
    const bad = await cli('--root', LXC, 'audit', '--lxc', '/etc/pve/lxc/101.conf', '--format', 'json');
    expect(bad.code, bad.stderr).toBe(1);
    const report = JSON.parse(bad.stdout);
    expect(schema('audit-lxc').safeParse(report).success).toBe(true);
    expect(report.lxcpath).toBeNull();
    expect(report.containers[0].findings.find((f: { id: string }) => f.id === 'raw-lxc-devices-allow')).toMatchObject({
      severity: 'critical',
      file: '/etc/pve/lxc/101.conf',
      line: 12,
    });
    const good = await cli('--root', LXC, 'audit', '--lxc', '/etc/pve/lxc/102.conf');
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/^102 +ok +- +- +no findings/m);
  });

  it('every container of the lxcpath by default: a table with where each finding is, and the notes', async () => {
    const r = await cli('--root', LXC, 'audit', '--lxc');
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toBe('lxcpath /var/lib/lxc; AppArmor not enabled; devices cgroup v2');
    expect(r.stdout).toMatch(/^nested +critical +raw-lxc-devices-allow +config:6 +lxc\.cgroup2\.devices\.allow = b 8:\* rwm opens block devices/m);
    expect(r.stdout).toMatch(/^note \(nested\): \/var\/lib\/lxc\/nested\/config:4 includes \/usr\/share\/lxc\/config\/debian\.common\.conf/m);
    expect(r.stdout).toMatch(/^debian-priv +high +privileged +config +privileged container/m);
  });

  it('--format sarif: one log, results at file and line', async () => {
    const r = await cli('--root', LXC, 'audit', '--lxc', 'nested', '--format', 'sarif');
    expect(r.code).toBe(1);
    const log = JSON.parse(r.stdout) as Log;
    expect(log.runs[0]!.tool.driver.name).toBe('passthru');
    expect(log.runs[0]!.results!.map((x) => x.locations![0]!.physicalLocation?.region?.startLine ?? null)).toEqual([3, null, 5, 6, 8, 9, 7]);
  });

  it('a Proxmox VE file given by its path on this machine (relative paths too)', async () => {
    const abs = await cli('audit', '--lxc', path.join(LXC, 'etc/pve/lxc/102.conf'), '--format', 'json');
    expect(abs.code, abs.stderr).toBe(0);
    expect(JSON.parse(abs.stdout).containers[0]).toMatchObject({ name: '102', format: 'proxmox', privileged: false });
    const rel = await cli('audit', '--lxc', path.relative(process.cwd(), path.join(LXC, 'etc/pve/lxc/101.conf')), '--format', 'json');
    expect(JSON.parse(rel.stdout).containers[0].config).toBe(path.join(LXC, 'etc/pve/lxc/101.conf'));
  });
});

describe('passthru attach --lxc / detach --lxc', () => {
  it('--dry-run writes nothing; the change writes the block and a backup, detach takes it out again; JSON validates', async () => {
    const root = withContainer();
    const before = treeSnapshot(root);
    const dry = await cli('--root', root, 'attach', '--lxc', 'c1', '00:02.0', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^attach 0000:00:02\.0 to plain LXC container c1 \(privileged\): \/dev\/dri\/card0, \/dev\/dri\/renderD128$/m);
    expect(dry.stdout).toMatch(/^\+# passthru: begin 0000:00:02\.0$/m);
    expect(dry.stdout).toMatch(/\(dry run: nothing written\)\n$/);
    expect(treeSnapshot(root)).toEqual(before);
    const json = await cli('--root', root, 'attach', '--lxc', 'c1', '00:02.0', '--format', 'json');
    expect(json.code, json.stderr).toBe(0);
    const out = JSON.parse(json.stdout);
    expect(schema('lxc-edit').safeParse(out).success).toBe(true);
    expect(out.written).toEqual([out.plan.backup, '/var/lib/lxc/c1/config']);
    const detach = await cli('--root', root, 'detach', '--lxc', 'c1', '00:02.0', '--format', 'json');
    expect(detach.code, detach.stderr).toBe(0);
    expect(schema('lxc-edit').safeParse(JSON.parse(detach.stdout)).success).toBe(true);
    expect(fs.readFileSync(path.join(root, 'var/lib/lxc/c1/config'), 'utf8')).toBe(CONFIG);
    const again = await cli('--root', root, 'detach', '--lxc', 'c1', '00:02.0');
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/passthru removes only the lines it added \(it has none\)/);
  });

  it.each([
    ['attach --lxcpath without --lxc', ['attach', 'c1', '00:02.0', '--lxcpath', '/var/lib/lxc'], /--lxcpath goes with --lxc/],
    ['attach --lxc with --project', ['attach', '--lxc', 'c1', '00:02.0', '--project', 'p'], /--project does not apply to it/],
    ['attach --lxc with --lxc-config', ['attach', '--lxc', 'c1', '00:02.0', '--lxc-config'], /--lxc-config does not apply to it/],
    ['attach --lxc with --name', ['attach', '--lxc', 'c1', '00:02.0', '--name', 'gpu'], /--name does not apply to it/],
    ['detach --lxcpath without --lxc', ['detach', 'c1', 'x', '--lxcpath', '/x'], /--lxcpath goes with --lxc/],
    ['detach --lxc with --project', ['detach', '--lxc', 'c1', 'x', '--project', 'p'], /--project does not apply to it/],
    ['audit --lxc with --project', ['audit', '--lxc', '--project', 'p'], /plain LXC has no projects/],
    ['audit --lxcpath without --lxc', ['audit', '--lxcpath', '/var/lib/lxc'], /--lxcpath goes with --lxc/],
    ['attach --lxc a relative --lxcpath under --root', ['attach', '--lxc', 'c1', '00:02.0', '--lxcpath', 'var/lib/lxc'], /expected an absolute path/],
    ['attach --lxc ../c1', ['attach', '--lxc', '../c1', '00:02.0'], /not a container name/],
    ['attach --lxc an escape in the name', ['attach', '--lxc', 'c1\u001b[2J', '00:02.0'], /not a valid container name/],
    ['attach --lxc a network interface', ['attach', '--lxc', 'c1', 'eno1'], /is moved into a container, not bound/],
    ['attach --lxc /etc/shadow', ['attach', '--lxc', 'c1', '/etc/shadow'], /a device node is a path under \/dev/],
    ['attach --lxc an absent container', ['attach', '--lxc', 'c2', '00:02.0'], /\/var\/lib\/lxc\/c2\/config: no such file/],
    ['audit --lxc a bad name', ['audit', '--lxc', 'a;b'], /not a valid container name/],
    [
      'audit --lxc a config line LXC refuses',
      ['audit', '--lxc', 'c1'],
      /Failed parsing an LXC configuration via \/var\/lib\/lxc\/c1\/config:3: expected "key = value"/,
    ],
  ])('%s: exit 2, one line, nothing written', async (_name, argv, message) => {
    const root = withContainer();
    if (argv.includes('audit') && argv.includes('c1')) fs.appendFileSync(path.join(root, 'var/lib/lxc/c1/config'), 'rm -rf /\n');
    const before = treeSnapshot(root);
    const r = await cli('--root', root, ...argv);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
    expect(treeSnapshot(root)).toEqual(before);
  });

  it.each([
    ['a FIFO', (f: string) => execFileSync('mkfifo', [f]), /not a regular file/],
    ['a folder', (f: string) => fs.mkdirSync(f), /not a regular file/],
    ['a symlink out of the root', (f: string) => fs.symlinkSync('/etc/hostname', f), /a symlink leads out of the host root/],
  ])('the config is %s: refused before any write (exit 2)', async (_what, spoil, message) => {
    const root = withContainer();
    const config = path.join(root, 'var/lib/lxc/c1/config');
    fs.rmSync(config);
    spoil(config);
    const before = treeSnapshot(root);
    for (const argv of [
      ['attach', '--lxc', 'c1', '00:02.0'],
      ['detach', '--lxc', 'c1', '00:02.0'],
      ['audit', '--lxc', 'c1'],
    ]) {
      const r = await cli('--root', root, ...argv);
      expect(r.code, `${argv[0]}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(treeSnapshot(root)).toEqual(before);
  });

  it('an immutable container folder: the backup cannot be written, refused before any write (exit 2)', async () => {
    const root = withContainer();
    const dir = path.join(root, 'var/lib/lxc/c1');
    execFileSync('chattr', ['+i', dir]);
    try {
      const r = await cli('--root', root, 'attach', '--lxc', 'c1', '00:02.0');
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/EPERM|EACCES/);
      expect(fs.readFileSync(path.join(dir, 'config'), 'utf8')).toBe(CONFIG);
    } finally {
      execFileSync('chattr', ['-i', dir]);
    }
  });
});
