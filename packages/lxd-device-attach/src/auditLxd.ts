import { HostFsError, type HostFs } from '@passthru/hostfs';
import * as z from 'zod';
import { auditInstance, auditProject, type HostIommuState } from './auditInstance';
import { FindingSchema, isSerious, type Finding } from './Finding';
import type { NetworkTypes } from './limitFindings';
import { auditServer } from './auditServer';
import type { LxdClient } from './LxdClient';
import { LxdError } from './LxdError';
import { sysctlFindings } from './serverSettings';
import { NO_NUMA, probeHostNuma, type HostNuma } from './numa';
import { checkInstanceName, checkProjectName } from './names';
import type { Certificate, Instance, Network, Project, Server } from './schemas';
import { pendingTrustTokens, type PendingToken } from './auditTrust';
import { SERVER_NAMES, inVocabularyOf, serverKindOf, type ServerKind, type ServerName } from './servers';

export const SocketAccessSchema = z.object({
  path: z.string(),
  mode: z.string(),
  uid: z.number().int(),
  gid: z.number().int(),
  group: z.string().nullable(),
  /** Users who can open the socket through its group (members and users with it as primary group). */
  members: z.array(z.string()),
});
export type SocketAccess = z.infer<typeof SocketAccessSchema>;

export const InstanceAuditSchema = z.object({ name: z.string(), project: z.string(), type: z.string(), findings: z.array(FindingSchema) });
export type InstanceAudit = z.infer<typeof InstanceAuditSchema>;

/** The daemon's own audit: its version's support status and its config/certificate findings. */
export const ServerAuditSchema = z.object({
  server: z.enum(SERVER_NAMES).describe('which daemon was audited: environment.server of GET /1.0 ("incus"; anything else is LXD)'),
  name: z.string().nullable().describe('environment.server_name'),
  version: z.string().nullable().describe('environment.server_version'),
  support: z
    .enum(['supported-lts', 'feature-release', 'unsupported', 'unknown'])
    .nullable()
    .describe("the version's series in passthru's table of that server's series, LXD's or Incus's (null: version not reported)"),
  findings: z.array(FindingSchema),
});
export type ServerAudit = z.infer<typeof ServerAuditSchema>;

/** The audit JSON (the CLI adds schemaVersion): instances first, as the issue specifies. */
export const AuditReportSchema = z.object({
  instances: z.array(InstanceAuditSchema),
  projects: z.array(z.object({ name: z.string(), findings: z.array(FindingSchema) })),
  host: z.object({ socket: SocketAccessSchema.nullable(), findings: z.array(FindingSchema) }),
  server: ServerAuditSchema,
});
export type AuditReport = z.infer<typeof AuditReportSchema>;

/** /proc/interrupts rows of remapped interrupts carry an IR- chip (IR-PCI-MSI, INTEL-IR, AMD-IR). */
export function probeHostIommu(host: HostFs): HostIommuState {
  const iommu = host.list('/sys/kernel/iommu_groups').some((n) => /^\d+$/.test(n));
  let interruptRemapping: boolean | null = null;
  try {
    const text = host.readTextIfExists('/proc/interrupts');
    if (text !== undefined) interruptRemapping = /\s(IR-[A-Z]|INTEL-IR|AMD-IR)/.test(text);
  } catch (error) {
    if (!(error instanceof HostFsError)) throw error;
  }
  return { iommu, interruptRemapping };
}

/** Parses /etc/group: name -> {gid, members}. */
export function parseGroupFile(text: string): { name: string; gid: number; members: string[] }[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 3 && /^\d+$/.test(f[2]!))
    .map((f) => ({
      name: f[0]!,
      gid: Number(f[2]),
      members: (f[3] ?? '')
        .split(',')
        .map((m) => m.trim())
        .filter(Boolean),
    }));
}

/**
 * Who can open LXD's unix socket: its mode and the members of its group (/etc/group, and
 * /etc/passwd users whose primary group it is), all read through HostFs. Access to the socket
 * is root on the host (LXD's security guidance), so every non-root member is a finding.
 */
