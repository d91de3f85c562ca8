/**
 * Which vfio modules each initramfs generator puts in the image, in what order they load, and
 * whether they load before udev coldplug (which is when a native GPU driver would claim the
 * device first). Three generators:
 * - initramfs-tools: /etc/initramfs-tools/modules is loaded by load_modules() AFTER
 *   scripts/init-top/udev has triggered coldplug, so a GPU driver inside the image can still win;
 *   Debian's advice is a `softdep <gpu> pre: vfio-pci` in modprobe.d as well.
 * - dracut: `force_drivers` become rd.driver.pre= and load before udev; `add_drivers` are only
 *   copied into the image and load whenever udev asks.
 * - mkinitcpio: MODULES load in order via `modprobe -a` before udev starts, except with the
 *   `systemd` hook, where systemd-modules-load races udev.
 * Dependencies (vfio_pci -> vfio_pci_core -> vfio, softdep vfio_iommu_type1) are copied by every
 * generator, so listing vfio_pci is what matters.
 */
import { BootConfigError } from './BootConfigError';
import { normalizeModuleName, type ConfigFile, type ConfigOrigin } from './ModprobeConfig';
import { lexShellAssignments, type ShellSegment } from './ShellAssignments';

export type InitramfsTool = 'initramfs-tools' | 'dracut' | 'mkinitcpio';

export interface InitramfsModuleEntry {
  /** Normalised name (`vfio_pci`). */
  module: string;
  /** The list it came from: `modules`, `force_drivers`, `add_drivers`, `MODULES`. */
  via: string;
  origin: ConfigOrigin;
  /** Arguments (initramfs-tools `module arg=1`). */
  args?: string;
  /** mkinitcpio `name?`: missing is not an error. */
  optional?: boolean;
}

export interface InitramfsVfioReport {
  tool: InitramfsTool;
  /** In load order. */
  modules: InitramfsModuleEntry[];
  /** The vfio modules listed, in order. */
  vfioModules: string[];
  includesVfioPci: boolean;
  /** Native GPU drivers listed, in order. */
  gpuDrivers: string[];
  /** vfio_pci is listed ahead of every listed GPU driver (false when vfio_pci is not listed). */
  vfioBeforeGpu: boolean;
  /** The listed modules load before udev coldplug (see the file comment). */
  loadedBeforeUdev: boolean;
  notes: string[];
}

export const VFIO_MODULES = ['vfio', 'vfio_pci', 'vfio_pci_core', 'vfio_iommu_type1', 'vfio_virqfd'] as const;
export const GPU_DRIVERS = ['amdgpu', 'radeon', 'nouveau', 'nvidia', 'nvidia_drm', 'nvidia_modeset', 'i915', 'xe'] as const;

function report(tool: InitramfsTool, modules: InitramfsModuleEntry[], loadedBeforeUdev: boolean, notes: string[]): InitramfsVfioReport {
  const names = modules.map((m) => m.module);
  const vfioModules = names.filter((n) => (VFIO_MODULES as readonly string[]).includes(n));
  const gpuDrivers = names.filter((n) => (GPU_DRIVERS as readonly string[]).includes(n));
  const vfioAt = names.indexOf('vfio_pci');
  const vfioBeforeGpu = vfioAt >= 0 && gpuDrivers.every((g) => names.indexOf(g) > vfioAt);
  if (vfioModules.includes('vfio_virqfd')) notes.push('vfio_virqfd was merged into vfio in Linux 6.2; on newer kernels the module does not exist.');
  if (vfioAt < 0 && vfioModules.length > 0) notes.push('vfio_pci is not listed: the other vfio modules alone do not claim devices.');
  return { tool, modules, vfioModules, includesVfioPci: vfioAt >= 0, gpuDrivers, vfioBeforeGpu, loadedBeforeUdev, notes };
}

/** Pure: /etc/initramfs-tools/modules (one `module [args]` per line, `#` comments). */
export function parseInitramfsToolsModules(text: string, path = '/etc/initramfs-tools/modules'): InitramfsVfioReport {
  const modules: InitramfsModuleEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [name, ...args] = line.split(/\s+/);
    const entry: InitramfsModuleEntry = { module: normalizeModuleName(name!), via: 'modules', origin: { path, line: i + 1 } };
    if (args.length > 0) entry.args = args.join(' ');
    modules.push(entry);
  });
  const notes = [
    'initramfs-tools loads these after udev coldplug has started; add `softdep <gpu driver> pre: vfio-pci` in /etc/modprobe.d so vfio-pci wins, then run update-initramfs -u.',
  ];
  return report('initramfs-tools', modules, false, notes);
}

/** Evaluates a string assignment's segments against earlier string variables. */
function evaluate(segments: readonly ShellSegment[], vars: ReadonlyMap<string, string>, path: string, line: number, what: string): string {
  let out = '';
  for (const s of segments) {
    if (s.kind === 'literal') out += s.text;
    else if (s.kind === 'var') out += vars.get(s.name) ?? '';
    else throw new BootConfigError('evaluating', what, path, `command substitution ${s.raw} cannot be evaluated`, { line });
  }
  return out;
}

