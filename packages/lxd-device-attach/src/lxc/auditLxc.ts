import * as path from 'node:path';
import { PassthruError, type HostFs } from '@passthru/hostfs';
import * as z from 'zod';
import { bySeverity, isSerious } from '../Finding';
import { readLxcConfig } from './config';
import { effectiveConfig, type LxcEffective } from './effective';
import { LxcFindingSchema, lineOf, lxcFindings, type LxcFinding } from './lxcFindings';
import { checkHostFile, checkLxcName, configOf, listContainers, lxcHostFacts, lxcPathOf } from './lxcHost';

export const LxcContainerAuditSchema = z.object({
  name: z.string().describe('the container (its folder under the lxcpath), or the Proxmox VE id (101 of 101.conf)'),
  config: z.string().describe('the configuration file audited'),
  format: z.enum(['lxc', 'proxmox']).describe('lxc: key = value (lxc.container.conf); proxmox: /etc/pve/lxc/<id>.conf (key: value)'),
  privileged: z.boolean().describe('no lxc.idmap for container root (and, Proxmox VE, no "unprivileged: 1")'),
  includes: z
    .array(z.object({ path: z.string(), found: z.boolean() }))
    .describe('lxc.include files and folders, in reading order (found: read through --root)'),
  notes: z.array(z.string()).describe('what the audit could not judge or the reader should know (missing includes, renamed keys)'),
  findings: z.array(LxcFindingSchema),
});
export type LxcContainerAudit = z.infer<typeof LxcContainerAuditSchema>;

/** `audit --lxc`: one entry per container or config file, with the host facts the reading depended on. */
export const LxcAuditReportSchema = z.object({
  lxcpath: z.string().nullable().describe('the containers folder read (null: only config files were named)'),
  host: z.object({
    apparmor: z.boolean().describe('AppArmor enabled on the host (/sys/module/apparmor/parameters/enabled)'),
    cgroup: z.enum(['v1', 'v2']).describe('the devices controller: v1 reads lxc.cgroup.*, v2 lxc.cgroup2.*'),
  }),
  containers: z.array(LxcContainerAuditSchema),
});
export type LxcAuditReport = z.infer<typeof LxcAuditReportSchema>;

export interface LxcAuditRequest {
  /** The containers folder (default: as `lxc-config lxc.lxcpath`: /etc/lxc/lxc.conf, else /var/lib/lxc). */
  lxcpath?: string;
  /**
   * Container names under the lxcpath, or config files (an argument with a `/`: an absolute host
   * path such as /var/lib/lxc/NAME/config or Proxmox VE's /etc/pve/lxc/101.conf). Empty: every
   * container of the lxcpath.
   */
  targets?: string[];
}

/** A config file's container name: NAME of .../NAME/config, 101 of 101.conf, else the file name. */
function nameOfFile(file: string): string {
  if (path.posix.basename(file) === 'config') return path.posix.basename(path.posix.dirname(file));
  return path.posix.basename(file).replace(/\.conf$/, '');
}

/** Host uid ranges of the container's own root map, for sharing. */
const uidRanges = (eff: LxcEffective) => eff.idmaps.filter((m) => m.type === 'u').map((m) => [m.hostid, m.hostid + m.range] as const);
const overlaps = (a: LxcEffective, b: LxcEffective) => uidRanges(a).some(([s, e]) => uidRanges(b).some(([s2, e2]) => s < e2 && s2 < e));

/**
 * The plain LXC audit (`passthru audit --lxc`): each container's config read as LXC reads it
 * (includes that exist on the host followed through HostFs, renamed keys read as the new ones),
 * then the LXD audit's checklist applied to it (lxcFindings). Containers that share host ids
 * (overlapping lxc.idmap ranges, among the lxcpath's containers and the files named) get
 * `idmap-shared`. Reads only.
 */
