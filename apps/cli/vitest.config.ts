import { defineProject } from 'vitest/config';
// @ts-expect-error: page.mjs is a plain ES module of the build (no declarations)
import { buildPageScript } from './page.mjs';

export default defineProject({
  // The sources render the report page as the bundle does: with the page script built in.
  define: { PASSTHRU_REPORT_SCRIPT: JSON.stringify(buildPageScript()) },
  test: { name: 'cli', include: ['test/**/*.test.ts'], globalSetup: ['test/buildBundle.ts'], testTimeout: 30_000, hookTimeout: 120_000 },
});
