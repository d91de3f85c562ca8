/**
 * Byte-preserving edit plans for the places a kernel command line is configured:
 * /etc/default/grub (and grub.d drop-ins), /etc/kernel/cmdline (kernel-install, systemd-boot,
 * Proxmox's proxmox-boot-tool, mkinitcpio UKIs) and kernelstub's /etc/kernelstub/configuration
 * (Pop!_OS). A plan never writes: it returns the new text, its unified patch and the command
 * that makes the change reach the boot loader. Applying a plan to its own output changes nothing.
 */
import { BootConfigError } from './BootConfigError';
import type { Distro } from './distro';
import { canonicalParamKey, tokenizeCmdline, type KernelParamToken } from './KernelCmdline';
import { lexShellAssignments } from './ShellAssignments';
import { unifiedPatch } from './unifiedPatch';

export interface CmdlineEditSpec {
  /** `key=value` or a bare `key`: present with the same value -> no change; other value -> replaced. */
  add: readonly string[];
  /** A `key` removes every occurrence; `key=value` only occurrences with exactly that value. */
  remove: readonly string[];
}

export interface BootConfigEditPlan {
  path: string;
  changed: boolean;
  /** The whole file after the edit; identical to the input when `changed` is false. */
  newText: string;
  /** The unified patch of the whole file (unifiedPatch: applies with `patch -p0 -d /`); '' when unchanged. */
  diff: string;
  /** Commands to run after writing newText so the next boot uses it; [] when unchanged. */
  followUp: string[];
  /** Caveats for a human (quoting changed, BLS entries, ...). */
  notes: string[];
}

interface ParsedSpec {
  spelled: string;
  key: string;
  value: string | undefined;
}

