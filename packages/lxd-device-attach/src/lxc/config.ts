import * as path from 'node:path';
import { HostFsError, type HostFs } from '@passthru/hostfs';
import { LxdError } from '../LxdError';

/**
 * A plain LXC container's configuration (lxc.container.conf(5): `key = value`, `#` comments) or a
 * Proxmox VE container's (`/etc/pve/lxc/<id>.conf`: `key: value`, PVE's own keys beside the same
 * `lxc.*` keys, `#` lines are the description, `[snapshot]` sections after the current config).
 */
export type LxcFormat = 'lxc' | 'proxmox';

/** One `key = value` line, where it is (the config or a file it includes) and its key as LXC names it today. */
export interface LxcEntry {
  /** Host path of the file the line is in. */
  file: string;
  /** 1-based line number in that file. */
  line: number;
  /** The key as written (`lxc.id_map`). */
  written: string;
  /** LXC's current name of the key (`lxc.idmap`). */
  key: string;
  /** The value, trimmed; LXC's surrounding quotes removed (plain LXC only). */
  value: string;
}

/**
 * An `lxc.include` followed (or not: absent on this host, a loop, too deep). LXC refuses a config
 * whose included file is missing; a missing folder (a path ending in `/`, as userns.conf's
 * userns.conf.d/) it skips.
 */
export interface LxcInclude {
  path: string;
  found: boolean;
  /** The include line. */
  from: { file: string; line: number };
}

/**
 * The keys LXC 2.1 renamed (its lxc-update-config script); LXC 3.0 and later refuse the old
 * names, but configs (and Proxmox raw keys) still carry them: the audit reads them as the new.
 */
const RENAMED: Record<string, string> = {
  'lxc.id_map': 'lxc.idmap',
  'lxc.aa_profile': 'lxc.apparmor.profile',
  'lxc.aa_allow_incomplete': 'lxc.apparmor.allow_incomplete',
  'lxc.se_context': 'lxc.selinux.context',
  'lxc.seccomp': 'lxc.seccomp.profile',
  'lxc.pts': 'lxc.pty.max',
  'lxc.tty': 'lxc.tty.max',
  'lxc.devttydir': 'lxc.tty.dir',
  'lxc.console': 'lxc.console.path',
  'lxc.utsname': 'lxc.uts.name',
  'lxc.rootfs': 'lxc.rootfs.path',
  'lxc.mount': 'lxc.mount.fstab',
  'lxc.haltsignal': 'lxc.signal.halt',
  'lxc.rebootsignal': 'lxc.signal.reboot',
  'lxc.stopsignal': 'lxc.signal.stop',
  'lxc.init_cmd': 'lxc.init.cmd',
  'lxc.init_uid': 'lxc.init.uid',
  'lxc.init_gid': 'lxc.init.gid',
  'lxc.loglevel': 'lxc.log.level',
  'lxc.logfile': 'lxc.log.file',
  'lxc.limit': 'lxc.prlimit',
};

/** LXC's current name of a key: the renamed keys, and `lxc.network[.N].*` -> `lxc.net.N.*` (N = 0 without one, as lxc-update-config does). */
export function canonicalKey(key: string): string {
  if (RENAMED[key]) return RENAMED[key];
  if (key.startsWith('lxc.limit.')) return `lxc.prlimit.${key.slice(10)}`;
  const net = /^lxc\.network(?:\.(\d+))?(\..+)?$/.exec(key);
  if (net) return `lxc.net.${net[1] ?? '0'}${net[2] ?? ''}`;
  return key;
}

/** The renamed key a line uses, if any (`lxc.id_map`): LXC 3.0 and later refuse it. */
export const isLegacyKey = (written: string) => canonicalKey(written) !== written;

const PVE_LINE = /^([A-Za-z][A-Za-z0-9_.-]*):(?:\s+(.*?)|\s*)$/;
const PVE_SECTION = /^\[[^\]]+\]\s*$/;

/** Proxmox VE's format when any setting is written `key: value` (plain LXC keys never hold a colon and always take `=`). */
export function detectFormat(text: string): LxcFormat {
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    if (PVE_SECTION.test(line)) return 'proxmox';
    const colon = line.indexOf(':');
    const equals = line.indexOf('=');
    if (colon > 0 && (equals < 0 || colon < equals) && PVE_LINE.test(line)) return 'proxmox';
  }
  return 'lxc';
}

function bad(file: string, line: number, detail: string): LxdError {
  return new LxdError('parsing', 'an LXC configuration', `${file}:${line}`, detail, { reason: 'bad-input' });
}

/** Strips one pair of matching quotes, as LXC's parser does. */
function unquote(value: string): string {
  if (value.length > 1 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0])) return value.slice(1, -1);
  return value;
}

