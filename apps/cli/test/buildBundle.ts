// vitest globalSetup: the process-level tests run the real bundle, so make it fresh (esbuild, ~0.3 s).
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

export default function setup(): void {
  execFileSync(process.execPath, [path.resolve(__dirname, '../build.mjs')], { stdio: 'inherit' });
}
