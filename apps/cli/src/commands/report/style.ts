/** The report's stylesheet: laptop-first (1366x768 and up), printable, colour-blind safe (text on every badge). */
export const REPORT_CSS = `
:root { --fg:#1d2330; --muted:#5b6475; --line:#d8dce4; --bg:#f6f7f9; --card:#fff; --ok:#1f7a3d; --warn:#9a5b00; --bad:#b3261e; --info:#2d5dab;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
* { box-sizing: border-box; }
body { margin: 0; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
header.top { background: #1f2937; color: #f3f4f6; padding: 14px 24px 12px; }
header.top h1 { margin: 0; font-size: 20px; font-weight: 650; letter-spacing: .2px; }
header.top .meta { color: #c7cdd8; font-size: 12.5px; margin-top: 2px; word-break: break-all; }
main { max-width: 1320px; margin: 0 auto; padding: 14px 24px 48px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 4px 0 12px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; min-width: 120px; }
.card b { display: block; font-size: 20px; line-height: 1.2; }
.card span { color: var(--muted); font-size: 12px; }
.card.verdict-ready { border-color: var(--ok); } .card.verdict-not-ready { border-color: var(--bad); } .card.verdict-ready-with-warnings, .card.verdict-incomplete { border-color: var(--warn); }
nav.toolbar { position: sticky; top: 0; z-index: 5; background: var(--bg); display: flex; flex-wrap: wrap; align-items: center; gap: 8px; padding: 8px 0; border-bottom: 1px solid var(--line); margin-bottom: 10px; }
nav.toolbar a { color: var(--info); text-decoration: none; margin-right: 6px; font-weight: 550; }
nav.toolbar input { flex: 1 1 260px; min-width: 200px; max-width: 420px; padding: 6px 10px; border: 1px solid #b9c0cc; border-radius: 6px; font: inherit; }
nav.toolbar button { font: inherit; padding: 5px 10px; border: 1px solid #b9c0cc; border-radius: 6px; background: #fff; cursor: pointer; }
nav.toolbar button:hover { background: #eef1f6; }
#match-count { color: var(--muted); font-size: 12.5px; min-width: 8ch; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px 14px; margin: 0 0 16px; }
section h2 { font-size: 16px; margin: 0 0 8px; }
section p.hint { color: var(--muted); margin: 0 0 10px; font-size: 12.5px; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 14px; font-size: 12px; color: var(--muted); margin-bottom: 8px; }

/* The tree: one row a function; nesting = bus topology; tinted regions = IOMMU groups. */
ul.tree, ul.tree ul { list-style: none; margin: 0; padding: 0; }
ul.tree ul { margin-left: 14px; padding-left: 12px; border-left: 1px dashed #b8bfcc; }
li.bus > .busrow { font-weight: 650; padding: 6px 4px 2px; }
li.bus > .busrow .sub { font-weight: 400; color: var(--muted); font-size: 12.5px; margin-left: 6px; }
.region.multi { border: 1.5px solid hsl(var(--h) 55% 45%); background: hsl(var(--h) 70% 97%); border-radius: 6px; margin: 4px 0; padding: 0 0 2px; }
.region > .rlabel { font-size: 11.5px; color: hsl(var(--h) 50% 28%); padding: 2px 8px 1px; font-weight: 650; }
.region.nogroup > .rlabel { color: #555; }
li.fn > details.dev > summary .row { background: hsl(var(--h) 70% 95%); border-left: 4px solid hsl(var(--h) 55% 45%); margin: 2px 0; }
li.fn.ng > details.dev > summary .row { background: repeating-linear-gradient(135deg, #f4f4f4 0 6px, #e8e8e8 6px 12px); border-left-color: #8a8a8a; }
details.dev > summary { list-style: none; cursor: pointer; }
details.dev > summary::-webkit-details-marker { display: none; }
.row { display: grid; grid-template-columns: 13ch 10ch minmax(14ch, 1fr) 13ch 15ch; gap: 8px; align-items: baseline; padding: 3px 8px; border-radius: 3px; }
li.fn > details.dev > summary .row:hover { filter: brightness(.96); }
.row .addr { font-weight: 600; white-space: nowrap; }
.row .name { min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.row .name small { color: var(--muted); margin-left: 6px; }
.row .drv { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.row .drv.vfio { color: var(--ok); font-weight: 650; }
.row .drv.none { color: var(--muted); font-style: italic; }
.gbadge { display: inline-block; font-size: 11.5px; font-weight: 650; padding: 0 6px; border-radius: 10px; background: hsl(var(--h) 55% 45%); color: #fff; cursor: pointer; white-space: nowrap; border: 0; font-family: inherit; }
.gbadge.none { background: #8a8a8a; cursor: default; }
.badge { display: inline-block; font-size: 11.5px; font-weight: 600; padding: 0 7px; border-radius: 10px; border: 1px solid; white-space: nowrap; }
.st-ready { color: var(--ok); border-color: var(--ok); background: #e8f5ec; }
.st-bindable { color: var(--info); border-color: var(--info); background: #eaf0fa; }
.st-shared-group { color: #6b3fa0; border-color: #6b3fa0; background: #f2ecfa; }
.st-guarded, .st-group-not-viable, .st-not-passable, .st-FAIL, .st-not-ready { color: var(--bad); border-color: var(--bad); background: #fbeceb; }
.st-no-group, .st-WARN, .st-ready-with-warnings, .st-incomplete { color: var(--warn); border-color: var(--warn); background: #fdf3e4; }
.st-bridge, .st-bridges-only, .st-SKIP { color: var(--muted); border-color: #aab1bd; background: #f1f2f4; }
.st-PASS { color: var(--ok); border-color: var(--ok); background: #e8f5ec; }
.info { margin: 2px 8px 8px 13ch; padding: 8px 12px; background: #fff; border: 1px solid var(--line); border-radius: 6px; font-size: 13px; }
.info dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0 0 6px; }
.info dt { color: var(--muted); } .info dd { margin: 0; }
.info ul { margin: 4px 0; padding-left: 18px; }
.ev { color: var(--muted); font-size: 12px; }
details.vfs { margin: 2px 0 4px 14px; }
details.vfs > summary { cursor: pointer; color: var(--info); font-weight: 550; padding: 2px 6px; font-size: 13px; }
details.vfs > summary:hover { text-decoration: underline; }
li.dim > details.dev > summary .row, li.dim > .row { opacity: .28; }
li.hit > details.dev > summary .row { outline: 2px solid #f0b429; background: #fff8e1; }
.hl > details.dev > summary .row { outline: 2px solid hsl(var(--h) 55% 40%); background: hsl(var(--h) 70% 88%); }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid #e6e8ed; }
th { color: var(--muted); font-weight: 600; font-size: 12px; position: sticky; top: 44px; background: #fff; }
td.members { max-width: 520px; }
td.members code { margin-right: 6px; white-space: nowrap; }
td pre { white-space: pre-wrap; margin: 2px 0 0; font-size: 12px; background: #f4f5f7; padding: 4px 6px; border-radius: 4px; }
.empty { color: var(--muted); font-style: italic; }
details.more > summary { cursor: pointer; color: var(--info); font-size: 13px; margin-top: 6px; }
@media (max-width: 900px) { .row { grid-template-columns: 13ch 10ch 1fr; } .row .drv, .row .rd { grid-column: 3; } .info { margin-left: 8px; } }
@media print {
  :root { font-size: 10pt; background: #fff; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  header.top { background: #fff; color: #000; border-bottom: 2px solid #000; padding: 0 0 6px; }
  header.top .meta { color: #333; }
  main { max-width: none; padding: 8px 0; }
  nav.toolbar, .noprint { display: none !important; }
  section { border: 0; padding: 0; margin: 0 0 14px; break-inside: auto; }
  section h2 { break-after: avoid; }
  .row, tr, .region.multi { break-inside: avoid; }
  .row { grid-template-columns: 13ch 9ch 1fr 12ch 14ch; }
  .row .name { white-space: normal; }
  th { position: static; }
  details.vfs:not([open]) > summary::after { content: " (collapsed: expand before printing to list them)"; color: #555; font-weight: 400; }
  a { color: inherit; text-decoration: none; }
}
`;
