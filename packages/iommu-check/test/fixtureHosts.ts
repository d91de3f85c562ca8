// Fixture hosts for the runChecks tests: every fixtures/specs/*.yaml materialized once into a
// temporary folder (the committed trees stay untouched), plus variants built from a spec.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadHostSpec, materialize, parseHostSpec, type HostSpec } from '@passthru/sysfs-sim';

export const specsDir = path.resolve(__dirname, '../../../fixtures/specs');
export const specNames = fs
  .readdirSync(specsDir)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.slice(0, -'.yaml'.length))
  .sort();

let work: string | undefined;
const made = new Map<string, string>();

function workDir(): string {
  work ??= fs.mkdtempSync(path.join(os.tmpdir(), 'iommu-check-'));
  return work;
}

export function loadSpec(name: string): HostSpec {
  return loadHostSpec(path.join(specsDir, `${name}.yaml`));
}

/** The materialized tree of fixtures/specs/<name>.yaml (made once per test file). */
export function fixtureRoot(name: string): string {
  let root = made.get(name);
  if (root === undefined) {
    root = path.join(workDir(), name);
    materialize(loadSpec(name), root);
    made.set(name, root);
  }
  return root;
}

/** A variant of a spec: `edit` changes the parsed spec (as plain data), the result is re-validated. */
export function variantRoot(base: string, name: string, edit: (spec: Record<string, any>) => void): string {
  const spec = JSON.parse(JSON.stringify(loadSpec(base))) as Record<string, any>;
  spec.name = name;
  edit(spec);
  const root = path.join(workDir(), name);
  fs.rmSync(root, { recursive: true, force: true });
  materialize(parseHostSpec(spec, name), root);
  return root;
}

export function cleanupFixtures(): void {
  if (work !== undefined) fs.rmSync(work, { recursive: true, force: true });
  work = undefined;
  made.clear();
}
