// Bundles the CLI and every workspace library into one ESM file for Node 20.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
await build({
  entryPoints: [new URL('./src/main.ts', import.meta.url).pathname],
  outfile: new URL('./dist/passthru.mjs', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  define: { PASSTHRU_VERSION: JSON.stringify(version) },
  // CommonJS dependencies (commander, systeminformation) call require(): give them one.
  banner: { js: "import { createRequire as __passthruRequire } from 'node:module'; const require = __passthruRequire(import.meta.url);" },
  logLevel: 'warning',
});
