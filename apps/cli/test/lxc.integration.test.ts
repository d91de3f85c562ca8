/**
 * Plain LXC against REAL containers (Debian's lxc 5.0, tools/provision/lxc.sh: passthru-priv,
 * privileged with devices.allow = a, and passthru-unpriv, with lxc.idmap; both busybox, no
 * network, under a private lxcpath). The device is /dev/net/tun: a char node every Linux host
 * has and that LXC's autodev does not create, so its presence inside is passthru's doing.
 *   - attach --lxc on the running privileged container: the node appears inside at once
 *     (lxc-device add, checked with lxc-attach); detach --lxc takes it away and the config is
 *     byte for byte what it was.
 *   - on the running unprivileged one: no hot-plug (lxc-device would delete the node there), the
 *     node appears after a restart (the mount entry), and is gone after detach and a restart.
 *   - audit --lxc: the privileged container critical, the unprivileged one nothing above low;
 *     the Proxmox VE fixtures (fixtures/lxc/etc/pve/lxc) rated the same way.
 * Fails (never skips) when the containers cannot be provisioned. Stops both containers and puts
 * their configs back afterwards.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Log } from 'sarif';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateSarif } from '../../../packages/lxd-device-attach/test/sarifValidator';
import { cli, repo } from './runCli';

const PRIV = 'passthru-priv';
const UNPRIV = 'passthru-unpriv';
const NODE = '/dev/net/tun';
const RANK = ['critical', 'high', 'medium', 'low'];
let lxcpath: string;
const saved = new Map<string, string>();

const lxc = (tool: string, ...args: string[]) =>
  execFileSync(tool, ['-P', lxcpath, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
/** Exit code of `test -c NODE` inside the container (0: the char node is there). */
const inside = (name: string) => {
  try {
    lxc('lxc-attach', '-n', name, '--', 'test', '-c', NODE);
    return 0;
  } catch (error) {
    return (error as { status: number }).status;
  }
};
const start = (name: string) => {
  lxc('lxc-start', '-n', name, '-d', '-l', 'INFO', '-o', path.join(lxcpath, `${name}.log`));
  lxc('lxc-wait', '-n', name, '-s', 'RUNNING', '-t', '15');
};
const stop = (name: string) => {
  if (lxc('lxc-info', '-n', name, '-sH').trim() !== 'STOPPED') lxc('lxc-stop', '-n', name, '-t', '15');
};
const config = (name: string) => path.join(lxcpath, name, 'config');
const backups = (name: string) => fs.readdirSync(path.join(lxcpath, name)).filter((f) => f.startsWith('config.passthru-'));
const worst = (findings: { severity: string }[]) => findings.reduce((w, f) => Math.min(w, RANK.indexOf(f.severity)), RANK.length);

