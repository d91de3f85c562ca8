// Issue 12: the floor under `passthru list` in Node.js. A bare loop of the reads the output needs
// (per device: a readdir of its folder, 9 attribute files, its links (iommu_group, driver,
// physfn) and its `net` folder; no names, no JSON, no checks) over a
// generated host of 2,038 functions, on one thread, on two threads (a worker claiming chunks from
// a shared counter, as the scan does) and in two processes (each half). Prints medians of --runs
// (default 7) in milliseconds; compare with lspci's whole run in `npm run bench -- scale`.
// Usage: npm run bench -- read-floor [--runs N]
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { allDevices, generateLargeHost, materialize } from '@passthru/sysfs-sim';

const FILES = [
  'config',
  'class',
  'numa_node',
  'current_link_speed',
  'current_link_width',
  'max_link_speed',
  'max_link_width',
  'reset_method',
  'driver_override',
];
const buffer = Buffer.alloc(4096);

/** Reads the devices the counter hands out, 16 at a time; returns how many. */
function readClaimed(dirs: string[], counter: Int32Array): number {
  let n = 0;
  for (let start = Atomics.add(counter, 0, 16); start < dirs.length; start = Atomics.add(counter, 0, 16)) {
    for (const dir of dirs.slice(start, start + 16)) {
      // The listing answers "is it there?", as the scan's does.
      const names = new Set(fs.readdirSync(dir));
      for (const name of FILES) {
        if (!names.has(name)) continue;
        const fd = fs.openSync(`${dir}/${name}`, 'r');
        fs.readSync(fd, buffer, 0, buffer.length, null);
        fs.closeSync(fd);
      }
      for (const name of ['iommu_group', 'driver', 'physfn']) if (names.has(name)) fs.readlinkSync(`${dir}/${name}`);
      if (names.has('net')) fs.readdirSync(`${dir}/net`);
      n++;
    }
  }
  return n;
}

const deviceDirs = (root: string) => fs.readdirSync(`${root}/sys/bus/pci/devices`).map((n) => fs.realpathSync(`${root}/sys/bus/pci/devices/${n}`));

if (process.argv[2] === '--half') {
  // One of two processes: every other device.
  const [root, part] = [process.argv[3]!, Number(process.argv[4])];
  const dirs = deviceDirs(root).filter((_, i) => i % 2 === part);
  const t = performance.now();
  readClaimed(dirs, new Int32Array(new SharedArrayBuffer(4)));
  console.log((performance.now() - t).toFixed(1));
} else {
  const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 7;
  const scratch = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  const root = fs.mkdtempSync(path.join(scratch, 'bench-floor-'));
  const self = new URL(import.meta.url);
  try {
    const functions = allDevices(materialize(generateLargeHost({ nics: 30, vfsPerNic: 64, gpus: 8 }), root)).length;
    const dirs = deviceDirs(root);
    const oneThread = () => {
      const t = performance.now();
      readClaimed(dirs, new Int32Array(new SharedArrayBuffer(4)));
      return performance.now() - t;
    };
    const twoThreads = async () => {
      const t = performance.now();
      const counter = new Int32Array(new SharedArrayBuffer(4));
      // The worker runs the same loop, from its source (a worker thread cannot load TypeScript).
      const source = `const fs = require('node:fs'); const buffer = Buffer.alloc(4096); const FILES = ${JSON.stringify(FILES)};
${readClaimed.toString()}
const { parentPort, workerData } = require('node:worker_threads');
parentPort.postMessage(readClaimed(workerData.dirs, workerData.counter));`;
      const worker = new Worker(source, { eval: true, workerData: { dirs, counter } });
      const theirs = new Promise<number>((resolve, reject) => worker.once('message', resolve).once('error', reject));
      readClaimed(dirs, counter);
      await theirs;
      return performance.now() - t;
    };
    const twoProcesses = () => {
      // Both at once; each times its own half, start-up excluded (the slower half is the wall).
      const half = (part: number) => `'${process.execPath}' --import tsx '${self.pathname}' --half '${root}' ${part}`;
      const out = execFileSync('sh', ['-c', `${half(0)} & ${half(1)} & wait`], { encoding: 'utf8' });
      return Math.max(...out.trim().split('\n').map(Number));
    };
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const samples = { one: [] as number[], threads: [] as number[], processes: [] as number[] };
    oneThread(); // warm the page cache
    for (let i = 0; i < runs; i++) {
      samples.one.push(oneThread());
      samples.threads.push(await twoThreads());
      samples.processes.push(twoProcesses());
    }
    console.log(
      `${functions} functions, readdir + ${FILES.length} attributes + links + net each, medians of ${runs}: one thread ${median(samples.one).toFixed(0)} ms, two threads ${median(samples.threads).toFixed(0)} ms (worker start-up included), two processes ${median(samples.processes).toFixed(0)} ms (slower half, start-up excluded)`,
    );
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
