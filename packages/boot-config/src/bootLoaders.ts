/**
 * What the boot loader will pass to the kernel on the next boot, and the plans that change it.
 * Three configurations, used when their file exists:
 * - GRUB: /etc/default/grub then /etc/default/grub.d/*.cfg (grub-mkconfig sources them in that
 *   order; later files win);
 * - systemd-boot / kernel-install: /etc/kernel/cmdline;
 * - kernelstub (Pop!_OS): /etc/kernelstub/configuration, `user.kernel_options`.
 * The plans are pure data (BootConfigEditPlan): `passthru persist` applies them, doctor shows them.
 */
import { tryList, tryReadText, type HostFs } from '@passthru/hostfs';
import { BootConfigError } from './BootConfigError';
import { detectDistro, type Distro } from './distro';
import { effectiveGrubCmdline, parseGrubDefault, type GrubDefaultFile } from './GrubDefault';
import {
  kernelInstallFallbackCmdline,
  planGrubCmdlineEdit,
  planKernelCmdlineFileEdit,
  planKernelstubEdit,
  type BootConfigEditPlan,
  type CmdlineEditSpec,
} from './GrubEdit';
import { formatParam, multisetMinus, parseCmdline, type KernelParam } from './KernelCmdline';
import { lexShellAssignments } from './ShellAssignments';
import { unifiedPatch } from './unifiedPatch';

export type BootLoader = 'grub' | 'systemd-boot' | 'kernelstub';
export const BOOT_LOADERS: readonly BootLoader[] = ['grub', 'systemd-boot', 'kernelstub'];

export const GRUB_DEFAULT_PATH = '/etc/default/grub';
export const GRUB_DROPIN_DIR = '/etc/default/grub.d';
export const KERNEL_CMDLINE_PATH = '/etc/kernel/cmdline';
export const KERNELSTUB_PATH = '/etc/kernelstub/configuration';

export interface BootLoaderCmdline {
  loader: BootLoader;
  /** The files read, in the order the tool reads them. */
  files: string[];
  /** The kernel parameters of the next normal boot; absent when the configuration could not be read. */
  cmdline?: string;
  /** Why `cmdline` is absent (unparseable file, unreadable file). */
  error?: string;
}

/** GRUB defaults in grub-mkconfig's order; [] when /etc/default/grub does not exist. */
export function readGrubDefaultFiles(host: HostFs): { files: GrubDefaultFile[]; error?: string } {
  const main = tryReadText(host, GRUB_DEFAULT_PATH);
  if (main.error !== undefined) return { files: [], error: main.error };
  if (main.value === undefined) return { files: [] };
  const files: GrubDefaultFile[] = [{ path: GRUB_DEFAULT_PATH, text: main.value }];
  const names = (tryList(host, GRUB_DROPIN_DIR).value ?? []).filter((n) => n.endsWith('.cfg')).sort();
  for (const name of names) {
    const path = `${GRUB_DROPIN_DIR}/${name}`;
    const r = tryReadText(host, path);
    if (r.error !== undefined) return { files, error: r.error };
    if (r.value !== undefined) files.push({ path, text: r.value });
  }
  return { files };
}

/** `user.kernel_options` (else `default.`) of kernelstub's configuration; an BootConfigError naming the file when it cannot be read as such. */
function kernelstubOptions(jsonText: string): string[] {
  let json: { user?: { kernel_options?: unknown }; default?: { kernel_options?: unknown } } | null;
  try {
    json = JSON.parse(jsonText);
  } catch (cause) {
    throw new BootConfigError('parsing', 'the kernelstub configuration', KERNELSTUB_PATH, `not valid JSON (${(cause as Error).message})`, { cause });
  }
  const options = (json?.user ?? json?.default)?.kernel_options;
  if (!Array.isArray(options) || !options.every((o) => typeof o === 'string'))
    throw new BootConfigError('parsing', 'the kernelstub configuration', KERNELSTUB_PATH, 'user.kernel_options is not a list of strings');
  return options as string[];
}

