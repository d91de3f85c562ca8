import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { SimulatedKernel, loadHostSpec, materialize } from '@passthru/sysfs-sim';

const specs = path.resolve(__dirname, '../../../fixtures/specs');
const made: string[] = [];

/** A fixture spec materialized in a temp folder, with a simulated kernel giving writes their meaning. */
export function simHost(name: string, prefix: string): { root: string; host: HostFs; kernel: SimulatedKernel } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-${name}-`));
  made.push(root);
  materialize(loadHostSpec(path.join(specs, `${name}.yaml`)), root);
  const kernel = new SimulatedKernel(root, { logWrites: false });
  return { root, host: new HostFs(root, { kernel }), kernel };
}

/** Removes every host simHost made (afterEach). */
export const cleanSimHosts = () =>
  made.splice(0).forEach((r) => {
    fs.rmSync(r, { recursive: true, force: true });
  });
