// vitest globalSetup of the kernel-lab project: builds the guest image (tools/kernel-lab/build.sh)
// and boots every run of src/topologies.ts once, two guests at a time, into tmp/kernel-lab;
// the test files read what the guests recorded. PASSTHRU_LAB_RESULTS=DIR judges the records a
// previous `npm run kernel-lab` left in DIR instead of booting again. There is no skipping:
// a guest that does not finish fails the suite with its console.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TestProject } from 'vitest/node';
import { REPO, buildImage, runAll } from './src/lab';
import { RUNS } from './src/topologies';

declare module 'vitest' {
  export interface ProvidedContext {
    labResults: string;
    labKernel: string;
  }
}

export async function setup(project: TestProject): Promise<void> {
  const reuse = process.env.PASSTHRU_LAB_RESULTS;
  if (reuse) {
    project.provide('labResults', path.resolve(reuse));
    project.provide('labKernel', fs.readFileSync(path.join(reuse, 'kernel-release'), 'utf8').trim());
    return;
  }
  const started = Date.now();
  const image = buildImage();
  console.log(`kernel-lab: image ${path.basename(image.dir)} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  const out = path.join(REPO, 'tmp/kernel-lab');
  fs.mkdirSync(out, { recursive: true });
  const results = await runAll(image, RUNS, out);
  fs.writeFileSync(path.join(out, 'kernel-release'), `${image.kernelRelease}\n`);
  for (const r of results) console.log(`kernel-lab: ${r.run}: ${r.boots.map((b) => `${b.seconds.toFixed(0)} s`).join(' + ')}`);
  const seconds = Math.round((Date.now() - started) / 1000);
  console.log(`kernel-lab: ${results.length} runs in ${seconds} s`);
  // The run's figures, for tools/test-summary.mjs (the README's "last run" is written from them).
  fs.writeFileSync(path.join(out, 'timing.json'), `${JSON.stringify({ runs: results.length, seconds })}\n`);
  project.provide('labResults', out);
  project.provide('labKernel', image.kernelRelease);
}
