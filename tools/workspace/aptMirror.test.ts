// tools/provision/apt-mirror.sh: docker.sh takes the debootstrap mirror from this machine's apt
// sources (one-line and deb822), and fails with a clear message rather than guess a host.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const script = path.resolve(__dirname, '../provision/apt-mirror.sh');
const roots: string[] = [];
afterEach(() =>
  roots.splice(0).forEach((r) => {
    fs.rmSync(r, { recursive: true, force: true });
  }),
);

/** A root holding these files under etc/apt, and the script's answer for it. */
function mirrorOf(files: Record<string, string>) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'apt-mirror-'));
  roots.push(root);
  fs.mkdirSync(path.join(root, 'etc/apt/sources.list.d'), { recursive: true });
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(root, 'etc/apt', name), text);
  const r = spawnSync('bash', [script, root], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
}

describe('apt-mirror.sh', () => {
  it('reads deb822 .sources: Types deb, the first URI ending in /debian; comments, disabled stanzas and security skipped', () => {
    const r = mirrorOf({
      'sources.list.d/debian.sources': [
        'Types: deb-src',
        'URIs: http://src.example.test/debian',
        'Suites: bookworm',
        '',
        'Types: deb',
        'URIs: http://off.example.test/debian',
        'Enabled: no',
        '',
        'Types: deb deb-src',
        '# http://comment.example.test/debian',
        'URIs: http://security.example.test/debian-security http://mirror.example.test/debian/',
        'Suites: bookworm bookworm-updates',
        'Components: main',
        'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
        '',
      ].join('\n'),
    });
    expect(r).toMatchObject({ code: 0, stdout: 'http://mirror.example.test/debian/' });
  });

  it('reads one-line sources.list with [options], skipping deb-src, comments and other archives', () => {
    const r = mirrorOf({
      'sources.list': [
        '# deb http://commented.example.test/debian bookworm main',
        'deb-src http://src.example.test/debian bookworm main',
        'deb http://security.example.test/debian-security bookworm-security main',
        'deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] https://one.example.test/debian bookworm main # the mirror',
        'deb http://two.example.test/debian bookworm main',
      ].join('\n'),
    });
    expect(r).toMatchObject({ code: 0, stdout: 'https://one.example.test/debian' });
  });

  it('reads sources.list.d/*.list when sources.list has none', () => {
    expect(mirrorOf({ 'sources.list': '', 'sources.list.d/local.list': 'deb http://local.example.test/debian bookworm main\n' })).toMatchObject({
      code: 0,
      stdout: 'http://local.example.test/debian',
    });
  });

  it('fails with a message naming PASSTHRU_DEBIAN_MIRROR when there is no Debian archive (no guessed host)', () => {
    for (const files of [
      {},
      { 'sources.list': 'deb http://archive.ubuntu.example.test/ubuntu noble main\n' },
      { 'sources.list.d/x.sources': 'Types: deb\nURIs: http://off.example.test/debian\nEnabled: no\n' },
    ]) {
      const r = mirrorOf(files);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/no Debian archive .* set PASSTHRU_DEBIAN_MIRROR=URL/);
    }
  });

  it('docker.sh has no built-in mirror host and takes it from apt-mirror.sh', () => {
    const docker = fs.readFileSync(path.resolve(__dirname, '../provision/docker.sh'), 'utf8');
    expect(docker).not.toMatch(/deb\.debian\.org/);
    expect(docker).toContain('apt-mirror.sh');
  });
});