/** A variable holding a module list, each module remembering the assignment that introduced it. */
type ModuleList = Array<{ module: string; origin: ConfigOrigin; optional: boolean }>;

function assignList(previous: ModuleList, words: readonly string[], origin: ConfigOrigin): ModuleList {
  return words.map((w) => {
    const optional = w.endsWith('?');
    const module = normalizeModuleName(optional ? w.slice(0, -1) : w);
    const before = previous.find((p) => p.module === module);
    return { module, origin: before?.origin ?? origin, optional };
  });
}

/** Sources bash-style config files, tracking the named list variables (string or array). */
function sourceLists(files: readonly ConfigFile[], names: readonly string[], what: string): Map<string, ModuleList> {
  const lists = new Map<string, ModuleList>(names.map((n) => [n, []]));
  const vars = new Map<string, string>();
  for (const file of files) {
    for (const a of lexShellAssignments(file.text, file.path, { bash: true, what })) {
      const origin = { path: file.path, line: a.line };
      const words = a.array
        ? a.array.map((el) => evaluate(el, vars, file.path, a.line, what)).filter((w) => w !== '')
        : evaluate(a.value, vars, file.path, a.line, what)
            .split(/\s+/)
            .filter((w) => w !== '');
      const previous = lists.get(a.name);
      const joined = words.join(' ');
      vars.set(a.name, a.append ? `${vars.get(a.name) ?? ''} ${joined}` : joined);
      if (previous !== undefined) {
        const next = a.append ? [...previous, ...assignList(previous, words, origin)] : assignList(previous, words, origin);
        lists.set(a.name, next);
      }
    }
  }
  return lists;
}

/**
 * Pure: dracut configuration in the order dracut sources it (/etc/dracut.conf, then
 * dracut.conf.d/*.conf by name). `force_drivers` load first, in order, before udev;
 * `add_drivers` follow (image only). `omit_drivers` removes from both.
 */
export function parseDracutConf(files: readonly ConfigFile[]): InitramfsVfioReport {
  const lists = sourceLists(files, ['force_drivers', 'add_drivers', 'drivers', 'omit_drivers'], 'dracut configuration');
  const omit = new Set((lists.get('omit_drivers') ?? []).map((m) => m.module));
  const modules: InitramfsModuleEntry[] = [];
  for (const via of ['force_drivers', 'drivers', 'add_drivers']) {
    for (const m of lists.get(via) ?? []) {
      if (omit.has(m.module) || modules.some((e) => e.module === m.module)) continue;
      modules.push({ module: m.module, via, origin: m.origin });
    }
  }
  const notes: string[] = [];
  for (const v of VFIO_MODULES) if (omit.has(v)) notes.push(`${v} is in omit_drivers and stays out of the image.`);
  const vfioPci = modules.find((m) => m.module === 'vfio_pci');
  const early = vfioPci?.via === 'force_drivers';
  if (vfioPci && !early)
    notes.push(
      `vfio_pci is only in ${vfioPci.via}: it is in the image but loads when udev asks; use force_drivers+=" vfio_pci " (or rd.driver.pre=vfio-pci) to load it first.`,
    );
  return report('dracut', modules, early, notes);
}

/**
 * Pure: /etc/mkinitcpio.conf then /etc/mkinitcpio.conf.d/*.conf. MODULES (array or the old
 * string form) load in order before udev unless HOOKS has `systemd`; without the `modconf`
 * hook /etc/modprobe.d (vfio-pci ids=, softdeps) is not in the image.
 */
export function parseMkinitcpioConf(files: readonly ConfigFile[]): InitramfsVfioReport & { hooks: string[] } {
  const lists = sourceLists(files, ['MODULES', 'HOOKS'], 'mkinitcpio configuration');
  const modules: InitramfsModuleEntry[] = (lists.get('MODULES') ?? []).map((m) => {
    const e: InitramfsModuleEntry = { module: m.module, via: 'MODULES', origin: m.origin };
    if (m.optional) e.optional = true;
    return e;
  });
  const hooks = (lists.get('HOOKS') ?? []).map((h) => h.module);
  const systemd = hooks.includes('systemd');
  const notes: string[] = [];
  if (systemd)
    notes.push(
      'With the systemd hook, MODULES are loaded by systemd-modules-load in parallel with udev; add a softdep in /etc/modprobe.d to order vfio-pci before the GPU driver.',
    );
  if (hooks.length > 0 && !hooks.includes('modconf'))
    notes.push('HOOKS lacks modconf: /etc/modprobe.d (vfio-pci ids=, softdeps) is not copied into the image.');
  return { ...report('mkinitcpio', modules, !systemd, notes), hooks };
}