/** Every boot-loader configuration present on the host, with the command line it will pass. */
export function readBootLoaderCmdlines(host: HostFs): BootLoaderCmdline[] {
  const out: BootLoaderCmdline[] = [];
  const grub = readGrubDefaultFiles(host);
  if (grub.files.length > 0 || grub.error !== undefined) {
    const entry: BootLoaderCmdline = { loader: 'grub', files: grub.files.map((f) => f.path) };
    if (grub.error !== undefined) entry.error = grub.error;
    else {
      try {
        entry.cmdline = effectiveGrubCmdline(parseGrubDefault(grub.files).vars).trim();
      } catch (error) {
        entry.error = (error as Error).message;
      }
    }
    out.push(entry);
  }
  const kc = tryReadText(host, KERNEL_CMDLINE_PATH);
  if (kc.value !== undefined || kc.error !== undefined) {
    const entry: BootLoaderCmdline = { loader: 'systemd-boot', files: [KERNEL_CMDLINE_PATH] };
    if (kc.error !== undefined) entry.error = kc.error;
    else entry.cmdline = kc.value!.replace(/\s+/g, ' ').trim();
    out.push(entry);
  }
  const ks = tryReadText(host, KERNELSTUB_PATH);
  if (ks.value !== undefined || ks.error !== undefined) {
    const entry: BootLoaderCmdline = { loader: 'kernelstub', files: [KERNELSTUB_PATH] };
    if (ks.error !== undefined) entry.error = ks.error;
    else {
      try {
        entry.cmdline = kernelstubOptions(ks.value!).join(' ');
      } catch (error) {
        entry.error = (error as Error).message;
      }
    }
    out.push(entry);
  }
  return out;
}

/** A plan with what it does in words: the loader, where, and the parameters added and removed. */
export interface CmdlineRemediationPlan extends BootConfigEditPlan {
  loader: BootLoader;
  /** "GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub", "/etc/kernel/cmdline", ... */
  where: string;
  added: string[];
  removed: string[];
}

/**
 * The change a caller wants, given the parameters already there (what runs now and what the
 * loader's configuration holds): called once per configuration, so a parameter present in one
 * is not added twice and one absent from another is still added there.
 */
export type CmdlineChange = (present: readonly KernelParam[]) => CmdlineEditSpec;

export interface PlanCmdlineEditsOptions {
  distro?: Distro;
  /** Only this loader's configuration. */
  loader?: BootLoader;
}

/** Parameters of `after` not in `before` and the reverse, as multisets of `key=value`. */
function paramDelta(before: string, after: string): { added: string[]; removed: string[] } {
  const a = parseCmdline(before).params.map(formatParam);
  const b = parseCmdline(after).params.map(formatParam);
  return { added: multisetMinus(b, a), removed: multisetMinus(a, b) };
}

/** The source text of `variable`'s last assignment, quotes dropped, `$X` references kept as written. */
function assignedValue(text: string, path: string, variable: string): string {
  const a = lexShellAssignments(text, path, { what: 'GRUB defaults' })
    .filter((x) => x.name === variable)
    .at(-1);
  if (a === undefined) return '';
  return a.value.map((s) => (s.kind === 'literal' ? s.text : s.kind === 'var' ? `$${s.name}` : s.raw)).join('');
}

function planGrub(files: readonly GrubDefaultFile[], change: CmdlineChange, running: readonly KernelParam[], distro: Distro): CmdlineRemediationPlan[] {
  const grub = parseGrubDefault(files);
  const loaderParams = parseCmdline(effectiveGrubCmdline(grub.vars)).params;
  const spec = change([...running, ...loaderParams]);
  // Additions go where GRUB_CMDLINE_LINUX_DEFAULT is last assigned (a drop-in may override the main file).
  const target = grub.origin['GRUB_CMDLINE_LINUX_DEFAULT']?.path ?? GRUB_DEFAULT_PATH;
  const plans: CmdlineRemediationPlan[] = [];
  for (const file of files) {
    let text = file.text;
    const merged: CmdlineRemediationPlan = {
      loader: 'grub',
      path: file.path,
      changed: false,
      newText: text,
      diff: '',
      followUp: [],
      notes: [],
      where: file.path,
      added: [],
      removed: [],
    };
    const vars: string[] = [];
    for (const variable of ['GRUB_CMDLINE_LINUX_DEFAULT', 'GRUB_CMDLINE_LINUX']) {
      const add = file.path === target && variable === 'GRUB_CMDLINE_LINUX_DEFAULT' ? spec.add : [];
      const plan = planGrubCmdlineEdit(text, file.path, { add, remove: spec.remove }, variable, distro);
      if (!plan.changed) continue;
      const delta = paramDelta(assignedValue(text, file.path, variable), assignedValue(plan.newText, file.path, variable));
      text = plan.newText;
      vars.push(variable);
      merged.changed = true;
      merged.newText = text;
      merged.followUp = [...new Set([...merged.followUp, ...plan.followUp])];
      merged.notes = [...new Set([...merged.notes, ...plan.notes])];
      merged.added.push(...delta.added);
      merged.removed.push(...delta.removed);
    }
    if (merged.changed) merged.diff = unifiedPatch(file.path, file.text, text);
    merged.where = vars.length > 0 ? `${vars.join(' and ')} in ${file.path}` : `GRUB_CMDLINE_LINUX_DEFAULT in ${file.path}`;
    if (merged.changed || file.path === target) plans.push(merged);
  }
  return plans;
}

