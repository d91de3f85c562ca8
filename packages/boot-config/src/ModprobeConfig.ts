/**
 * modprobe.d as kmod reads it (libkmod-config.c): only `*.conf` files, all directories merged and
 * sorted by file name, a name in /etc hiding the same name in /run, /usr/local/lib, /usr/lib and
 * /lib; backslash-newline joins lines; `#` starts a comment line; bad lines are ignored (kmod
 * logs them). Module names normalise `-` to `_` (outside `[...]` in alias patterns).
 *
 * Kernel quirk worth knowing: `blacklist X` only stops loading X by alias (udev coldplug); an
 * explicit `modprobe X` or a dependency still loads it. `install X /bin/false` stops both.
 */
import { canonicalParamKey, tokenizeCmdline } from './KernelCmdline';

export interface ConfigFile {
  path: string;
  text: string;
}

export interface ConfigOrigin {
  path: string;
  /** 1-based line where the (possibly continued) line starts. */
  line: number;
}

export interface ModprobeOption {
  module: string;
  /** Parameter name as written. */
  name: string;
  value?: string;
  raw: string;
  origin: ConfigOrigin;
}

export interface ModprobeSoftdep {
  module: string;
  pre: string[];
  post: string[];
  origin: ConfigOrigin;
}

export interface ModprobeConfig {
  /** Per normalised module name, in the order kmod passes them (the kernel keeps the last of a name). */
  options: Record<string, ModprobeOption[]>;
  softdeps: ModprobeSoftdep[];
  blacklists: Array<{ module: string; origin: ConfigOrigin }>;
  installs: Array<{ module: string; command: string; origin: ConfigOrigin }>;
  removes: Array<{ module: string; command: string; origin: ConfigOrigin }>;
  aliases: Array<{ pattern: string; module: string; origin: ConfigOrigin }>;
  /** Lines kmod would ignore, with why. */
  ignored: Array<{ origin: ConfigOrigin; text: string; reason: string }>;
  /** Files read, in kmod's order; files skipped (not *.conf, or hidden by a same-named file). */
  files: string[];
  skippedFiles: Array<{ path: string; reason: string }>;
}

/** kmod's directory precedence (conf_files_list): earlier hides later for the same file name. */
export const MODPROBE_DIRS = ['/etc/modprobe.d', '/run/modprobe.d', '/usr/local/lib/modprobe.d', '/usr/lib/modprobe.d', '/lib/modprobe.d'] as const;

/** `vfio-pci` -> `vfio_pci`, as kmod's underscores(); bracket expressions kept. */
export function normalizeModuleName(name: string): string {
  let out = '';
  let inBracket = false;
  for (const c of name) {
    if (c === '[') inBracket = true;
    else if (c === ']') inBracket = false;
    out += c === '-' && !inBracket ? '_' : c;
  }
  return out;
}

function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

function baseOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** kmod's file order: by name; per name the file of the highest-precedence directory. */
export function orderModprobeFiles<T extends { path: string }>(files: readonly T[]): { ordered: T[]; skipped: Array<{ path: string; reason: string }> } {
  const skipped: Array<{ path: string; reason: string }> = [];
  const byName = new Map<string, T>();
  const rank = (p: string): number => {
    const r = (MODPROBE_DIRS as readonly string[]).indexOf(dirOf(p));
    return r < 0 ? MODPROBE_DIRS.length : r;
  };
  for (const f of files) {
    if (!f.path.endsWith('.conf')) {
      skipped.push({ path: f.path, reason: 'kmod reads only *.conf files' });
      continue;
    }
    const name = baseOf(f.path);
    const seen = byName.get(name);
    if (seen === undefined) byName.set(name, f);
    else {
      const [keep, drop] = rank(f.path) < rank(seen.path) ? [f, seen] : [seen, f];
      byName.set(name, keep);
      skipped.push({ path: drop.path, reason: `hidden by ${keep.path}` });
    }
  }
  const ordered = [...byName.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, f]) => f);
  return { ordered, skipped };
}

