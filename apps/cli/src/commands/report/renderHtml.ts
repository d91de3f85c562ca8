import type { Report } from './schema';
import { REPORT_SCRIPT } from './script';
import { REPORT_CSS } from './style';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * JSON inside <script type="application/json">: `<` escaped so no `</script>` or `<!--` in a
 * device name can end the element early; U+2028/2029 escaped for old parsers.
 */
export function embedJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * One self-contained HTML file: inline CSS and script, the report as embedded JSON, and a CSP
 * that forbids every fetch (default-src 'none'), so opening it never touches the network.
 */
export function renderHtml(report: Report): string {
  if (!REPORT_SCRIPT)
    throw new Error(
      'Failed rendering the report page via src/commands/report/page/main.ts: its script is not built in (apps/cli/build.mjs and vitest.config.ts define PASSTHRU_REPORT_SCRIPT)',
    );
  const title = `passthru report: ${report.root === '/' ? 'this host' : report.root}`;
  const host = report.doctor?.host;
  const meta = [
    `root ${report.root}`,
    host?.board,
    host?.cpuModel,
    host?.kernelRelease ? `kernel ${host.kernelRelease}` : undefined,
    `generated ${report.generatedAt}`,
    `passthru ${report.passthruVersion}`,
  ].filter(Boolean) as string[];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="passthru ${escapeHtml(report.passthruVersion)}">
<title>${escapeHtml(title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<header class="top"><h1>${escapeHtml(title)}</h1><div class="meta">${meta.map(escapeHtml).join(' · ')}</div></header>
<main id="app"><noscript><p>This report draws itself with its inline script; the data is in the <code>passthru-data</code> element as JSON (also: <code>passthru report --format json</code>).</p></noscript></main>
<script type="application/json" id="passthru-data">${embedJson(report)}</script>
<script>${REPORT_SCRIPT}</script>
</body>
</html>
`;
}
