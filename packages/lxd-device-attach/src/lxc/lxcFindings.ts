import * as z from 'zod';
import { FindingSchema, type Severity } from '../Finding';
import { DANGEROUS_NODES, LXD_DIRS, normalise, sensitivePath, within } from '../hostDevices';
import type { LxcEntry } from './config';
import { opensEverything, type DeviceRule, type LxcEffective } from './effective';

/** An audit finding of a plain LXC or Proxmox VE config: the LXD audit's shape, with the line it is about. */
export const LxcFindingSchema = FindingSchema.extend({
  file: z.string().nullable().describe('the file of the line the finding is about (the config, or a file it includes); null: no file'),
  line: z.number().int().nullable().describe('1-based line in that file; null when the finding is about a line that is missing'),
});
export type LxcFinding = z.infer<typeof LxcFindingSchema>;

/** What the host says that decides how a config is read. */
export interface LxcHostFacts {
  /** AppArmor is enabled (/sys/module/apparmor/parameters/enabled is Y): only then do profiles confine anything. */
  apparmor: boolean;
  /** The devices controller in use: v1 (a /sys/fs/cgroup/devices hierarchy) reads lxc.cgroup.*, v2 lxc.cgroup2.*. */
  cgroup: 'v1' | 'v2';
  /** Character and block majors by number, from /proc/devices (names for the summaries). */
  majors: { char: Map<number, string>; block: Map<number, string> };
}

/** The capabilities LXD drops from every container (and Debian's common.conf from every LXC one). */
const DROPPED = ['sys_module', 'sys_rawio', 'sys_time', 'mac_admin', 'mac_override'];
/** Nodes LXC's common.conf opens to every container: not findings. */
const STANDARD_NODES = new Set(['c 1:3', 'c 1:5', 'c 1:7', 'c 1:8', 'c 1:9', 'c 5:0', 'c 5:1', 'c 5:2', 'c 136:*', 'c 10:229']);

const sep = (e: LxcEntry, pve: boolean) => (pve && !e.file.startsWith('<') ? ': ' : ' = ');
/** The line as written: `lxc.cgroup2.devices.allow = a`. */
export const lineOf = (e: LxcEntry, pve = false) => `${e.written}${sep(e, pve)}${e.value}`.trimEnd();
const at = (e: LxcEntry) => `${e.file}:${e.line}`;

/** What a device rule opens, and how bad that is (null: nothing worth a finding). */
function ruleRisk(r: DeviceRule, facts: LxcHostFacts): { severity: Severity; what: string } | null {
  if (!/[rw]/.test(r.access)) return null;
  const spelled = `${r.type} ${r.major}:${r.minor}`;
  if (STANDARD_NODES.has(spelled)) return null;
  const major = Number(r.major);
  const name = r.type === 'b' ? facts.majors.block.get(major) : facts.majors.char.get(major);
  const named = `${r.major}${name ? ` (${name})` : ''}:${r.minor}`;
  if (r.type === 'b') return { severity: 'critical', what: `block devices ${named}: host disks` };
  if (r.major === '*') return { severity: 'critical', what: `every character device of minor ${r.minor}` };
  if (major === 1 && ['1', '2', '4', '*'].includes(r.minor)) return { severity: 'critical', what: `${named}: physical memory or I/O ports` };
  if (name === 'vfio' || (major === 10 && r.minor === '196')) return { severity: 'critical', what: `${named}: VFIO (device DMA)` };
  if ((major === 10 && ['232', '200'].includes(r.minor)) || (major === 1 && r.minor === '11'))
    return { severity: 'high', what: `${named}: a kernel interface` };
  if (r.minor === '*') return { severity: 'medium', what: `every node of major ${named.replace(/:\*$/, '')}` };
  return { severity: 'low', what: `the node ${named}` };
}