/** Logical lines: backslash-newline joined, with the line each starts on. */
function logicalLines(text: string): Array<{ line: number; text: string }> {
  const out: Array<{ line: number; text: string }> = [];
  const physical = text.split('\n');
  for (let i = 0; i < physical.length; i++) {
    const start = i + 1;
    let acc = physical[i]!;
    while (acc.endsWith('\\') && i + 1 < physical.length) {
      acc = acc.slice(0, -1) + physical[++i]!;
    }
    out.push({ line: start, text: acc });
  }
  return out;
}

/** Pure: modprobe.d files (any order; sorted here as kmod sorts them) -> what kmod will do. */
export function parseModprobeConfig(files: readonly ConfigFile[]): ModprobeConfig {
  const { ordered, skipped } = orderModprobeFiles(files);
  const config: ModprobeConfig = {
    options: {},
    softdeps: [],
    blacklists: [],
    installs: [],
    removes: [],
    aliases: [],
    ignored: [],
    files: ordered.map((f) => f.path),
    skippedFiles: skipped,
  };
  for (const file of ordered) {
    for (const { line, text } of logicalLines(file.text)) {
      const origin = { path: file.path, line };
      const trimmed = text.trim();
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      const words = trimmed.split(/[ \t]+/);
      const [command, first] = words;
      const bad = (reason: string): void => void config.ignored.push({ origin, text, reason });
      // Everything after the command and its first argument, as written.
      const rest = trimmed.replace(/^\S+[ \t]+\S+[ \t]*/, '');
      switch (command) {
        case 'options': {
          if (first === undefined) {
            bad('options without a module');
            break;
          }
          const module = normalizeModuleName(first);
          config.options[module] ??= [];
          const list = config.options[module];
          // The kernel's parse_args() splits module options exactly like the command line.
          for (const t of tokenizeCmdline(rest).params) {
            const o: ModprobeOption = { module, name: t.key, raw: t.raw, origin };
            if (t.value !== undefined) o.value = t.value;
            list.push(o);
          }
          break;
        }
        case 'blacklist':
          if (first === undefined) bad('blacklist without a module');
          else config.blacklists.push({ module: normalizeModuleName(first), origin });
          break;
        case 'install':
        case 'remove':
          if (first === undefined || rest === '') bad(`${command} needs a module and a command`);
          else (command === 'install' ? config.installs : config.removes).push({ module: normalizeModuleName(first), command: rest, origin });
          break;
        case 'alias': {
          const target = words[2];
          if (first === undefined || target === undefined) bad('alias needs a pattern and a module');
          else config.aliases.push({ pattern: normalizeModuleName(first), module: normalizeModuleName(target), origin });
          break;
        }
        case 'softdep': {
          if (first === undefined) {
            bad('softdep without a module');
            break;
          }
          const dep: ModprobeSoftdep = { module: normalizeModuleName(first), pre: [], post: [], origin };
          let mode: 'pre' | 'post' | undefined;
          // kmod ignores names before the first pre:/post:.
          for (const w of words.slice(2)) {
            if (w === 'pre:') mode = 'pre';
            else if (w === 'post:') mode = 'post';
            else if (mode !== undefined) dep[mode].push(normalizeModuleName(w));
          }
          config.softdeps.push(dep);
          break;
        }
        case 'weakdep':
        case 'config':
          break;
        default:
          bad(`unknown command '${command ?? ''}'`);
      }
    }
  }
  return config;
}

/** The module's effective options: parameter (dash = underscore) -> value, the last one winning as in the kernel. */
export function moduleOptions(config: ModprobeConfig, module: string): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const o of config.options[normalizeModuleName(module)] ?? []) out[canonicalParamKey(o.name)] = o.value;
  return out;
}

/** Whether udev coldplug will not load the module: blacklisted, or its install command is a no-op. */
export function isModuleBlocked(config: ModprobeConfig, module: string): boolean {
  const m = normalizeModuleName(module);
  return (
    config.blacklists.some((b) => b.module === m) ||
    config.installs.some((i) => i.module === m && /^(\/s?bin\/|\/usr\/s?bin\/)?(true|false)$/.test(i.command.trim()))
  );
}
