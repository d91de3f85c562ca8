import type { Location, Log, ReportingDescriptor, Result } from 'sarif';
import type { Severity } from './Finding';
import { allFindings, type AnyAuditReport, type FindingScope } from './auditLxd';
import { CHECKLIST, auditRule } from './auditRules';
import { SERVERS, inVocabularyOf, type ServerName } from './servers';

/** SARIF levels of the contract: error for critical/high, warning for medium, note for low. */
export const SARIF_LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { critical: 'error', high: 'error', medium: 'warning', low: 'note' };

/** GitHub code scanning reads `security-severity` (0-10) to rank security results. */
const SECURITY_SEVERITY: Record<Severity, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '2.0' };

/** A rule's title as its SARIF name ("Trust password set" -> "TrustPasswordSet"); SARIF1001 wants it unlike the id. */
const ruleName = (title: string) =>
  title
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');

/** The scope as a SARIF logical location (kind "resource"): no file holds the server's configuration. */
function location(scope: FindingScope): Location {
  const [name, fullyQualifiedName] =
    scope.kind === 'server'
      ? [scope.name, `server/${scope.name}`]
      : scope.kind === 'socket'
        ? [scope.path, `socket${scope.path}`]
        : scope.kind === 'host'
          ? [scope.name, `host/${scope.name}`]
          : scope.kind === 'project'
            ? [scope.name, `project/${scope.name}`]
            : [scope.name, `project/${scope.project}/instance/${scope.name}`];
  return { logicalLocations: [{ name, fullyQualifiedName, kind: 'resource' }] };
}

/**
 * The SARIF rule descriptor of each finding id, in `server`'s words with its checklist links
 * (help text, the checklist item it comes from, security-severity). Rule ids are the same on LXD
 * and Incus; on Incus the rules' words are Incus's and their links Incus's pages.
 */
export function sarifRules(ids: readonly string[], server: ServerName = 'lxd'): ReportingDescriptor[] {
  const kind = SERVERS[server];
  const say = (text: string) => inVocabularyOf(kind, text);
  return ids.map((id) => {
    const rule = auditRule(id);
    const entry = rule ? CHECKLIST[rule.checklist] : undefined;
    const item = entry ? { title: say(entry.title), url: kind.name === 'incus' ? entry.incus : entry.url } : undefined;
    const [title, text] = rule ? [say(rule.title), say(rule.help)] : [id, id];
    const help = item ? `${text}\nChecklist: ${item.title} (${item.url}).` : `passthru audit finding ${id}.`;
    return {
      id,
      name: ruleName(rule ? title : `Passthru ${id}`),
      shortDescription: { text: title },
      fullDescription: { text },
      help: { text: help, markdown: item ? `${text}\n\nChecklist: [${item.title}](${item.url})` : help },
      ...(item ? { helpUri: item.url } : {}),
      defaultConfiguration: { level: SARIF_LEVEL[rule?.severity ?? 'medium'] },
      properties: {
        tags: ['security', kind.name, ...(rule ? [rule.checklist] : [])],
        'security-severity': SECURITY_SEVERITY[rule?.severity ?? 'medium'],
      },
    };
  });
}

/**
 * The audit report as one SARIF 2.1.0 log: `runs[0].tool.driver.name` is "passthru", one rule per
 * finding id present (`sarifRules`, in the audited server's words), one result per finding with
 * `ruleId`, `level` and the instance, project, socket or server as its location.
 */
export function auditSarif(report: AnyAuditReport, toolVersion: string): Log {
  const found = allFindings(report);
  const ids = [...new Set(found.map(({ finding }) => finding.id))].sort();
  const rules = sarifRules(ids, report.server.server ?? 'lxd');
  const results: Result[] = found.map(({ scope, finding }) => ({
    ruleId: finding.id,
    ruleIndex: ids.indexOf(finding.id),
    level: SARIF_LEVEL[finding.severity],
    message: { text: `${finding.summary}. Fix: ${finding.fix}` },
    locations: [location(scope)],
    properties: { severity: finding.severity, fix: finding.fix },
  }));
  return {
    version: '2.1.0',
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    runs: [
      {
        tool: { driver: { name: 'passthru', version: toolVersion, semanticVersion: toolVersion, rules } },
        results,
      },
    ],
  };
}
