// Issue 3 benchmark: `passthru list --format json` against `lspci -Dvmmnnk`, both as whole
// processes, on one generated host of about 2,000 functions, run side by side (alternating).
// Reports the median wall time of each, their ratio, and the peak RSS of each (GNU time).
// Usage: npm run bench -- [--runs N]    (needs `npm run build` and pciutils)
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { allDevices, generateLargeHost, materialize } from '@passthru/sysfs-sim';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 15;
const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-large-'));
const spec = materialize(generateLargeHost({ nics: 30, vfsPerNic: 64, gpus: 8 }), root);
const functions = allDevices(spec).length;

/** Wall seconds (hrtime around the process) and peak RSS (KiB, GNU time's %M); stdout discarded. */
function measure(file: string, args: string[]): { wall: number; rssKiB: number } {
  const start = process.hrtime.bigint();
  const run = spawnSync('/usr/bin/time', ['-f', '%M', file, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  if (run.status !== 0) throw new Error(`${file} exited ${run.status}: ${run.stderr}`);
  return { wall, rssKiB: Number(run.stderr.toString().trim().split('\n').at(-1)) };
}

const passthru = [path.join(repo, 'apps/cli/bin/passthru.js'), '--root', root, 'list', '--format', 'json'];
const lspci = ['-A', 'linux-sysfs', '-O', `sysfs.path=${root}/sys/bus/pci`, '-O', 'hwdb.disable=1', '-Dvmmnnk'];
// Same answer first: both list every function.
const ours = JSON.parse(execFileSync(process.execPath, passthru, { maxBuffer: 64 * 1024 * 1024 }).toString()).devices.length;
const theirs = execFileSync('lspci', lspci, { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 })
  .toString()
  .split('\n\n')
  .filter((b) => b.trim()).length;
if (ours !== functions || theirs !== functions) throw new Error(`device counts differ: spec ${functions}, passthru ${ours}, lspci ${theirs}`);

const a: Array<{ wall: number; rssKiB: number }> = [];
const b: Array<{ wall: number; rssKiB: number }> = [];
measure(process.execPath, passthru); // warm the page cache for both
measure('lspci', lspci);
for (let i = 0; i < runs; i++) {
  a.push(measure(process.execPath, passthru));
  b.push(measure('lspci', lspci));
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const result = {
  functions,
  runs,
  passthruMedianSeconds: Number(median(a.map((x) => x.wall)).toFixed(3)),
  lspciMedianSeconds: Number(median(b.map((x) => x.wall)).toFixed(3)),
  ratio: Number((median(a.map((x) => x.wall)) / median(b.map((x) => x.wall))).toFixed(2)),
  passthruPeakRssMiB: Number((Math.max(...a.map((x) => x.rssKiB)) / 1024).toFixed(1)),
  lspciPeakRssMiB: Number((Math.max(...b.map((x) => x.rssKiB)) / 1024).toFixed(1)),
};
console.log(JSON.stringify(result, null, 2));
fs.rmSync(root, { recursive: true, force: true });
