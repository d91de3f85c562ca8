// The report page's script, bundled by esbuild (apps/cli/page.mjs) into one inline IIFE: draws the
// embedded JSON (`#passthru-data`) with DOM calls only (textContent, never innerHTML: device names
// are data), no network. Sets `data-rendered` and `data-render-ms` on <html> when done (tests and
// timings read them).
import { readPageData } from './data';
import { add } from './dom';
import { listen, toolbar } from './interaction';
import { clusterSection } from './cluster';
import { cards, doctorSection, groupsSection, guardsSection, warningSections } from './sections';
import { gpusSection } from './gpus';
import { topologySection } from './topology';

const t0 = performance.now();
const data = readPageData(document);
const app = document.getElementById('app')!;
app.textContent = '';
add(
  app,
  cards(data),
  toolbar(data),
  ...warningSections(data),
  topologySection(data),
  gpusSection(data),
  groupsSection(data),
  guardsSection(data),
  doctorSection(data),
  clusterSection(data),
);
listen();
document.documentElement.dataset.renderMs = String(Math.round(performance.now() - t0));
document.documentElement.dataset.rendered = 'true';
