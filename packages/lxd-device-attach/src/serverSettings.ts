import { HostFsError, type HostFs } from '@passthru/hostfs';
import { unifiedPatch } from '@passthru/boot-config';
import * as z from 'zod';
import type { Finding, Severity } from './Finding';

/**
 * The kernel limits LXD's "Server settings for a LXD production setup" asks for on hosts that run
 * many instances: each is a minimum (a host already above it is fine). Incus asks for the same
 * eleven values (doc/reference/server_settings.md of Incus 6.0.4, compared line by line), so
 * `tune` and the audit's server-sysctl finding are one table for both servers.
 */
export const LXD_SYSCTL: readonly { key: string; value: number; severity: Severity; why: string }[] = [
  { key: 'fs.aio-max-nr', value: 524288, severity: 'medium', why: 'asynchronous I/O contexts (databases, QEMU) across all instances' },
  { key: 'fs.inotify.max_queued_events', value: 1048576, severity: 'medium', why: 'inotify events queued per instance' },
  { key: 'fs.inotify.max_user_instances', value: 1048576, severity: 'medium', why: "inotify instances per user (every container's systemd takes some)" },
  { key: 'fs.inotify.max_user_watches', value: 1048576, severity: 'medium', why: 'inotify watches per user' },
  { key: 'kernel.dmesg_restrict', value: 1, severity: 'low', why: 'keeps the host kernel log from containers' },
  { key: 'kernel.keys.maxbytes', value: 2000000, severity: 'medium', why: "keyring size per user (each container's root user uses keys)" },
  { key: 'kernel.keys.maxkeys', value: 2000, severity: 'medium', why: 'keys per non-root user' },
  { key: 'net.core.bpf_jit_limit', value: 1000000000, severity: 'medium', why: 'BPF JIT memory (systemd in each container loads BPF programs)' },
  { key: 'net.ipv4.neigh.default.gc_thresh3', value: 8192, severity: 'medium', why: 'IPv4 ARP table entries (many instances on one bridge)' },
  { key: 'net.ipv6.neigh.default.gc_thresh3', value: 8192, severity: 'medium', why: 'IPv6 neighbour table entries' },
  { key: 'vm.max_map_count', value: 262144, severity: 'medium', why: 'memory map areas per process (Elasticsearch and similar)' },
];

/** The one file `passthru tune` writes. */
export const SYSCTL_FILE = '/etc/sysctl.d/60-passthru-lxd.conf';
/** systemd-sysctl's folders, lowest precedence first; a name in a later folder hides the same name in an earlier one. */
const SYSCTL_DIRS = ['/usr/lib/sysctl.d', '/lib/sysctl.d', '/run/sysctl.d', '/etc/sysctl.d'];

/** /proc/sys/<key with dots as slashes>. */
export const procSysPath = (key: string) => `/proc/sys/${key.replace(/\./g, '/')}`;

/** Parses sysctl.d text ("key = value", `#`/`;` comments, a leading `-` ignores errors): key -> value. */
export function parseSysctlConf(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const i = line.indexOf('=');
    if (i < 0) continue;
    const key = line.slice(0, i).trim().replace(/^-/, '').replace(/\//g, '.');
    out.set(key, line.slice(i + 1).trim());
  }
  return out;
}

const readOr = (host: HostFs, p: string): string | undefined => {
  try {
    return host.readTextIfExists(p);
  } catch (error) {
    if (error instanceof HostFsError) return undefined;
    throw error;
  }
};
const numberOf = (text: string | undefined) => (text !== undefined && /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : undefined);

/** The running value of each setting (undefined: /proc/sys does not have it, e.g. a partial capture). */
export function readSysctls(host: HostFs): Map<string, number | undefined> {
  return new Map(LXD_SYSCTL.map((s) => [s.key, numberOf(readOr(host, procSysPath(s.key)))]));
}

/**
 * What boot applies (systemd-sysctl order: files by name across the folders, /etc/sysctl.conf
 * last), leaving out `except` (our own file, so a plan does not depend on itself).
 */
export function persistedSysctls(host: HostFs, except?: string): Map<string, { value: string; file: string }> {
  const byName = new Map<string, string>();
  for (const dir of SYSCTL_DIRS) for (const name of host.list(dir)) if (name.endsWith('.conf')) byName.set(name, `${dir}/${name}`);
  const files = [...byName.keys()].sort().map((n) => byName.get(n)!);
  files.push('/etc/sysctl.conf');
  const out = new Map<string, { value: string; file: string }>();
  for (const file of files) {
    if (file === except) continue;
    for (const [key, value] of parseSysctlConf(readOr(host, file) ?? '')) out.set(key, { value, file });
  }
  return out;
}

