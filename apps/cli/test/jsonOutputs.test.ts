// The JSON each command prints, on every committed fixture, is pinned by golden files made with
// the bundle before the use cases moved into the packages (issue 11): a refactor that changes
// one byte of a command's JSON (or its exit code) fails here. Run with UPDATE_GOLDEN=1 to
// rewrite them on purpose, and say why in the commit. The reading commands are run a second time
// with their scan split over worker threads (PASSTHRU_SCAN_THREADS): their stdout must be the
// same bytes.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { allDevices, generateLargeHost, materialize } from '@passthru/sysfs-sim';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanFixtures, fixtureCopy, repo } from './runCli';

const run = promisify(execFile);
const bundle = path.join(repo, 'apps/cli/dist/passthru.mjs');
const goldenDir = path.join(__dirname, 'golden');

/** A GPU (not the integrated one) or else a NIC of each fixture: the device bind and persist plan for. */
const target: Record<string, string> = {
  'amd-shared-group': '0000:06:00.0',
  'intel-iommu-off': '0000:01:00.0',
  'intel-pch-desktop': '0000:01:00.0',
  'intel-workstation': '0000:01:00.0',
  'laptop-no-iommu': '0000:01:00.0',
  'no-group-device': '0000:01:00.0',
  'partial-capture': '0000:01:00.0',
  'sriov-server': '0000:01:00.0',
  'twin-gpu': '0000:01:00.0',
  'numa-dual-socket': '0000:81:00.0',
  'lxd-tuned': '0000:02:00.0',
  'vmd-gaps': '0000:03:00.0',
  'upgrade-before': '0000:04:00.0',
  'upgrade-after': '0000:04:00.0',
  'gpu-legacy-rom': '0000:0b:00.0',
  'gpu-efi-rom': '0000:01:00.0',
  'intel-gvtg': '0000:00:02.0',
  'sriov-gpu': '0000:18:00.0',
  'nvidia-mig': '0000:41:00.0',
  'gpu-boot-efifb': '0000:01:00.0',
  'gpu-rebar-32g': '0000:01:00.0',
};

const commands = (address: string): Record<string, string[]> => ({
  list: ['list'],
  groups: ['groups'],
  doctor: ['doctor'],
  report: ['report'],
  bind: ['bind', address, '--dry-run'],
  restore: ['restore', '--all', '--dry-run'],
  persist: ['persist', address, '--dry-run'],
});

/** Runs the bundle on a copy (every command here only reads); the copy's path and the times are made stable. */
async function output(root: string, argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; json: unknown; stderr: string; stdout: string }> {
  const result = await run(process.execPath, [bundle, '--root', root, ...argv, '--format', 'json'], {
    env: { ...process.env, NO_COLOR: '1', ...env },
    maxBuffer: 256 * 1024 * 1024,
  }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
  const stable = (text: string) =>
    text
      .split(root)
      .join('<root>')
      .replace(/\d{4}-\d\d-\d\dT\d\d[-:]\d\d[-:]\d\d[-.]\d{3}Z/g, '<time>');
  const text = stable(result.stdout);
  // The notes and errors on stderr are pinned too: the use cases now return what commands print.
  return { code: result.code, json: text ? JSON.parse(text) : null, stderr: stable(result.stderr), stdout: text };
}

afterAll(cleanFixtures);

describe('JSON outputs stay what they were on every fixture', () => {
  for (const [fixture, address] of Object.entries(target)) {
    it(fixture, async () => {
      const root = fixtureCopy(fixture);
      const outputs: Record<string, unknown> = {};
      const stdouts: Record<string, string> = {};
      for (const [name, argv] of Object.entries(commands(address))) {
        const { stdout, ...pinned } = await output(root, argv);
        outputs[name] = pinned;
        stdouts[name] = stdout;
      }
      const file = path.join(goldenDir, `${fixture}.json`);
      if (process.env.UPDATE_GOLDEN) fs.mkdirSync(goldenDir, { recursive: true }), fs.writeFileSync(file, `${JSON.stringify(outputs, null, 2)}\n`);
      // Same values and the same key order (JSON.parse keeps it): the bytes a script reads.
      expect(JSON.stringify(outputs)).toBe(JSON.stringify(JSON.parse(fs.readFileSync(file, 'utf8'))));
      for (const name of ['list', 'groups', 'doctor', 'report']) {
        const threaded = await output(root, commands(address)[name]!, { PASSTHRU_SCAN_THREADS: '3' });
        expect(threaded.stdout, `${name} with 3 scan threads`).toBe(stdouts[name]);
      }
    });
  }
});

describe('a scan over worker threads prints what one thread prints', () => {
  it('list, groups and doctor on a generated host of 2,038 functions (1,920 VFs), 1 and 2 threads, byte for byte', async () => {
    // tmpfs where there is one: writing 2,038 device folders to a busy disk takes tens of seconds.
    const base = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
    const root = fs.mkdtempSync(path.join(base, 'cli-threads-'));
    try {
      expect(allDevices(materialize(generateLargeHost({ nics: 30, vfsPerNic: 64, gpus: 8 }), root)).length).toBe(2038);
      for (const argv of [['list'], ['groups'], ['doctor']]) {
        const one = await output(root, argv, { PASSTHRU_SCAN_THREADS: '1' });
        const two = await output(root, [...argv, '--verbose'], { PASSTHRU_SCAN_THREADS: '2' });
        // The worker did read a share (it starts in about 25 ms; the scan takes hundreds).
        const share = /scan: 2038 entries, (\d+) read by 1 worker thread/.exec(two.stderr);
        expect(Number(share?.[1]), two.stderr).toBeGreaterThan(0);
        expect(two.stdout.length, argv.join(' ')).toBeGreaterThan(3_000);
        expect(two.stdout, argv.join(' ')).toBe(one.stdout);
        expect(two.code).toBe(one.code);
      }
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  }, 120_000);
});