beforeAll(() => {
  const out = execFileSync('bash', [path.join(repo, 'tools/provision/lxc.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
  const found = /export PASSTHRU_LXC_PATH=(\S+)/.exec(out)?.[1];
  if (!found) throw new Error(`tools/provision/lxc.sh printed no "export PASSTHRU_LXC_PATH=": ${out}`);
  lxcpath = found;
  for (const name of [PRIV, UNPRIV]) {
    stop(name);
    saved.set(name, fs.readFileSync(config(name), 'utf8'));
    expect(backups(name), `${name}: backups of an earlier run`).toEqual([]);
  }
}, 620_000);

afterAll(() => {
  if (!lxcpath) return;
  for (const name of [PRIV, UNPRIV]) {
    try {
      stop(name);
    } catch {
      lxc('lxc-stop', '-n', name, '-k');
    }
    if (saved.has(name)) fs.writeFileSync(config(name), saved.get(name)!);
    for (const b of backups(name)) fs.rmSync(path.join(lxcpath, name, b));
  }
}, 120_000);

describe('plain LXC (real containers)', { timeout: 120_000 }, () => {
  it(`attach --lxc makes ${NODE} appear inside the running privileged container at once; detach --lxc takes it away, config as before`, async () => {
    start(PRIV);
    expect(inside(PRIV), 'before attach').not.toBe(0);
    const attach = await cli('attach', '--lxc', PRIV, NODE, '--lxcpath', lxcpath);
    expect(attach.code, attach.stderr).toBe(0);
    expect(attach.stdout).toContain(`attach ${NODE} to plain LXC container ${PRIV} (privileged, RUNNING): ${NODE}`);
    expect(attach.stdout).toContain(`hot-plug: lxc-device -P ${lxcpath} -n ${PRIV} add ${NODE}`);
    expect(attach.stdout).toContain(`ok: ${NODE} present in ${PRIV}`);
    expect(inside(PRIV), 'after attach').toBe(0);
    expect(lxc('lxc-attach', '-n', PRIV, '--', 'ls', '-l', NODE)).toMatch(/^c.* 10, +200 /);
    const text = fs.readFileSync(config(PRIV), 'utf8');
    expect(text.startsWith(saved.get(PRIV)!)).toBe(true);
    expect(text.slice(saved.get(PRIV)!.length)).toMatch(
      /^# passthru: begin \/dev\/net\/tun\n.*\nlxc\.cgroup2?\.devices\.allow = c 10:200 rwm\nlxc\.mount\.entry = \/dev\/net\/tun dev\/net\/tun none bind,optional,create=file\n# passthru: end \/dev\/net\/tun\n$/,
    );
    const again = await cli('attach', '--lxc', PRIV, NODE, '--lxcpath', lxcpath);
    expect(again.stdout).toContain('nothing to write');

    const detach = await cli('detach', '--lxc', PRIV, NODE, '--lxcpath', lxcpath);
    expect(detach.code, detach.stderr).toBe(0);
    expect(detach.stdout).toContain(`ok: ${NODE} gone in ${PRIV}`);
    expect(inside(PRIV), 'after detach').not.toBe(0);
    expect(fs.readFileSync(config(PRIV), 'utf8')).toBe(saved.get(PRIV));
    expect(backups(PRIV)).toHaveLength(2);
    stop(PRIV);
  });

  it('on the running unprivileged container: no hot-plug (restart to apply), the node after a restart, gone after detach and a restart', async () => {
    start(UNPRIV);
    const attach = await cli('attach', '--lxc', UNPRIV, NODE, '--lxcpath', lxcpath, '--format', 'json');
    expect(attach.code, attach.stderr).toBe(0);
    const out = JSON.parse(attach.stdout);
    expect(out.plan).toMatchObject({ privileged: false, state: 'RUNNING', hotplug: [] });
    expect(out.plan.notes.join('\n')).toContain('restart to apply');
    expect(inside(UNPRIV), 'not hot-plugged').not.toBe(0);
    // lxc-device was not run: the container's own nodes are all still there.
    expect(lxc('lxc-attach', '-n', UNPRIV, '--', 'test', '-c', '/dev/null')).toBe('');
    stop(UNPRIV);
    start(UNPRIV);
    expect(inside(UNPRIV), 'after a restart').toBe(0);
    const detach = await cli('detach', '--lxc', UNPRIV, NODE, '--lxcpath', lxcpath);
    expect(detach.code, detach.stderr).toBe(0);
    expect(detach.stdout).toContain('restart to apply');
    expect(fs.readFileSync(config(UNPRIV), 'utf8')).toBe(saved.get(UNPRIV));
    stop(UNPRIV);
    start(UNPRIV);
    expect(inside(UNPRIV), 'after detach and a restart').not.toBe(0);
    stop(UNPRIV);
  });

  it('audit --lxc: the privileged container with devices.allow = a is critical, the unprivileged one nothing above low; SARIF validates', async () => {
    const r = await cli('audit', '--lxc', '--lxcpath', lxcpath, PRIV, UNPRIV, '--format', 'json');
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout);
    const [priv, unpriv] = report.containers;
    expect([priv.name, priv.privileged, unpriv.name, unpriv.privileged]).toEqual([PRIV, true, UNPRIV, false]);
    const allowA = saved
      .get(PRIV)!
      .split('\n')
      .flatMap((l, i) => (/^lxc\.cgroup2?\.devices\.allow = a$/.test(l) ? [i + 1] : []));
    expect(allowA).toHaveLength(2);
    expect(
      priv.findings.filter((f: { id: string }) => f.id === 'raw-lxc-devices-allow').map((f: { severity: string; line: number }) => [f.severity, f.line]),
    ).toEqual(allowA.map((line) => ['critical', line]));
    expect(priv.findings.find((f: { id: string }) => f.id === 'privileged').severity).toBe('critical');
    expect(RANK[worst(unpriv.findings)] ?? 'none').toMatch(/^(low|none)$/);
    const sarif = await cli('audit', '--lxc', '--lxcpath', lxcpath, '--format', 'sarif');
    expect(validateSarif(JSON.parse(sarif.stdout) as Log).filter((p) => p.level === 'error')).toEqual([]);
  });

  it('Proxmox VE configs are rated the same way: the privileged one with devices.allow a critical, the unprivileged default one nothing above low', async () => {
    const pve = path.join(repo, 'fixtures/lxc/etc/pve/lxc');
    const r = await cli('audit', '--lxc', path.join(pve, '101.conf'), path.join(pve, '102.conf'), '--format', 'json');
    expect(r.code, r.stderr).toBe(1);
    const [privileged, unprivileged] = JSON.parse(r.stdout).containers;
    expect(privileged.findings.find((f: { id: string }) => f.id === 'raw-lxc-devices-allow')).toMatchObject({ severity: 'critical', line: 12 });
    expect(privileged.findings.find((f: { id: string }) => f.id === 'privileged').severity).toBe('critical');
    expect(worst(unprivileged.findings)).toBeGreaterThanOrEqual(RANK.indexOf('low'));
    // The same ids as the real privileged container for the same exposure.
    const real = JSON.parse((await cli('audit', '--lxc', '--lxcpath', lxcpath, PRIV, '--format', 'json')).stdout).containers[0];
    for (const id of ['privileged', 'raw-lxc-devices-allow'])
      expect(
        real.findings.some((f: { id: string; severity: string }) => f.id === id && f.severity === 'critical'),
        id,
      ).toBe(true);
  });
});
