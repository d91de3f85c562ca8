// npm run kernel-lab [-- --run NAME ...] [--scenario NAME] [--out DIR]
// Boots the lab's guests and leaves their records in DIR (tmp/kernel-lab by default); the
// tests (npx vitest run --project kernel-lab) judge them. --scenario NAME runs one scenario of
// guest/scenarios.sh in the topology of every run that lists it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO, buildImage, runAll } from './lab';
import { RUNS } from './topologies';

const { values } = parseArgs({
  options: { run: { type: 'string', multiple: true }, scenario: { type: 'string' }, out: { type: 'string' }, parallel: { type: 'string' } },
});
let runs = values.run ? RUNS.filter((r) => values.run!.includes(r.name)) : RUNS;
if (values.scenario) {
  const s = values.scenario.replaceAll('-', '_');
  runs = runs.filter((r) => r.scenarios.includes(s) || r.afterReboot?.includes(s)).map((r) => (r.afterReboot?.includes(s) ? r : { ...r, scenarios: [s] }));
}
if (runs.length === 0) {
  console.error(`kernel-lab: no run matches; runs: ${RUNS.map((r) => `${r.name} (${[...r.scenarios, ...(r.afterReboot ?? [])].join(' ')})`).join(', ')}`);
  process.exit(2);
}
const out = path.resolve(values.out ?? path.join(REPO, 'tmp/kernel-lab'));
const image = buildImage();
const results = await runAll(image, runs, out, Number(values.parallel ?? 2));
fs.writeFileSync(path.join(out, 'kernel-release'), `${image.kernelRelease}\n`);
for (const r of results) console.log(`${r.run}: ${r.boots.map((b) => `${b.seconds.toFixed(1)} s, qemu exit ${b.exitCode}`).join('; ')} -> ${r.dir}`);
