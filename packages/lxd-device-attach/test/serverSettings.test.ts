import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { afterEach, describe, expect, it } from 'vitest';
import { LXD_SYSCTL, SYSCTL_FILE, parseSysctlConf, sysctlFindings, tuneServerSysctl } from '../src/serverSettings';

const HOSTS = path.resolve(__dirname, '../../../fixtures/hosts');
const temps: string[] = [];
afterEach(() => {
  for (const t of temps.splice(0)) fs.rmSync(t, { recursive: true, force: true });
});
const copy = (name: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pt-tune17-'));
  temps.push(dir);
  fs.cpSync(path.join(HOSTS, name), path.join(dir, 'h'), { recursive: true, verbatimSymlinks: true });
  return path.join(dir, 'h');
};

describe('server-sysctl: LXD production kernel limits', () => {
  it('numa-dual-socket (distribution defaults): one finding per setting, its key and value in the summary', () => {
    const found = sysctlFindings(new HostFs(path.join(HOSTS, 'numa-dual-socket')));
    expect(found.map((f) => f.id)).toEqual(LXD_SYSCTL.map(() => 'server-sysctl'));
    LXD_SYSCTL.forEach((s, i) => {
      expect(found[i]!.summary).toContain(`${s.key}=`);
      expect(found[i]!.fix).toContain(`sysctl -w ${s.key}=${s.value}`);
    });
    expect(found.find((f) => f.summary.startsWith('fs.inotify.max_user_instances='))!.summary).toContain(
      "fs.inotify.max_user_instances=128 is below LXD's production value 1048576",
    );
  });

  it('lxd-tuned (every value at the recommendation): no findings; a single low value is found alone', () => {
    expect(sysctlFindings(new HostFs(path.join(HOSTS, 'lxd-tuned')))).toEqual([]);
    const root = copy('lxd-tuned');
    fs.writeFileSync(path.join(root, 'proc/sys/vm/max_map_count'), '65530\n');
    const found = sysctlFindings(new HostFs(root));
    expect(found.map((f) => f.summary.split(' ')[0])).toEqual(['vm.max_map_count=65530']);
    expect(found[0]!.summary).toContain('/etc/sysctl.d/99-lxd.conf sets 262144: applied at next boot or sysctl --system');
  });

  it('the plan writes one file with every missing setting; a second run writes nothing; a changed file is backed up', async () => {
    const root = copy('numa-dual-socket');
    const host = new HostFs(root);
    const dry = await tuneServerSysctl(host, { dryRun: true, stamp: 's1' });
    expect(dry.written).toEqual([]);
    expect(fs.existsSync(path.join(root, SYSCTL_FILE))).toBe(false);
    const first = await tuneServerSysctl(host, { stamp: 's1' });
    expect(first.written).toEqual([SYSCTL_FILE]);
    expect(first.plan.backup).toBeNull();
    expect([...parseSysctlConf(fs.readFileSync(path.join(root, SYSCTL_FILE), 'utf8'))]).toEqual(LXD_SYSCTL.map((s) => [s.key, String(s.value)]));
    const second = await tuneServerSysctl(host, { stamp: 's2' });
    expect([second.written, second.plan.diff]).toEqual([[], '']);
    // Someone else now persists vm.max_map_count higher, and edited our file: it is rewritten without it, the old text kept.
    fs.writeFileSync(path.join(root, 'etc/sysctl.d/99-es.conf'), 'vm.max_map_count = 1048576\n');
    fs.appendFileSync(path.join(root, SYSCTL_FILE), '# local edit\n');
    const third = await tuneServerSysctl(host, { stamp: 's3' });
    expect(third.written).toEqual([`${SYSCTL_FILE}.passthru-s3.bak`, SYSCTL_FILE]);
    expect(fs.readFileSync(path.join(root, `${SYSCTL_FILE}.passthru-s3.bak`), 'utf8')).toContain('# local edit');
    expect(third.plan.settings.map((s) => s.key)).not.toContain('vm.max_map_count');
  });

  it('lxd-tuned: the other file persists everything, so the plan writes nothing', async () => {
    const outcome = await tuneServerSysctl(new HostFs(copy('lxd-tuned')), { stamp: 's' });
    expect([outcome.written, outcome.plan.after]).toEqual([[], '']);
  });
});
