// Issue 12 benchmark: passthru `list --format json` and `doctor --format json` against
// `lspci -Dvmmnnk` on generated hosts of about 500, 2,000 and 8,000 functions. Whole processes,
// run in turn (lspci, list, doctor, lspci, ...), wall time and peak RSS from GNU time; medians of
// --runs (default 5). Prints a Markdown table and the marginal cost per function of each (the
// slope between the smallest and the largest host).
// Usage: npm run bench -- scale [--runs N]      (needs `npm run build`, pciutils and GNU time)
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { allDevices, generateLargeHost, materialize } from '@passthru/sysfs-sim';

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
  rssMiB: number;
}
/** One whole process: wall seconds (hrtime around it) and peak RSS (GNU time's %M); output discarded. */
function measure(file: string, args: string[]): Sample {
  const start = process.hrtime.bigint();
  const run = spawnSync('/usr/bin/time', ['-f', '%M', file, ...args], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 256 * 1024 * 1024 });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  if (run.status !== 0 && run.status !== 1) throw new Error(`${file} ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return { wall, rssMiB: Number(run.stderr.toString().trim().split('\n').at(-1)) / 1024 };
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const rows: Array<{ label: string; functions: number; lspci: Sample; list: Sample; doctor: Sample }> = [];
for (const size of SIZES) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-scale-'));
  try {
    const functions = allDevices(materialize(generateLargeHost(size), root)).length;
    const commands = {
      lspci: ['lspci', ['-A', 'linux-sysfs', '-O', `sysfs.path=${root}/sys/bus/pci`, '-O', 'hwdb.disable=1', '-Dvmmnnk']],
      list: [process.execPath, [cli, '--root', root, 'list', '--format', 'json']],
      doctor: [process.execPath, [cli, '--root', root, 'doctor', '--format', 'json']],
    } as const;
    // Same answer first: list and lspci both see every function.
    const listed = JSON.parse(execFileSync(process.execPath, [...commands.list[1]], { maxBuffer: 256 * 1024 * 1024 }).toString()).devices.length;
    if (listed !== functions) throw new Error(`passthru listed ${listed} of ${functions} functions`);
    const samples = { lspci: [] as Sample[], list: [] as Sample[], doctor: [] as Sample[] };
    for (const [file, args] of Object.values(commands)) measure(file, [...args]); // warm the page cache
    for (let i = 0; i < runs; i++)
      for (const [name, [file, args]] of Object.entries(commands)) samples[name as keyof typeof samples].push(measure(file, [...args]));
    const pick = (s: Sample[]) => ({ wall: median(s.map((x) => x.wall)), rssMiB: Math.max(...s.map((x) => x.rssMiB)) });
    rows.push({ label: size.label, functions, lspci: pick(samples.lspci), list: pick(samples.list), doctor: pick(samples.doctor) });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

const f = (n: number, d = 2) => n.toFixed(d);
console.log(`| functions | lspci -Dvmmnnk | passthru list --format json | ratio | passthru doctor --format json | ratio | peak RSS list / doctor / lspci |`);
console.log(`|---|---|---|---|---|---|---|`);
for (const r of rows) {
  console.log(
    `| ${r.functions} | ${f(r.lspci.wall)} s | ${f(r.list.wall)} s | ${f(r.list.wall / r.lspci.wall)}x | ${f(r.doctor.wall)} s | ${f(r.doctor.wall / r.lspci.wall)}x | ${f(r.list.rssMiB, 0)} / ${f(r.doctor.rssMiB, 0)} / ${f(r.lspci.rssMiB, 0)} MiB |`,
  );
}
const [small, large] = [rows[0]!, rows.at(-1)!];
const slope = (k: 'lspci' | 'list' | 'doctor') => ((large[k].wall - small[k].wall) / (large.functions - small.functions)) * 1e6;
console.log(
  `\nmarginal cost per function (${small.functions} -> ${large.functions}): lspci ${f(slope('lspci'), 1)} us, list ${f(slope('list'), 1)} us, doctor ${f(slope('doctor'), 1)} us; medians of ${runs} runs, in turn`,
);
