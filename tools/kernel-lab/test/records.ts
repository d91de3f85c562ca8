// Reading what a kernel-lab guest recorded (tools/kernel-lab/guest/lab.sh): one folder per
// step with the command, its output and exit code, the kernel's own state after it
// (kstate.pl) and, where asked, passthru's report JSON of the same moment.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inject } from 'vitest';

export interface KernelDevice {
  vendor: string;
  device: string;
  class: string;
  driver: string | null;
  driverOverride: string | null;
  iommuGroup: number | null;
  net: string[];
  sriovNumvfs: number | null;
  physfn: string | null;
  resetMethod: string | null;
}

export interface KernelGroup {
  devices: string[];
  vfioNode: boolean;
  /** VFIO_GROUP_GET_STATUS's VIABLE flag; null where /dev/vfio/N does not exist. */
  viable: boolean | null;
  error: string | null;
}

export interface KernelState {
  devices: Record<string, KernelDevice>;
  groups: Record<string, KernelGroup>;
  /** /proc/iomem as root read it. */
  iomem: string;
  modules: string[];
  vfioNodes: string[];
}

export interface ReportGroupView {
  id: number;
  devices: string[];
  endpoints: string[];
  viable: boolean;
}

export interface Step {
  run: string;
  name: string;
  dir: string;
  cmd: string[];
  rc: number;
  stdout: string;
  stderr: string;
  kernel: KernelState;
  report: { groups: ReportGroupView[]; devices: Array<{ address: string; driver: string | null; readiness: { status: string } }> } | undefined;
}

export const results = (): string => inject('labResults');

/** What a failing assertion should show: the end of the guest's log and console. */
export function guestTail(run: string, boot = ''): string {
  const dir = path.join(results(), run);
  const read = (f: string) => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), 'utf8').split('\n').slice(-40).join('\n') : `(no ${f})`);
  return `--- ${run}: guest${boot}.log ---\n${read(`guest${boot}.log`)}\n--- console ---\n${read('console-1.log')}`;
}

export function stepDir(run: string, name: string, stepsFolder = 'steps'): string {
  return path.join(results(), run, stepsFolder, name);
}

/** One recorded step; fails with the guest's log when the guest did not get to it. */
export function step(run: string, name: string, stepsFolder = 'steps'): Step {
  const dir = stepDir(run, name, stepsFolder);
  if (!fs.existsSync(path.join(dir, 'kernel.json'))) throw new Error(`kernel-lab: run ${run} recorded no step ${name}\n${guestTail(run)}`);
  const text = (f: string) => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), 'utf8') : '');
  const report = text('report.json');
  return {
    run,
    name,
    dir,
    cmd: text('cmd')
      .split('\n')
      .filter((l) => l !== ''),
    rc: Number(text('rc').trim() || 'NaN'),
    stdout: text('stdout'),
    stderr: text('stderr'),
    kernel: JSON.parse(text('kernel.json')) as KernelState,
    report: report.trim() ? JSON.parse(report) : undefined,
  };
}

/** Every step a run recorded (in the order the guest made them). */
export function steps(run: string, stepsFolder = 'steps'): Step[] {
  const root = path.join(results(), run, stepsFolder);
  if (!fs.existsSync(root)) throw new Error(`kernel-lab: run ${run} recorded nothing\n${guestTail(run)}`);
  return fs
    .readdirSync(root)
    .filter((n) => fs.existsSync(path.join(root, n, 'kernel.json')))
    .map((n) => step(run, n, stepsFolder))
    .sort((a, b) => startOf(a) - startOf(b));
}

function startOf(s: Step): number {
  const t = path.join(s.dir, 'time');
  return fs.existsSync(t) ? Number(fs.readFileSync(t, 'utf8').split(' ')[0]) : Number.POSITIVE_INFINITY;
}

/** The driver of each device, as the kernel says (what "the host is as it was" compares). */
export function drivers(k: KernelState): Record<string, string | null> {
  return Object.fromEntries(Object.entries(k.devices).map(([a, d]) => [a, d.driver]));
}

/** A file a step recorded besides the usual ones (lspci output, dmesg, ...). */
export function stepFile(run: string, name: string, file: string, stepsFolder = 'steps'): string {
  const p = path.join(stepDir(run, name, stepsFolder), file);
  if (!fs.existsSync(p)) throw new Error(`kernel-lab: run ${run} step ${name} has no ${file}\n${guestTail(run)}`);
  return fs.readFileSync(p, 'utf8');
}

export function runFile(run: string, file: string): string {
  const p = path.join(results(), run, file);
  if (!fs.existsSync(p)) throw new Error(`kernel-lab: run ${run} has no ${file}\n${guestTail(run)}`);
  return fs.readFileSync(p, 'utf8');
}
