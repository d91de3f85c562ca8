import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { afterEach, describe, expect, it } from 'vitest';
import { runChecks } from '../src/runChecks';

const HOSTS = path.resolve(__dirname, '../../../fixtures/hosts');
const temps: string[] = [];
afterEach(() => {
  for (const t of temps.splice(0)) fs.rmSync(t, { recursive: true, force: true });
});
function copy(name: string, files: Record<string, string>): HostFs {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pt-tune17-'));
  temps.push(dir);
  const root = path.join(dir, 'h');
  fs.cpSync(path.join(HOSTS, name), root, { recursive: true, verbatimSymlinks: true });
  for (const [p, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), text);
  }
  return new HostFs(root);
}
const memlock = (host: HostFs) => runChecks(host).checks.find((c) => c.id === 'memlock')!;

describe('memlock: the running daemon first, then its unit, then limits.conf', () => {
  it('a running lxd with an 8 MiB limit warns even when limits.conf says unlimited', () => {
    const c = memlock(
      copy('lxd-tuned', {
        '/proc/4242/comm': 'lxd\n',
        '/proc/4242/limits':
          'Limit                     Soft Limit           Hard Limit           Units\nMax locked memory         8388608              8388608              bytes\n',
      }),
    );
    expect([c.status, c.evidence]).toEqual(['WARN', ['/proc/4242/limits (lxd): Max locked memory soft 8388608 hard 8388608']]);
    expect(c.remediation).toContain('LimitMEMLOCK=infinity');
  });

  it('a unit drop-in with LimitMEMLOCK=infinity passes on a host whose limits.conf has no memlock line', () => {
    const c = memlock(copy('numa-dual-socket', { '/etc/systemd/system/lxd.service.d/memlock.conf': '[Service]\nLimitMEMLOCK=infinity\n' }));
    expect([c.status, c.evidence]).toEqual(['PASS', ['/etc/systemd/system/lxd.service.d/memlock.conf: LimitMEMLOCK=infinity']]);
  });

  it('limits.conf with only a soft unlimited line still warns', () => {
    expect(memlock(copy('numa-dual-socket', { '/etc/security/limits.conf': '* soft memlock unlimited\n* hard memlock 65536\n' })).status).toBe('WARN');
  });
});
