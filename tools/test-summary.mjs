// Closes a test run: prints vitest's JSON report as the line CI reads, "Tests: N passed, N
// failed[, N skipped]", and keeps the run's figures in tmp/test-summary.json (with the kernel
// lab's and the e2e suite's own output files). Exits 1 when the report is missing, records a
// failure, or ran no test at all.
//   node tools/test-summary.mjs REPORT [--started EPOCH_SECONDS]
// The README's "last run" figures are written from such a summary, not typed:
//   node tools/test-summary.mjs --readme [SUMMARY]   (default tmp/test-summary.json)
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeBlock } from './readmeBlock.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const SUMMARY = `${repo}tmp/test-summary.json`;
const readJson = (file) => {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
};

const args = process.argv.slice(2);
if (args[0] === '--readme') {
  const file = args[1] ?? SUMMARY;
  const s = readJson(file);
  if (s === undefined) throw new Error(`no test summary at ${file}: run npm test first`);
  writeBlock('last-run', lastRunText(s));
  process.exit(0);
}

const file = args[0];
const report = readJson(file);
if (report === undefined) {
  console.log(`Tests: 0 passed, 1 failed (no vitest report at ${file})`);
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
const failed = (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0);
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
const started = args.indexOf('--started') >= 0 ? Number(args[args.indexOf('--started') + 1]) : undefined;
let commit;
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
} catch {}
const summary = {
  commit,
  passed,
  failed,
  skipped,
  seconds: started === undefined ? undefined : Math.round(Date.now() / 1000 - started),
  vitestSeconds: Math.round((Date.now() - report.startTime) / 1000),
  kernelLab: readJson(`${repo}tmp/kernel-lab/timing.json`),
  e2e: readJson(`${repo}tmp/e2e/summary.json`),
};
writeFileSync(SUMMARY, `${JSON.stringify(summary, null, 2)}\n`);
console.log(`Tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);

function lastRunText(s) {
  const n = (x) => x.toLocaleString('en-US');
  const duration = (sec) => `${Math.floor(sec / 60)} min ${sec % 60} s`;
  const parts = [`The last full run (\`npm test\` = \`.ci/run\`, at commit ${s.commit ?? 'unknown'}): **${n(s.passed)} tests passed, ${n(s.failed)} failed**`];
  if (s.seconds !== undefined) parts[0] += ` in ${duration(s.seconds)} (vitest ${duration(s.vitestSeconds)})`;
  if (s.kernelLab) parts.push(`the kernel lab's ${s.kernelLab.runs} guest runs took ${s.kernelLab.seconds} s of it`);
  if (s.e2e) parts.push(`the e2e suite made ${n(s.e2e.made)} comparisons with the peer tools, ${n(s.e2e.agreed)} agreed`);
  return `${parts.join('; ')}. Written by \`node tools/test-summary.mjs --readme\` from that run's \`tmp/test-summary.json\`.`;
}
