// Bundles the report page's script (src/commands/report/page/main.ts, typed TypeScript checked by
// tsconfig.page.json) into one IIFE string, which the HTML report embeds inline. Used by
// build.mjs for the CLI bundle and by vitest.config.ts for tests that run the sources.
import { buildSync } from 'esbuild';

export function buildPageScript() {
  const result = buildSync({
    entryPoints: [new URL('./src/commands/report/page/main.ts', import.meta.url).pathname],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2017',
    charset: 'utf8',
    legalComments: 'none',
    logLevel: 'warning',
  });
  const script = result.outputFiles[0].text;
  // The script sits inside <script>...</script>: nothing in it may end the element early.
  if (/<\/script|<!--/i.test(script))
    throw new Error('Failed bundling the report page via src/commands/report/page/main.ts: the script contains </script or <!--');
  return script;
}
