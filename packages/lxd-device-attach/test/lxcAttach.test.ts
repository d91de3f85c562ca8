// attach --lxc / detach --lxc as use cases: the block in the config (diff, backup, mode kept,
// idempotent, exactly its own lines removed), the refusals (nothing written), and the hot-plug
// with a scripted runner (the real lxc-device is the CLI's integration test).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { unifiedPatch } from '@passthru/boot-config';
import { HostFs } from '@passthru/hostfs';
import { afterEach, describe, expect, it } from 'vitest';
import { LxdError } from '../src/LxdError';
import { applyLxcEdit, planLxcAttach, planLxcDetach, type LxcRunner } from '../src/lxc/attachLxc';
import { findBlocks } from '../src/lxc/lxcBlock';

const REPO = path.resolve(__dirname, '../../..');
const STAMP = '2026-01-02T03-04-05-000Z';
const USER = '# my own GPU line, kept whatever passthru does\nlxc.mount.entry = /dev/dri/card0 dev/dri/card0 none bind,optional,create=file\n';
const PRIV = `lxc.include = /usr/share/lxc/config/common.conf\nlxc.uts.name = c1\n${USER}`;
const UNPRIV = 'lxc.idmap = u 0 100000 65536\nlxc.idmap = g 0 100000 65536\nlxc.uts.name = u1';

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A writable copy of intel-workstation with containers c1 (privileged, 0640) and u1 (unprivileged, no final newline). */
function host(extra: Record<string, string> = {}): { host: HostFs; root: string; read: (p: string) => string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pt-lxc-attach-'));
  made.push(root);
  fs.cpSync(path.join(REPO, 'fixtures/hosts/intel-workstation'), root, { recursive: true, verbatimSymlinks: true });
  const files = { '/var/lib/lxc/c1/config': PRIV, '/var/lib/lxc/u1/config': UNPRIV, ...extra };
  for (const [p, text] of Object.entries(files)) {
    fs.mkdirSync(path.join(root, path.dirname(p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), text, { mode: 0o640 });
  }
  return { host: new HostFs(root), root, read: (p) => fs.readFileSync(path.join(root, p), 'utf8') };
}

/** A runner that answers from a script (command line -> exit code) and records every call. */
function scripted(answers: Record<string, number | string>): LxcRunner & { calls: string[] } {
  const calls: string[] = [];
  const runner = async (file: string, args: string[]) => {
    const line = [file, ...args].join(' ');
    calls.push(line);
    const key = Object.keys(answers).find((k) => line.includes(k));
    const answer = key === undefined ? 0 : answers[key]!;
    return typeof answer === 'string'
      ? { exitCode: 0, stdout: `${answer}\n`, stderr: '' }
      : { exitCode: answer, stdout: '', stderr: answer ? 'lxc-device: failed' : '' };
  };
  return Object.assign(runner, { calls });
}

const BLOCK = [
  '# passthru: begin 0000:00:02.0',
  '# added by passthru attach --lxc; passthru detach --lxc c1 0000:00:02.0 removes this block',
  'lxc.cgroup2.devices.allow = c 226:0 rwm',
  'lxc.mount.entry = /dev/dri/card0 dev/dri/card0 none bind,optional,create=file',
  'lxc.cgroup2.devices.allow = c 226:128 rwm',
  'lxc.mount.entry = /dev/dri/renderD128 dev/dri/renderD128 none bind,optional,create=file',
  '# passthru: end 0000:00:02.0',
];

describe('attach --lxc / detach --lxc (the config)', () => {
  it("a PCI device's DRM nodes: one marked block appended, as a diff with a backup; mode kept; a second attach writes nothing", async () => {
    const { host: h, root, read } = host();
    const plan = await planLxcAttach(h, { container: 'c1', target: '00:02.0', stamp: STAMP });
    expect(plan).toMatchObject({
      target: '0000:00:02.0',
      lxcpath: '/var/lib/lxc',
      config: '/var/lib/lxc/c1/config',
      privileged: true,
      state: null,
      hotplug: [],
    });
    expect(plan.lines).toEqual(BLOCK);
    expect(plan.after).toBe(`${PRIV}${BLOCK.join('\n')}\n`);
    expect(plan.diff).toBe(unifiedPatch('/var/lib/lxc/c1/config', PRIV, plan.after));
    expect(plan.backup).toBe(`/var/lib/lxc/c1/config.passthru-${STAMP}.bak`);
    expect(plan.notes).toContain("the config already has 1 of these lines outside passthru's blocks (yours are left as they are)");
    expect(read('/var/lib/lxc/c1/config')).toBe(PRIV); // planning reads only
    const outcome = await applyLxcEdit(h, plan);
    expect(outcome.written).toEqual([plan.backup, plan.config]);
    expect(read('/var/lib/lxc/c1/config')).toBe(plan.after);
    expect(read(plan.backup!)).toBe(PRIV);
    expect(fs.statSync(path.join(root, 'var/lib/lxc/c1/config')).mode & 0o777).toBe(0o640);
    const again = await planLxcAttach(h, { container: 'c1', target: '8086:a780', stamp: 'later' });
    expect([again.diff, again.backup, again.after === again.before]).toEqual(['', null, true]);
    expect((await applyLxcEdit(h, again)).written).toEqual([]);
  });

  it("detach removes exactly passthru's block (by key, node or vendor:device): the user's own identical line stays, the file is as before", async () => {
    for (const dev of ['0000:00:02.0', '00:02.0', '/dev/dri/renderD128', '8086:a780']) {
      const { host: h, read } = host();
      await applyLxcEdit(h, await planLxcAttach(h, { container: 'c1', target: '00:02.0', stamp: STAMP }));
      const plan = await planLxcDetach(h, { container: 'c1', target: dev, stamp: 'd' });
      expect(plan.lines).toEqual(BLOCK);
      expect(plan.nodes).toEqual(['/dev/dri/card0', '/dev/dri/renderD128']);
      await applyLxcEdit(h, plan);
      expect(read('/var/lib/lxc/c1/config'), dev).toBe(PRIV);
    }
  });

  it('a config without a final newline, an unprivileged container, and a block changed since: replaced in place, the rest untouched', async () => {
    const { host: h, read } = host();
    await applyLxcEdit(h, await planLxcAttach(h, { container: 'u1', target: '00:02.0', stamp: STAMP }));
    const after = read('/var/lib/lxc/u1/config');
    expect(after.startsWith(`${UNPRIV}\n# passthru: begin 0000:00:02.0\n`)).toBe(true);
    fs.writeFileSync(path.join(h.root, 'var/lib/lxc/u1/config'), `${after.replace('226:128', '226:200')}lxc.tty.max = 4\n`);
    const plan = await planLxcAttach(h, { container: 'u1', target: '00:02.0', stamp: 's2' });
    expect(plan.privileged).toBe(false);
    expect(plan.diff).toMatch(/^-lxc\.cgroup2\.devices\.allow = c 226:200 rwm\n\+lxc\.cgroup2\.devices\.allow = c 226:128 rwm$/m);
    await applyLxcEdit(h, plan);
    expect(read('/var/lib/lxc/u1/config')).toBe(`${after}lxc.tty.max = 4\n`);
  });

  it('a cgroup v1 host (a devices hierarchy under /sys/fs/cgroup) gets lxc.cgroup.devices.allow, the key it applies', async () => {
    const { host: h } = host({ '/sys/fs/cgroup/devices/devices.list': 'a *:* rwm\n' });
    const plan = await planLxcAttach(h, { container: 'c1', target: '00:02.0', stamp: STAMP });
    expect(plan.lines[2]).toBe('lxc.cgroup.devices.allow = c 226:0 rwm');
  });

  it('a device node by path (this machine): its own major:minor, the path as the key', async () => {
    const lxcpath = fs.mkdtempSync(path.join(os.tmpdir(), 'pt-lxcpath-'));
    made.push(lxcpath);
    fs.mkdirSync(path.join(lxcpath, 'c1'));
    fs.writeFileSync(path.join(lxcpath, 'c1/config'), 'lxc.uts.name = c1\n');
    const live = new HostFs('/');
    const plan = await planLxcAttach(live, { container: 'c1', lxcpath, target: '/dev/full', stamp: STAMP });
    expect(plan.lines.slice(2, 4)).toEqual([
      `${fs.existsSync('/sys/fs/cgroup/devices/devices.list') ? 'lxc.cgroup' : 'lxc.cgroup2'}.devices.allow = c 1:7 rwm`,
      'lxc.mount.entry = /dev/full dev/full none bind,optional,create=file',
    ]);
    expect(plan.target).toBe('/dev/full');
  });

  it.each([
    ['a network interface', 'c1', 'eno1', /a network interface \(eno1\) is moved .* --lxc-config/],
    ['a GPU whose driver nodes are unknown here', 'c1', '01:00.0', /no major:minor on this host for \/dev\/nvidiaN/],
    ['a path outside /dev', 'c1', '/etc/hostname', /a device node is a path under \/dev/],
    ['a path with ..', 'c1', '/dev/../etc/shadow', /a device node is a path under \/dev/],
    ['a node that is not there', 'c1', '/dev/nope', /no such device node on this host \(ENOENT\)/],
    ['a folder', 'c1', '/dev/dri', /not a device node on this host/],
    ['an unknown PCI address', 'c1', '0000:7f:00.0', /no PCI device 0000:7f:00.0/],
    ['a bad container name', '../c1', '00:02.0', /not a container name/],
    ['a Proxmox VE file', '101.conf', '00:02.0', /pct set ID --dev0/],
    ['no such container', 'c9', '00:02.0', /Failed reading the LXC configuration via \/var\/lib\/lxc\/c9\/config: no such file/],
  ])('refuses %s before any write (bad input)', async (_what, container, target, message) => {
    const { host: h, read } = host();
    const error = await planLxcAttach(h, { container, target, stamp: STAMP }).catch((e) => e);
    expect(error).toBeInstanceOf(LxdError);
    expect(error.kind).toBe('bad-input');
    expect(error.message).toMatch(message);
    expect(read('/var/lib/lxc/c1/config')).toBe(PRIV);
  });

  it('refuses a Proxmox VE config in the lxcpath, a block without its end marker, and a detach of what passthru did not add', async () => {
    const { host: h } = host({
      '/var/lib/lxc/101/config': 'arch: amd64\nunprivileged: 1\n',
      '/var/lib/lxc/c2/config': '# passthru: begin /dev/full\nlxc.uts.name = c2\n',
    });
    await expect(planLxcAttach(h, { container: '101', target: '00:02.0', stamp: STAMP })).rejects.toThrow(/in Proxmox VE's format: .*pct set/);
    await expect(planLxcDetach(h, { container: 'c2', target: '/dev/full', stamp: STAMP })).rejects.toThrow(
      /Failed reading passthru's block for \/dev\/full via \/var\/lib\/lxc\/c2\/config:1: no "# passthru: end \/dev\/full" after it/,
    );
    await applyLxcEdit(h, await planLxcAttach(h, { container: 'c1', target: '00:02.0', stamp: STAMP }));
    await expect(planLxcDetach(h, { container: 'c1', target: '/dev/dri/card1', stamp: STAMP })).rejects.toThrow(
      /passthru removes only the lines it added \(its blocks: 0000:00:02.0\)/,
    );
    await expect(planLxcDetach(h, { container: 'u1', target: '00:02.0', stamp: STAMP })).rejects.toThrow(/\(it has none\)/);
  });

  it('findBlocks: every block with its nodes; another begin before the end is refused', () => {
    const text = `a = 1\n${BLOCK.join('\n')}\nb = 2\n`;
    expect(findBlocks(text, '/c')).toEqual([{ key: '0000:00:02.0', begin: 1, end: 7, lines: BLOCK, nodes: ['/dev/dri/card0', '/dev/dri/renderD128'] }]);
    expect(() => findBlocks(`# passthru: begin x\n# passthru: begin y\n# passthru: end y\n`, '/c')).toThrow(/no "# passthru: end x"/);
  });
});

describe('the hot-plug (a scripted lxc-info, lxc-device, lxc-attach)', () => {
  it('a running privileged container: lxc-device add per node, each checked inside; detach: lxc-device del, each checked gone', async () => {
    const { host: h } = host();
    const runner = scripted({ 'lxc-info': 'RUNNING' });
    const plan = await planLxcAttach(h, { container: 'c1', target: '00:02.0', stamp: STAMP }, runner);
    expect(plan.state).toBe('RUNNING');
    expect(plan.hotplug).toEqual(['lxc-device -P /var/lib/lxc -n c1 add /dev/dri/card0', 'lxc-device -P /var/lib/lxc -n c1 add /dev/dri/renderD128']);
    const outcome = await applyLxcEdit(h, plan, runner);
    expect(outcome.verified).toEqual(['/dev/dri/card0', '/dev/dri/renderD128']);
    expect(runner.calls).toEqual([
      'lxc-info -P /var/lib/lxc -n c1 -sH',
      'lxc-device -P /var/lib/lxc -n c1 add /dev/dri/card0',
      'lxc-attach -P /var/lib/lxc -n c1 -- test -e /dev/dri/card0',
      'lxc-device -P /var/lib/lxc -n c1 add /dev/dri/renderD128',
      'lxc-attach -P /var/lib/lxc -n c1 -- test -e /dev/dri/renderD128',
    ]);
    const gone = scripted({ 'lxc-info': 'RUNNING', 'test -e': 1 });
    const detach = await applyLxcEdit(h, await planLxcDetach(h, { container: 'c1', target: '00:02.0', stamp: 'd' }, gone), gone);
    expect(detach.verified).toEqual(['/dev/dri/card0', '/dev/dri/renderD128']);
    expect(gone.calls.filter((c) => c.includes(' del '))).toHaveLength(2);
  });

  it('an unprivileged running container is never hot-plugged (lxc-device would delete the node): restart to apply', async () => {
    const { host: h } = host();
    const runner = scripted({ 'lxc-info': 'RUNNING' });
    const plan = await planLxcAttach(h, { container: 'u1', target: '00:02.0', stamp: STAMP }, runner);
    expect(plan.hotplug).toEqual([]);
    expect(plan.notes.join('\n')).toMatch(/^restart to apply: u1 is unprivileged and running/m);
    await applyLxcEdit(h, plan, runner);
    expect(runner.calls).toEqual(['lxc-info -P /var/lib/lxc -n u1 -sH']);
    const stopped = await planLxcAttach(h, { container: 'c1', target: '00:02.0', stamp: STAMP }, scripted({ 'lxc-info': 'STOPPED' }));
    expect([stopped.hotplug, stopped.notes.at(-1)]).toEqual([[], 'c1 is STOPPED: the change applies at its next start']);
  });

  it('a failed hot-plug is undone: the nodes added are removed again, the old config written back (exit 1); a failed undo is partial (exit 3)', async () => {
    const { host: h, read } = host();
    const second = scripted({ 'lxc-info': 'RUNNING', 'add /dev/dri/renderD128': 1 });
    const plan = await planLxcAttach(h, { container: 'c1', target: '00:02.0', stamp: STAMP }, second);
    const error = await applyLxcEdit(h, plan, second).catch((e) => e);
    expect(error).toBeInstanceOf(LxdError);
    expect([error.reason, error.kind]).toEqual(['lxd', 'failed']);
    expect(error.message).toMatch(
      /^Failed hot-plugging \/dev\/dri\/card0, \/dev\/dri\/renderD128 via lxc-device \(c1\): lxc-device .* add \/dev\/dri\/renderD128: exit 1: lxc-device: failed; undone/,
    );
    expect(second.calls.at(-1)).toBe('lxc-device -P /var/lib/lxc -n c1 del /dev/dri/card0');
    expect(read('/var/lib/lxc/c1/config')).toBe(PRIV);
    expect(read(plan.backup!)).toBe(PRIV);

    const stuck = scripted({ 'lxc-info': 'RUNNING', 'add /dev/dri/renderD128': 1, 'del /dev/dri/card0': 1 });
    const partial = await applyLxcEdit(h, await planLxcAttach(h, { container: 'c1', target: '00:02.0', stamp: 's2' }, stuck), stuck).catch((e) => e);
    expect([partial.reason, partial.kind]).toEqual(['rollback', 'partial']);
    expect(partial.leftover).toEqual(['lxc-device -P /var/lib/lxc -n c1 del /dev/dri/card0']);
  });

  it('a config changed between plan and apply is a conflict: nothing written (exit 1)', async () => {
    const { host: h, read } = host();
    const plan = await planLxcAttach(h, { container: 'c1', target: '00:02.0', stamp: STAMP });
    fs.appendFileSync(path.join(h.root, 'var/lib/lxc/c1/config'), 'lxc.tty.max = 2\n');
    const error = await applyLxcEdit(h, plan).catch((e) => e);
    expect([error.reason, error.kind]).toEqual(['conflict', 'failed']);
    expect(error.message).toMatch(/it changed since it was read: nothing written/);
    expect(read('/var/lib/lxc/c1/config')).toBe(`${PRIV}lxc.tty.max = 2\n`);
    expect(fs.existsSync(path.join(h.root, plan.backup!))).toBe(false);
  });

  it('a node missing inside after lxc-device says success is a failure too', async () => {
    const { host: h, read } = host();
    const runner = scripted({ 'lxc-info': 'RUNNING', 'test -e /dev/dri/card0': 1 });
    await expect(applyLxcEdit(h, await planLxcAttach(h, { container: 'c1', target: '00:02.0', stamp: STAMP }, runner), runner)).rejects.toThrow(
      /\/dev\/dri\/card0 is not there inside c1 after lxc-device/,
    );
    expect(read('/var/lib/lxc/c1/config')).toBe(PRIV);
  });
});
