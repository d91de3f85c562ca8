/** vfio layer: the vfio modules, vfio-pci's modprobe.d options and softdeps, and the initramfs. */
import {
  type ConfigFile,
  GPU_DRIVERS,
  type InitramfsVfioReport,
  canonicalParamKey,
  formatParam,
  isModuleBlocked,
  moduleOptions,
  normalizeModuleName,
  parseDracutConf,
  parseInitramfsToolsModules,
  parseMkinitcpioConf,
  splitOptions,
} from '@passthru/boot-config';
import { keepsGroupViable, type PciDevice } from '@passthru/pci-discovery';
import type { CheckResult } from '../DoctorReport';
import { tryList, tryReadText } from '@passthru/hostfs';
import { IommuCheckError } from '../IommuCheckError';
import { check } from './check';
import { idOf } from './devices';
import type { Facts } from './Facts';

const REQUIRED_VFIO = ['vfio', 'vfio_pci', 'vfio_iommu_type1'] as const;

function readLoadedModules(f: Facts): { loaded: Set<string>; builtin: Set<string>; sysModule: Set<string>; ev: string[] } {
  const ev: string[] = [];
  const loaded = new Set<string>();
  const proc = tryReadText(f.host, '/proc/modules');
  if (proc.value !== undefined) {
    for (const line of proc.value.split('\n')) {
      const name = line.split(' ')[0];
      if (name) loaded.add(normalizeModuleName(name));
    }
  }
  const sysModule = new Set((tryList(f.host, '/sys/module').value ?? []).map(normalizeModuleName));
  const builtin = new Set<string>();
  const builtinPath = f.release ? `/lib/modules/${f.release}/modules.builtin` : undefined;
  const builtinText = builtinPath ? tryReadText(f.host, builtinPath).value : undefined;
  for (const line of (builtinText ?? '').split('\n')) {
    const base = line
      .trim()
      .split('/')
      .pop()
      ?.replace(/\.ko(\.[a-z]+)?$/, '');
    if (base) builtin.add(normalizeModuleName(base));
  }
  const show = (s: Set<string>): string => REQUIRED_VFIO.filter((m) => s.has(m)).join(' ') || 'none of vfio, vfio_pci, vfio_iommu_type1';
  ev.push(`/proc/modules: ${proc.value === undefined ? 'not readable' : show(loaded)}`);
  ev.push(`/sys/module: ${show(sysModule)}`);
  ev.push(`${builtinPath ?? '/lib/modules/<release>/modules.builtin'}: ${builtinText === undefined ? 'absent' : show(builtin)}`);
  return { loaded, builtin, sysModule, ev };
}

