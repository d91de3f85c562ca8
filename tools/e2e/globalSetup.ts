// vitest globalSetup of the e2e project: a Docker engine (tools/provision/docker.sh, which
// installs docker.io and starts dockerd with no bridge if needed), a fresh CLI bundle, and the
// image passthru:local (tools/image/build.sh rebuilds it when the bundle's hash changed).
// There is no skipping: without Docker the suite fails, saying how to install it.
// Teardown prints "e2e comparisons: N made, M agreed" summed over every test file.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { summarize, TALLY_DIR } from './src/tally';

const REPO = path.resolve(__dirname, '../..');
const INSTALL = 'apt-get update && apt-get install -y --no-install-recommends docker.io debootstrap';

function step(what: string, file: string, args: string[], hint: string): void {
  const started = Date.now();
  try {
    execFileSync(file, args, { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (error) {
    throw new Error(`e2e setup failed: ${what} (${file} ${args.join(' ')}: ${(error as Error).message}).\n` + hint);
  }
  console.log(`e2e setup: ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

export function setup(): void {
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  process.env.TESTCONTAINERS_HOST_OVERRIDE = 'localhost';
  fs.rmSync(TALLY_DIR, { recursive: true, force: true });
  step(
    'Docker engine and base image',
    'bash',
    ['tools/provision/docker.sh'],
    `The e2e suite needs a Docker engine; as root on Debian: ${INSTALL}, then: sudo bash tools/provision/docker.sh`,
  );
  step('CLI bundle', process.execPath, ['apps/cli/build.mjs'], 'Fix the build: npm run build');
  step(
    'image passthru:local',
    'bash',
    ['tools/image/build.sh'],
    'See the output of tools/image/build.sh above (it builds from the local base image, no registry)',
  );
}

export function teardown(): void {
  const { made, agreed, anchorBugs, lines } = summarize();
  for (const line of lines) console.log(line);
  console.log(`e2e comparisons: ${made} made, ${agreed} agreed${anchorBugs ? ` (${anchorBugs} disagreements are documented anchor bugs)` : ''}`);
  // The run's figures, for tools/test-summary.mjs (the README's "last run" is written from them).
  fs.mkdirSync(TALLY_DIR, { recursive: true });
  fs.writeFileSync(path.join(TALLY_DIR, 'summary.json'), `${JSON.stringify({ made, agreed, anchorBugs })}\n`);
}