/** A host path handed to the container: which finding, how bad. */
export function hostPathRisk(source: string, readonly: boolean, privileged: boolean): { id: string; severity: Severity; what: string } {
  const p = normalise(source);
  const lxd = [...LXD_DIRS, '/var/lib/lxc', '/run/lxd', '/run/incus', '/var/snap/lxd'].find((d) => within(p, d) || within(d, p));
  if (lxd || /(lxd|incus).*unix\.socket$/.test(p))
    return { id: 'raw-lxc-mount-entry', severity: 'critical', what: `${p} (LXD/Incus/LXC state or socket: control of every container)` };
  if (p === '/dev') return { id: 'raw-lxc-mount-entry', severity: 'critical', what: "the host's /dev (every device node)" };
  if (within(p, '/dev')) {
    const danger = DANGEROUS_NODES.find((d) => d.re.test(p));
    return danger
      ? { id: 'unix-device-dangerous', severity: danger.severity, what: `${p}: ${danger.what}` }
      : { id: 'unix-device', severity: 'low', what: `host device node ${p}` };
  }
  const sensitive = sensitivePath(p) ?? ['/lib64', '/lib32', '/libx32'].find((d) => within(p, d));
  const rw = readonly ? 'read-only' : 'writable';
  if (!sensitive) return { id: 'raw-lxc-mount-entry', severity: privileged && !readonly ? 'medium' : 'low', what: `${p} (${rw})` };
  const whole = p === '/';
  const severity: Severity = privileged ? (readonly && !whole ? 'medium' : 'critical') : readonly ? (whole ? 'medium' : 'low') : whole ? 'high' : 'medium';
  const why = privileged
    ? readonly
      ? ', but root of a privileged container can remount it read-write'
      : ', as host root'
    : readonly
      ? ''
      : ' (as the mapped ids: host files of other owners stay read-only)';
  return { id: 'raw-lxc-mount-entry', severity, what: `${p}${sensitive === p ? '' : ` (covers ${sensitive})`} ${rw}${why}` };
}

/**
 * The audit of one container's effective configuration against the checklist the LXD audit
 * applies (same ids where they mean the same; docs/lxd.md, plain LXC): privilege, device rules,
 * mounts of host paths and nodes, AppArmor, capabilities, seccomp, nesting, id maps. `fix` is
 * the line to change, by file and line.
 */