export function auditLxc(host: HostFs, request: LxcAuditRequest = {}): LxcAuditReport {
  const targets = request.targets ?? [];
  const names = targets.filter((t) => !t.includes('/')).map(checkLxcName);
  const files = targets.filter((t) => t.includes('/')).map((f) => checkHostFile(f, 'config file'));
  const usesPath = names.length > 0 || targets.length === 0;
  const lxcpath = usesPath || request.lxcpath !== undefined ? lxcPathOf(host, request.lxcpath) : null;
  const facts = lxcHostFacts(host);
  const wanted = [
    ...(lxcpath && targets.length === 0 ? listContainers(host, lxcpath) : names).map((name) => ({ name, file: configOf(lxcpath!, name) })),
    ...files.map((file) => ({ name: nameOfFile(file), file })),
  ];
  const audited = wanted.map(({ name, file }) => ({ name, eff: effectiveConfig(readLxcConfig(host, file)) }));

  // The other containers of the lxcpath count for shared id maps even when not named (an unreadable one is skipped).
  const peers: { name: string; eff: LxcEffective }[] = [...audited];
  if (lxcpath)
    for (const name of listContainers(host, lxcpath)) {
      const file = configOf(lxcpath, name);
      // On Proxmox VE, /var/lib/lxc/101/config is PVE's own rendering of /etc/pve/lxc/101.conf: the same container.
      if (audited.some((a) => a.eff.read.file === file || a.name === name)) continue;
      try {
        peers.push({ name, eff: effectiveConfig(readLxcConfig(host, file)) });
      } catch (error) {
        if (!(error instanceof PassthruError)) throw error;
      }
    }

  const containers = audited.map(({ name, eff }): LxcContainerAudit => {
    const findings: LxcFinding[] = lxcFindings(eff, facts);
    const sharing = eff.unprivileged ? peers.filter((p) => p.eff !== eff && p.eff.unprivileged && overlaps(eff, p.eff)).map((p) => p.name) : [];
    if (sharing.length > 0) {
      const map = eff.idmaps.find((m) => m.type === 'u')!.entry;
      findings.push({
        id: 'idmap-shared',
        severity: 'low',
        summary: `${lineOf(map, eff.read.format === 'proxmox')} overlaps the host ids of ${sharing.join(', ')}: an escape from one reaches the others' files`,
        fix: `give each container its own range of root's /etc/subuid and /etc/subgid (change ${map.file}:${map.line}), then shift its rootfs`,
        file: map.file.startsWith('<') ? null : map.file,
        line: map.file.startsWith('<') ? null : map.line,
      });
    }
    const notes = [
      ...eff.read.includes
        .filter((i) => !i.found && !i.path.endsWith('/'))
        .map(
          (i) =>
            `${i.from.file}:${i.from.line} includes ${i.path}, which is not on this host (LXC refuses to load the config then): what it would set is not judged`,
        ),
      ...[...new Set(eff.legacy.map((e) => e.file))].map(
        (file) =>
          `${file} uses key names LXC 3.0 and later refuse (the config does not load; lxc-update-config -c ${file} renames them), read here as the new ones: ${eff.legacy
            .filter((e) => e.file === file)
            .map((e) => `${e.written} -> ${e.key} (line ${e.line})`)
            .join(', ')}`,
      ),
      ...(eff.read.format === 'proxmox'
        ? ['Proxmox VE: read on top of what PVE always applies (common.conf: AppArmor, seccomp, dropped capabilities, deny-all device list)']
        : []),
    ];
    return {
      name,
      config: eff.read.file,
      format: eff.read.format,
      privileged: !eff.unprivileged,
      includes: eff.read.includes.map((i) => ({ path: i.path, found: i.found })),
      notes,
      findings: findings.sort(bySeverity),
    };
  });
  return { lxcpath, host: { apparmor: facts.apparmor, cgroup: facts.cgroup }, containers };
}

/** True when any finding is high or critical (the CLI then exits 1, as the LXD audit does). */
export const lxcAuditFailed = (report: LxcAuditReport) => report.containers.some((c) => c.findings.some(isSerious));
