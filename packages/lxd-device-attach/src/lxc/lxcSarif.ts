import { pathToFileURL } from 'node:url';
import type { Location, Log, Result } from 'sarif';
import { SARIF_LEVEL, sarifRules } from '../auditSarif';
import type { LxcAuditReport } from './auditLxc';

/**
 * `audit --lxc --format sarif`: one SARIF 2.1.0 log like the LXD audit's (the same rule
 * descriptors, sarifRules, so both logs describe an id alike), but each result points at its file
 * and line (a physical location) beside the container (a logical one).
 */
export function lxcAuditSarif(report: LxcAuditReport, toolVersion: string): Log {
  const found = report.containers.flatMap((c) => c.findings.map((finding) => ({ container: c, finding })));
  const ids = [...new Set(found.map(({ finding }) => finding.id))].sort();
  const rules = sarifRules(ids);
  const results: Result[] = found.map(({ container, finding }) => {
    const location: Location = {
      // A line missing from the file has no region to point at (SARIF2017 wants one): the container alone says where.
      ...(finding.file && finding.line
        ? { physicalLocation: { artifactLocation: { uri: pathToFileURL(finding.file).href }, region: { startLine: finding.line } } }
        : {}),
      logicalLocations: [{ name: container.name, fullyQualifiedName: `${container.format}/${container.name}`, kind: 'resource' }],
    };
    return {
      ruleId: finding.id,
      ruleIndex: ids.indexOf(finding.id),
      level: SARIF_LEVEL[finding.severity],
      message: { text: `${finding.summary}. Fix: ${finding.fix}` },
      locations: [location],
      properties: { severity: finding.severity, fix: finding.fix },
    };
  });
  return {
    version: '2.1.0',
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    runs: [{ tool: { driver: { name: 'passthru', version: toolVersion, semanticVersion: toolVersion, rules } }, results }],
  };
}
