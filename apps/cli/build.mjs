// Bundles the CLI and every workspace library into one ESM file for Node 20.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { directImports } from './barrels.mjs';
import { buildPageScript } from './page.mjs';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
// Stale chunks of an earlier build must not linger next to the new bundle.
rmSync(new URL('./dist/chunks', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: {
    passthru: new URL('./src/main.ts', import.meta.url).pathname,
    scanWorker: new URL('./src/scanWorker.ts', import.meta.url).pathname,
  },
  outdir: new URL('./dist', import.meta.url).pathname,
  outExtension: { '.js': '.mjs' },
  // Code only some commands need (systeminformation for a live doctor) loads on demand.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // The report page's script, bundled for the browser, goes in as a string the HTML embeds.
  define: { PASSTHRU_VERSION: JSON.stringify(version), PASSTHRU_REPORT_SCRIPT: JSON.stringify(buildPageScript()) },
  // CommonJS dependencies (commander, systeminformation) call require(): give them one.
  banner: { js: "import { createRequire as __passthruRequire } from 'node:module'; const require = __passthruRequire(import.meta.url);" },
  plugins: [directImports],
  logLevel: 'warning',
});
