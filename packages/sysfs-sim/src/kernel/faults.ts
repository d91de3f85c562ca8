// Fault injection: scripted misbehaviour of the kernel, kept in `.sysfs-sim/faults.json` so
// that every SimulatedKernel on the tree (a test and the CLI processes it starts) obeys the same
// faults and shares their counters.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errnoError } from '@passthru/hostfs';
import * as z from 'zod';
import { PciAddressSchema } from '../HostSpec';
import { SysfsSimError } from '../SysfsSimError';
import { SIM_FAULTS_FILE, issuesDetail, readSidecar, writeSidecar } from './sidecar';
import { spellings } from './target';
import type { SysfsTree } from './SysfsTree';

/**
 * A scripted misbehaviour of the kernel. `path` is a glob (`*` within a path component, `**`
 * across them) or a RegExp, matched against the path as written and against its canonical
 * /sys/devices spelling. Occurrences count the writes matching `path` (and `data`, compared
 * without the trailing newline). Without `nth` the fault fires on every match (only the first
 * with `once`); with `nth` only on that occurrence. Effects apply in this order: `hang`,
 * `vanish`, `fail`; `noBind` lets the write succeed while every probe it causes binds nothing.
 */
export interface FaultSpec {
  path: string | RegExp;
  data?: string;
  /** 1-based occurrence among matching writes. */
  nth?: number;
  once?: boolean;
  /** errno to fail the write with, nothing applied (`EBUSY`, `EIO`, ...). */
  fail?: string;
  /** Block the writer this many milliseconds (bounded by `maxHangMs`), then go on. */
  hang?: number;
  /** Hot-unplug this device before the write is applied. */
  vanish?: string;
  /** Probes during this write fail quietly (the driver's probe() refused): nothing binds. */
  noBind?: boolean;
}

/** A fault as stored in faults.json, with its id and how often it matched and fired. */
export interface InjectedFault extends Omit<FaultSpec, 'path'> {
  id: number;
  path: string | { regexp: string; flags: string };
  seen: number;
  fired: number;
}

const FaultPathSchema = z.union([
  z.string().min(1),
  z.object({
    regexp: z.string().min(1),
    flags: z
      .string()
      .regex(/^[imsu]*$/)
      .default(''),
  }),
]);
const FaultFieldsSchema = z.object({
  data: z.string().optional(),
  nth: z.number().int().min(1).optional(),
  once: z.boolean().optional(),
  fail: z
    .string()
    .regex(/^E[A-Z0-9]+$/, 'fail: an errno name like EBUSY')
    .optional(),
  hang: z.number().min(0).optional(),
  vanish: PciAddressSchema.optional(),
  noBind: z.boolean().optional(),
});
const InjectedFaultSchema = FaultFieldsSchema.extend({
  id: z.number().int(),
  path: FaultPathSchema,
  seen: z.number().int().min(0).default(0),
  fired: z.number().int().min(0).default(0),
});
const FaultFileSchema = z.object({ version: z.literal(1), nextId: z.number().int().default(1), faults: z.array(InjectedFaultSchema) });
type FaultFile = z.infer<typeof FaultFileSchema>;

function loadFaults(root: string): FaultFile {
  return readSidecar(root, SIM_FAULTS_FILE, FaultFileSchema, 'reading faults') ?? { version: 1, nextId: 1, faults: [] };
}

function saveFaults(root: string, file: FaultFile): void {
  writeSidecar(root, SIM_FAULTS_FILE, `${JSON.stringify(file, null, 1)}\n`);
}

/** Validates and stores a fault; returns its id. */
export function addFault(root: string, fault: FaultSpec): number {
  const { path: where, ...fields } = fault;
  const parsedFields = FaultFieldsSchema.safeParse(fields);
  if (!parsedFields.success) throw new SysfsSimError('injecting fault', JSON.stringify(fault), undefined, issuesDetail(parsedFields.error));
  const storedPath = where instanceof RegExp ? { regexp: where.source, flags: where.flags.replace(/[gy]/g, '') } : where;
  if (typeof storedPath === 'string' && storedPath.length === 0)
    throw new SysfsSimError('injecting fault', '(empty path)', undefined, 'path must not be empty');
  const file = loadFaults(root);
  const id = file.nextId;
  file.faults.push({ ...parsedFields.data, id, path: storedPath, seen: 0, fired: 0 });
  file.nextId = id + 1;
  saveFaults(root, file);
  return id;
}

/** The faults in force on the tree, with their counters. */
export function listFaults(root: string): InjectedFault[] {
  return loadFaults(root).faults.map((f) => ({ ...f }));
}

export function removeFault(root: string, id: number): void {
  const file = loadFaults(root);
  file.faults = file.faults.filter((f) => f.id !== id);
  saveFaults(root, file);
}

export function clearFaults(root: string): void {
  fs.rmSync(path.join(root, SIM_FAULTS_FILE), { force: true });
}

/** How the effects of the firing faults reach the kernel. */
export interface FaultEffects {
  /** Blocks the writer (already bounded by maxHangMs). */
  sleep: (ms: number) => void;
  maxHangMs: number;
  /** Hot-unplugs a device. */
  vanish: (address: string) => void;
}

/**
 * Counts this write against every fault (saving the counters), then applies what fires in the
 * order of FaultSpec: hang, vanish, fail (throws the errno). Returns whether probes during
 * this write must bind nothing (`noBind`).
 */
export function runFaults(tree: SysfsTree, hostPath: string, data: string, effects: FaultEffects): { noBind: boolean } {
  const file = loadFaults(tree.root);
  if (file.faults.length === 0) return { noBind: false };
  const written = spellings(tree, hostPath);
  const value = data.replace(/\n$/, '');
  const firing: FaultFile['faults'] = [];
  for (const fault of file.faults) {
    const re = typeof fault.path === 'string' ? globToRegExp(fault.path) : new RegExp(fault.path.regexp, fault.path.flags);
    if (!written.some((s) => re.test(s))) continue;
    if (fault.data !== undefined && fault.data.replace(/\n$/, '') !== value) continue;
    fault.seen += 1;
    const fires = fault.nth !== undefined ? fault.seen === fault.nth : !(fault.once && fault.fired > 0);
    if (!fires) continue;
    fault.fired += 1;
    firing.push(fault);
  }
  saveFaults(tree.root, file);
  const hang = Math.max(0, ...firing.map((f) => f.hang ?? 0));
  if (hang > 0) effects.sleep(Math.min(hang, effects.maxHangMs));
  for (const f of firing) if (f.vanish) effects.vanish(f.vanish);
  const failing = firing.find((f) => f.fail);
  if (failing?.fail) throw errnoError(failing.fail, `${hostPath}: injected fault #${failing.id}`);
  return { noBind: firing.some((f) => f.noBind) };
}

/** `*` within a path component, `**` across components, `?` one character; the whole path must match. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