export function lxcFindings(eff: LxcEffective, facts: LxcHostFacts): LxcFinding[] {
  const pve = eff.read.format === 'proxmox';
  const config = eff.read.file;
  const priv = !eff.unprivileged;
  const findings: LxcFinding[] = [];
  const add = (id: string, severity: Severity, summary: string, fix: string, e: LxcEntry | null) =>
    findings.push({
      id,
      severity,
      summary,
      fix,
      file: e && !e.file.startsWith('<') ? e.file : e ? null : config,
      line: e && !e.file.startsWith('<') ? e.line : null,
    });
  const remove = (e: LxcEntry) => `remove ${at(e)}: ${lineOf(e, pve)}`;
  const ownKey = (plain: string, pveKey = plain) => (pve ? `${pveKey}: ` : `${plain} = `);
  const mountFix = (severity: Severity, e: LxcEntry) =>
    severity === 'low'
      ? `keep ${at(e)} only if the container needs it`
      : severity === 'medium' && priv
        ? `${remove(e)}, or make the container unprivileged (read-only then holds)`
        : remove(e);

  // Device rules: every node open (explicitly, or for lack of `deny = a` in a privileged container), then single rules.
  const hostVersion = facts.cgroup === 'v1' ? eff.devices.v1 : eff.devices.v2;
  const hostKey = facts.cgroup === 'v1' ? 'lxc.cgroup.devices' : 'lxc.cgroup2.devices';
  let allOpen = false;
  for (const rules of [eff.devices.v1, eff.devices.v2]) {
    const all = rules.all;
    if (all && all !== 'default') {
      allOpen ||= rules === hostVersion;
      add(
        'raw-lxc-devices-allow',
        'critical',
        `${lineOf(all.entry, pve)}: opens every host device node to the container${priv ? ' (privileged: with mknod, every disk and /dev/mem)' : ''}`,
        `${remove(all.entry)}; allow only the nodes it needs (passthru attach --lxc NAME TARGET writes them)`,
        all.entry,
      );
      continue;
    }
    if (all === 'default') continue;
    for (const r of rules.rules.filter((x) => x.allow && !opensEverything(x))) {
      const risk = ruleRisk(r, facts);
      if (risk)
        add('raw-lxc-devices-allow', risk.severity, `${lineOf(r.entry, pve)} opens ${risk.what}`, `${remove(r.entry)} unless the container needs it`, r.entry);
    }
  }
  if (priv && hostVersion.all === 'default') {
    allOpen = true;
    add(
      'raw-lxc-devices-allow',
      'critical',
      `no ${hostKey}.deny = a in the config or its includes: a privileged container may open (and mknod) every host device node`,
      `add ${ownKey(`${hostKey}.deny`)}a before its allow lines (or lxc.include = /usr/share/lxc/config/common.conf) to ${config}`,
      null,
    );
  }

  // Mounts of host paths and device nodes.
  let nodes = false;
  for (const e of eff.mounts) {
    const [rawSource = '', , fstype = '', options = ''] = e.value.split(/\s+/);
    const source = rawSource.replace(/\\040/g, ' ');
    // LXC's own common.conf binds the fuse control folder into every container: not a finding.
    if (!source.startsWith('/') || normalise(source) === '/sys/fs/fuse/connections') continue;
    const opts = options.split(',');
    const risk = hostPathRisk(source, opts.includes('ro'), priv);
    nodes ||= risk.id.startsWith('unix-device') || risk.what.startsWith("the host's /dev");
    add(
      risk.id,
      risk.severity,
      `${lineOf(e, pve)} mounts ${risk.what}${fstype === 'none' || opts.includes('bind') ? '' : ` as ${fstype}`}`,
      mountFix(risk.severity, e),
      e,
    );
  }
  for (const e of eff.pveMounts) {
    const [source = '', ...rest] = e.value.split(',');
    if (!source.startsWith('/')) continue;
    const risk = hostPathRisk(source, rest.includes('ro=1'), priv);
    const id = risk.id === 'raw-lxc-mount-entry' ? 'disk-host-path' : risk.id;
    add(id, risk.severity, `${e.written}: bind-mounts ${risk.what}`, mountFix(risk.severity, e), e);
  }
  for (const e of eff.pveDevices) {
    const node = normalise(e.value.split(',')[0] ?? '');
    const danger = DANGEROUS_NODES.find((d) => d.re.test(node));
    nodes = true;
    if (danger) add('unix-device-dangerous', danger.severity, `${e.written}: ${node} gives ${danger.what}`, remove(e), e);
    else add('unix-device', 'low', `${e.written}: passes host node ${node}`, 'keep only if needed; set uid/gid/mode narrowly', e);
  }
  if (priv) {
    for (const { option, entry } of eff.mountAuto) {
      const m = /^(proc|sys|cgroup|cgroup-full)(?::(rw|mixed|ro))?(?::force)?$/.exec(option);
      if (!m || (m[2] ?? (m[1]!.startsWith('cgroup') ? 'rw' : 'mixed')) !== 'rw') continue;
      const what = m[1] === 'proc' ? '/proc (with /proc/sys and sysrq-trigger)' : m[1] === 'sys' ? '/sys' : 'the cgroup hierarchy (release_agent escapes)';
      add(
        'raw-lxc-mount-entry',
        'critical',
        `${lineOf(entry, pve)}: mounts the host's ${what} writable in a privileged container`,
        `change ${at(entry)} to ${m[1]}:${m[1] === 'sys' ? 'ro' : 'mixed'}`,
        entry,
      );
    }
  }

  // Confinement: AppArmor, capabilities, seccomp.
  const aa = eff.apparmor;
  if (aa && aa.value === 'unconfined') {
    const enabled = pve || facts.apparmor;
    add(
      'raw-lxc-apparmor-unconfined',
      !enabled ? 'low' : priv ? 'high' : 'medium',
      `${lineOf(aa, pve)}: AppArmor confinement off${enabled ? (priv ? '' : ' (unprivileged: the user namespace still holds)') : ' (AppArmor is not enabled on this host: no profile applies to any container)'}`,
      `${remove(aa)} (LXC's default profile applies; lxc.apparmor.profile = generated for a per-container one)`,
      aa,
    );
  }
  if (priv) {
    const kept = DROPPED.filter((c) => eff.capKeep.some((k) => k.cap === c));
    if (eff.capKeep.length > 0 && kept.length > 0) {
      const e = eff.capKeep.find((k) => kept.includes(k.cap))!.entry;
      add(
        'raw-lxc-capabilities',
        'critical',
        `${lineOf(e, pve)} keeps ${kept.join(', ')} in a privileged container, i.e. host capabilities`,
        `remove ${kept.join(', ')} from ${at(e)}`,
        e,
      );
    } else if (eff.capKeep.length === 0) {
      const dropped = new Set(eff.capDrop.map((c) => c.cap));
      const missing = DROPPED.filter((c) => !dropped.has(c));
      if (missing.length > 0) {
        const cleared = eff.capDropCleared;
        const last = eff.capDrop.at(-1)?.entry ?? null;
        const where = cleared && !eff.capDrop.some((c) => c.entry.file === cleared.file && c.entry.line > cleared.line) ? cleared : (last ?? cleared);
        add(
          'raw-lxc-capabilities',
          missing.length === DROPPED.length ? 'critical' : 'high',
          `${where === cleared && cleared ? `${lineOf(cleared, pve)} clears the dropped capabilities: ` : ''}a privileged container keeps ${missing.join(', ')} (host capabilities)`,
          where && where !== cleared
            ? `add ${missing.join(' ')} to ${at(where)}`
            : `${cleared ? `${remove(cleared)}; ` : ''}add ${ownKey('lxc.cap.drop')}${DROPPED.join(' ')} to ${config}`,
          where,
        );
      }
    }
  }
  const sc = eff.seccomp;
  if (!sc || sc.value === '') {
    add(
      'syscalls-deny-default-off',
      priv ? 'high' : 'low',
      `${sc ? `${lineOf(sc, pve)} clears the seccomp policy` : 'no lxc.seccomp.profile in the config or its includes'}: no system call is filtered${priv ? ' (open_by_handle_at, kexec_load, init_module... reach the host kernel as root)' : ' (unprivileged: the user namespace limits what they can do)'}`,
      sc
        ? `${remove(sc)} (common.conf's /usr/share/lxc/config/common.seccomp then applies)`
        : `add ${ownKey('lxc.seccomp.profile')}/usr/share/lxc/config/common.seccomp to ${config}`,
      sc,
    );
  }

  // Nesting, then privilege itself (worse with every node open, nesting or host nodes).
  if (eff.nesting.length > 0) {
    const e = eff.nesting[0]!;
    add(
      'nesting',
      priv ? 'critical' : 'medium',
      `nesting (${lineOf(e, pve)}): the container mounts its own proc/sysfs and runs containers${priv ? ' as host root' : ''}`,
      priv ? `${remove(e)} (or make the container unprivileged first)` : `${remove(e)} unless it runs containers itself`,
      e,
    );
  }
  for (const m of eff.idmaps.filter((x) => x.hostid <= 0 && 0 < x.hostid + x.range)) {
    add(
      'raw-idmap-host-root',
      'critical',
      `${lineOf(m.entry, pve)} maps host ${m.type === 'u' ? 'uid' : 'gid'} 0 into the container: its files are host root's`,
      `change ${at(m.entry)} to a range of /etc/sub${m.type}id`,
      m.entry,
    );
  }
  if (priv) {
    const worse = [allOpen ? 'every device node open' : '', eff.nesting.length ? 'nesting' : '', nodes ? 'host device nodes' : ''].filter(Boolean);
    const unpriv = pve ? eff.read.entries.find((e) => e.key === 'unprivileged') : undefined;
    add(
      'privileged',
      worse.length > 0 ? 'critical' : 'high',
      `privileged container: no lxc.idmap${pve ? ' and no "unprivileged: 1"' : ''}, so root inside is root on the host${worse.length ? `, with ${worse.join(' and ')}` : ''}`,
      pve
        ? `set "unprivileged: 1" in ${config} (Proxmox VE converts by backup and restore: pct restore ID BACKUP --unprivileged 1)`
        : `add lxc.idmap = u 0 100000 65536 and lxc.idmap = g 0 100000 65536 (root's ranges in /etc/subuid, /etc/subgid) to ${config}, and shift the rootfs's owners by 100000`,
      unpriv ?? null,
    );
  }
  return findings;
}
