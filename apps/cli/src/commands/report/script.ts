declare const PASSTHRU_REPORT_SCRIPT: string | undefined;

/**
 * The report page's script: typed modules under ./page, bundled by esbuild into one IIFE
 * (page.mjs) and defined into the CLI bundle by build.mjs (and into the sources by
 * vitest.config.ts). Empty when neither built it in; renderHtml refuses then.
 */
export const REPORT_SCRIPT: string = typeof PASSTHRU_REPORT_SCRIPT === 'string' ? PASSTHRU_REPORT_SCRIPT : '';