/** Characters that would need quoting in at least one of the formats edited here. */
const UNSAFE_PARAM = /[\s"'\\$`;#|&<>()]/;

function parseSpec(spec: string, path: string): ParsedSpec {
  if (spec === '' || UNSAFE_PARAM.test(spec)) {
    throw new BootConfigError('planning an edit of', 'the kernel command line', path, `parameter ${JSON.stringify(spec)} is empty or needs quoting`);
  }
  const eq = spec.indexOf('=');
  return eq <= 0
    ? { spelled: spec, key: canonicalParamKey(spec), value: undefined }
    : { spelled: spec, key: canonicalParamKey(spec.slice(0, eq)), value: spec.slice(eq + 1) };
}

/** Tokens that are shell references (`$GRUB_CMDLINE_LINUX_DEFAULT`) are kept, never matched. */
function isOpaque(t: KernelParamToken): boolean {
  return t.raw.includes('$');
}

function matches(t: KernelParamToken, s: ParsedSpec, withValue: boolean): boolean {
  if (isOpaque(t) || canonicalParamKey(t.key) !== s.key) return false;
  return !withValue || t.value === s.value;
}

interface ListEdit {
  /** Indexes of items to drop. */
  drop: Set<number>;
  /** Index -> replacement spelling. */
  replace: Map<number, string>;
  /** Spellings to append, in order. */
  append: string[];
}

/**
 * The edit of a parameter list: removals first, then additions against what survives. An add
 * whose key survives is a no-op when the LAST survivor (the one the kernel keeps) has the same
 * value, else that survivor is rewritten in place.
 */
function planListEdit(tokens: readonly KernelParamToken[], spec: CmdlineEditSpec, path: string): ListEdit {
  const removes = spec.remove.map((s) => parseSpec(s, path));
  const adds = spec.add.map((s) => parseSpec(s, path));
  const drop = new Set<number>();
  tokens.forEach((t, i) => {
    if (removes.some((r) => matches(t, r, r.value !== undefined))) drop.add(i);
  });
  const replace = new Map<number, string>();
  const append: string[] = [];
  for (const a of adds) {
    let last = -1;
    tokens.forEach((t, i) => {
      if (!drop.has(i) && matches(t, a, false)) last = i;
    });
    if (last < 0) {
      if (!append.includes(a.spelled)) append.push(a.spelled);
      continue;
    }
    const current = replace.get(last);
    const t = tokens[last]!;
    const currentValue = current === undefined ? t.value : parseSpec(current, path).value;
    if (currentValue !== a.value) replace.set(last, a.spelled);
  }
  return { drop, replace, append };
}

function isEmptyEdit(e: ListEdit): boolean {
  return e.drop.size === 0 && e.replace.size === 0 && e.append.length === 0;
}

/**
 * Applies a list edit to a command-line string, touching only the affected tokens: a removed
 * token goes with the blanks before it (or after it, when first); appended tokens go after the
 * last kernel parameter (before a `--`).
 */
function editCmdlineText(text: string, spec: CmdlineEditSpec, path: string): { text: string; changed: boolean } {
  const { params, dashDashAt } = tokenizeCmdline(text);
  const edit = planListEdit(params, spec, path);
  if (isEmptyEdit(edit)) return { text, changed: false };
  const ops: Array<{ start: number; end: number; insert: string }> = [];
  const isBlank = (c: string | undefined): boolean => c !== undefined && /[ \t\v\f\r]/.test(c);
  params.forEach((t, i) => {
    if (edit.drop.has(i)) {
      let start = t.start;
      let end = t.end;
      const hasLiveBefore = params.slice(0, i).some((_, j) => !edit.drop.has(j));
      if (hasLiveBefore) {
        while (start > 0 && isBlank(text[start - 1])) start--;
      } else {
        while (end < text.length && isBlank(text[end])) end++;
      }
      ops.push({ start, end, insert: '' });
    } else if (edit.replace.has(i)) {
      ops.push({ start: t.start, end: t.end, insert: edit.replace.get(i)! });
    }
  });
  if (edit.append.length > 0) {
    const joined = edit.append.join(' ');
    const survivors = params.filter((_, i) => !edit.drop.has(i));
    if (dashDashAt !== undefined) ops.push({ start: dashDashAt, end: dashDashAt, insert: `${joined} ` });
    else if (survivors.length > 0) {
      const at = survivors[survivors.length - 1]!.end;
      ops.push({ start: at, end: at, insert: ` ${joined}` });
    } else {
      const at = text.trimEnd().length;
      ops.push({ start: at, end: at, insert: joined });
    }
  }
  // Merge overlapping deletions of neighbouring tokens (each may have taken the same blanks).
  ops.sort((a, b) => a.start - b.start || a.end - b.end);
  let out = '';
  let pos = 0;
  for (const op of ops) {
    const start = Math.max(op.start, pos);
    out += text.slice(pos, start) + op.insert;
    pos = Math.max(pos, op.end);
  }
  out += text.slice(pos);
  return { text: out, changed: out !== text };
}

function grubFollowUp(distro: Distro): { followUp: string[]; notes: string[] } {
  switch (distro) {
    case 'debian':
      return { followUp: ['update-grub'], notes: [] };
    case 'fedora':
      return {
        followUp: ['grub2-mkconfig -o /boot/grub2/grub.cfg'],
        notes: [
          'With BLS entries (GRUB_ENABLE_BLSCFG=true) check that /boot/loader/entries/*.conf picked up the options; `grubby --update-kernel=ALL --args=...` updates them directly.',
        ],
      };
    case 'arch':
      return { followUp: ['grub-mkconfig -o /boot/grub/grub.cfg'], notes: [] };
    case 'other':
      return {
        followUp: ['grub2-mkconfig -o /boot/grub2/grub.cfg'],
        notes: ['Where the GRUB tools are named grub-*, run grub-mkconfig -o /boot/grub/grub.cfg instead.'],
      };
  }
}

const unchanged = (path: string, text: string): BootConfigEditPlan => ({ path, changed: false, newText: text, diff: '', followUp: [], notes: [] });

/**
 * Plans an edit of `variable`'s LAST assignment in one GRUB defaults file (the one sh keeps).
 * Only the bytes of that value change; its quoting is kept (a bare value that gains a blank
 * becomes double-quoted). When the file does not assign the variable, a line is appended:
 * `VAR="..."` in /etc/default/grub, `VAR="$VAR ..."` in a grub.d drop-in (which must not
 * discard earlier settings). Refuses (throws BootConfigError) a file the shell lexer rejects,
 * and a target value that uses command substitution, escapes, mixed quoting or spans lines.
 * An earlier assignment in the same file is not touched: if it holds a parameter to remove,
 * the caller sees it in parseGrubDefault's result.
 */
export function planGrubCmdlineEdit(
  text: string,
  path: string,
  spec: CmdlineEditSpec,
  variable = 'GRUB_CMDLINE_LINUX_DEFAULT',
  distro: Distro = 'other',
): BootConfigEditPlan {
  const refuse = (detail: string, line?: number): never => {
    throw new BootConfigError('planning an edit of', variable, path, detail, line === undefined ? {} : { line });
  };
  const assignments = lexShellAssignments(text, path, { what: 'GRUB defaults' });
  const target = assignments.filter((a) => a.name === variable).at(-1);
  const { followUp, notes } = grubFollowUp(distro);

  if (target === undefined) {
    const adds = spec.add.map((s) => parseSpec(s, path).spelled);
    spec.remove.forEach((s) => {
      parseSpec(s, path);
    });
    if (adds.length === 0) return unchanged(path, text);
    const self = path.includes('/grub.d/') ? `$${variable} ` : '';
    const newLine = `${variable}="${self}${[...new Set(adds)].join(' ')}"`;
    const sep = text === '' || text.endsWith('\n') ? '' : '\n';
    const newText = `${text}${sep}${newLine}\n`;
    return { path, changed: true, newText, diff: unifiedPatch(path, text, newText), followUp, notes };
  }

  if (target.continued || target.endLine !== target.line) refuse('the assignment spans several lines', target.line);
  if (target.value.some((s) => s.kind === 'cmdsub')) refuse('the value uses command substitution', target.line);
  const raw = text.slice(target.valueStart, target.valueEnd);
  let quote: '"' | "'" | '';
  let inner: string;
  if (/^"[^"\\`]*"$/.test(raw)) {
    quote = '"';
    inner = raw.slice(1, -1);
  } else if (/^'[^']*'$/.test(raw)) {
    quote = "'";
    inner = raw.slice(1, -1);
  } else if (/^[^"'\\`]*$/.test(raw)) {
    quote = '';
    inner = raw;
  } else {
    return refuse('the value mixes quoting or uses backslash escapes', target.line);
  }

  const edited = editCmdlineText(inner, spec, path);
  if (!edited.changed) return unchanged(path, text);
  const planNotes = [...notes];
  if (quote === '' && /\s/.test(edited.text)) {
    quote = '"';
    planNotes.push(`${variable} was unquoted; it is double-quoted now that it holds several parameters.`);
  }
  const newText = text.slice(0, target.valueStart) + quote + edited.text + quote + text.slice(target.valueEnd);
  return { path, changed: true, newText, diff: unifiedPatch(path, text, newText), followUp, notes: planNotes };
}