export function auditSocket(host: HostFs, socketPath: string): { socket: SocketAccess | null; findings: Finding[] } {
  let stat: ReturnType<HostFs['stat']>;
  try {
    stat = host.stat(socketPath);
  } catch (error) {
    if (error instanceof HostFsError && error.code === 'ENOENT') return { socket: null, findings: [] };
    throw error;
  }
  const mode = stat.mode & 0o7777;
  const groups = parseGroupFile(host.readTextIfExists('/etc/group') ?? '');
  const group = groups.find((g) => g.gid === stat.gid);
  const primary = (host.readTextIfExists('/etc/passwd') ?? '')
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 4 && Number(f[3]) === stat.gid && f[0])
    .map((f) => f[0]!);
  const members = [...new Set([...(group?.members ?? []), ...primary])].sort();
  const socket: SocketAccess = { path: socketPath, mode: mode.toString(8).padStart(4, '0'), uid: stat.uid, gid: stat.gid, group: group?.name ?? null, members };
  const findings: Finding[] = [];
  if (mode & 0o002) {
    findings.push({
      id: 'socket-world-accessible',
      severity: 'critical',
      summary: `${socketPath} is world-writable (mode ${socket.mode}): every local user is root through LXD`,
      fix: `chmod 0660 ${socketPath} (LXD sets it at start; check what changed it)`,
    });
  }
  const nonRoot = members.filter((m) => m !== 'root');
  if (mode & 0o020 && nonRoot.length > 0) {
    findings.push({
      id: 'socket-group-members',
      severity: 'high',
      summary: `group ${group?.name ?? stat.gid} can open ${socketPath} (mode ${socket.mode}); its members are root-equivalent: ${nonRoot.join(', ')}`,
      fix: `remove users who must not be root: gpasswd -d USER ${group?.name ?? stat.gid}; give others a restricted project over HTTPS instead`,
    });
  }
  return { socket, findings };
}

export interface AuditRequest {
  /** Instance names; empty = every instance of the project (or of every project with `all`). */
  instances?: string[];
  all?: boolean;
  project?: string;
  /** The socket the client uses (audited when `host` is given and the client is local). */
  socketPath?: string;
}

/** Every finding of `report` in `kind`'s words (LXD's own report is returned unchanged). */
export function reportInVocabularyOf(kind: ServerKind, report: AuditReport): AuditReport {
  if (kind.name === 'lxd') return report;
  const say = (findings: Finding[]) => findings.map((f) => ({ ...f, summary: inVocabularyOf(kind, f.summary), fix: inVocabularyOf(kind, f.fix) }));
  return {
    instances: report.instances.map((i) => ({ ...i, findings: say(i.findings) })),
    projects: report.projects.map((p) => ({ ...p, findings: say(p.findings) })),
    host: { ...report.host, findings: say(report.host.findings) },
    server: { ...report.server, findings: say(report.server.findings) },
  };
}

/**
 * Audits instances (expanded config and devices), their projects, the daemon (config, version,
 * certificates, pending trust tokens) and who can reach the socket, on LXD or Incus: the server's
 * GET /1.0 says which, and every summary and fix line is written in that server's vocabulary
 * (`incus config ...` on Incus). `host` is the server's host HostFs (omit it for a remote server:
 * then no socket or IOMMU findings).
 */