/**
 * The edits that make the next boot's command line carry `change`: one plan per configuration
 * file present (kernelstub, /etc/kernel/cmdline, GRUB defaults and drop-ins); unchanged plans
 * are included for the file a loader would edit, so `changed` says whether anything is left to
 * do. Throws BootConfigError for a file that cannot be edited safely (planning writes nothing).
 */
export function planCmdlineEdits(host: HostFs, change: CmdlineChange, options: PlanCmdlineEditsOptions = {}): CmdlineRemediationPlan[] {
  const distro = options.distro ?? detectDistro(host);
  const procCmdline = tryReadText(host, '/proc/cmdline').value ?? '';
  const running = parseCmdline(procCmdline).params;
  const wants = (l: BootLoader): boolean => options.loader === undefined || options.loader === l;
  const plans: CmdlineRemediationPlan[] = [];

  if (wants('kernelstub')) {
    const ks = tryReadText(host, KERNELSTUB_PATH).value;
    if (ks !== undefined) {
      const before = kernelstubOptions(ks).join(' ');
      const spec = change([...running, ...parseCmdline(before).params]);
      const plan = planKernelstubEdit(ks, KERNELSTUB_PATH, spec);
      const delta = plan.changed ? paramDelta(before, kernelstubOptions(plan.newText).join(' ')) : { added: [], removed: [] };
      plans.push({ ...plan, loader: 'kernelstub', where: `user.kernel_options in ${KERNELSTUB_PATH}`, ...delta });
    }
  }
  if (wants('systemd-boot')) {
    const kc = tryReadText(host, KERNEL_CMDLINE_PATH).value;
    if (kc !== undefined) {
      const empty = kc.trim() === '';
      const base = empty ? kernelInstallFallbackCmdline(procCmdline) : kc;
      const spec = change([...running, ...parseCmdline(base).params]);
      let plan = planKernelCmdlineFileEdit(base, KERNEL_CMDLINE_PATH, spec, distro);
      if (empty && !plan.changed) plan = { ...plan, changed: true, newText: base };
      // The patch is against the file as it is, also when the plan started from the fallback.
      if (plan.changed) plan = { ...plan, diff: unifiedPatch(KERNEL_CMDLINE_PATH, kc, plan.newText) };
      const delta = plan.changed ? paramDelta(kc, plan.newText) : { added: [], removed: [] };
      plans.push({ ...plan, loader: 'systemd-boot', where: KERNEL_CMDLINE_PATH, ...delta });
    }
  }
  if (wants('grub')) {
    const { files } = readGrubDefaultFiles(host);
    if (files.length > 0) plans.push(...planGrub(files, change, running, distro));
  }
  return plans;
}

/** "add intel_iommu=on to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub, then run update-grub and reboot" */
export function describeCmdlinePlan(plan: CmdlineRemediationPlan): string {
  const then = plan.followUp.length > 0 ? `, then run ${plan.followUp.join(' && ')}` : '';
  let what: string;
  if (plan.added.length > 0 && plan.removed.length > 0) what = `in ${plan.where} remove ${plan.removed.join(' ')} and add ${plan.added.join(' ')}`;
  else if (plan.added.length > 0) what = `add ${plan.added.join(' ')} to ${plan.where}`;
  else if (plan.removed.length > 0) what = `remove ${plan.removed.join(' ')} from ${plan.where}`;
  else what = `rewrite ${plan.where}`;
  return `${what}${then} and reboot`;
}
