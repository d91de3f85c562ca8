import type { Report, ReportDevice, ReportGroup } from '../schema';

type TopologyNode = Report['topology']['nodes'][number];

/** The embedded report and its indices by address, node id and group id. */
export interface PageData {
  report: Report;
  dev: Map<string, ReportDevice>;
  node: Map<string, TopologyNode>;
  grp: Map<number, ReportGroup>;
}

/** Reads the JSON the HTML embeds in `#passthru-data`. */
export function readPageData(doc: Document): PageData {
  const report = JSON.parse(doc.getElementById('passthru-data')!.textContent!) as Report;
  return {
    report,
    dev: new Map(report.devices.map((d) => [d.address, d])),
    node: new Map(report.topology.nodes.map((n) => [n.id, n])),
    grp: new Map(report.groups.map((g) => [g.id, g])),
  };
}