export function checkVfioModules(f: Facts): CheckResult {
  const { loaded, builtin, sysModule, ev } = readLoadedModules(f);
  const state = (m: string): 'loaded' | 'built-in' | 'missing' => (loaded.has(m) ? 'loaded' : builtin.has(m) || sysModule.has(m) ? 'built-in' : 'missing');
  const missing = REQUIRED_VFIO.filter((m) => state(m) === 'missing');
  const cfgName: Record<string, string> = { vfio: 'CONFIG_VFIO', vfio_pci: 'CONFIG_VFIO_PCI', vfio_iommu_type1: 'CONFIG_VFIO_IOMMU_TYPE1' };
  if (f.config) ev.push(`${f.config.path}: ${REQUIRED_VFIO.map((m) => `${cfgName[m]}=${f.config!.options.get(cfgName[m]!) ?? 'absent'}`).join(' ')}`);
  const blocked = REQUIRED_VFIO.filter((m) => isModuleBlocked(f.modprobe, m));
  if (blocked.length > 0) {
    ev.push(`/etc/modprobe.d: ${blocked.join(', ')} blacklisted or install-disabled`);
    return check(
      'vfio.modules',
      'FAIL',
      `${blocked.join(', ')} blocked by modprobe.d (blacklist or install /bin/false): vfio-pci cannot load.`,
      ev,
      `Remove the blacklist / install lines for ${blocked.join(', ')} from ${[...new Set([...f.modprobe.blacklists, ...f.modprobe.installs].filter((b) => blocked.includes(b.module as (typeof REQUIRED_VFIO)[number])).map((b) => b.origin.path))].join(', ')}.`,
    );
  }
  if (missing.length === 0) {
    return check('vfio.modules', 'PASS', `${REQUIRED_VFIO.map((m) => `${m} ${state(m)}`).join(', ')}.`, ev);
  }
  const notBuilt = f.config
    ? missing.filter((m) => {
        const v = f.config!.options.get(cfgName[m]!);
        return v === undefined || v === 'n';
      })
    : [];
  if (notBuilt.length > 0) {
    return check(
      'vfio.modules',
      'FAIL',
      `${notBuilt.join(', ')} not built for this kernel (${notBuilt.map((m) => `${cfgName[m]} ${f.config!.options.get(cfgName[m]!) === 'n' ? 'is not set' : 'absent'}`).join(', ')} in ${f.config!.path}): VFIO passthrough is impossible with this kernel.`,
      ev,
      'Boot a kernel built with CONFIG_VFIO, CONFIG_VFIO_PCI and CONFIG_VFIO_IOMMU_TYPE1 (=m or =y; every major distribution kernel has them).',
    );
  }
  return check(
    'vfio.modules',
    'WARN',
    `Not loaded: ${missing.join(', ')} (${
      REQUIRED_VFIO.filter((m) => !missing.includes(m))
        .map((m) => `${m} ${state(m)}`)
        .join(', ') || 'none loaded'
    }); \`passthru bind\` loads vfio-pci itself (modprobe) before its first write.`,
    ev,
    'modprobe vfio-pci (it pulls in vfio and vfio_iommu_type1); to load it at every boot: echo vfio-pci > /etc/modules-load.d/vfio-pci.conf',
  );
}

function idMatches(id: string, d: PciDevice): boolean {
  const [v, dev, sv, sd] = id.toLowerCase().split(':');
  if (v !== d.vendorId || dev !== d.deviceId) return false;
  if (sv !== undefined && sv !== 'ffffffff' && sv !== d.subsystemVendorId) return false;
  if (sd !== undefined && sd !== 'ffffffff' && sd !== d.subsystemDeviceId) return false;
  return true;
}

/** The endpoints that must go to vfio-pci together with `address` (its group's endpoints). */
function groupEndpoints(f: Facts, d: PciDevice): string[] {
  if (d.iommuGroup === null) return [d.address];
  return f.groups.find((g) => g.id === d.iommuGroup)?.endpoints ?? [d.address];
}

