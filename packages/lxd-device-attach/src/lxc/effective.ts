import type { LxcConfigRead, LxcEntry } from './config';

/** One `u|g NSID HOSTID RANGE` map of lxc.idmap. */
export interface IdMap {
  entry: LxcEntry;
  type: 'u' | 'g';
  nsid: number;
  hostid: number;
  range: number;
}

/** One device rule (`lxc.cgroup.devices.allow = c 226:0 rwm`), parsed. */
export interface DeviceRule {
  entry: LxcEntry;
  allow: boolean;
  /** a (all), b (block) or c (char). */
  type: 'a' | 'b' | 'c';
  /** '*' or a number. */
  major: string;
  minor: string;
  access: string;
}

/** The rules one cgroup version applies, in order, after LXC's clears. */
export interface DeviceRules {
  rules: DeviceRule[];
  /** Everything is open: the rule that opened it (allow a), 'default' when no `deny = a` closes the list, null when closed. */
  all: DeviceRule | 'default' | null;
}

/**
 * What a configuration amounts to once LXC has read it (lxc.container.conf(5)): list keys add
 * up and an empty value clears them (lxc.idmap, lxc.cap.drop/keep, lxc.mount.entry/auto, each
 * devices.allow/deny key), other keys keep their last value. Every value keeps its line.
 */
export interface LxcEffective {
  read: LxcConfigRead;
  idmaps: IdMap[];
  /** Unprivileged: container root is mapped to a host id (lxc.idmap, or Proxmox VE's `unprivileged: 1`). */
  unprivileged: boolean;
  /** The `unprivileged: 1` line (Proxmox VE), when that is what makes it unprivileged. */
  unprivilegedBy: LxcEntry | null;
  /** lxc.cap.drop values in effect, each with its line; `capDropCleared`: the empty line that last cleared the list. */
  capDrop: { cap: string; entry: LxcEntry }[];
  capDropCleared: LxcEntry | null;
  capKeep: { cap: string; entry: LxcEntry }[];
  apparmor: LxcEntry | null;
  seccomp: LxcEntry | null;
  devices: { v1: DeviceRules; v2: DeviceRules };
  mounts: LxcEntry[];
  mountAuto: { option: string; entry: LxcEntry }[];
  /** Proxmox VE: `mpN` (bind mounts of host paths) and `devN` (device nodes). */
  pveMounts: LxcEntry[];
  pveDevices: LxcEntry[];
  /** What turns nesting on: nesting.conf included, a nesting AppArmor profile, a second proc/sysfs, PVE `features: nesting=1`. */
  nesting: LxcEntry[];
  /** Lines with keys LXC 3.0 and later refuse (lxc.id_map, lxc.aa_profile, ...). */
  legacy: LxcEntry[];
}

export function parseIdMap(entry: LxcEntry): IdMap | undefined {
  const m = /^([ug])\s+(\d+)\s+(\d+)\s+(\d+)$/.exec(entry.value.trim());
  return m ? { entry, type: m[1] as 'u' | 'g', nsid: Number(m[2]), hostid: Number(m[3]), range: Number(m[4]) } : undefined;
}

export function parseDeviceRule(entry: LxcEntry, allow: boolean): DeviceRule | undefined {
  const v = entry.value.trim();
  if (v === 'a') return { entry, allow, type: 'a', major: '*', minor: '*', access: 'rwm' };
  const m = /^([abc])(?:\s+(\*|\d+):(\*|\d+))?(?:\s+([rwm]+))?$/.exec(v);
  if (!m) return undefined;
  return { entry, allow, type: m[1] as DeviceRule['type'], major: m[2] ?? '*', minor: m[3] ?? '*', access: m[4] ?? 'rwm' };
}

/** Opens every node: `a`, or a `*:*` rule with read or write. */
export const opensEverything = (r: DeviceRule) => r.allow && (r.type === 'a' || (r.major === '*' && r.minor === '*' && /[rw]/.test(r.access)));

/** Proxmox VE's own base for every container (it includes common.conf, and userns.conf for an unprivileged one). */
const PVE_DEFAULTS = '<Proxmox VE defaults: /usr/share/lxc/config/common.conf>';
function pveBase(unprivileged: boolean): LxcEntry[] {
  const e = (key: string, value: string, line: number): LxcEntry => ({ file: PVE_DEFAULTS, line, written: key, key, value });
  return [
    e('lxc.apparmor.profile', 'generated', 1),
    e('lxc.seccomp.profile', '/usr/share/lxc/config/common.seccomp', 2),
    ...(unprivileged ? [] : [e('lxc.cap.drop', 'mac_admin mac_override sys_time sys_module sys_rawio', 3)]),
    e('lxc.cgroup.devices.deny', 'a', 4),
    e('lxc.cgroup2.devices.deny', 'a', 5),
  ];
}

