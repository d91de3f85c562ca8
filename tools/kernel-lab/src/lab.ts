// The kernel lab's runner: builds (or reuses) the guest image, boots each run's guest under QEMU
// TCG with its scenarios, and leaves what the guest recorded under the run's folder
// (steps/<step>/{cmd,stdout,stderr,rc,kernel.json,report.json,before,after}). It judges nothing:
// the tests in tools/kernel-lab/test do.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type LabRun, OVMF_FIRMWARE, qemuArgs } from './topologies';

export const LAB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO = path.resolve(LAB_DIR, '../..');

export interface LabImage {
  dir: string;
  kernel: string;
  initrd: string;
  kernelRelease: string;
}

/** tools/kernel-lab/build.sh: the image folder for the kernel package apt offers now (built once per version). */
export function buildImage(): LabImage {
  const result = spawnSync('bash', [path.join(LAB_DIR, 'build.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) throw new Error(`kernel-lab: building the guest image failed (tools/kernel-lab/build.sh, exit ${result.status})`);
  const dir = result.stdout.trim().split('\n').pop()!;
  return {
    dir,
    kernel: path.join(dir, 'vmlinuz'),
    initrd: path.join(dir, 'initrd.gz'),
    kernelRelease: fs.readFileSync(path.join(dir, 'ready'), 'utf8').trim(),
  };
}

export interface BootResult {
  console: string;
  exitCode: number | null;
  seconds: number;
}

/** One boot: writes guest.sh into `outDir` (the guest's /lab-out) and runs QEMU until the guest powers off. */
export function boot(image: LabImage, run: LabRun, scenarios: string[], outDir: string, timeoutSeconds = 600): Promise<BootResult> {
  const script = [
    `REPO=${JSON.stringify(REPO)}`,
    '[ -d "$REPO/tools/kernel-lab/guest" ] || { echo "lab: the checkout $REPO is not visible in the guest"; exit 1; }',
    'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root NO_COLOR=1',
    `. "$REPO/tools/kernel-lab/guest/lab.sh"`,
    `. "$REPO/tools/kernel-lab/guest/scenarios.sh"`,
    'coldplug',
    'mkdir -p "$STEPS/coldplug" && kstate coldplug',
    ...scenarios.map((s) => `echo "lab scenario ${s} at $(now) s"; unsnap; scenario_${s}`),
    'echo "lab done at $(now) s"',
    '',
  ].join('\n');
  fs.writeFileSync(path.join(outDir, 'guest.sh'), script);
  const disk = path.join(outDir, 'disk.img');
  if (!fs.existsSync(disk)) {
    fs.writeFileSync(disk, Buffer.alloc(0));
    fs.truncateSync(disk, 64 * 1024 * 1024);
  }
  let vars: string | undefined;
  if (run.topology.firmware === 'ovmf') {
    for (const f of [OVMF_FIRMWARE.code, OVMF_FIRMWARE.vars])
      if (!fs.existsSync(f)) throw new Error(`kernel-lab: run ${run.name} boots OVMF, and ${f} is missing (apt-get install ovmf)`);
    // The guest's own variable store, kept over its reboot like a machine's NVRAM.
    vars = path.join(outDir, 'ovmf-vars.fd');
    if (!fs.existsSync(vars)) fs.copyFileSync(OVMF_FIRMWARE.vars, vars);
  }
  const args = qemuArgs(run.topology, image, { out: outDir, disk, ...(vars ? { vars } : {}) });
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let console = '';
    qemu.stdout.on('data', (b: Buffer) => (console += b.toString('utf8')));
    qemu.stderr.on('data', (b: Buffer) => (console += b.toString('utf8')));
    const timer = setTimeout(() => {
      console += `\nkernel-lab: the guest did not power off within ${timeoutSeconds} s; killed\n`;
      qemu.kill('SIGKILL');
    }, timeoutSeconds * 1000);
    qemu.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`kernel-lab: qemu-system-x86_64 could not start (apt-get install qemu-system-x86): ${error.message}`));
    });
    qemu.on('close', (exitCode) => {
      clearTimeout(timer);
      resolve({ console, exitCode, seconds: (Date.now() - started) / 1000 });
    });
  });
}

export interface RunResult {
  run: string;
  dir: string;
  boots: BootResult[];
}

/** A run in `dir` (emptied first): its boot, and the boot after its reboot where it has one. */
export async function runLab(image: LabImage, run: LabRun, dir: string): Promise<RunResult> {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const boots: BootResult[] = [];
  const first = await boot(image, run, run.scenarios, dir);
  boots.push(first);
  fs.writeFileSync(path.join(dir, 'console-1.log'), first.console);
  if (run.afterReboot) {
    // A first boot that recorded nothing is left for the tests to report (with its console).
    for (const [from, to] of [
      ['steps', 'steps-boot-1'],
      ['guest.log', 'guest-boot-1.log'],
    ] as const)
      if (fs.existsSync(path.join(dir, from))) fs.renameSync(path.join(dir, from), path.join(dir, to));
    const second = await boot(image, run, run.afterReboot, dir);
    boots.push(second);
    fs.writeFileSync(path.join(dir, 'console-2.log'), second.console);
  }
  for (const scratch of ['disk.img', 'ovmf-vars.fd']) fs.rmSync(path.join(dir, scratch), { force: true });
  return { run: run.name, dir, boots };
}

/** Runs several at once (2 on a 2-core machine: TCG runs a guest's vCPUs on host threads). */
export async function runAll(image: LabImage, runs: LabRun[], root: string, parallel = 2): Promise<RunResult[]> {
  const queue = [...runs];
  const results: RunResult[] = [];
  const worker = async () => {
    for (let run = queue.shift(); run; run = queue.shift()) results.push(await runLab(image, run, path.join(root, run.name)));
  };
  await Promise.all(Array.from({ length: Math.max(1, parallel) }, worker));
  return results.sort((a, b) => runs.findIndex((r) => r.name === a.run) - runs.findIndex((r) => r.name === b.run));
}