export function checkVfioModprobe(f: Facts, asked: readonly PciDevice[]): CheckResult {
  const cfg = f.modprobe;
  const ev: string[] = [`modprobe.d files: ${cfg.files.length > 0 ? cfg.files.join(', ') : 'none'}`];
  if (f.modprobeError) ev.push(`modprobe.d: ${f.modprobeError}`);
  const vfioOptions = cfg.options['vfio_pci'] ?? [];
  for (const o of vfioOptions) ev.push(`${o.origin.path}:${o.origin.line}: options vfio-pci ${o.raw}`);
  const cmdIds = f.params.filter((p) => canonicalParamKey(p.key) === 'vfio_pci.ids').at(-1);
  if (cmdIds) ev.push(`/proc/cmdline: ${formatParam(cmdIds)}`);
  const softdeps = cfg.softdeps.filter((s) => s.pre.includes('vfio_pci'));
  for (const s of softdeps) ev.push(`${s.origin.path}:${s.origin.line}: softdep ${s.module} pre: ${s.pre.join(' ')}`);
  const ignored = cfg.ignored.filter((i) => /vfio/.test(i.text));
  for (const i of ignored) ev.push(`${i.origin.path}:${i.origin.line}: ignored by kmod (${i.reason}): ${i.text.trim()}`);

  const modIds = moduleOptions(cfg, 'vfio_pci')['ids'];
  const ids = [...splitOptions(modIds), ...splitOptions(cmdIds?.value)];
  const problems: string[] = [];
  const notes: string[] = [];
  const bad = ids.filter((id) => !/^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}(:[0-9a-fA-F]{4,8}:[0-9a-fA-F]{4,8})?$/.test(id));
  if (bad.length > 0) problems.push(`malformed ids ${bad.join(', ')} are ignored by vfio-pci`);
  if (ignored.length > 0) problems.push(`${ignored.length} vfio line${ignored.length === 1 ? ' is' : 's are'} ignored by kmod`);

  const good = ids.filter((id) => !bad.includes(id));
  const claimed = f.scan.devices.filter((d) => good.some((id) => idMatches(id, d)));
  if (good.length > 0)
    notes.push(`vfio-pci ids=${good.join(',')} claims ${claimed.length > 0 ? claimed.map((d) => d.address).join(' ') : 'no device of this host'}`);
  if (asked.length > 0 && good.length > 0) {
    const wanted = new Set(asked.flatMap((d) => groupEndpoints(f, d)));
    const extra = claimed.filter((d) => !wanted.has(d.address));
    if (extra.length > 0)
      problems.push(
        `ids= also claims ${extra.map((d) => `${d.address} (${idOf(d)}${d.bootVga ? ', the boot GPU' : ''}${d.driver ? `, now on ${d.driver}` : ''})`).join(', ')}, which ${extra.length === 1 ? 'is' : 'are'} not in the asked devices' groups: vfio-pci takes every device with a listed id`,
      );
  }
  // The native driver must not win the race: a softdep <driver> pre: vfio-pci per claimed device's driver.
  const racing = [
    ...new Set(
      claimed
        .map((d) => d.driver)
        .filter((drv): drv is string => drv !== null && !keepsGroupViable(drv))
        .map(normalizeModuleName),
    ),
  ].filter((m) => !softdeps.some((s) => s.module === m) && m !== 'pcieport');
  if (racing.length > 0 && good.length > 0)
    problems.push(
      `no \`softdep <driver> pre: vfio-pci\` for ${racing.join(', ')}: ${racing.length === 1 ? 'it' : 'they'} can claim the listed devices before vfio-pci loads`,
    );
  if (isModuleBlocked(cfg, 'vfio_pci')) problems.push('vfio_pci is blacklisted or install-disabled');

  const summary = [...problems, ...notes].join('; ') || 'No vfio-pci options in modprobe.d (none are needed when passthru binds by driver_override).';
  if (problems.length > 0) {
    const fixes: string[] = [];
    if (racing.length > 0) fixes.push(`Add to /etc/modprobe.d/vfio.conf: ${racing.map((m) => `softdep ${m} pre: vfio-pci`).join('; ')}.`);
    if (asked.length > 0) {
      const wantIds = [
        ...new Set(
          asked
            .flatMap((d) => [d.address, ...d.functions])
            .map((a) => f.byAddress.get(a))
            .filter((d): d is PciDevice => d !== undefined)
            .map(idOf),
        ),
      ];
      fixes.push(
        `Prefer binding by address (\`passthru bind ${asked.map((d) => d.address).join(' ')} --persist\` uses driver_override) over ids=; or list only ${wantIds.join(',')} when no other device shares those ids.`,
      );
    }
    if (bad.length > 0) fixes.push('Write ids as vendor:device in hex, e.g. ids=10de:2684,10de:22ba.');
    return check('vfio.modprobe', 'WARN', `${summary}.`, ev, fixes.join(' ') || 'Fix the lines listed in the evidence.');
  }
  return check('vfio.modprobe', 'PASS', summary.endsWith('.') ? summary : `${summary}.`, ev);
}

