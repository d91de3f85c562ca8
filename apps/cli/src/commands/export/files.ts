import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  NFD_FEATURES_DIR,
  NFD_FILE_NAME,
  PROMETHEUS_TEXTFILE,
  renderKubevirt,
  renderNfdFeatures,
  renderPrometheus,
  renderSriovDp,
  renderYaml,
  type HostReport,
} from '@passthru/exporters';
import { CliError, EXIT } from '../../CliError';
import type { CliContext } from '../../context';

export const KINDS = ['nfd', 'prometheus', 'kubevirt', 'sriov-dp'] as const;
export type Kind = (typeof KINDS)[number];

/** The folder an output goes into must exist: a missing one is bad input (exit 2, nothing written). */
function checkFolder(dir: string, what: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch (error) {
    throw new CliError(`${what} ${dir}: no such folder`, EXIT.usage, { cause: error });
  }
  if (!stat.isDirectory()) throw new CliError(`${what} ${dir}: not a folder`, EXIT.usage);
}

/** Where it goes (undefined: stdout), checked before the host is read: bad input writes nothing. */
export function exportFile(ctx: CliContext, kind: Kind, target: string | undefined): string | undefined {
  let file: string | undefined;
  if (kind === 'nfd') {
    const dir = target ?? NFD_FEATURES_DIR;
    if (dir !== '-') {
      checkFolder(dir, 'export nfd: DIR');
      file = path.join(dir, NFD_FILE_NAME);
    }
  } else if (kind === 'prometheus') {
    const f = target ?? PROMETHEUS_TEXTFILE;
    if (f !== '-') {
      checkFolder(path.dirname(f), 'export prometheus: the folder of FILE');
      if (!f.endsWith('.prom')) ctx.note(`passthru: warning: ${f} does not end in .prom: node-exporter's textfile collector reads only *.prom files`);
      file = f;
    }
  } else if (target !== undefined && target !== '-') {
    checkFolder(path.dirname(target), `export ${kind}: the folder of FILE`);
    file = target;
  }
  return file;
}

/** The text `export KIND` writes: NFD's feature file, Prometheus' text format, or kubevirt/sriov-dp as YAML or JSON. */
export function renderExport(ctx: CliContext, kind: Kind, report: HostReport, options: { ttl: number; boundOnly?: boolean; resourcePrefix: string }): string {
  const selection = { boundOnly: options.boundOnly === true, resourcePrefix: options.resourcePrefix };
  let text: string;
  if (kind === 'nfd') text = renderNfdFeatures(report, { ttlSeconds: options.ttl });
  else if (kind === 'prometheus') text = renderPrometheus(report);
  else {
    const doc = kind === 'kubevirt' ? renderKubevirt(report, selection) : renderSriovDp(report, selection);
    text = kind === 'kubevirt' && ctx.format !== 'json' ? renderYaml(doc) : `${JSON.stringify(doc, null, 2)}\n`;
  }
  return text;
}
