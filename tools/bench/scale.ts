// Issue 12 benchmark: passthru `list --format json` and `doctor --format json` against
// `lspci -Dvmmnnk` on generated hosts of about 500, 2,000 and 8,000 functions. Whole processes,
// run in turn (lspci, list, list on one thread, doctor, lspci, ...), wall time and peak RSS from
// GNU time; medians of --runs (default 5). Prints a Markdown table and the marginal cost per
// function of each (the slope between the smallest and the largest host). User and system CPU
// (GNU time's %U and %S, medians) are shown apart: system time is the kernel's work of reading
// sysfs, user time the tool's own, with user CPU per function (user time / functions). `list` runs as users
// run it (its scan shared with a worker thread from 1,200 functions on a machine with more than one
// core); "1 thread" is the same with PASSTHRU_SCAN_THREADS=1, to show what the worker gives.
// The hosts are written to /dev/shm when it exists: every tool reads them from memory either way,
// and writing 8,000 device folders to a busy disk takes minutes.
// Usage: npm run bench -- scale [--runs N]      (needs `npm run build`, pciutils and GNU time)
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { allDevices, generateLargeHost, materialize } from '@passthru/sysfs-sim';

const scratch = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 5;
const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const cli = path.join(repo, 'apps/cli/dist/passthru.mjs');
const SIZES = [
  { label: '~500', nics: 7, vfsPerNic: 64, gpus: 4 },
  { label: '~2,000', nics: 30, vfsPerNic: 64, gpus: 8 },
  { label: '~8,000', nics: 120, vfsPerNic: 64, gpus: 8 },
];

interface Sample {
  wall: number;
  user: number;
  sys: number;
  rssMiB: number;
}
/** One whole process: wall seconds (hrtime around it), user and system CPU seconds and peak RSS (GNU time's %U %S %M); output discarded. */
function measure(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Sample {
  const start = process.hrtime.bigint();
  const run = spawnSync('/usr/bin/time', ['-f', '%U %S %M', file, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, ...env },
  });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  if (run.status !== 0 && run.status !== 1) throw new Error(`${file} ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  const [user, sys, rss] = run.stderr.toString().trim().split('\n').at(-1)!.split(' ').map(Number) as [number, number, number];
  return { wall, user, sys, rssMiB: rss / 1024 };
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

type Tool = 'lspci' | 'list' | 'list1' | 'doctor';
const rows: Array<{ label: string; functions: number } & Record<Tool, Sample>> = [];
for (const size of SIZES) {
  const root = fs.mkdtempSync(path.join(scratch, 'bench-scale-'));
  try {
    const functions = allDevices(materialize(generateLargeHost(size), root)).length;
    const commands: Record<Tool, [string, string[], NodeJS.ProcessEnv?]> = {
      lspci: ['lspci', ['-A', 'linux-sysfs', '-O', `sysfs.path=${root}/sys/bus/pci`, '-O', 'hwdb.disable=1', '-Dvmmnnk']],
      list: [process.execPath, [cli, '--root', root, 'list', '--format', 'json']],
      list1: [process.execPath, [cli, '--root', root, 'list', '--format', 'json'], { PASSTHRU_SCAN_THREADS: '1' }],
      doctor: [process.execPath, [cli, '--root', root, 'doctor', '--format', 'json']],
    };
    // Same answer first: list and lspci both see every function.
    const listed = JSON.parse(execFileSync(process.execPath, [...commands.list[1]], { maxBuffer: 256 * 1024 * 1024 }).toString()).devices.length;
    if (listed !== functions) throw new Error(`passthru listed ${listed} of ${functions} functions`);
    const samples: Record<Tool, Sample[]> = { lspci: [], list: [], list1: [], doctor: [] };
    for (const [file, args, env] of Object.values(commands)) measure(file, args, env); // warm the page cache
    for (let i = 0; i < runs; i++) for (const [name, [file, args, env]] of Object.entries(commands)) samples[name as Tool].push(measure(file, args, env));
    const pick = (s: Sample[]) => ({
      wall: median(s.map((x) => x.wall)),
      user: median(s.map((x) => x.user)),
      sys: median(s.map((x) => x.sys)),
      rssMiB: Math.max(...s.map((x) => x.rssMiB)),
    });
    rows.push({ label: size.label, functions, lspci: pick(samples.lspci), list: pick(samples.list), list1: pick(samples.list1), doctor: pick(samples.doctor) });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

const f = (n: number, d = 2) => n.toFixed(d);
const cpu = (s: Sample) => `${f(s.user)} / ${f(s.sys)}`;
console.log(
  `| functions | lspci -Dvmmnnk | passthru list --format json | ratio | list, 1 thread | ratio | passthru doctor --format json | ratio | user / sys CPU s: lspci, list, doctor | list user CPU per function | peak RSS list / doctor / lspci |`,
);
console.log(`|---|---|---|---|---|---|---|---|---|---|---|`);
for (const r of rows) {
  const ratio = (k: Tool) => `${f(r[k].wall / r.lspci.wall)}x`;
  console.log(
    `| ${r.functions} | ${f(r.lspci.wall)} s | ${f(r.list.wall)} s | ${ratio('list')} | ${f(r.list1.wall)} s | ${ratio('list1')} | ${f(r.doctor.wall)} s | ${ratio('doctor')} | ${cpu(r.lspci)}, ${cpu(r.list)}, ${cpu(r.doctor)} | ${f((r.list.user / r.functions) * 1e6, 0)} us | ${f(r.list.rssMiB, 0)} / ${f(r.doctor.rssMiB, 0)} / ${f(r.lspci.rssMiB, 0)} MiB |`,
  );
}
const [small, large] = [rows[0]!, rows.at(-1)!];
const slope = (k: Tool, of: 'wall' | 'user' = 'wall') => ((large[k][of] - small[k][of]) / (large.functions - small.functions)) * 1e6;
console.log(
  `\nmarginal cost per function (${small.functions} -> ${large.functions}): lspci ${f(slope('lspci'), 1)} us, list ${f(slope('list'), 1)} us (1 thread ${f(slope('list1'), 1)} us), doctor ${f(slope('doctor'), 1)} us; marginal user CPU per function: lspci ${f(slope('lspci', 'user'), 1)} us, list ${f(slope('list', 'user'), 1)} us, list 1 thread ${f(slope('list1', 'user'), 1)} us; medians of ${runs} runs, in turn`,
);