export function checkVfioInitramfs(f: Facts, asked: readonly PciDevice[]): CheckResult {
  const reports: Array<{ path: string; report: InitramfsVfioReport }> = [];
  const ev: string[] = [];
  const errors: string[] = [];
  const itm = tryReadText(f.host, '/etc/initramfs-tools/modules');
  if (itm.value !== undefined) reports.push({ path: '/etc/initramfs-tools/modules', report: parseInitramfsToolsModules(itm.value) });
  const readSet = (main: string, dir: string): ConfigFile[] => {
    const files: ConfigFile[] = [];
    const m = tryReadText(f.host, main).value;
    if (m !== undefined) files.push({ path: main, text: m });
    for (const name of (tryList(f.host, dir).value ?? []).filter((n) => n.endsWith('.conf')).sort()) {
      const t = tryReadText(f.host, `${dir}/${name}`).value;
      if (t !== undefined) files.push({ path: `${dir}/${name}`, text: t });
    }
    return files;
  };
  const generators: Array<[string, string, (files: ConfigFile[]) => InitramfsVfioReport]> = [
    ['/etc/dracut.conf', '/etc/dracut.conf.d', parseDracutConf],
    ['/etc/mkinitcpio.conf', '/etc/mkinitcpio.conf.d', parseMkinitcpioConf],
  ];
  for (const [main, dir, parse] of generators) {
    const files = readSet(main, dir);
    if (files.length === 0) continue;
    try {
      reports.push({ path: files.map((x) => x.path).join(' + '), report: parse(files) });
    } catch (error) {
      if (!(error instanceof IommuCheckError)) throw error;
      errors.push(error.message);
    }
  }
  for (const r of reports) ev.push(`${r.path} (${r.report.tool}): ${r.report.modules.map((m) => m.module).join(' ') || '(no modules)'}`);
  for (const e of errors) ev.push(e);
  if (reports.length === 0 && errors.length === 0) {
    return check(
      'vfio.initramfs',
      'SKIP',
      'No initramfs generator configuration found (/etc/initramfs-tools/modules, /etc/dracut.conf[.d], /etc/mkinitcpio.conf): vfio-pci can only bind after the root filesystem is mounted, which is fine unless a native driver in the initramfs claims the device first.',
      ['/etc/initramfs-tools/modules, /etc/dracut.conf, /etc/mkinitcpio.conf: absent'],
    );
  }
  if (errors.length > 0 && reports.length === 0)
    return check('vfio.initramfs', 'WARN', `Cannot evaluate the initramfs configuration: ${errors.join('; ')}`, ev, 'Fix the file named above.');
  const withVfio = reports.filter((r) => r.report.includesVfioPci);
  const notes = reports.flatMap((r) => r.report.notes);
  if (withVfio.length > 0) {
    const order = withVfio.filter((r) => r.report.gpuDrivers.length > 0 && !r.report.vfioBeforeGpu);
    if (order.length > 0) {
      return check(
        'vfio.initramfs',
        'WARN',
        `vfio_pci is in the initramfs, but after ${order.flatMap((r) => r.report.gpuDrivers).join(', ')}: the GPU driver loads first and claims the card.`,
        ev,
        'List vfio_pci (and vfio, vfio_iommu_type1) before the GPU driver, then rebuild the initramfs (update-initramfs -u, dracut -f or mkinitcpio -P).',
      );
    }
    ev.push(...notes.map((n) => `note: ${n}`));
    return check(
      'vfio.initramfs',
      'PASS',
      `vfio_pci is in the initramfs (${withVfio.map((r) => r.report.tool).join(', ')}): it can claim devices before their native drivers.`,
      ev,
    );
  }
  const gpus = asked.filter(
    (d) => d.class.startsWith('03') || (d.driver !== null && (GPU_DRIVERS as readonly string[]).includes(normalizeModuleName(d.driver))),
  );
  const tool = reports[0]!.report.tool;
  const how =
    tool === 'initramfs-tools'
      ? 'add vfio, vfio_iommu_type1 and vfio_pci to /etc/initramfs-tools/modules, then update-initramfs -u'
      : tool === 'dracut'
        ? 'add force_drivers+=" vfio vfio_iommu_type1 vfio_pci " to /etc/dracut.conf.d/vfio.conf, then dracut -f'
        : 'put vfio_pci vfio vfio_iommu_type1 first in MODULES=() in /etc/mkinitcpio.conf, then mkinitcpio -P';
  if (gpus.length > 0) {
    return check(
      'vfio.initramfs',
      'WARN',
      `vfio_pci is not in the initramfs (${tool}): the native driver of ${gpus.map((d) => d.address).join(', ')} can claim it at boot before vfio-pci.`,
      ev,
      `To claim the GPU at boot: ${how} (\`passthru persist\` can do this).`,
    );
  }
  return check(
    'vfio.initramfs',
    'PASS',
    `vfio_pci is not in the initramfs (${tool}); needed only to claim a device before its native driver loads from the initramfs (a boot GPU).`,
    ev,
  );
}
