import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanFixtures, cli, fixtureCopy } from './runCli';

afterEach(cleanFixtures);
const FILE = 'etc/sysctl.d/60-passthru-lxd.conf';

describe('passthru tune on a fixture tree', () => {
  it('numa-dual-socket: --dry-run shows the unified diff and writes nothing; the run writes one file; a second run writes nothing', async () => {
    const root = fixtureCopy('numa-dual-socket');
    const dry = await cli('--root', root, 'tune', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('--- /dev/null\n+++ etc/sysctl.d/60-passthru-lxd.conf');
    expect(dry.stdout).toContain('+fs.inotify.max_user_instances = 1048576');
    expect(fs.existsSync(path.join(root, FILE))).toBe(false);
    const r = await cli('--root', root, 'tune', '--format', 'json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect([out.dryRun, out.written, out.plan.settings.length]).toEqual([false, ['/etc/sysctl.d/60-passthru-lxd.conf'], 11]);
    expect(fs.readFileSync(path.join(root, FILE), 'utf8')).toBe(out.plan.after);
    const again = await cli('--root', root, 'tune', '--format', 'json');
    expect([JSON.parse(again.stdout).written, JSON.parse(again.stdout).plan.diff]).toEqual([[], '']);
  });
});