/**
 * What kernel-install uses when /etc/kernel/cmdline does not exist: the running /proc/cmdline
 * without the boot loader's BOOT_IMAGE= and initrd= (90-loaderentry.install). Pass its result
 * as the text of planKernelCmdlineFileEdit to create the file.
 */
export function kernelInstallFallbackCmdline(procCmdline: string): string {
  const { params } = tokenizeCmdline(procCmdline);
  return `${params
    .filter((p) => p.key !== 'BOOT_IMAGE' && p.key !== 'initrd')
    .map((p) => p.raw)
    .join(' ')}\n`;
}

function kernelCmdlineFollowUp(distro: Distro): { followUp: string[]; notes: string[] } {
  const bootctl = 'Check the new entry with `bootctl list` (systemd-boot).';
  switch (distro) {
    case 'debian':
      return {
        followUp: ['kernel-install add "$(uname -r)" "/boot/vmlinuz-$(uname -r)"'],
        notes: ['On Proxmox VE (proxmox-boot-tool) run `proxmox-boot-tool refresh` instead.', bootctl],
      };
    case 'arch':
      return {
        followUp: ['mkinitcpio -P'],
        notes: [
          '/etc/kernel/cmdline is read when mkinitcpio builds unified kernel images; plain systemd-boot entries in /boot/loader/entries must be edited separately.',
          bootctl,
        ],
      };
    case 'fedora':
    case 'other':
      return { followUp: ['kernel-install add "$(uname -r)" "/lib/modules/$(uname -r)/vmlinuz"'], notes: [bootctl] };
  }
}

/**
 * Plans an edit of /etc/kernel/cmdline: one line of kernel parameters (kernel-install folds
 * newlines to blanks), kernel quoting kept byte for byte. Refuses an empty file: kernel-install
 * would boot with no root=; build the text with kernelInstallFallbackCmdline() instead.
 */