export async function auditLxd(
  client: LxdClient,
  host: HostFs | undefined,
  request: AuditRequest = {},
  today: string = new Date().toISOString().slice(0, 10),
): Promise<AuditReport> {
  if (request.project !== undefined) checkProjectName(request.project);
  for (const name of request.instances ?? []) checkInstanceName(name);
  const iommu: HostIommuState = host ? probeHostIommu(host) : { iommu: null, interruptRemapping: null };
  const numa: HostNuma = host ? probeHostNuma(host) : NO_NUMA;
  let projects: Project[];
  try {
    projects = request.all && request.project === undefined ? await client.listProjects() : [await client.getProject(request.project ?? 'default')];
  } catch (error) {
    if (error instanceof LxdError && error.status === 404)
      throw new LxdError('reading', `project ${request.project}`, client.via, `unknown project (LXD: ${error.detail})`, {
        reason: 'not-found',
        status: 404,
        errorCode: error.errorCode,
        cause: error,
      });
    throw error;
  }
  let instances: Instance[];
  if (request.instances && request.instances.length > 0) {
    instances = [];
    for (const name of request.instances) instances.push((await client.getInstance(name, request.project)).instance);
  } else if (request.all && request.project === undefined) {
    instances = await client.listInstances({ allProjects: true });
  } else {
    instances = await client.listInstances({ project: request.project });
  }
  // A restricted (non-admin) client may not read these: its audit then lacks what they give.
  const optional = async <T>(read: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await read();
    } catch (error) {
      if (!(error instanceof LxdError) || error.reason === 'unreachable') throw error;
      return fallback;
    }
  };
  const certificates: Certificate[] = await optional(() => client.listCertificates(), []);
  const server: Server = await client.getServer();
  const kind = serverKindOf(server);
  const tokens = await optional<PendingToken[]>(() => pendingTrustTokens(client), []);
  const networks: NetworkTypes = Object.fromEntries((await optional<Network[]>(() => client.listNetworks(), [])).map((n) => [n.name, n.type]));
  const serverAudit = auditServer(server, certificates, today, tokens);
  const socket = host && client.endpoint.kind === 'unix' ? auditSocket(host, request.socketPath ?? client.endpoint.socketPath) : { socket: null, findings: [] };
  // LXD's production server settings: read on the LXD host itself (not for a remote LXD).
  const hostFindings = [...socket.findings, ...(host ? sysctlFindings(host) : [])];
  return reportInVocabularyOf(kind, {
    instances: instances
      .map((i) => ({ name: i.name, project: i.project ?? request.project ?? 'default', type: i.type, findings: auditInstance(i, iommu, networks, numa) }))
      .sort((a, b) => a.project.localeCompare(b.project) || a.name.localeCompare(b.name)),
    projects: projects.map((p) => ({ name: p.name, findings: auditProject(p, certificates) })),
    host: { socket: socket.socket, findings: hostFindings },
    server: {
      server: kind.name,
      name: server.environment?.server_name ?? null,
      version: server.environment?.server_version ?? null,
      support: serverAudit.support?.status ?? null,
      findings: serverAudit.findings,
    },
  });
}

/** True when any finding of the report is high or critical (the CLI then exits 1). */
export function auditFailed(report: AnyAuditReport): boolean {
  return allFindings(report).some(({ finding }) => isSerious(finding));
}

/** A report whose server section may lack `server` (then it is LXD's): what allFindings and SARIF accept. */
export type AnyAuditReport = Omit<AuditReport, 'server'> & { server: Omit<ServerAudit, 'server'> & { server?: ServerName } };

/** Where a finding was made: the server, the socket, a project or an instance. */
export type FindingScope =
  | { kind: 'server'; name: string }
  | { kind: 'socket'; path: string }
  | { kind: 'host'; name: string }
  | { kind: 'project'; name: string }
  | { kind: 'instance'; project: string; name: string; type: string };

/** Every finding of the report with its scope: server, socket, projects, then instances. */
export function allFindings(report: AnyAuditReport): { scope: FindingScope; finding: Finding }[] {
  return [
    ...report.server.findings.map((finding) => ({ scope: { kind: 'server' as const, name: report.server.name ?? report.server.server ?? 'lxd' }, finding })),
    ...report.host.findings.map((finding) => ({
      scope:
        finding.id === 'server-sysctl'
          ? { kind: 'host' as const, name: 'sysctl' }
          : { kind: 'socket' as const, path: report.host.socket?.path ?? 'unix.socket' },
      finding,
    })),
    ...report.projects.flatMap((p) => p.findings.map((finding) => ({ scope: { kind: 'project' as const, name: p.name }, finding }))),
    ...report.instances.flatMap((i) =>
      i.findings.map((finding) => ({ scope: { kind: 'instance' as const, project: i.project, name: i.name, type: i.type }, finding })),
    ),
  ];
}
