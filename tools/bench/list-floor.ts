// Issue 23: how near `passthru list` is to the least Node.js can do. Three whole processes in
// turn on generated hosts of about 2,000 and 8,000 functions: `lspci -Dvmmnnk`, the floor
// (tools/bench/listFloor.mjs: the files and links list's JSON shows, read in two threads, and
// JSON.stringify; no names, no confinement, no checks) and `passthru list --format json`. Wall
// time (hrtime around the process), user and system CPU (GNU time), medians of --runs (default 5).
// The floor's ratio to lspci is what plain Node pays for this output before any code of ours.
// Usage: npm run bench -- list-floor [--runs N]      (needs `npm run build`, pciutils and GNU time)
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { allDevices, generateLargeHost, materialize } from '@passthru/sysfs-sim';

const scratch = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 5;
const here = path.dirname(new URL(import.meta.url).pathname);
const cli = path.resolve(here, '../../apps/cli/dist/passthru.mjs');
const floor = path.join(here, 'listFloor.mjs');
const SIZES = [
  { nics: 30, vfsPerNic: 64, gpus: 8 },
  { nics: 120, vfsPerNic: 64, gpus: 8 },
];

interface Sample {
  wall: number;
  user: number;
  sys: number;
}
function measure(file: string, args: string[]): Sample {
  const start = process.hrtime.bigint();
  const run = spawnSync('/usr/bin/time', ['-f', '%U %S', file, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  if (run.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  const [user, sys] = run.stderr.toString().trim().split('\n').at(-1)!.split(' ').map(Number) as [number, number];
  return { wall, user, sys };
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

type Tool = 'lspci' | 'floor' | 'list';
const f = (n: number) => n.toFixed(2);
console.log('| functions | lspci -Dvmmnnk | Node floor | ratio | passthru list --format json | ratio | list / floor | user / sys CPU s: lspci, floor, list |');
console.log('|---|---|---|---|---|---|---|---|');
for (const size of SIZES) {
  const root = fs.mkdtempSync(path.join(scratch, 'bench-floor-'));
  try {
    const functions = allDevices(materialize(generateLargeHost(size), root)).length;
    const commands: Record<Tool, [string, string[]]> = {
      lspci: ['lspci', ['-A', 'linux-sysfs', '-O', `sysfs.path=${root}/sys/bus/pci`, '-O', 'hwdb.disable=1', '-Dvmmnnk']],
      floor: [process.execPath, [floor, root]],
      list: [process.execPath, [cli, '--root', root, 'list', '--format', 'json']],
    };
    // The floor sees every function that list does.
    for (const tool of ['floor', 'list'] as const) {
      const shown = JSON.parse(execFileSync(process.execPath, commands[tool][1], { maxBuffer: 256 * 1024 * 1024 }).toString()).devices.length;
      if (shown !== functions) throw new Error(`${tool} showed ${shown} of ${functions} functions`);
    }
    const samples: Record<Tool, Sample[]> = { lspci: [], floor: [], list: [] };
    for (let i = 0; i < runs; i++) for (const [tool, [file, args]] of Object.entries(commands)) samples[tool as Tool].push(measure(file, args));
    const pick = (tool: Tool) => ({
      wall: median(samples[tool].map((s) => s.wall)),
      user: median(samples[tool].map((s) => s.user)),
      sys: median(samples[tool].map((s) => s.sys)),
    });
    const [lspci, nodeFloor, list] = [pick('lspci'), pick('floor'), pick('list')];
    const cpu = (s: Sample) => `${f(s.user)} / ${f(s.sys)}`;
    console.log(
      `| ${functions} | ${f(lspci.wall)} s | ${f(nodeFloor.wall)} s | ${f(nodeFloor.wall / lspci.wall)}x | ${f(list.wall)} s | ${f(list.wall / lspci.wall)}x | ${f(list.wall / nodeFloor.wall)}x | ${cpu(lspci)}, ${cpu(nodeFloor)}, ${cpu(list)} |`,
    );
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
console.log(`\nmedians of ${runs} runs, in turn (lspci, floor, list, lspci, ...)`);