export function planKernelCmdlineFileEdit(text: string, path: string, spec: CmdlineEditSpec, distro: Distro = 'other'): BootConfigEditPlan {
  if (text.trim() === '') {
    throw new BootConfigError(
      'planning an edit of',
      'the kernel command line',
      path,
      'the file is empty; start from kernelInstallFallbackCmdline(/proc/cmdline)',
    );
  }
  const edited = editCmdlineText(text, spec, path);
  if (!edited.changed) return unchanged(path, text);
  const { followUp, notes } = kernelCmdlineFollowUp(distro);
  return { path, changed: true, newText: edited.text, diff: unifiedPatch(path, text, edited.text), followUp, notes };
}

/** A JSON value's type as an issue names it: object, array, string, number, boolean or null. */
const jsonTypeOf = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);
const isJsonObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The part of kernelstub's configuration this edit relies on (everything else is passed
 * through): an object whose `default` and `user`, when present, are objects whose
 * `kernel_options`, when present, is a list of strings. What is not, as `path message` issues in
 * the words and order of the zod schema this was (`z.looseObject`; GrubEdit.test checks that they
 * agree on every shape); checked without zod, which `doctor` would otherwise load to plan an edit.
 */
function kernelstubShapeIssues(json: unknown): string[] {
  const issues: string[] = [];
  const expected = (path: Array<string | number>, type: string, value: unknown) =>
    issues.push(`${path.join('.')} Invalid input: expected ${type}, received ${jsonTypeOf(value)}`);
  if (!isJsonObject(json)) {
    expected([], 'object', json);
    return issues;
  }
  for (const key of ['default', 'user'] as const) {
    const section = json[key];
    if (section === undefined) continue;
    if (!isJsonObject(section)) {
      expected([key], 'object', section);
      continue;
    }
    const options = section.kernel_options;
    if (options === undefined) continue;
    if (!Array.isArray(options)) expected([key, 'kernel_options'], 'array', options);
    else for (const [i, o] of options.entries()) if (typeof o !== 'string') expected([key, 'kernel_options', i], 'string', o);
  }
  return issues;
}

/**
 * Plans an edit of kernelstub's JSON configuration: `user.kernel_options` (kernelstub copies
 * `default` to `user` when `user` is missing, and so does this). The file is rewritten the way
 * kernelstub writes it (json.dump indent=2), so an unchanged plan returns the input untouched.
 * Running `kernelstub` afterwards writes the options into the systemd-boot loader entry.
 */
export function planKernelstubEdit(jsonText: string, path: string, spec: CmdlineEditSpec): BootConfigEditPlan {
  let json: unknown;
  try {
    json = JSON.parse(jsonText);
  } catch (cause) {
    throw new BootConfigError('parsing', 'the kernelstub configuration', path, 'not valid JSON', { cause });
  }
  const issues = kernelstubShapeIssues(json);
  if (issues.length > 0) throw new BootConfigError('parsing', 'the kernelstub configuration', path, `unexpected shape: ${issues.join('; ')}`);
  const config = json as Record<string, unknown> & { default?: Record<string, unknown>; user?: Record<string, unknown> };
  const section = config.user ?? config.default;
  if (section === undefined) throw new BootConfigError('parsing', 'the kernelstub configuration', path, 'neither "user" nor "default" is present');
  const options = (section['kernel_options'] as string[] | undefined) ?? [];
  const tokens: KernelParamToken[] = options.map((o, i) => {
    const eq = o.indexOf('=');
    const t: KernelParamToken = { key: eq <= 0 ? o : o.slice(0, eq), raw: o, start: i, end: i + 1 };
    if (eq > 0) t.value = o.slice(eq + 1);
    return t;
  });
  const edit = planListEdit(tokens, spec, path);
  if (isEmptyEdit(edit)) return unchanged(path, jsonText);
  const next = options.flatMap((o, i) => (edit.drop.has(i) ? [] : [edit.replace.get(i) ?? o])).concat(edit.append);
  const user = { ...section, kernel_options: next };
  const newConfig = { ...config, user };
  const newText = JSON.stringify(newConfig, null, 2) + (jsonText.endsWith('\n') ? '\n' : '');
  return {
    path,
    changed: true,
    newText,
    diff: unifiedPatch(path, jsonText, newText),
    followUp: ['kernelstub'],
    notes: ['kernelstub rewrites the loader entry from this file when it runs (also on every kernel update).'],
  };
}
