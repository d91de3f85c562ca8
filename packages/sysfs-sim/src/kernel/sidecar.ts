// The simulator's own files under `.sysfs-sim/` (state, faults, removed devices, write log):
// what sysfs does not show but every process on the tree must agree on.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as z from 'zod';
import { SIM_STATE_DIR } from '../materialize';
import { SysfsSimError } from '../SysfsSimError';

/** What the simulated kernel remembers that sysfs does not show: id tables and dynamic ids. */
export const SIM_KERNEL_STATE_FILE = `${SIM_STATE_DIR}/state.json`;
/** Injected faults, shared by every SimulatedKernel (and so every CLI process) on the tree. */
export const SIM_FAULTS_FILE = `${SIM_STATE_DIR}/faults.json`;
/** One JSON line per write, appended by every SimulatedKernel on the tree. */
export const SIM_WRITE_LOG_FILE = `${SIM_STATE_DIR}/writes.jsonl`;
/** What a `remove` write took out of the tree, kept so that a `rescan` can bring it back. */
export const SIM_REMOVED_FILE = `${SIM_STATE_DIR}/removed.json`;

/** zod issues as one detail line: `path.to.field: message; ...`. */
export function issuesDetail(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
}

/**
 * The sidecar file `relative` under `root`, validated: undefined when it cannot be read (not
 * there yet); a file that is there but not valid is a SysfsSimError "Failed <doing> <file>".
 */
export function readSidecar<T extends z.ZodType>(root: string, relative: string, schema: T, doing: string): z.infer<T> | undefined {
  const file = path.join(root, relative);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(safeJson(text));
  if (!parsed.success) throw new SysfsSimError(doing, file, undefined, issuesDetail(parsed.error));
  return parsed.data;
}

/** Replaces the sidecar file whole (temp file + rename), so a reader in another process never sees half of it. */
export function writeSidecar(root: string, relative: string, content: string): void {
  const file = path.join(root, relative);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, content);
  fs.renameSync(temp, file);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