function deviceRules(entries: LxcEntry[], prefix: 'lxc.cgroup' | 'lxc.cgroup2'): DeviceRules {
  let rules: DeviceRule[] = [];
  for (const e of entries) {
    if (e.key !== `${prefix}.devices.allow` && e.key !== `${prefix}.devices.deny`) continue;
    const allow = e.key.endsWith('allow');
    if (e.value === '') {
      rules = rules.filter((r) => r.allow !== allow);
      continue;
    }
    const rule = parseDeviceRule(e, allow);
    if (rule) rules.push(rule);
  }
  let all: DeviceRules['all'] = 'default';
  for (const r of rules) {
    if (!r.allow && r.type === 'a') all = null;
    else if (opensEverything(r)) all = r;
  }
  return { rules, all };
}

/** The settings in effect, in LXC's reading (and for Proxmox VE, on top of the base it always applies). */
export function effectiveConfig(read: LxcConfigRead): LxcEffective {
  const pve = read.format === 'proxmox';
  const pveUnprivileged = pve ? (read.entries.find((e) => e.key === 'unprivileged' && e.value === '1') ?? null) : null;
  const entries = pve ? [...pveBase(pveUnprivileged !== null), ...read.entries] : read.entries;
  const list = (key: string) => {
    let out: LxcEntry[] = [];
    for (const e of entries) if (e.key === key) out = e.value === '' ? [] : [...out, e];
    return out;
  };
  const last = (key: string) => entries.filter((e) => e.key === key).at(-1) ?? null;
  const words = (es: LxcEntry[]) => es.flatMap((entry) => entry.value.split(/\s+/).map((w) => ({ cap: w.toLowerCase().replace(/^cap_/, ''), entry })));

  let idmaps = list('lxc.idmap')
    .map(parseIdMap)
    .filter((m): m is IdMap => m !== undefined);
  if (pveUnprivileged && idmaps.length === 0) {
    // Proxmox VE maps every unprivileged container alike unless lxc.idmap says otherwise.
    const implied = (type: 'u' | 'g'): IdMap => ({ entry: pveUnprivileged, type, nsid: 0, hostid: 100000, range: 65536 });
    idmaps = [implied('u'), implied('g')];
  }
  const unprivileged = idmaps.some((m) => m.type === 'u' && m.nsid === 0);
  const dropLines = entries.filter((e) => e.key === 'lxc.cap.drop');
  const capDropCleared = dropLines.filter((e) => e.value === '').at(-1) ?? null;
  let keep = words(list('lxc.cap.keep'));
  const none = keep.map((k) => k.cap).lastIndexOf('none');
  if (none >= 0) keep = keep.slice(none + 1);

  const mounts = list('lxc.mount.entry');
  const nesting = [
    ...read.includes
      .filter((i) => i.found && /(^|\/)nesting\.conf$/.test(i.path))
      .map((i) => entries.find((e) => e.file === i.from.file && e.line === i.from.line)!),
    ...entries.filter((e) => e.key === 'lxc.apparmor.profile' && /nesting/.test(e.value) && e === last('lxc.apparmor.profile')),
    ...mounts.filter((e) => {
      const [, dest, fstype] = e.value.split(/\s+/);
      return (fstype === 'proc' || fstype === 'sysfs') && !['proc', 'sys', '/proc', '/sys'].includes(dest ?? '');
    }),
    ...(pve ? entries.filter((e) => e.key === 'features' && /(^|,)\s*nesting=1\b/.test(e.value)) : []),
  ].filter((e, i, all) => e && all.indexOf(e) === i);

  return {
    read,
    idmaps,
    unprivileged,
    unprivilegedBy: pveUnprivileged,
    capDrop: words(list('lxc.cap.drop')),
    capDropCleared,
    capKeep: keep,
    apparmor: last('lxc.apparmor.profile'),
    seccomp: last('lxc.seccomp.profile'),
    devices: { v1: deviceRules(entries, 'lxc.cgroup'), v2: deviceRules(entries, 'lxc.cgroup2') },
    mounts,
    mountAuto: list('lxc.mount.auto').flatMap((entry) => entry.value.split(/\s+/).map((option) => ({ option, entry }))),
    pveMounts: pve ? entries.filter((e) => /^mp\d+$/.test(e.key)) : [],
    pveDevices: pve ? entries.filter((e) => /^dev\d+$/.test(e.key)) : [],
    nesting,
    legacy: read.entries.filter((e) => e.written !== e.key),
  };
}