/**
 * The settings of one file, in order (pure). Plain LXC: every non-comment line is `key = value`
 * (anything else is refused as LXC refuses it). Proxmox VE: `key: value` (its `lxc.*` keys also
 * `key = value`), `#` lines are the description, and the first `[section]` (a snapshot, pending
 * changes) ends the current configuration.
 */
export function parseConfigText(text: string, file: string, format: LxcFormat): LxcEntry[] {
  const entries: LxcEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line || line.startsWith('#')) continue;
    if (format === 'proxmox' && PVE_SECTION.test(line)) break;
    const pve = format === 'proxmox' ? PVE_LINE.exec(line) : null;
    const equals = line.indexOf('=');
    if (pve && (equals < 0 || line.indexOf(':') < equals)) {
      entries.push({ file, line: i + 1, written: pve[1]!, key: canonicalKey(pve[1]!), value: (pve[2] ?? '').trim() });
      continue;
    }
    if (equals <= 0) throw bad(file, i + 1, `expected "key = value", got ${JSON.stringify(line.length > 60 ? `${line.slice(0, 60)}...` : line)}`);
    const written = line.slice(0, equals).trim();
    if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(written)) throw bad(file, i + 1, `not a configuration key: ${JSON.stringify(written.slice(0, 60))}`);
    const value = line.slice(equals + 1).trim();
    entries.push({ file, line: i + 1, written, key: canonicalKey(written), value: format === 'lxc' ? unquote(value) : value });
  }
  return entries;
}

/** A configuration read with its includes expanded in place (as LXC reads it). */
export interface LxcConfigRead {
  file: string;
  format: LxcFormat;
  /** The file's own text (attach and detach edit it). */
  text: string;
  /** Every setting, includes expanded where they stand (the include line itself stays, for its location). */
  entries: LxcEntry[];
  includes: LxcInclude[];
}

/** Includes nest at most this deep (LXC has no limit; a loop is cut here and reported). */
const MAX_INCLUDE_DEPTH = 8;

/** Reads a config file through HostFs: a regular file (a FIFO, device or folder is refused, as a missing file is). */
export function readConfigFile(host: HostFs, file: string): string {
  let stat: ReturnType<HostFs['stat']>;
  try {
    stat = host.stat(file);
  } catch (error) {
    if (error instanceof HostFsError && (error.code === 'ENOENT' || error.code === 'ENOTDIR'))
      throw new LxdError('reading', 'the LXC configuration', file, 'no such file', { reason: 'not-found', cause: error });
    if (error instanceof HostFsError && error.code === 'EXDEV')
      throw new LxdError('reading', 'the LXC configuration', file, 'a symlink leads out of the host root', { reason: 'bad-input', cause: error });
    throw error;
  }
  if (!stat.isFile()) throw new LxdError('reading', 'the LXC configuration', file, 'not a regular file', { reason: 'bad-input' });
  return host.readText(file);
}

/** The `*.conf` files an included folder stands for, in name order. */
function includedFiles(host: HostFs, target: string): string[] | undefined {
  let stat: ReturnType<HostFs['stat']>;
  try {
    stat = host.stat(target);
  } catch (error) {
    if (error instanceof HostFsError && (error.code === 'ENOENT' || error.code === 'ENOTDIR' || error.code === 'EXDEV')) return undefined;
    throw error;
  }
  if (stat.isDirectory())
    return host
      .list(target)
      .filter((n) => n.endsWith('.conf'))
      .map((n) => path.posix.join(target, n))
      .filter((f) => host.stat(f).isFile());
  return stat.isFile() ? [target] : undefined;
}

/**
 * Reads a container's configuration and every `lxc.include` that exists on the host (a file, or
 * a folder's `*.conf` files), through HostFs, expanding each where it stands: what the included
 * files set (Debian's common.conf drops capabilities, sets seccomp and the device list;
 * userns.conf clears some of it again) counts exactly as LXC counts it.
 */
export function readLxcConfig(host: HostFs, file: string, format?: LxcFormat): LxcConfigRead {
  const text = readConfigFile(host, file);
  const fmt = format ?? detectFormat(text);
  const includes: LxcInclude[] = [];
  const expand = (entries: LxcEntry[], stack: string[]): LxcEntry[] =>
    entries.flatMap((e) => {
      if (e.key !== 'lxc.include' || !e.value) return [e];
      const target = path.posix.isAbsolute(e.value) ? path.posix.normalize(e.value) : path.posix.join(path.posix.dirname(e.file), e.value);
      const files = stack.length < MAX_INCLUDE_DEPTH && !stack.includes(target) ? includedFiles(host, target) : undefined;
      includes.push({ path: target, found: files !== undefined, from: { file: e.file, line: e.line } });
      if (!files) return [e];
      return [e, ...files.flatMap((f) => expand(parseConfigText(host.readText(f), f, 'lxc'), [...stack, target, f]))];
    });
  return { file, format: fmt, text, entries: expand(parseConfigText(text, file, fmt), [file]), includes };
}