/** One `server-sysctl` finding per setting whose running value is below LXD's recommendation (the key in the summary). */
export function sysctlFindings(host: HostFs): Finding[] {
  const running = readSysctls(host);
  const persisted = persistedSysctls(host);
  const out: Finding[] = [];
  for (const s of LXD_SYSCTL) {
    const now = running.get(s.key);
    if (now === undefined || now >= s.value) continue;
    const kept = persisted.get(s.key);
    const boot = kept
      ? ` (${kept.file} sets ${kept.value}${numberOf(kept.value) !== undefined && numberOf(kept.value)! >= s.value ? ': applied at next boot or sysctl --system' : ''})`
      : '';
    out.push({
      id: 'server-sysctl',
      severity: s.severity,
      summary: `${s.key}=${now} is below LXD's production value ${s.value}: ${s.why}${boot}`,
      fix: `sysctl -w ${s.key}=${s.value}; persist with passthru tune (writes ${SYSCTL_FILE})`,
    });
  }
  return out;
}

/**
 * The text of SYSCTL_FILE: every setting that no other file persists at or above LXD's value and
 * that does not already run above it (our file never sets more, so a higher running value is
 * someone else's). Depends neither on the file itself nor on values it causes: a second run plans
 * the same text.
 */
export function sysctlFileText(host: HostFs): string {
  const running = readSysctls(host);
  const others = persistedSysctls(host, SYSCTL_FILE);
  const lines = LXD_SYSCTL.filter((s) => {
    const kept = numberOf(others.get(s.key)?.value);
    const now = running.get(s.key);
    return !(kept !== undefined && kept >= s.value) && !(now !== undefined && now > s.value);
  }).map((s) => `${s.key} = ${s.value}`);
  if (lines.length === 0) return '';
  return `# LXD production setup: kernel limits for hosts that run many instances (written by passthru tune).\n# https://documentation.ubuntu.com/lxd/stable-5.21/reference/server_settings/\n${lines.join('\n')}\n`;
}

/** The one file the tune plan writes: old and new text, their unified patch, where the backup goes. */
export const SysctlPlanSchema = z.object({
  path: z.string(),
  before: z.string().nullable().describe('the file as it is (null: absent)'),
  after: z.string().describe('the text the plan writes (empty: no setting needs it)'),
  diff: z.string().describe('unified patch before -> after (empty: nothing to write)'),
  backup: z.string().nullable().describe('where the old text is kept (null: a new file, or nothing to write)'),
  settings: z.array(z.object({ key: z.string(), value: z.number() })).describe("the settings the new text holds, at LXD's recommended values"),
});
export type SysctlPlan = z.infer<typeof SysctlPlanSchema>;

export interface TuneRequest {
  dryRun?: boolean;
  /** Names the backup (`<file>.passthru-<stamp>.bak`). */
  stamp: string;
  /** Loads the file into the running kernel (`sysctl -p FILE`); only on the live host. */
  runner?: (command: string) => Promise<{ exitCode: number; output: string }>;
}

export interface TuneOutcome {
  plan: SysctlPlan;
  written: string[];
  ran: { command: string; exitCode: number; output: string }[];
}

/**
 * The `tune` use case: plans SYSCTL_FILE with LXD's values, then (unless dryRun, and only when the
 * text differs) writes a backup of the old file and the new text atomically. A second run finds
 * nothing to write.
 */
export async function tuneServerSysctl(host: HostFs, request: TuneRequest): Promise<TuneOutcome> {
  // Checked before anything is read or written, dry run included: a file that cannot be written is refused (nothing written).
  host.checkWritable(SYSCTL_FILE);
  const before = readOr(host, SYSCTL_FILE) ?? null;
  const after = sysctlFileText(host);
  const unchanged = (before ?? '') === after;
  const plan: SysctlPlan = {
    path: SYSCTL_FILE,
    before,
    after,
    diff: unchanged ? '' : unifiedPatch(SYSCTL_FILE, before, after),
    backup: unchanged || before === null ? null : `${SYSCTL_FILE}.passthru-${request.stamp}.bak`,
    settings: [...parseSysctlConf(after)].map(([key, value]) => ({ key, value: Number(value) })),
  };
  if (plan.backup) host.checkWritable(plan.backup);
  if (request.dryRun || unchanged) return { plan, written: [], ran: [] };
  // The backup first; the file itself is written atomically (temp, fsync, rename), so a failed
  // write leaves the old text in place and the HostFsError says where.
  const written: string[] = [];
  if (plan.backup && before !== null) {
    host.writeFile(plan.backup, before);
    written.push(plan.backup);
  }
  host.writeFile(SYSCTL_FILE, after);
  written.push(SYSCTL_FILE);
  const ran = request.runner ? [{ command: `sysctl -p ${SYSCTL_FILE}`, ...(await request.runner(`sysctl -p ${SYSCTL_FILE}`)) }] : [];
  return { plan, written, ran };
}
