#!/usr/bin/env node
// Launcher for the bundled CLI (apps/cli/dist/passthru.mjs, made by `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const bundle = fileURLToPath(new URL('../dist/passthru.mjs', import.meta.url));
if (!existsSync(bundle)) {
  process.stderr.write('passthru: the CLI is not built yet; run `npm run build` at the repository root\n');
  process.exit(2);
}
await import(pathToFileURL(bundle).href);
